//! SQLite: snapshot with `VACUUM INTO` on a read-only connection of its own (the engine's writes
//! go on meanwhile: WAL lets one writer and readers work at once); restore by copying the
//! snapshot into place.

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{ConnectOptions, Connection};

use super::{BackupError, RestoreInto};

/// How long the snapshot waits for a lock before giving up (the journal holds the write lock
/// only for a commit).
const SQLITE_BACKUP_BUSY_TIMEOUT_SECS: u64 = 30;

fn options(url: &str) -> Result<SqliteConnectOptions, sqlx::Error> {
    let url = if url.starts_with("sqlite:") { url.to_string() } else { format!("sqlite://{url}") };
    SqliteConnectOptions::from_str(&url)
}

/// The file a SQLite URL names.
fn file_of(url: &str) -> Result<PathBuf, BackupError> {
    Ok(options(url)?.get_filename().to_path_buf())
}

pub(super) async fn snapshot(url: &str, into: &Path) -> Result<(), BackupError> {
    let source = file_of(url)?;
    if !source.is_file() {
        return Err(BackupError::MissingFile(source));
    }
    let mut connection = options(url)?
        .read_only(true)
        .create_if_missing(false)
        .busy_timeout(Duration::from_secs(SQLITE_BACKUP_BUSY_TIMEOUT_SECS))
        .connect()
        .await?;
    let target = into.to_str().ok_or_else(|| BackupError::NotABackup(into.to_path_buf()))?;
    sqlx::query("VACUUM INTO ?").bind(target).execute(&mut connection).await?;
    connection.close().await?;
    Ok(())
}

pub(super) async fn restore(file: &Path, url: &str, into: RestoreInto) -> Result<(), BackupError> {
    let target = file_of(url)?;
    let in_use = target.exists() && std::fs::metadata(&target)?.len() > 0;
    if in_use && into == RestoreInto::Fresh {
        return Err(BackupError::TargetNotEmpty(target.display().to_string()));
    }
    if let Some(parent) = target.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)?;
    }
    let partial = target.with_extension("restoring");
    std::fs::copy(file, &partial)?;
    // The replaced store's write-ahead log belongs to it, not to the backup.
    for suffix in ["-wal", "-shm"] {
        let mut side = target.clone().into_os_string();
        side.push(suffix);
        let _ = std::fs::remove_file(PathBuf::from(side));
    }
    std::fs::rename(&partial, &target)?;
    // Check it opens as a database before anyone relies on it.
    let mut connection = options(url)?.create_if_missing(false).connect().await?;
    let (check,): (String,) = sqlx::query_as("PRAGMA quick_check").fetch_one(&mut connection).await?;
    connection.close().await?;
    if check != "ok" {
        return Err(BackupError::Tool { program: "sqlite quick_check", detail: check });
    }
    Ok(())
}
