//! The log on Postgres. A batch is one row of `journal_log`, and its commit is the durability
//! point; the projector then writes the tables from the batches it has in memory, many at a time,
//! deleting their log rows in the same transaction (a row still in the log is a batch the tables
//! do not show yet). On start, rows left by a crash are projected before anything reads.
//!
//! Payments are the exception: a payment id is stored once, and the primary key is what refuses
//! a second one, so payment rows are written beside the log row, in its transaction, before any
//! reply; the projector leaves them out.

use std::sync::Arc;
use std::time::Duration;

use sqlx::postgres::{PgConnection, PgPool};
use warung_actors::journal::{after, Earlier, Entry, SinkError};

use super::projection::Projection;
use super::record;
use crate::records::ShopRecord;
use crate::store::batch::Batch;
use crate::store::fence::{self, Fenced, WriterFence};
use crate::store::postgres::write_all;
use crate::store::{sink_error, StoreError};

/// A Postgres advisory lock key: the one process that writes a database's log holds it.
pub(crate) const LOG_WRITER_LOCK: i64 = 0x7761_7275_6e67_4c47; // "warungLG"

/// Log rows read at once when projecting what a crash left.
const LEFTOVER_ROWS_PER_READ: i64 = 1_000;

/// Longest pause between two tries of a projection the store refused or could not take.
const PROJECTION_RETRY_MS_MAX: u64 = 1_000;

/// How long an append whose commit answer was lost keeps asking whether its record landed.
const COMMIT_CHECK_SECS: u64 = 10;

/// Appends a batch's record (and its payments), committing after `earlier` has; then counts it
/// as acknowledged, before the journal releases its replies.
///
/// The record's position is taken only once the batch ahead has committed, so positions follow
/// the commit order (what a restart replays in). A commit whose answer was lost (the connection
/// cut after the server committed) is settled by looking for the record's key: found, it counts
/// as committed; otherwise the batch failed, as in the tables' journal.
pub(crate) async fn append(
    pool: &PgPool,
    fence: &WriterFence,
    projection: &Projection,
    entries: &[Entry<ShopRecord>],
    mut earlier: Earlier,
) -> Result<(), SinkError> {
    projection.room().await.map_err(|behind| SinkError::Unavailable(behind.to_string()))?;
    let record = record::encode(entries);
    let batch = Batch::of(entries);
    let payments = Batch { payments: batch.payments, ..Batch::default() };
    let key: i64 = rand::random();
    let now_ms = warung_actors::domain::Clock::system().now();
    let settled = futures::FutureExt::now_or_never(&mut earlier);
    match settled {
        Some(false) => return Err(SinkError::EarlierFailed),
        // A finished future is not polled again.
        Some(true) => earlier = Box::pin(futures::future::ready(true)),
        None => {}
    }
    let appended = if settled == Some(true) && payments.payments.is_empty() && fence.id().is_none() {
        // One statement is a transaction of its own: one round trip instead of three.
        match pool.acquire().await {
            Ok(mut conn) => insert_record(&mut conn, key, &record, now_ms).await,
            Err(error) => return Err(sink_error(error)),
        }
    } else {
        let mut tx = pool.begin().await.map_err(sink_error)?;
        if let Some(id) = fence.id() {
            let fencing = fence::fencing_select(1, 2, Fenced::Transaction);
            let checked =
                sqlx::query(sqlx::AssertSqlSafe(fencing)).bind(&id.node).bind(id.incarnation).execute(&mut *tx).await;
            if let Err(error) = checked {
                if fence::is_fenced(&error) {
                    fence.trip();
                    return Err(SinkError::Fenced(error.to_string()));
                }
                return Err(sink_error(error));
            }
        }
        if !payments.payments.is_empty() {
            write_all(&mut tx, &payments, None).await.map_err(sink_error)?;
        }
        after(earlier).await?;
        match insert_record(&mut tx, key, &record, now_ms).await {
            Ok(position) => tx.commit().await.map(|()| position),
            Err(error) => Err(error),
        }
    };
    let position = match appended {
        Ok(position) => position,
        Err(error) if is_refusal(&error) => return Err(sink_error(error)),
        Err(error) => match committed_position(pool, key).await {
            Some(position) => {
                tracing::warn!(%error, "a journal commit's answer was lost; its record is in the log, so it counts");
                position
            }
            None => return Err(sink_error(error)),
        },
    };
    projection.appended(position, entries.to_vec());
    Ok(())
}

/// Whether the store refused the content (so nothing was committed), rather than went away.
fn is_refusal(error: &sqlx::Error) -> bool {
    matches!(error, sqlx::Error::Database(db)
        if db.is_unique_violation() || db.is_check_violation() || db.is_foreign_key_violation())
}

/// After an error that may have come after the commit: the record's position if it is in the
/// log. Tried for `COMMIT_CHECK_SECS` (the store may be coming back); unknown after that counts as
/// not committed, and is logged as the one case a restart may find a record this process gave up.
async fn committed_position(pool: &PgPool, key: i64) -> Option<i64> {
    let deadline = std::time::Instant::now() + Duration::from_secs(COMMIT_CHECK_SECS);
    loop {
        let found: Result<Option<i64>, _> =
            sqlx::query_scalar("SELECT position FROM journal_log WHERE key = $1").bind(key).fetch_optional(pool).await;
        match found {
            Ok(position) => return position,
            Err(error) if std::time::Instant::now() >= deadline => {
                tracing::error!(%error, key, "could not learn whether a journal commit landed; counted as failed");
                return None;
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(200)).await,
        }
    }
}

async fn insert_record(conn: &mut PgConnection, key: i64, record: &[u8], now_ms: i64) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar("INSERT INTO journal_log (key, record, appended_at) VALUES ($1, $2, $3) RETURNING position")
        .bind(key)
        .bind(record)
        .bind(now_ms)
        .fetch_one(conn)
        .await
}

/// What a projection transaction found of its log rows.
#[derive(Debug, PartialEq, Eq)]
enum Projected {
    /// It wrote them.
    Written,
    /// Another transaction had projected them all already (a retry whose first try committed).
    AlreadyDone,
}

/// Writes batches to the tables, and deletes their log rows, in one transaction. The rows are
/// deleted first: all of them gone means the batches were projected already (nothing is
/// written twice), some of them gone is a broken invariant. Their payments are stored already
/// (with the log row), unless the log is replayed into other tables: a stored one is kept.
async fn project(pool: &PgPool, positions: &[i64], entries: &[Entry<ShopRecord>]) -> Result<Projected, StoreError> {
    let mut batch = Batch::of(entries);
    batch.payments_stored = true;
    let mut tx = pool.begin().await?;
    let deleted: Vec<i64> = sqlx::query_scalar("DELETE FROM journal_log WHERE position = ANY($1) RETURNING position")
        .bind(positions)
        .fetch_all(&mut *tx)
        .await?;
    if deleted.is_empty() {
        return Ok(Projected::AlreadyDone);
    }
    if deleted.len() != positions.len() {
        return Err(StoreError::Corrupt(format!(
            "{} of {} log records to project were already gone",
            positions.len() - deleted.len(),
            positions.len()
        )));
    }
    write_all(&mut tx, &batch, None).await?;
    tx.commit().await?;
    Ok(Projected::Written)
}

/// Takes the log's writer lock on a connection of its own, held while the store is open: one
/// process writes and projects a database's log. A second would project records the first still
/// holds in memory, and could write an older state over a newer one; it is refused at start.
pub(crate) async fn lock_writer(options: &sqlx::postgres::PgConnectOptions) -> Result<PgConnection, StoreError> {
    let mut conn: PgConnection = sqlx::ConnectOptions::connect(options).await?;
    let locked: bool =
        sqlx::query_scalar("SELECT pg_try_advisory_lock($1)").bind(LOG_WRITER_LOCK).fetch_one(&mut conn).await?;
    if !locked {
        return Err(StoreError::LogHasAnotherWriter);
    }
    Ok(conn)
}

/// The projector: for as long as the process runs, takes the acknowledged batches in order and
/// writes them. A failure is retried (the batches stay in memory and in the log) with a growing
/// pause; meanwhile reads wait, and past the lag limits so does the journal.
pub(crate) async fn run_projector(pool: PgPool, projection: Arc<Projection>) {
    loop {
        let taken = projection.take().await;
        let last = taken.last().expect("take returns at least one batch").0;
        let positions: Vec<i64> = taken.iter().map(|t| t.1).collect();
        let entries: Vec<Entry<ShopRecord>> = taken.into_iter().flat_map(|t| t.2).collect();
        let mut pause = Duration::from_millis(10);
        loop {
            match project(&pool, &positions, &entries).await {
                Ok(_) => break,
                Err(error) => {
                    projection.failed();
                    tracing::error!(%error, batches = positions.len(), "projecting the journal's log failed; trying again");
                    tokio::time::sleep(pause).await;
                    pause = (pause * 2).min(Duration::from_millis(PROJECTION_RETRY_MS_MAX));
                }
            }
        }
        projection.projected(last);
    }
}

/// Projects every record left in the log (by a crash between a batch's commit and its
/// projection), oldest first, before anything reads the tables.
pub(crate) async fn project_leftovers(pool: &PgPool) -> Result<u64, StoreError> {
    let mut projected = 0;
    loop {
        let rows: Vec<(i64, Vec<u8>)> =
            sqlx::query_as("SELECT position, record FROM journal_log ORDER BY position LIMIT $1")
                .bind(LEFTOVER_ROWS_PER_READ)
                .fetch_all(pool)
                .await?;
        if rows.is_empty() {
            return Ok(projected);
        }
        let mut entries = Vec::new();
        for (position, bytes) in &rows {
            let decoded = record::decode(bytes)
                .map_err(|error| StoreError::LogRecordUnreadable { position: *position, error: error.to_string() })?;
            entries.extend(decoded);
        }
        let positions: Vec<i64> = rows.iter().map(|r| r.0).collect();
        project(pool, &positions, &entries).await?;
        projected += rows.len() as u64;
    }
}
