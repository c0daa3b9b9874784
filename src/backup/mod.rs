//! Backups of the store: a consistent snapshot taken while the shop sells, named by the moment it
//! was taken (`warung-20261202T071500Z.db`), and its restore into a fresh store.
//!
//! - SQLite (`sqlite.rs`): `VACUUM INTO`, SQLite's online snapshot: one read transaction copies
//!   the whole database as of its start while the journal keeps committing (WAL mode).
//! - Postgres (`postgres.rs`): `pg_dump` in its custom format, which reads everything in one
//!   repeatable-read transaction; `pg_restore` into an empty database.
//!
//! A snapshot is written under a temporary name and renamed when complete, so a file with a
//! backup's name is always a whole backup. `schedule.rs` runs them from `serve` and keeps the
//! newest few.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::settings::SecretUrl;

mod name;
mod postgres;
pub mod schedule;
mod sqlite;

pub use name::{backups_in, file_name, BACKUP_PREFIX};

#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error("the backup directory {0}: {1}")]
    Directory(PathBuf, std::io::Error),
    #[error("the store URL is neither postgres:// nor sqlite: ({0})")]
    UnsupportedUrl(String),
    #[error("{0} does not exist")]
    MissingFile(PathBuf),
    #[error("{0} is not a warung backup (warung-<time>.db for SQLite, warung-<time>.pgdump for Postgres)")]
    NotABackup(PathBuf),
    #[error("a SQLite backup restores into a SQLite store, a Postgres backup into Postgres")]
    WrongBackend,
    #[error("the target store is not empty ({0}); restore into a fresh one, or pass --force to replace it (stop warung first)")]
    TargetNotEmpty(String),
    #[error("{program} failed: {detail}")]
    Tool { program: &'static str, detail: String },
    #[error("{program} could not be started (is it installed and on PATH?): {source}")]
    ToolMissing { program: &'static str, source: std::io::Error },
    #[error("SQLite: {0}")]
    Sqlite(#[from] sqlx::Error),
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

/// Which store a URL names, by the same rule as `store::connect`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn of(url: &str) -> Result<Backend, BackupError> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(Backend::Postgres)
        } else if url.starts_with("sqlite:") || !url.contains("://") {
            Ok(Backend::Sqlite)
        } else {
            Err(BackupError::UnsupportedUrl(crate::settings::secret::redact(url)))
        }
    }

    /// The extension of this backend's backups.
    pub fn extension(self) -> &'static str {
        match self {
            Backend::Sqlite => "db",
            Backend::Postgres => "pgdump",
        }
    }
}

/// A backup that was taken.
#[derive(Debug)]
pub struct Snapshot {
    pub path: PathBuf,
    pub bytes: u64,
    pub took: Duration,
}

/// Takes a snapshot of the store at `url` into `dir` (created if missing).
pub async fn take(url: &SecretUrl, dir: &Path) -> Result<Snapshot, BackupError> {
    let backend = Backend::of(url.expose())?;
    std::fs::create_dir_all(dir).map_err(|e| BackupError::Directory(dir.to_path_buf(), e))?;
    let started = Instant::now();
    let path = name::fresh_path(dir, backend.extension());
    let partial = path.with_extension(format!("{}.partial", backend.extension()));
    let taken = match backend {
        Backend::Sqlite => sqlite::snapshot(url.expose(), &partial).await,
        Backend::Postgres => postgres::dump(url, &partial).await,
    };
    if let Err(error) = taken {
        let _ = std::fs::remove_file(&partial);
        return Err(error);
    }
    std::fs::rename(&partial, &path)?;
    let bytes = std::fs::metadata(&path)?.len();
    Ok(Snapshot { path, bytes, took: started.elapsed() })
}

/// Whether a restore may replace a store that already holds data.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RestoreInto {
    /// Only an empty store (a new SQLite file, or a database with no tables).
    Fresh,
    /// Replace what is there (`--force`): for when the store itself was lost or damaged.
    Replace,
}

/// Restores `file` into the store at `url`. The caller then migrates (a backup from an older
/// version is brought up to date) and audits it.
pub async fn restore(file: &Path, url: &SecretUrl, into: RestoreInto) -> Result<(), BackupError> {
    if !file.is_file() {
        return Err(BackupError::MissingFile(file.to_path_buf()));
    }
    let kind = match file.extension().and_then(|e| e.to_str()) {
        Some("db") => Backend::Sqlite,
        Some("pgdump") => Backend::Postgres,
        _ => return Err(BackupError::NotABackup(file.to_path_buf())),
    };
    if kind != Backend::of(url.expose())? {
        return Err(BackupError::WrongBackend);
    }
    match kind {
        Backend::Sqlite => sqlite::restore(file, url.expose(), into).await,
        Backend::Postgres => postgres::restore(file, url, into).await,
    }
}
