//! The log on SQLite, the embedded default: the same record, projection and rules as on Postgres
//! (`postgres`), with SQLite's one writer. A batch is one row of `journal_log`, committed (WAL,
//! `synchronous = FULL`) before any reply in it is released; payments are written beside it, in
//! its transaction, as on Postgres; the projector writes the tables and deletes the rows.
//!
//! Inside the process the appends and the projector take turns on SQLite's one write lock through
//! `WriterTurn`, a fair async lock: left to SQLite, a writer that finds the lock taken sleeps in
//! its busy handler for up to 100 ms at a time (measured: p99 433 ms against 40 ms on `tables`).
//! The turn holds the one connection they write on: SQLite empties a connection's page cache
//! whenever another connection has written, so on one connection the pages of the log and the
//! tables stay cached from one append or projection to the next.

use std::sync::Arc;

use futures::future::BoxFuture;
use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection, SqlitePool};
use sqlx::{ConnectOptions, Connection};
use warung_actors::journal::{after, Earlier, Entries, SinkError};

use super::projection::Projection;
use super::projector::{deleted_rows, settle_append, Landed, LogRow, LogTables, Projected, OLDEST_RECORDS};
use super::record;
use crate::records::ShopRecord;
use crate::store::batch::{Batch, Guarded};
use crate::store::sqlite::{write_payments, write_tables};
use crate::store::StoreError;

/// Events the projector writes in one transaction on SQLite, at most (it may exceed it by one
/// batch): about 5 ms of writing. The appends wait for the one write lock while it is held, so a
/// projector catching up after a burst, in large transactions, would hold every reply back for
/// each of them (at 50,000 events, about 250 ms; measured: sales fell from 40,000 to a few
/// hundred per second once it began).
pub(crate) const SQLITE_PROJECTION_TRANSACTION_EVENTS_MAX: usize = 1_000;

/// The same once the appends have paused (a burst's catch-up): about 35 ms of writing, and a
/// purchase that comes meanwhile waits for it once. Larger transactions write each page of the
/// tables once for more rows: measured after a 40,000-buyer flash sale, the SQLite worker spent
/// 27-29 µs a sale instead of 45 (docs/benchmarks.md, issue 19, thirty-second part).
pub(crate) const SQLITE_PAUSED_PROJECTION_TRANSACTION_EVENTS_MAX: usize = 8_000;

/// The log and the tables on SQLite, and the turn its writers take.
#[derive(Clone)]
pub(crate) struct SqliteLog {
    pub(crate) pool: SqlitePool,
    pub(crate) turn: WriterTurn,
}

/// Whose turn it is to write: the journal's appends and the projector, one transaction at a time,
/// on the connection the turn holds.
pub(crate) type WriterTurn = std::sync::Arc<tokio::sync::Mutex<WriterConnection>>;

/// The writers' one connection, made on first use and made again after a write that failed.
pub(crate) struct WriterConnection {
    options: SqliteConnectOptions,
    connection: Option<SqliteConnection>,
}

impl WriterConnection {
    pub(crate) fn turn(options: SqliteConnectOptions) -> WriterTurn {
        std::sync::Arc::new(tokio::sync::Mutex::new(WriterConnection { options, connection: None }))
    }

    /// The connection, made if there is none.
    async fn get(&mut self) -> Result<&mut SqliteConnection, sqlx::Error> {
        if self.connection.is_none() {
            self.connection = Some(self.options.connect().await?);
        }
        Ok(self.connection.as_mut().expect("made above"))
    }

    /// Closes the connection, once the writers have stopped (a later write would make a new one).
    pub(crate) async fn close(&mut self) {
        if let Some(connection) = self.connection.take() {
            let _ = connection.close().await;
        }
    }

    /// After a write: one that failed closes the connection (rolling back what it had begun), and
    /// the next write makes a new one, so whatever state the failure left it in goes with it.
    fn settle<T, E>(&mut self, written: &Result<T, E>) {
        if written.is_err() {
            self.connection = None;
        }
    }
}

/// Appends a batch's record (and its payments) once `earlier` has committed, and counts it as
/// acknowledged, before the journal releases its replies.
pub(crate) async fn append(
    log: &SqliteLog,
    projection: &Projection,
    entries: &Entries<ShopRecord>,
    earlier: Earlier,
) -> Result<(), SinkError> {
    // Held until the record is counted: while an append is under way the projector does not
    // take the journal for idle.
    let _appending = projection.room().await.map_err(|behind| SinkError::Unavailable(behind.to_string()))?;
    let record = record::encode(entries);
    let payments = Batch::guards_of(entries, Guarded::Payments);
    let key: i64 = rand::random();
    let now_ms = warung_actors::domain::Clock::system().now();
    after(earlier).await?;
    let pool = &log.pool;
    let appended = {
        let mut writer = log.turn.lock().await;
        let appended = match writer.get().await {
            Ok(connection) => append_on(connection, &payments, key, &record, now_ms).await,
            Err(error) => Err(error),
        };
        writer.settle(&appended);
        appended
    };
    // An I/O error at commit can come after SQLite wrote the transaction to its WAL.
    let position = settle_append(appended, committed_position(pool, key)).await?;
    projection.appended(position, Arc::clone(entries));
    Ok(())
}

/// Whether the record is in the log (asked once: the file is local, and its one writer's
/// failed transaction is over, so what is not there now never will be). An error here means
/// the file cannot be read now, which counts as not committed.
async fn committed_position(pool: &SqlitePool, key: i64) -> Landed {
    let found: Result<Option<i64>, _> =
        sqlx::query_scalar("SELECT position FROM journal_log WHERE key = $1").bind(key).fetch_optional(pool).await;
    match found {
        Ok(Some(position)) => Landed::At(position),
        Ok(None) | Err(_) => Landed::Not,
    }
}

/// The batch's payments and its record, in one transaction on the writers' connection.
async fn append_on(
    connection: &mut SqliteConnection,
    payments: &Batch<'_>,
    key: i64,
    record: &[u8],
    now_ms: i64,
) -> Result<i64, sqlx::Error> {
    let mut tx = connection.begin().await?;
    write_payments(&mut tx, payments).await?;
    let position = insert_record(&mut tx, key, record, now_ms).await?;
    tx.commit().await?;
    Ok(position)
}

async fn insert_record(conn: &mut SqliteConnection, key: i64, record: &[u8], now_ms: i64) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar("INSERT INTO journal_log (key, record, appended_at) VALUES ($1, $2, $3) RETURNING position")
        .bind(key)
        .bind(record)
        .bind(now_ms)
        .fetch_one(conn)
        .await
}

/// The tables on SQLite. Positions are passed as one JSON array (SQLite has no array binds, and
/// a projection can take more batches than it allows parameters).
impl LogTables for SqliteLog {
    /// The default: the projector and the appends take turns on SQLite's one write lock, and a
    /// projector running behind the others while it holds the turn would keep the appends (and
    /// every reply) waiting for it. Measured at nice 10: no gain (9,670 sales per second against
    /// 9,911, p99 a little higher).
    const PROJECTOR_NICE: i32 = 0;
    const TRANSACTION_EVENTS_MAX: usize = SQLITE_PROJECTION_TRANSACTION_EVENTS_MAX;
    const PAUSED_TRANSACTION_EVENTS_MAX: usize = SQLITE_PAUSED_PROJECTION_TRANSACTION_EVENTS_MAX;

    fn project<'a>(
        &'a self,
        positions: &'a [i64],
        batches: &'a [Entries<ShopRecord>],
    ) -> BoxFuture<'a, Result<Projected, StoreError>> {
        Box::pin(async move {
            let mut batch = Batch::of_batches(batches);
            batch.payments_stored = true;
            let listed = serde_json::to_string(positions).expect("integers serialize");
            let mut writer = self.turn.lock().await;
            let projected = match writer.get().await {
                Ok(connection) => project_on(connection, &listed, positions, &batch).await,
                Err(error) => Err(error.into()),
            };
            writer.settle(&projected);
            projected
        })
    }

    fn oldest(&self, limit: i64) -> BoxFuture<'_, Result<Vec<LogRow>, StoreError>> {
        Box::pin(async move { Ok(sqlx::query_as(OLDEST_RECORDS).bind(limit).fetch_all(&self.pool).await?) })
    }
}

/// Deletes the log rows at `positions` and writes their batch to the tables, in one transaction
/// on the writers' connection; rolled back unless it deleted them all.
async fn project_on(
    connection: &mut SqliteConnection,
    listed: &str,
    positions: &[i64],
    batch: &Batch<'_>,
) -> Result<Projected, StoreError> {
    let mut tx = connection.begin().await?;
    let deleted = sqlx::query("DELETE FROM journal_log WHERE position IN (SELECT value FROM json_each($1))")
        .bind(listed)
        .execute(&mut *tx)
        .await?
        .rows_affected();
    let projected = deleted_rows(deleted, positions)?;
    if projected == Projected::Written {
        write_tables(&mut tx, batch).await?;
        tx.commit().await?;
    }
    Ok(projected)
}
