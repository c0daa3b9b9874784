//! Postgres: `pg_dump --format=custom` for the snapshot (one repeatable-read transaction, so a
//! consistent view while the shop sells) and `pg_restore` into an empty database. The password
//! goes to the tools in `PGPASSWORD`, never on their command line (where `ps` would show it).

use std::path::Path;
use std::process::Stdio;

use sqlx::Connection;
use tokio::process::Command;

use super::{BackupError, RestoreInto};
use crate::settings::SecretUrl;

/// The URL without its password, and the password, for libpq's tools.
fn for_libpq(url: &SecretUrl) -> Result<(String, Option<String>), BackupError> {
    let mut parsed = reqwest::Url::parse(url.expose()).map_err(|_| BackupError::UnsupportedUrl(url.redacted()))?;
    let mut password = parsed.password().map(percent_decode);
    let _ = parsed.set_password(None);
    let kept: Vec<(String, String)> = parsed
        .query_pairs()
        .filter_map(|(key, value)| {
            if key.eq_ignore_ascii_case("password") {
                password = Some(value.into_owned());
                None
            } else {
                Some((key.into_owned(), value.into_owned()))
            }
        })
        .collect();
    parsed.set_query(None);
    if !kept.is_empty() {
        parsed.query_pairs_mut().extend_pairs(kept);
    }
    Ok((parsed.to_string(), password))
}

/// A URL's user-info is percent-encoded (`p%40ss` is `p@ss`); libpq wants the password itself.
fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let Ok(byte) = u8::from_str_radix(&text[i + 1..i + 3], 16) {
                out.push(byte);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

async fn run(program: &'static str, args: &[&str], password: Option<&str>) -> Result<(), BackupError> {
    let mut command = Command::new(program);
    command.args(args).stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::piped());
    if let Some(password) = password {
        command.env("PGPASSWORD", password);
    }
    let output = command.output().await.map_err(|source| BackupError::ToolMissing { program, source })?;
    if output.status.success() {
        return Ok(());
    }
    let mut detail = String::from_utf8_lossy(&output.stderr).trim().to_string();
    if let Some(password) = password.filter(|p| !p.is_empty()) {
        detail = detail.replace(password, crate::settings::secret::SECRET_MASK);
    }
    Err(BackupError::Tool { program, detail })
}

pub(super) async fn dump(url: &SecretUrl, into: &Path) -> Result<(), BackupError> {
    let (target, password) = for_libpq(url)?;
    let file = into.to_str().ok_or_else(|| BackupError::NotABackup(into.to_path_buf()))?;
    let args = ["--format=custom", "--no-owner", "--no-privileges", "--file", file, "--dbname", &target];
    run("pg_dump", &args, password.as_deref()).await
}

pub(super) async fn restore(file: &Path, url: &SecretUrl, into: RestoreInto) -> Result<(), BackupError> {
    let tables = tables_in(url).await?;
    if tables > 0 && into == RestoreInto::Fresh {
        return Err(BackupError::TargetNotEmpty(format!("{} holds {tables} tables", url.redacted())));
    }
    let (target, password) = for_libpq(url)?;
    let file = file.to_str().ok_or_else(|| BackupError::NotABackup(file.to_path_buf()))?;
    let mut args = vec!["--no-owner", "--no-privileges", "--exit-on-error", "--single-transaction"];
    if tables > 0 {
        args.extend(["--clean", "--if-exists"]);
    }
    args.extend(["--dbname", &target, file]);
    run("pg_restore", &args, password.as_deref()).await
}

/// Tables outside the system schemas: zero for a fresh database.
async fn tables_in(url: &SecretUrl) -> Result<i64, BackupError> {
    let options = crate::store::postgres_options(url.expose())
        .map_err(|e| BackupError::Tool { program: "reading the target database's URL", detail: e.to_string() })?;
    let mut connection = sqlx::PgConnection::connect_with(&options)
        .await
        .map_err(|e| BackupError::Tool { program: "connecting to the target database", detail: e.to_string() })?;
    let (tables,): (i64,) = sqlx::query_as(
        "SELECT count(*) FROM information_schema.tables WHERE table_schema NOT IN ('pg_catalog', 'information_schema')",
    )
    .fetch_one(&mut connection)
    .await
    .map_err(|e| BackupError::Tool { program: "reading the target database", detail: e.to_string() })?;
    connection.close().await.ok();
    Ok(tables)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_password_leaves_the_url_for_the_environment() {
        let (url, password) =
            for_libpq(&SecretUrl::new("postgres://warung:p%40ss@db:5432/shop?sslmode=require")).unwrap();
        assert_eq!(
            (url.as_str(), password.as_deref()),
            ("postgres://warung@db:5432/shop?sslmode=require", Some("p@ss"))
        );
        let (url, password) =
            for_libpq(&SecretUrl::new("postgres://db/shop?user=w&password=secret&sslmode=verify-full")).unwrap();
        assert_eq!(
            (url.as_str(), password.as_deref()),
            ("postgres://db/shop?user=w&sslmode=verify-full", Some("secret"))
        );
        let (url, password) = for_libpq(&SecretUrl::new("postgres://postgres@127.0.0.1:5432/warung")).unwrap();
        assert_eq!((url.as_str(), password), ("postgres://postgres@127.0.0.1:5432/warung", None));
    }
}
