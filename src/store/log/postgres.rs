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

/// Log rows read at once when projecting what a crash left.
const LEFTOVER_ROWS_PER_READ: i64 = 1_000;

/// Longest pause between two tries of a projection the store refused or could not take.
const PROJECTION_RETRY_MS_MAX: u64 = 1_000;

/// Appends a batch's record (and its payments), committing after `earlier` has; then counts it
/// as acknowledged, before the journal releases its replies.
pub(crate) async fn append(
    pool: &PgPool,
    fence: &WriterFence,
    projection: &Projection,
    entries: &[Entry<ShopRecord>],
    mut earlier: Earlier,
) -> Result<(), SinkError> {
    projection.room().await;
    let record = record::encode(entries);
    let batch = Batch::of(entries);
    let payments = Batch { payments: batch.payments, ..Batch::default() };
    let now_ms = warung_actors::domain::Clock::system().now();
    let settled = futures::FutureExt::now_or_never(&mut earlier);
    match settled {
        Some(false) => return Err(SinkError::EarlierFailed),
        // A finished future is not polled again.
        Some(true) => earlier = Box::pin(futures::future::ready(true)),
        None => {}
    }
    let position = if settled == Some(true) && payments.payments.is_empty() && fence.id().is_none() {
        // One statement is a transaction of its own: one round trip instead of three.
        let mut conn = pool.acquire().await.map_err(sink_error)?;
        insert_record(&mut conn, &record, now_ms).await.map_err(sink_error)?
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
        let position = insert_record(&mut tx, &record, now_ms).await.map_err(sink_error)?;
        if !payments.payments.is_empty() {
            write_all(&mut tx, &payments, None).await.map_err(sink_error)?;
        }
        after(earlier).await?;
        tx.commit().await.map_err(sink_error)?;
        position
    };
    projection.appended(position, entries.to_vec());
    Ok(())
}

async fn insert_record(conn: &mut PgConnection, record: &[u8], now_ms: i64) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar("INSERT INTO journal_log (record, appended_at) VALUES ($1, $2) RETURNING position")
        .bind(record)
        .bind(now_ms)
        .fetch_one(conn)
        .await
}

/// Writes batches to the tables, and deletes their log rows, in one transaction. Their payments
/// are stored already (with the log row), unless the log is replayed into other tables: a stored
/// one is kept.
async fn project(pool: &PgPool, positions: &[i64], entries: &[Entry<ShopRecord>]) -> Result<(), sqlx::Error> {
    let mut batch = Batch::of(entries);
    batch.payments_stored = true;
    let mut tx = pool.begin().await?;
    sqlx::query("DELETE FROM journal_log WHERE position = ANY($1)").bind(positions).execute(&mut *tx).await?;
    write_all(&mut tx, &batch, None).await?;
    tx.commit().await
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
                Ok(()) => break,
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
