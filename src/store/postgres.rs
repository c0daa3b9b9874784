//! Postgres: a batch is one transaction with one `UNNEST` statement per table (`writer`), so a
//! flash sale costs a handful of round trips and one fsync per batch, not per buyer. Here: the
//! pools, and the journal's side of the store (pipelined batches, or the log's appends).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::future::{BoxFuture, FutureExt};
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use warung_actors::journal::{after, Earlier, Entries, Sink, SinkError, PIPELINE_BATCHES_MAX};

use super::batch::{Batch, OrderWrites, RowKeys};
use super::fence::{self, Fenced, WriterFence};
use super::journal_writer::Writer;
use super::log::postgres::{self as log_postgres, PgLogTables};
use super::log::projector::{self, LogJournal};
use super::lone_writer::{LoneWriter, PgWriterLock};
use super::{sink_error, JournalMode, JournalOptions, Journals, PoolUse, StoreError, Writers};
use crate::records::ShopRecord;

mod copy;
mod held;
mod writer;

pub(crate) use copy::Appends;
pub use copy::PROJECTION_COPY_ROWS_MIN;
pub(crate) use held::HeldConnections;
use writer::is_one_statement;
pub(crate) use writer::{write_all, write_orders};

/// How long a caller waits for a pooled connection before the store counts as unavailable.
const POOL_ACQUIRE_TIMEOUT_SECS: u64 = 5;

/// Connections of the journal's own pool: one per batch in the store at once, and a spare that
/// takes over when one is cut.
const WRITE_CONNECTIONS_MAX: u32 = PIPELINE_BATCHES_MAX as u32 + 1;

/// A journal connection idle this long is pinged before it takes a batch, so one cut while the
/// shop was quiet (a database restart) is replaced instead of failing a customer's purchase.
/// Busier ones are not: sqlx's ping before every use was a round trip per batch, about a tenth
/// of a flash sale's throughput at 64 buyers in flight. A connection cut less than this before
/// its next batch fails that batch, and its callers are told to try again (never a false success).
const WRITE_PING_AFTER_IDLE_MS: u64 = 1_000;

/// How the journal's connections name themselves in `pg_stat_activity`, apart from the reads.
pub const JOURNAL_APPLICATION_NAME: &str = "warung-journal";

/// How the log's projector names its connection (`database.journal = "log"`).
pub const PROJECTOR_APPLICATION_NAME: &str = "warung-projector";

/// A journal batch never waits on a row lock of its own making (see `PgJournal::write`); one that
/// waits this long is held by something outside the journal, and fails rather than hangs.
const WRITE_LOCK_TIMEOUT: &str = "5s";

/// Settings of every connection: no JIT compilation. The engine's statements run in well under a
/// millisecond, and Postgres compiles one whose estimated cost passes `jit_above_cost`, which a
/// read of 64 wallets' ledgers does on tables never analyzed: 75 ms of compilation for a 2 ms
/// read, measured.
const CONNECTION_SETTINGS: [(&str, &str); 1] = [("jit", "off")];

/// Settings of the connections that write the tables (the journal's, the projector's): each
/// statement is planned with its values. Their statements join a batch's keys (`UNNEST`) with
/// tables that grow; a generic plan, which Postgres caches after five runs and keeps until an
/// `ANALYZE` of the table, made while a table was small scans it whole at every batch once it
/// is large (seen with autovacuum off: every projection read the million customers' table).
/// A plan made with the values sees the table's present size.
///
/// And they probe the tables' indexes key by key, never hash or merge a whole table: with a few
/// thousand keys against a table in memory, Postgres's costs (made for pages read from disk)
/// chose to read and hash all of it, two to three times slower for 1,500 keys against 60,000
/// customers or items, and slower still as the table grows (docs/benchmarks.md). An index probe
/// per key costs the same whatever the table's size.
const WRITER_SETTINGS: [(&str, &str); 4] = [
    ("lock_timeout", WRITE_LOCK_TIMEOUT),
    ("plan_cache_mode", "force_custom_plan"),
    ("enable_hashjoin", "off"),
    ("enable_mergejoin", "off"),
];

/// Settings of the log's append connections (`database.journal = "log"`): the lock timeout, and
/// Postgres's plans cached as usual. An append inserts one row (and a batch's payments, or a
/// node's new orders, by their keys alone), joining no table, so a plan made with the values
/// buys nothing, and `force_custom_plan` made the journal's backend plan the same insert at every
/// append, about a twelfth of its time (`perf record -a`, a sustained sale) on every commit's path.
const LOG_APPEND_SETTINGS: [(&str, &str); 1] = [("lock_timeout", WRITE_LOCK_TIMEOUT)];

/// The journal's side of a Postgres store: its own pool, and the keys of the batch in flight.
pub(crate) struct PgJournal {
    /// Connected lazily, so from the journal's thread: its round trips are driven there, not by
    /// whichever thread happened to open a shared connection.
    write_pool: PgPool,
    /// The log's appends take their connections from here, not from the pool (`held`).
    held: HeldConnections,
    /// The rows of the batch handed to the journal's writer last: the next batch writes the rest
    /// of its rows beside it, and these only once it has committed. Kept only for one journal
    /// (`Journals`).
    last_batch: Mutex<RowKeys>,
    journals: Journals,
    /// Who this process writes as, once it has joined a cluster: every batch is fenced by it.
    pub(crate) fence: Arc<WriterFence>,
    /// With `database.journal = "log"`: how far the tables are behind the log, and the projector.
    pub(crate) log: Option<LogJournal>,
    /// The writer lock (`lone_writer`), until the store closes; none for a store that writes no
    /// journal.
    writer_lock: Option<PgWriterLock>,
    /// The writers' connection settings, for projecting what a crash left in the log at start
    /// (the appends' pool has others, `LOG_APPEND_SETTINGS`).
    /// Boxed: the options are large, and the store's journal is an enum of the two backends'.
    writer_options: Box<PgConnectOptions>,
    /// Whether this process writes the journal alone or as a cluster's node, or none at all.
    pub(crate) writers: Writers,
    /// This process's epoch as a writer of the journal (`lone_writer`).
    lone: Arc<LoneWriter>,
}

/// Opens the reads' pool (activation, queries) and the journal's, and takes the writer lock
/// (`lone_writer`); with the log, starts the projector.
pub(crate) async fn connect(
    url: &str,
    max_connections: u32,
    journal: JournalOptions,
    writers: Writers,
) -> Result<(PgPool, PgJournal), StoreError> {
    let journal = journal.for_writers(writers);
    let options = super::postgres_options(url)?.application_name("warung").options(CONNECTION_SETTINGS);
    let pool = PgPoolOptions::new()
        .after_connect(|connection, _| Box::pin(super::nodelay::set_on(connection)))
        .max_connections(max_connections.max(2))
        .acquire_timeout(Duration::from_secs(POOL_ACQUIRE_TIMEOUT_SECS))
        .connect_with(options.clone())
        .await?;
    let journal_options = options.clone().application_name(JOURNAL_APPLICATION_NAME);
    let writer_options = Box::new(journal_options.clone().options(WRITER_SETTINGS));
    let write_pool = PgPoolOptions::new()
        .after_connect(|connection, _| Box::pin(super::nodelay::set_on(connection)))
        .max_connections(WRITE_CONNECTIONS_MAX)
        .test_before_acquire(false)
        .before_acquire(|conn, meta| {
            Box::pin(async move {
                if meta.idle_for >= Duration::from_millis(WRITE_PING_AFTER_IDLE_MS) {
                    sqlx::Connection::ping(conn).await?;
                }
                Ok(true)
            })
        })
        .acquire_timeout(Duration::from_secs(POOL_ACQUIRE_TIMEOUT_SECS))
        .connect_lazy_with(match journal.mode {
            JournalMode::Log => journal_options.clone().options(LOG_APPEND_SETTINGS),
            JournalMode::Tables => (*writer_options).clone(),
        });
    let fence = Arc::new(WriterFence::default());
    let lone = Arc::new(LoneWriter::new(writers));
    let check_every = Duration::from_millis(journal.writer_lock_check_ms);
    let writer_lock = PgWriterLock::take(&journal_options, writers, check_every).await?;
    let log = match journal.mode {
        JournalMode::Log => {
            // Its own connection, made on the projector's thread (see `JOURNAL_APPLICATION_NAME`).
            let projector_pool =
                projection_pool((*writer_options).clone().application_name(PROJECTOR_APPLICATION_NAME));
            let tables = PgLogTables {
                pool: projector_pool,
                fence: fence.clone(),
                lone: lone.clone(),
                order_writes: OrderWrites::InsertNew,
            };
            Some(LogJournal::start(tables, journal.limits)?)
        }
        JournalMode::Tables => None,
    };
    let held = HeldConnections::new(write_pool.clone(), Duration::from_millis(WRITE_PING_AFTER_IDLE_MS));
    let journal = PgJournal {
        write_pool,
        held,
        last_batch: Mutex::new(RowKeys::default()),
        journals: journal.journals,
        fence,
        log,
        writer_lock,
        writer_options,
        writers,
        lone,
    };
    Ok((pool, journal))
}

/// A projection's pool: one connection, made lazily (by the thread that first uses it).
fn projection_pool(options: PgConnectOptions) -> PgPool {
    PgPoolOptions::new()
        .after_connect(|connection, _| Box::pin(super::nodelay::set_on(connection)))
        .max_connections(1)
        .acquire_timeout(Duration::from_secs(POOL_ACQUIRE_TIMEOUT_SECS))
        .connect_lazy_with(options)
}

impl PgJournal {
    /// With the log, first lets the projector write what was acknowledged, so a clean stop
    /// leaves the log empty (what it cannot write in time stays in the log, for the next start).
    pub(crate) async fn close(&self) {
        if let Some(log) = &self.log {
            log.stop().await;
        }
        if let Some(lock) = &self.writer_lock {
            lock.release().await;
        }
        self.held.release_all();
        self.write_pool.close().await;
    }

    /// Takes this process's epoch (`lone_writer`), then, with the log, projects what a crash left
    /// in it, before anything reads the tables. A cluster's node leaves the log to its writers:
    /// what a node fenced out left is projected once this one has joined (`log::cluster`). A
    /// store that writes no journal does neither.
    pub(crate) async fn project_leftovers(&self) -> Result<(), StoreError> {
        if self.writers == Writers::NotThisStore {
            return Ok(());
        }
        // A connection with the writers' settings, as the projector's: its statements join the
        // batches' keys with tables that may be large. Its own, not the appends' pool: those
        // connections are opened by the journal's thread (`JOURNAL_APPLICATION_NAME`).
        let pool = projection_pool((*self.writer_options).clone());
        let projected = self.take_epoch_and_project(&pool).await;
        pool.close().await;
        projected
    }

    async fn take_epoch_and_project(&self, pool: &PgPool) -> Result<(), StoreError> {
        // Before the log or the tables are read: the writes of a process that wrote them before
        // are over.
        self.lone.take(pool).await?;
        if self.log.is_some() && self.writers == Writers::ThisProcess {
            // The records may be a cluster's, whose new orders are stored already.
            let order_writes = OrderWrites::UpsertForward;
            let (fence, lone) = (self.fence.clone(), self.lone.clone());
            let tables = PgLogTables { pool: pool.clone(), fence, lone, order_writes };
            projector::project_leftovers(&tables).await?;
        }
        Ok(())
    }

    pub(crate) fn pool_use(&self) -> PoolUse {
        PoolUse { pool: "journal", open: self.write_pool.size(), idle: self.write_pool.num_idle() + self.held.idle() }
    }

    /// Writes the rows the earlier batch does not write while it may still be open, then, once
    /// it has committed, the rows it does write, then commits. Neither transaction ever waits on
    /// the other's rows, so the two cannot deadlock, and each keeps its place in the order.
    /// The writer's check is the first statement's: its share lock on the node's row (or the
    /// epoch's) is held until the commit.
    async fn write(&self, own: Batch<'_>, shared: Batch<'_>, earlier: Earlier) -> Result<(), SinkError> {
        let writer = self.writer().await?;
        let mut tx = self.write_pool.begin().await.map_err(sink_error)?;
        let check = writer.map(|writer| (writer, Fenced::Transaction));
        write_all(&mut tx, &own, check).await.map_err(|e| self.refused(e))?;
        after(earlier).await?;
        write_all(&mut tx, &shared, None).await.map_err(sink_error)?;
        tx.commit().await.map_err(sink_error)
    }

    /// Writes a batch that follows a settled one, when its rows are one statement: Postgres runs
    /// a lone statement as a transaction of its own, so the batch costs one round trip instead of
    /// four (BEGIN, rows, shared rows, COMMIT). At a few dozen buyers in flight, where batches go
    /// one at a time, that took a commit from 2.15 ms to 1.85 ms.
    async fn write_alone(&self, batch: Batch<'_>) -> Result<(), SinkError> {
        assert!(is_one_statement(&batch), "a batch that adds items is two statements");
        let writer = self.writer().await?;
        let mut conn = self.write_pool.acquire().await.map_err(sink_error)?;
        let check = writer.map(|writer| (writer, Fenced::Statement));
        write_all(&mut conn, &batch, check).await.map_err(|e| self.refused(e))
    }

    /// Who the tables journal's batches are written as (`journal_writer`).
    async fn writer(&self) -> Result<Option<Writer<'_>>, SinkError> {
        Writer::of(&self.fence, &self.lone, &self.write_pool).await.map_err(sink_error)
    }

    /// A statement that carried the writer's check failed: fenced, or as any other statement.
    fn refused(&self, error: sqlx::Error) -> SinkError {
        if fence::is_fenced(&error) {
            self.fence.trip();
            return SinkError::Fenced(error.to_string());
        }
        sink_error(error)
    }
}

impl Sink<ShopRecord> for PgJournal {
    fn commit<'a>(
        &'a self,
        entries: &'a Entries<ShopRecord>,
        mut earlier: Earlier,
    ) -> BoxFuture<'a, Result<(), SinkError>> {
        if let Some(log) = &self.log {
            return Box::pin(log_postgres::append(
                &self.write_pool,
                &self.held,
                &self.fence,
                &self.lone,
                &log.projection,
                entries,
                earlier,
            ));
        }
        let batch = Batch::of(entries);
        let before = match self.journals {
            Journals::One => std::mem::replace(&mut *self.last_batch.lock().expect("keys lock"), batch.keys()),
            // The batch this store saw last may be another journal's: every row waits for this
            // journal's batch ahead.
            Journals::Several => batch.keys(),
        };
        match (&mut earlier).now_or_never() {
            Some(false) => return Box::pin(async { Err(SinkError::EarlierFailed) }),
            Some(true) if is_one_statement(&batch) => return Box::pin(self.write_alone(batch)),
            // A finished future is not polled again.
            Some(true) => earlier = futures::future::ready(true).boxed(),
            None => {}
        }
        let (own, shared) = batch.split(&before);
        Box::pin(self.write(own, shared, earlier))
    }
}

#[cfg(test)]
mod tests {
    use sqlx::postgres::PgConnection;

    use super::*;

    /// The plan Postgres makes for the writer's update of a projection's customers: 1,500 keys
    /// against a table of 60,000 rows, as in the lab's flash sale.
    async fn plan_of_a_large_update(settings: &[(&str, &str)]) -> String {
        let options = crate::store::postgres_options("postgres://postgres@127.0.0.1:5432/postgres")
            .unwrap()
            .options(settings.iter().copied());
        let mut conn: PgConnection = sqlx::ConnectOptions::connect(&options).await.expect("the test's Postgres");
        for statement in [
            "CREATE TEMP TABLE customers (id TEXT COLLATE \"C\" PRIMARY KEY, balance NUMERIC NOT NULL, updated_at BIGINT NOT NULL)",
            "INSERT INTO customers SELECT 'c' || n, 0, 0 FROM generate_series(1, 60000) AS n",
            "ANALYZE customers",
        ] {
            sqlx::query(statement).execute(&mut conn).await.unwrap();
        }
        let ids: Vec<String> = (1..=1_500).map(|n| format!("c{}", n * 40)).collect();
        let plan: Vec<String> = sqlx::query_scalar(
            "EXPLAIN UPDATE customers AS c SET balance = u.b, updated_at = u.a \
             FROM UNNEST($1::text[], $2::numeric[], $3::bigint[]) AS u(id, b, a) WHERE c.id = u.id",
        )
        .bind(&ids)
        .bind(vec![rust_decimal::Decimal::ONE; ids.len()])
        .bind(vec![1_i64; ids.len()])
        .fetch_all(&mut conn)
        .await
        .unwrap();
        plan.join("\n")
    }

    #[tokio::test]
    async fn the_writers_probe_a_large_tables_index_instead_of_reading_all_of_it() {
        let plain = plan_of_a_large_update(&CONNECTION_SETTINGS).await;
        assert!(plain.contains("Seq Scan on customers"), "left to itself, Postgres reads the whole table:\n{plain}");
        let writers = plan_of_a_large_update(&WRITER_SETTINGS).await;
        assert!(
            writers.contains("Index Scan using customers_pkey") && !writers.contains("Seq Scan on customers"),
            "the writers' connections probe the index:\n{writers}"
        );
    }
}
