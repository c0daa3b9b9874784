//! SQLite, the embedded default: WAL with `synchronous = FULL`, so a committed batch survives a
//! crash or power loss as on Postgres. The journal is the only writer; a batch is one transaction
//! of prepared statements (cached per connection), or with the log (`database.journal = "log"`)
//! one log row, the tables written by the projector in larger transactions (`store::log`).

use std::str::FromStr;
use std::time::Duration;

use futures::future::BoxFuture;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous};
use warung_actors::journal::{after, Earlier, Entries, Sink, SinkError};

use super::batch::Batch;
use super::log::projector::{self, LogJournal};
use super::log::sqlite as log_sqlite;
use super::lone_writer;
use super::{sink_error, JournalMode, JournalOptions, StoreError, Writers};
use crate::records::ShopRecord;

mod checkpointer;
mod writer;

pub(crate) use writer::{write_payments, write_tables};

/// Connections: one writer (the journal) and readers for activations and queries.
const SQLITE_CONNECTIONS_MAX: u32 = 4;

/// How long a statement waits for SQLite's write lock before failing.
const SQLITE_BUSY_TIMEOUT_SECS: u64 = 10;

/// The journal's side of a SQLite store: the one writer, on the same pool as the reads.
pub(crate) struct SqliteJournal {
    /// The pool, and the turns the log's appends and projector take on the write lock.
    writer: log_sqlite::SqliteLog,
    /// With `database.journal = "log"`: the projection and the projector.
    pub(crate) log: Option<LogJournal>,
    /// The writer lock (`lone_writer`), until the store closes; none for a database in memory or
    /// a store that writes no journal.
    writer_lock: std::sync::Mutex<Option<std::fs::File>>,
    /// For a database in a file: its checkpoints, beside the writers (`checkpointer`).
    checkpointer: Option<checkpointer::Checkpointer>,
}

/// Opens the one pool the reads and the journal share; takes the writer lock (`lone_writer`);
/// with the log, starts the projector; for a database in a file, starts its checkpoints
/// (`checkpointer`).
pub(crate) async fn connect(
    url: &str,
    journal: JournalOptions,
    writers: Writers,
) -> Result<(SqlitePool, SqliteJournal), StoreError> {
    let journal = journal.for_writers(writers);
    let url = if url.starts_with("sqlite:") { url.to_string() } else { format!("sqlite://{url}") };
    let options = SqliteConnectOptions::from_str(&url)?
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Full)
        .pragma("wal_autocheckpoint", checkpointer::SQLITE_WAL_AUTOCHECKPOINT_PAGES.to_string())
        .busy_timeout(Duration::from_secs(SQLITE_BUSY_TIMEOUT_SECS));
    let in_memory = url.contains(":memory:") || url.contains("mode=memory");
    let writer_lock = lone_writer::lock_sqlite(&options, in_memory, writers)?;
    let pool = SqlitePoolOptions::new().max_connections(SQLITE_CONNECTIONS_MAX).connect_with(options.clone()).await?;
    let turn = log_sqlite::WriterConnection::turn(options.clone());
    let writer = log_sqlite::SqliteLog { pool: pool.clone(), turn };
    let log = match journal.mode {
        JournalMode::Log => Some(LogJournal::start(writer.clone(), journal.limits)?),
        JournalMode::Tables => None,
    };
    // The writers take the turn for every write only with the log.
    let turn = log.as_ref().map(|_| writer.turn.clone());
    let checkpointer = (!in_memory).then(|| checkpointer::Checkpointer::start(options, turn));
    let writer_lock = std::sync::Mutex::new(writer_lock);
    Ok((pool, SqliteJournal { writer, log, writer_lock, checkpointer }))
}

impl SqliteJournal {
    /// One transaction: the stock rows, the money rows, then the shop's records.
    async fn write(&self, batch: Batch<'_>) -> Result<(), sqlx::Error> {
        let mut tx = self.writer.pool.begin().await?;
        write_tables(&mut tx, &batch).await?;
        tx.commit().await
    }

    /// With the log: lets the projector finish, and closes the writers' connection. Releases the
    /// writer lock. Stops the checkpoints: what they leave in the WAL is durable, and read from there.
    pub(crate) async fn close(&self) {
        if let Some(log) = &self.log {
            log.stop().await;
        }
        self.writer.turn.lock().await.close().await;
        drop(self.writer_lock.lock().expect("writer lock").take());
        if let Some(checkpointer) = &self.checkpointer {
            checkpointer.stop();
        }
    }

    /// With the log: projects what a crash left in it, before anything reads the tables.
    pub(crate) async fn project_leftovers(&self) -> Result<(), StoreError> {
        if self.log.is_some() {
            projector::project_leftovers(&self.writer).await?;
        }
        Ok(())
    }
}

impl Sink<ShopRecord> for SqliteJournal {
    /// One writer: a batch waits for the one before it, then writes.
    fn commit<'a>(
        &'a self,
        entries: &'a Entries<ShopRecord>,
        earlier: Earlier,
    ) -> BoxFuture<'a, Result<(), SinkError>> {
        Box::pin(async move {
            if let Some(log) = &self.log {
                return log_sqlite::append(&self.writer, &log.projection, entries, earlier).await;
            }
            after(earlier).await?;
            self.write(Batch::of(entries)).await.map_err(sink_error)
        })
    }
}
