//! One lab run at a time on a Postgres database, and in a SQLite directory. A run makes its own
//! databases and schemas afresh (the engine's with `DROP DATABASE ... WITH (FORCE)`, its SQLite
//! files by removing them), so a second run started beside the first would end the first's
//! connections or remove its files, and the first, its pools reconnecting, would sell into the
//! second's database: both runs wrong, the first fenced out (docs/benchmarks.md, 2026-12-07). The
//! second is refused instead, before it touches anything.

use std::fs::{File, TryLockError};
use std::path::Path;

use anyhow::Context;
use sqlx::postgres::PgConnection;
use sqlx::ConnectOptions;

/// A Postgres advisory lock key ("warungLB"), held by a lab run on `--database-url`'s database
/// (advisory locks belong to one database: runs on other databases make other databases).
const LAB_LOCK: i64 = 0x7761_7275_6e67_4c42;

/// The file in `--sqlite-dir` whose lock a lab run with a SQLite strategy holds.
pub const LAB_LOCK_FILE: &str = "lab.lock";

const ANOTHER_RUN: &str = "another `warung bench flash-sale` is running";
const WAIT: &str =
    "each run makes its databases afresh, so two at once would break each other; wait until it has finished";

/// Held for the whole run; the locks go with their connection and file, however the run ends.
pub struct LabLock {
    _connection: Option<PgConnection>,
    _file: Option<File>,
}

/// Takes the lock on the database `database_url` names; refused while another run holds it.
pub async fn take(database_url: &str) -> anyhow::Result<LabLock> {
    let options = crate::store::postgres_options(database_url).context("--database-url")?;
    let mut connection = options.connect().await.context("connecting to Postgres")?;
    let locked: bool =
        sqlx::query_scalar("SELECT pg_try_advisory_lock($1)").bind(LAB_LOCK).fetch_one(&mut connection).await?;
    anyhow::ensure!(locked, "{ANOTHER_RUN} on this database: {WAIT}");
    Ok(LabLock { _connection: Some(connection), _file: None })
}

/// Takes the lock on the SQLite directory `dir` (made if missing); refused while another run
/// holds it.
pub fn take_sqlite_dir(dir: &Path) -> anyhow::Result<LabLock> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let path = dir.join(LAB_LOCK_FILE);
    let file = File::options()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .with_context(|| format!("opening {}", path.display()))?;
    match file.try_lock() {
        Ok(()) => Ok(LabLock { _connection: None, _file: Some(file) }),
        Err(TryLockError::WouldBlock) => anyhow::bail!("{ANOTHER_RUN} in {}: {WAIT}", dir.display()),
        Err(TryLockError::Error(error)) => Err(error).with_context(|| format!("locking {}", path.display())),
    }
}
