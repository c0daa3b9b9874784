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
//! hand, frees it while the process runs on, its pools reconnecting. The process looks at that
//! connection every `database.writer_lock_check_ms` and takes the lock again once it is lost
//! (`PgWriterLock`), but until then a second process could start and serve beside the first
//! (docs/journal-log.md, "One writer"). So every process that
//! writes a journal takes a new epoch (`LoneWriter::take`) before it reads the tables or the log,
//! and a lone process's every write of its journal share-locks the epoch's row at its own epoch,
//! in the same statement or transaction as its rows. Taking a new epoch waits for the writes in
//! flight under the one before; after it, each write of the earlier process fails with WF002, its
//! fence trips, and it stops. A cluster's nodes are kept apart by the cluster's fence instead, and
//! take an epoch only to shut a lone process out. SQLite's lock is a lock on a file the process
//! holds open, which nothing but the end of the process (or the store's close) releases.

use std::fs::{File, TryLockError};
use std::sync::Arc;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgConnection};
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::PgPool;

use crate::store::fence::{Fenced, FENCED_IDLE_IN_TRANSACTION_TIMEOUT};
use crate::store::{StoreError, Writers};

/// A Postgres advisory lock key: the one process that writes a database's journal holds it (the
/// nodes of a cluster share it). Named for the log, which had it first.
const WRITER_LOCK: i64 = 0x7761_7275_6e67_4c47; // "warungLG"

/// How long a start waits for the writer lock on Postgres while another process holds it before
/// it refuses to start: a process that has just stopped holds it until its backend has ended, a
/// moment after its connection closed (a restart, a test's second start), and a busy server
/// takes longer. A process still running keeps it, and the start is refused after the wait.
const WRITER_LOCK_WAIT: Duration = Duration::from_secs(3);

/// The wait between two tries of the writer lock at start.
const WRITER_LOCK_RETRY: Duration = Duration::from_millis(100);

/// How often, by default, a process looks whether it still holds the writer lock on Postgres
/// (`database.writer_lock_check_ms`), and takes it again if not: how long after a restart of
/// Postgres a second process may start beside it (and then stop it, by its epoch) rather than
/// be refused. A round trip on an idle connection each time.
pub const WRITER_LOCK_CHECK_MS: u64 = 5_000;

/// The longest interval the settings take (10 minutes).
pub const WRITER_LOCK_CHECK_MS_MAX: u64 = 600_000;

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

/// The writer lock on Postgres, held on a connection of its own while the store is open, and
/// taken again by a keeper task when that connection is lost.
pub(crate) struct PgWriterLock {
    held: Arc<tokio::sync::Mutex<Option<PgConnection>>>,
    keeper: tokio::task::JoinHandle<()>,
}

impl PgWriterLock {
    /// Takes the lock, alone or shared by the nodes of a cluster, and starts its keeper, which
    /// looks at the lock's connection every `check_every`. None for a store that writes no
    /// journal.
    pub(crate) async fn take(
        options: &PgConnectOptions,
        writers: Writers,
        check_every: Duration,
    ) -> Result<Option<PgWriterLock>, StoreError> {
        let deadline = tokio::time::Instant::now() + WRITER_LOCK_WAIT;
        let taken = loop {
            match lock_postgres(options, writers).await {
                Err(StoreError::JournalHasAnotherWriter) if tokio::time::Instant::now() < deadline => {
                    tokio::time::sleep(WRITER_LOCK_RETRY).await
                }
                taken => break taken?,
            }
        };
        let Some(conn) = taken else { return Ok(None) };
        let held = Arc::new(tokio::sync::Mutex::new(Some(conn)));
        let keeper = tokio::spawn(keep(held.clone(), options.clone(), writers, check_every));
        Ok(Some(PgWriterLock { held, keeper }))
    }

    /// Stops the keeper and releases the lock.
    pub(crate) async fn release(&self) {
        self.keeper.abort();
        if let Some(conn) = self.held.lock().await.take() {
            let _ = sqlx::Connection::close(conn).await;
        }
    }
}

impl Drop for PgWriterLock {
    fn drop(&mut self) {
        self.keeper.abort();
    }
}

/// Every `check_every`, pings the lock's connection; once it no longer answers, takes the lock
/// again on a new one. Another process may have taken it meanwhile: that one took a new epoch,
/// so this process's next write is refused and it stops; until then the keeper only logs and
/// tries again (the lock it finds taken may also be its own old connection's, not yet ended).
async fn keep(
    held: Arc<tokio::sync::Mutex<Option<PgConnection>>>,
    options: PgConnectOptions,
    writers: Writers,
    check_every: Duration,
) {
    loop {
        tokio::time::sleep(check_every).await;
        let mut held = held.lock().await;
        let Some(conn) = held.as_mut() else { return };
        if sqlx::Connection::ping(conn).await.is_ok() {
            continue;
        }
        match lock_postgres(&options, writers).await {
            Ok(Some(conn)) => {
                *held = Some(conn);
                tracing::warn!(
                    "the journal's writer lock was lost with its connection (Postgres restarted?); taken again"
                );
            }
            Ok(None) => return,
            Err(StoreError::JournalHasAnotherWriter) => tracing::error!(
                "the journal's writer lock was lost with its connection, and another process holds it now: \
                 this process's writes will be refused"
            ),
            Err(error) => tracing::warn!(%error, "could not take the journal's writer lock again; trying again"),
        }
    }
}

/// Takes the writer lock on a connection of its own: alone, or shared by the nodes of a cluster.
/// None for a store that writes no journal.
async fn lock_postgres(options: &PgConnectOptions, writers: Writers) -> Result<Option<PgConnection>, StoreError> {
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
