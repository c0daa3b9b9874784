//! The log on Postgres. A batch is one row of `journal_log`, and its commit is the durability
//! point; the projector then writes the tables from the batches it has in memory, many at a time,
//! deleting their log rows in the same transaction (a row still in the log is a batch the tables
//! do not show yet). On start, rows left by a crash are projected before anything reads; in a
//! cluster, each node projects its own records and the records of nodes fenced out are the
//! business of `log::cluster`.
//!
//! Payments are the exception, and on a cluster's node new orders too: a payment or order id is
//! stored once, and the primary key is what refuses a second one (two nodes' flows may both try
//! to create an order while its customer moves between them), so those rows are written beside
//! the log row, in its transaction, before any reply (`Batch::guards_of`); the projector keeps
//! stored payments and upserts orders only as far along as they go.

use std::sync::Arc;
use std::time::Duration;

use futures::future::BoxFuture;
use sqlx::postgres::{PgConnection, PgPool};
use warung_actors::journal::{after, Earlier, Entries, Entry, SinkError};

use super::projection::Projection;
use super::projector::{deleted_rows, settle_append, Landed, LogRow, LogTables, Projected, OLDEST_RECORDS};
use super::record;
use crate::records::ShopRecord;
use crate::store::batch::{Batch, Guarded, OrderWrites};
use crate::store::combined::Combined;
use crate::store::fence::{self, FenceId, Trip, WriterFence};
use crate::store::journal_writer::Writer;
use crate::store::lone_writer::{self, LoneWriter};
use crate::store::postgres::{write_all, write_orders, Appends, HeldConnections, PROJECTION_COPY_ROWS_MIN};
use crate::store::{sink_error, StoreError};

/// How long an append whose commit answer was lost keeps asking whether its record landed.
const COMMIT_CHECK_SECS: u64 = 10;

/// Appends a batch's record (and its payments), committing after `earlier` has; then counts it
/// as acknowledged, before the journal releases its replies.
///
/// The record's position is taken only once the batch ahead has committed, so positions follow
/// the commit order (what a restart replays in). A commit whose answer was lost (the connection
/// cut after the server committed) is settled by the record's key (`landed`): committed, it
/// counts; not, the batch failed, as in the tables' journal; unknown, this process stops
/// writing (its fence trips), so that no later write goes before the record's projection.
pub(crate) async fn append(
    pool: &PgPool,
    held: &HeldConnections,
    fence: &WriterFence,
    lone: &LoneWriter,
    projection: &Projection,
    entries: &Entries<ShopRecord>,
    mut earlier: Earlier,
) -> Result<(), SinkError> {
    // Held until the record is counted: while an append is under way the projector does not
    // take the journal for idle.
    let _appending = projection.room().await.map_err(|behind| SinkError::Unavailable(behind.to_string()))?;
    let record = RecordOf(entries);
    let writer = Writer::of(fence, lone, pool).await.map_err(sink_error)?;
    let guarded = match fence.is_armed() {
        true => Guarded::PaymentsAndNewOrders,
        false => Guarded::Payments,
    };
    let guards = Batch::guards_of(entries, guarded);
    let key: i64 = rand::random();
    let now_ms = warung_actors::domain::Clock::system().now();
    let settled = futures::FutureExt::now_or_never(&mut earlier);
    match settled {
        Some(false) => return Err(SinkError::EarlierFailed),
        // A finished future is not polled again.
        Some(true) => earlier = Box::pin(futures::future::ready(true)),
        None => {}
    }
    let (connection, appended) = if guards.payments.is_empty() && !matches!(writer, Some(Writer::Node(_))) {
        // Nothing to write before the batch ahead has committed: wait for it, then one statement
        // (the orders the batch creates, and the record), a transaction of its own: one round
        // trip after the batch ahead, not two.
        if settled.is_none() {
            after(earlier).await?;
        }
        let mut connection = held.take().await.map_err(sink_error)?;
        let epoch = writer.and_then(Writer::epoch);
        let appended = insert_record(&mut connection, Some(&guards), key, record, now_ms, None, epoch).await;
        (connection, appended)
    } else {
        let mut connection = held.take().await.map_err(sink_error)?;
        let appending = append_in_transaction(&mut connection, fence, writer, &guards, earlier, key, record, now_ms);
        let appended = appending.await?;
        (connection, appended)
    };
    if let Err(error) = &appended {
        if fence::is_fenced(error) {
            fence.trip();
            return Err(SinkError::Fenced(error.to_string()));
        }
    }
    // Kept for the next append only when every statement answered; otherwise back to the pool,
    // which tests it (and closes it if it is broken).
    if appended.is_ok() {
        connection.keep();
    }
    let settled = settle_append(appended, committed_position(pool, key)).await;
    if let Err(SinkError::Fenced(why)) = &settled {
        // Only an outcome the store could not tell gets here: this process stops writing, so
        // the next start projects the record, if it is there, before anything else.
        tracing::error!(%why, key, "stopping this process's writes: the next start settles the log first");
        fence.trip_because(Trip::OutcomeUnknown);
    }
    projection.appended(settled?, Arc::clone(entries));
    Ok(())
}

/// The append of a batch that carries payments, or of a cluster's node (fenced): its guards are
/// written before the batch ahead has committed, the record after, in one transaction. `Err` is
/// a refusal (fenced, a payment or order stored already, the batch ahead failed); `Ok` holds the
/// record's insert and commit, whose error may have come after the commit. The `writer` is
/// checked first.
#[allow(clippy::too_many_arguments)]
async fn append_in_transaction(
    connection: &mut PgConnection,
    fence: &WriterFence,
    writer: Option<Writer<'_>>,
    guards: &Batch<'_>,
    earlier: Earlier,
    key: i64,
    record: RecordOf<'_>,
    now_ms: i64,
) -> Result<Result<i64, sqlx::Error>, SinkError> {
    let mut tx = sqlx::Connection::begin(connection).await.map_err(sink_error)?;
    let checked = match writer {
        Some(writer) => writer.check(&mut tx).await,
        None => Ok(()),
    };
    if let Err(error) = checked {
        if fence::is_fenced(&error) {
            fence.trip();
            return Err(SinkError::Fenced(error.to_string()));
        }
        return Err(sink_error(error));
    }
    if !guards.payments.is_empty() || !guards.orders.rows.is_empty() {
        if let Err(error) = write_all(&mut tx, guards, None).await {
            // A second payment or order with one id refuses the batch, as the tables would.
            return Err(sink_error(error));
        }
    }
    after(earlier).await?;
    Ok(match insert_record(&mut tx, None, key, record, now_ms, fence.id(), None).await {
        Ok(position) => tx.commit().await.map(|()| position),
        Err(error) => Err(error),
    })
}

/// After an error that may have come after the commit: whether the record is in the log. Asked
/// for `COMMIT_CHECK_SECS` (the store may be coming back); past that, `Landed::Unknown`.
async fn committed_position(pool: &PgPool, key: i64) -> Landed {
    let deadline = std::time::Instant::now() + Duration::from_secs(COMMIT_CHECK_SECS);
    loop {
        match landed(pool, key).await {
            Ok(landed) => return landed,
            Err(error) if std::time::Instant::now() >= deadline => {
                tracing::error!(%error, key, "could not learn whether a journal commit landed");
                return Landed::Unknown;
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(200)).await,
        }
    }
}

/// Whether the record under `key` committed. A plain read cannot tell a transaction that is
/// still committing (its backend has not noticed its client is gone) from one that never will:
/// it sees neither. An insert of the same key can, as it waits on the key's unique index for
/// that transaction to end: if it then inserts, no record with the key committed, and none
/// can any more (the probe is rolled back; `lock_timeout` bounds the wait).
pub(crate) async fn landed(pool: &PgPool, key: i64) -> Result<Landed, sqlx::Error> {
    let mut probe = pool.begin().await?;
    let inserted: Option<i64> = sqlx::query_scalar(
        "INSERT INTO journal_log (key, record, appended_at) VALUES ($1, '\\x', 0) \
         ON CONFLICT (key) DO NOTHING RETURNING position",
    )
    .bind(key)
    .fetch_optional(&mut *probe)
    .await?;
    probe.rollback().await?;
    if inserted.is_some() {
        return Ok(Landed::Not);
    }
    let position: Option<i64> =
        sqlx::query_scalar("SELECT position FROM journal_log WHERE key = $1").bind(key).fetch_optional(pool).await?;
    // Gone between the two (projected by another node, as a fenced-out writer's): it committed.
    Ok(position.map_or(Landed::Unknown, Landed::At))
}

const INSERT_RECORD: &str = "INSERT INTO journal_log (key, record, appended_at, writer_node, writer_incarnation) \
     VALUES ($1, $2, $3, $4, $5) RETURNING position";

/// A lone writer's: the row is inserted from the check's one row, so the check runs before it.
static INSERT_RECORD_CHECKED: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    format!(
        "INSERT INTO journal_log (key, record, appended_at, writer_node, writer_incarnation) \
         SELECT $1, $2, $3, $4, $5 FROM (SELECT {} AS ok) AS lone_writer WHERE lone_writer.ok \
         RETURNING position",
        lone_writer::guard(6)
    )
});

/// Appends a record, naming its writer when this process is a cluster's node (`writer`), in one
/// statement with the orders its batch creates (`guards`, when not written already) and, for a
/// lone writer whose statement is its transaction, the check of its `epoch`.
async fn insert_record(
    conn: &mut PgConnection,
    guards: Option<&Batch<'_>>,
    key: i64,
    record: RecordOf<'_>,
    now_ms: i64,
    writer: Option<&FenceId>,
    epoch: Option<i64>,
) -> Result<i64, sqlx::Error> {
    // The record, and the few values beside it (its key, its time, the writer).
    let mut statement = Combined::with_room_for(record::room_for(record.0) + 64);
    if let Some(guards) = guards {
        write_orders(&mut statement, guards);
    }
    let insert: &str = match epoch {
        None => INSERT_RECORD,
        Some(_) => &INSERT_RECORD_CHECKED,
    };
    let part = statement
        .returning(insert)
        .bind(key)
        .bind(record)
        .bind(now_ms)
        .bind(writer.map(|w| w.node.as_str()))
        .bind(writer.map(|w| w.incarnation));
    if let Some(epoch) = epoch {
        part.bind(epoch);
    }
    statement.fetch_one(conn).await
}

/// A batch's record as a statement's value: encoded straight into the statement's arguments,
/// with no buffer of its own to grow and then copy (the record is tens of KB in a flash sale).
#[derive(Clone, Copy)]
struct RecordOf<'a>(&'a [Entry<ShopRecord>]);

impl sqlx::Type<sqlx::Postgres> for RecordOf<'_> {
    fn type_info() -> sqlx::postgres::PgTypeInfo {
        <&[u8] as sqlx::Type<sqlx::Postgres>>::type_info()
    }
}

impl sqlx::Encode<'_, sqlx::Postgres> for RecordOf<'_> {
    fn encode_by_ref(
        &self,
        buf: &mut sqlx::postgres::PgArgumentBuffer,
    ) -> Result<sqlx::encode::IsNull, sqlx::error::BoxDynError> {
        record::encode_into(self.0, buf);
        Ok(sqlx::encode::IsNull::No)
    }
}

/// The tables on Postgres, as this process's projector writes them. In a cluster its transactions
/// are fenced like the journal's batches: once the node is taken over, nothing more of it is
/// projected (the node that takes its shards projects the rest, in order).
pub(crate) struct PgLogTables {
    pub(crate) pool: PgPool,
    pub(crate) fence: Arc<WriterFence>,
    /// A lone writer's epoch, checked by each projection as by each append.
    pub(crate) lone: Arc<LoneWriter>,
    /// `UpsertForward` for what a start finds in the log; a cluster's node always upserts
    /// forward.
    pub(crate) order_writes: OrderWrites,
}

/// The log rows are deleted with `RETURNING`, which also serialises two projectors of the same
/// rows (the second finds them gone).
impl LogTables for PgLogTables {
    const PROJECTOR_NICE: i32 = super::projector::PROJECTOR_THREAD_NICE;
    const TRANSACTION_EVENTS_MAX: usize = super::projection::PROJECTION_TRANSACTION_EVENTS_MAX;

    fn project<'a>(
        &'a self,
        positions: &'a [i64],
        batches: &'a [Entries<ShopRecord>],
    ) -> BoxFuture<'a, Result<Projected, StoreError>> {
        Box::pin(async move {
            let mut tx = self.pool.begin().await?;
            // A cluster's node (its new orders are stored with their records) upserts forward.
            let order_writes = match self.fence.is_armed() {
                true => OrderWrites::UpsertForward,
                false => self.order_writes,
            };
            let writer = Writer::of(&self.fence, &self.lone, &self.pool).await?;
            let projected = delete_and_write(&mut tx, positions, batches, writer, order_writes).await;
            if let Err(StoreError::Database(error)) = &projected {
                if fence::is_fenced(error) {
                    self.fence.trip();
                }
            }
            let projected = projected?;
            if projected == Projected::Written {
                tx.commit().await?;
            }
            Ok(projected)
        })
    }

    fn oldest(&self, limit: i64) -> BoxFuture<'_, Result<Vec<LogRow>, StoreError>> {
        Box::pin(async move { Ok(sqlx::query_as(OLDEST_RECORDS).bind(limit).fetch_all(&self.pool).await?) })
    }

    fn fenced_out(&self) -> bool {
        self.fence.is_tripped()
    }
}

/// Deletes the log rows at `positions` and writes their batches' entries to the tables, in the
/// caller's transaction, checked as `writer` (`journal_writer`). Their payments are stored already (with the log row). What they
/// only append goes by `COPY` when there is enough of it.
///
/// The check comes first, before the rows are even looked at: a node fenced out learns it from
/// its next projection, whatever another node has projected of its records meanwhile.
pub(crate) async fn delete_and_write(
    tx: &mut PgConnection,
    positions: &[i64],
    batches: &[Entries<ShopRecord>],
    writer: Option<Writer<'_>>,
    order_writes: OrderWrites,
) -> Result<Projected, StoreError> {
    if let Some(writer) = writer {
        writer.check(&mut *tx).await?;
    }
    let deleted: Vec<i64> = sqlx::query_scalar("DELETE FROM journal_log WHERE position = ANY($1) RETURNING position")
        .bind(positions)
        .fetch_all(&mut *tx)
        .await?;
    let projected = deleted_rows(deleted.len() as u64, positions)?;
    if projected == Projected::Written {
        let mut batch = Batch::of_batches(batches);
        batch.payments_stored = true;
        batch.order_writes = order_writes;
        let appends = Appends::take(&mut batch, PROJECTION_COPY_ROWS_MIN);
        write_all(tx, &batch, None).await?;
        appends.write(tx).await?;
    }
    Ok(projected)
}

#[cfg(test)]
mod landed_tests;
