//! One writer of a database's journal, whichever its design (the log, or the tables written
//! directly): the writer lock, and the lone writer's epoch (migration 0017), which keeps a
//! process that lost its lock from writing beside the one that took it next.
//!
//! A process that writes a database's journal alone holds a lock (`lock_postgres`, `lock_sqlite`),
//! and a second process is refused at start: two processes would each have an actor for one
//! wallet, each writing its own balance. The nodes of a cluster share the lock, so a lone process
//! is refused beside them.
//!
//! On Postgres the lock goes with its connection: a restart of Postgres, or a backend killed by
//! hand, frees it while the process runs on, its pools reconnecting. A second process could then
//! start and serve beside the first (docs/journal-log.md, "One writer"). So every process that
//! writes a journal takes a new epoch (`LoneWriter::take`) before it reads the tables or the log,
//! and a lone process's every write of its journal share-locks the epoch's row at its own epoch,
//! in the same statement or transaction as its rows. Taking a new epoch waits for the writes in
//! flight under the one before; after it, each write of the earlier process fails with WF002, its
//! fence trips, and it stops. A cluster's nodes are kept apart by the cluster's fence instead, and
//! take an epoch only to shut a lone process out. SQLite's lock is a lock on a file the process
//! holds open, which nothing but the end of the process (or the store's close) releases.

use std::fs::{File, TryLockError};

use sqlx::postgres::{PgConnectOptions, PgConnection};
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::PgPool;

use crate::store::fence::{Fenced, FENCED_IDLE_IN_TRANSACTION_TIMEOUT};
use crate::store::{StoreError, Writers};

/// A Postgres advisory lock key: the one process that writes a database's journal holds it (the
/// nodes of a cluster share it). Named for the log, which had it first.
const WRITER_LOCK: i64 = 0x7761_7275_6e67_4c47; // "warungLG"

/// Appended to a SQLite database's file name for the file whose lock marks its journal's one
/// writer.
pub(crate) const LOCK_FILE_SUFFIX: &str = "-log-writer";

/// The SQLSTATE `warung_log_writer_replaced` raises; `fence::is_fenced` counts it as fenced.
pub const REPLACED_SQLSTATE: &str = "WF002";

/// A new epoch is a random number, not the next: a database dropped and made again under a running
/// process (the lab's runs do that) must not hand that process's epoch to the next.
const TAKE_NEW_EPOCH: &str = "INSERT INTO log_writer (id, epoch) VALUES (1, $1) \
     ON CONFLICT (id) DO UPDATE SET epoch = EXCLUDED.epoch RETURNING epoch";

/// This process's epoch as a writer of the journal, and whether its writes check it.
#[derive(Debug)]
pub(crate) struct LoneWriter {
    checked: bool,
    epoch: tokio::sync::OnceCell<i64>,
}

impl LoneWriter {
    pub(crate) fn new(writers: Writers) -> LoneWriter {
        LoneWriter { checked: writers == Writers::ThisProcess, epoch: tokio::sync::OnceCell::new() }
    }

    /// Takes a new epoch on first use, which must come before this process reads the log or the
    /// tables: it returns only once the writes in flight under the epoch before have ended, so
    /// what the start reads holds all that process will ever have stored.
    pub(crate) async fn take(&self, pool: &PgPool) -> Result<i64, sqlx::Error> {
        let take = || sqlx::query_scalar(TAKE_NEW_EPOCH).bind(rand::random::<i64>()).fetch_one(pool);
        let epoch = self.epoch.get_or_try_init(take).await?;
        Ok(*epoch)
    }

    /// The epoch this process's writes check: None for a cluster's node.
    pub(crate) async fn checked(&self, pool: &PgPool) -> Result<Option<i64>, sqlx::Error> {
        match self.checked {
            true => self.take(pool).await.map(Some),
            false => Ok(None),
        }
    }
}

/// The check as a boolean expression on placeholder `$n`: true while `$n` is the epoch, whose row
/// it share-locks until the transaction ends; otherwise it raises WF002.
pub(crate) fn guard(n: usize) -> String {
    format!(
        "CASE WHEN EXISTS (SELECT 1 FROM log_writer WHERE id = 1 AND epoch = ${n} FOR SHARE) \
         THEN true ELSE warung_log_writer_replaced(${n}) END"
    )
}

/// The check as a statement's main query (placeholder `$n`). In a transaction of several
/// statements it also limits how long the transaction may sit idle, as the cluster's fence does:
/// a process paused while it holds the share lock would otherwise keep the next writer from
/// starting. A lone statement is never idle in a transaction.
pub(crate) fn guard_select(n: usize, fenced: Fenced) -> String {
    match fenced {
        Fenced::Statement => format!("SELECT {}", guard(n)),
        Fenced::Transaction => format!(
            "SELECT {}, set_config('idle_in_transaction_session_timeout', '{FENCED_IDLE_IN_TRANSACTION_TIMEOUT}', true)",
            guard(n)
        ),
    }
}

/// Takes the writer lock on a connection of its own, held while the store is open: alone, or
/// shared by the nodes of a cluster. None for a store that writes no journal.
pub(crate) async fn lock_postgres(
    options: &PgConnectOptions,
    writers: Writers,
) -> Result<Option<PgConnection>, StoreError> {
    let lock = match writers {
        Writers::ThisProcess => "SELECT pg_try_advisory_lock($1)",
        Writers::ClusterNodes => "SELECT pg_try_advisory_lock_shared($1)",
        Writers::NotThisStore => return Ok(None),
    };
    let mut conn: PgConnection = sqlx::ConnectOptions::connect(options).await?;
    let locked: bool = sqlx::query_scalar(lock).bind(WRITER_LOCK).fetch_one(&mut conn).await?;
    if !locked {
        return Err(StoreError::JournalHasAnotherWriter);
    }
    Ok(Some(conn))
}

/// Takes the writer lock on SQLite: an exclusive advisory lock on `<database>-log-writer`,
/// released when the file is closed (at the store's close, or by the process's end, a crash
/// included). None for a database in memory (it belongs to one process), or for a store that
/// writes no journal.
pub(crate) fn lock_sqlite(
    options: &SqliteConnectOptions,
    in_memory: bool,
    writers: Writers,
) -> Result<Option<File>, StoreError> {
    if in_memory || writers == Writers::NotThisStore {
        return Ok(None);
    }
    let mut path = options.get_filename().as_os_str().to_owned();
    path.push(LOCK_FILE_SUFFIX);
    let file = File::options().create(true).truncate(false).write(true).open(&path).map_err(sqlx::Error::Io)?;
    match file.try_lock() {
        Ok(()) => Ok(Some(file)),
        Err(TryLockError::WouldBlock) => Err(StoreError::JournalHasAnotherWriter),
        Err(TryLockError::Error(error)) => Err(sqlx::Error::Io(error).into()),
    }
}
