//! The store: Postgres in production, SQLite as the embedded default. Each consumer sees the
//! store through a trait of its own; `Store` is all of them, for the one value that serves them.
//!
//! - The journal's sink (`warung_actors::journal::Sink`) and the actors' `Loader`: the engine's
//!   `Persistence`. The journal writes the actors' events and the shop's records attached to
//!   them (`checkout::ShopRecord`); `activation` loads an actor's state.
//! - `Loads`: what recovery and the catalogue read at start (and the catalogue's first rows).
//! - `ChatReads`: what a conversation reads (orders, delivered items).
//! - `AdminStore`: the admin API's reads, roles, price requests, settings and their audit trail.
//! - `Mailbox`: the gateway's webhook inbox and outbox.
//! - `Payments`: QRIS charges awaiting payment, each with an amount no other open charge has.
//! - `Reports`: the owner's sales by day, what waits, and bookkeeping exports.
//! - `Operations`: migrations, health, metrics, the audit's rows, closing.
//!
//! How it is built:
//! - `sql`: one statement, either backend, with typed values; every read is written once on it.
//! - `backend`: the store itself, `SqlStore`: the reads' pool and a backend's journal writer.
//! - `postgres`, `sqlite`: connection and the batch commit of each backend; `combined`: Postgres
//!   statements sent as one; `batch`: a journal batch sorted by table, for both writers.
//! - `rows`: decoding stored text into domain types.
//! - `lone_writer`: one writer of a database's journal: its lock, and the epoch that keeps a
//!   process which lost the lock from writing beside the one that started after it.

mod activation;
pub mod admin;
mod backend;
pub(crate) mod batch;
mod chat;
mod combined;
pub mod counters;
pub mod fence;
mod journal_writer;
mod loads;
pub mod log;
pub(crate) mod lone_writer;
pub mod mailbox;
mod nodelay;
mod operations;
pub mod payments;
mod pg_options;
mod postgres;
pub mod reports;
pub(crate) mod rows;
mod sql;
mod sqlite;

use std::sync::Arc;

use warung_actors::journal::{LedgerRow, ProductRow, SinkError};
use warung_actors::supervisor::Persistence;

use crate::records::{OrderRow, PaymentRow, ShopRecord};

pub use admin::AdminStore;
pub use backend::{ClusterAccess, SqlStore};
pub use chat::ChatReads;
pub use fence::{FenceId, Trip, WriterFence};
pub use loads::Loads;
pub use lone_writer::{WRITER_LOCK_CHECK_MS, WRITER_LOCK_CHECK_MS_MAX};
pub use mailbox::{InboxEntry, InboxRow, Mailbox, NewOutbox, OutboxRow, OutboxStatus};
pub use operations::Operations;
pub use payments::{ChargeMethod, ChargeMove, ChargePurpose, ChargeRow, ChargeStatus, NewCharge, Opened, Payments};
pub use pg_options::postgres_options;
pub use postgres::{JOURNAL_APPLICATION_NAME, PROJECTION_COPY_ROWS_MIN};
pub use reports::Reports;

/// Latest settled reservations and ledger entries loaded with an actor, for its idempotency
/// window (see PRODUCT_SETTLED_REMEMBERED_MAX and WALLET_REFERENCES_REMEMBERED_MAX).
pub const ACTOR_HISTORY_LOADED_MAX: i64 = 10_000;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("migration failed: {0}")]
    Migration(#[from] sqlx::migrate::MigrateError),
    #[error("stored data is not valid: {0}")]
    Corrupt(String),
    #[error("unsupported database URL {0:?}: use postgres://... or sqlite://...")]
    UnsupportedUrl(String),
    #[error(
        "another process writes this database's journal (one process writes it, or the nodes of one \
         cluster); stop it first"
    )]
    JournalHasAnotherWriter,
    #[error("the journal's log holds a record this build cannot read (position {position}): {error}")]
    LogRecordUnreadable { position: i64, error: String },
}

/// Everything `warung audit` reads, in plain rows; the checks are in `crate::audit`.
#[derive(Debug, Default)]
pub struct AuditData {
    pub products: Vec<ProductRow>,
    /// (product, status, count)
    pub item_counts: Vec<(String, String, i64)>,
    /// (product, secret, count) for secrets sold more than once by a product and its shares
    pub items_sold_twice: Vec<(String, String, i64)>,
    /// (product, reference, at) of each stock move out of a product with no move in yet
    pub moves_unfinished: Vec<(String, String, i64)>,
    /// (reference, units out, units in) of each move that arrived with other than the units it took
    pub moves_unbalanced: Vec<(String, i64, i64)>,
    /// (product, order, count) sold items grouped by order
    pub sold_items_by_order: Vec<(String, String, i64)>,
    /// (product, sum of quantity) over open reservations
    pub reserved_by_product: Vec<(String, i64)>,
    /// (customer, balance)
    pub customers: Vec<(String, String)>,
    pub ledger: Vec<LedgerRow>,
    pub orders: Vec<OrderRow>,
    pub payments: Vec<PaymentRow>,
    /// With the journal's log: records the tables do not show yet (acknowledged batches the
    /// projector has still to write). Their payments are left out of `payments` until then.
    pub log_records_unprojected: usize,
}

/// One connection pool's use, for `/metrics`.
#[derive(Clone, Debug, PartialEq)]
pub struct PoolUse {
    pub pool: &'static str,
    pub open: u32,
    pub idle: usize,
}

/// What the metrics read from the store (at most once a second): nothing that grows with history.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct StoreCounts {
    /// Outbox entries not sent (pending, sending, failed), by status: read through the outbox's
    /// status index, so the count costs the backlog, not the history of sent messages.
    pub outbox_unsent_by_status: Vec<(String, i64)>,
    /// The oldest pending entry's creation (Unix ms), if any.
    pub outbox_oldest_pending_ms: Option<i64>,
    /// The database's size on disk: the SQLite file (with its WAL), or Postgres's database.
    pub database_bytes: Option<i64>,
    /// Free space on the SQLite file's file system; None on Postgres (its server's own).
    pub disk_free_bytes: Option<u64>,
}

/// Everything the store is, for the one value that serves every consumer (`Arc<dyn Store>`).
pub trait Store:
    Persistence<ShopRecord> + Loads + ChatReads + AdminStore + Mailbox + Payments + Reports + Operations
{
}

impl<T> Store for T where
    T: Persistence<ShopRecord> + Loads + ChatReads + AdminStore + Mailbox + Payments + Reports + Operations
{
}

/// How the journal stores a batch (`database.journal`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Deserialize, serde::Serialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum JournalMode {
    /// Each batch writes the tables in one transaction.
    Tables,
    /// Each batch appends one record to the log; the tables are projected from it (`log`). The
    /// default: the acknowledgement waits for one row, not for every table a sale changes.
    #[default]
    Log,
}

/// How the journal stores a batch, and with the log how far the tables may fall behind it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct JournalOptions {
    pub mode: JournalMode,
    pub limits: log::limits::ProjectionLimits,
    /// How often a process on Postgres looks whether it still holds the writer lock
    /// (`lone_writer::PgWriterLock`).
    pub writer_lock_check_ms: u64,
    /// How many journals commit through the store (`engine.lanes`).
    pub journals: Journals,
}

/// How many journals commit through one store: one supervisor's, or those of several lanes
/// (`warung_actors::supervisor::Lanes`). On Postgres's tables a batch writes the rows the batch
/// ahead of it does not write while that one may still be open; with several journals the batch
/// the store saw last may be another journal's, so each batch then waits for its own journal's
/// batch ahead before it writes anything.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Journals {
    #[default]
    One,
    Several,
}

impl Journals {
    /// One journal per lane.
    pub fn of_lanes(lanes: usize) -> Journals {
        match lanes {
            0 | 1 => Journals::One,
            _ => Journals::Several,
        }
    }
}

impl JournalOptions {
    /// The options a store opened for `writers` uses: a store that writes no journal opens the
    /// tables, whatever the journal's design.
    pub(crate) fn for_writers(self, writers: Writers) -> JournalOptions {
        match writers {
            Writers::NotThisStore => JournalOptions { mode: JournalMode::Tables, ..self },
            Writers::ThisProcess | Writers::ClusterNodes => self,
        }
    }
}

impl From<JournalMode> for JournalOptions {
    fn from(mode: JournalMode) -> Self {
        JournalOptions {
            mode,
            limits: Default::default(),
            writer_lock_check_ms: lone_writer::WRITER_LOCK_CHECK_MS,
            journals: Journals::One,
        }
    }
}

/// Who writes a database's journal through this store (`cluster.enabled`). Whichever the
/// journal's design, a database's actors have one writer at a time: two processes each with an
/// actor for one wallet would each write its own balance.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Writers {
    /// This process alone: it holds the database's writer lock by itself (another is refused),
    /// checks its epoch in every write (`lone_writer`), and projects whatever a crash left in
    /// the log when it starts.
    #[default]
    ThisProcess,
    /// The nodes of a cluster (Postgres): they share the lock (a lone process is refused beside
    /// them), their writes are fenced, each projects its own records, and the records of a node
    /// fenced out are projected by the next to join or acquire shards (`log::cluster`).
    ClusterNodes,
    /// Nobody: the store only reads the tables, or changes them outside the journal (migrations,
    /// a restore, the audit). It takes no lock and no epoch, so it opens beside a running shop;
    /// it opens the tables whatever the journal's design.
    NotThisStore,
}

/// Opens the store a URL names, `postgres://...` or `sqlite://path` (a bare path is SQLite
/// too), for a command that writes no journal (`Writers::NotThisStore`): migrations, the audit.
pub async fn connect(url: &str, max_connections: u32) -> Result<Arc<dyn Store>, StoreError> {
    connect_with(url, max_connections, JournalMode::Tables, Writers::NotThisStore).await
}

/// As `connect`, with the journal stored as `journal` says, written by `writers`.
pub async fn connect_with(
    url: &str,
    max_connections: u32,
    journal: impl Into<JournalOptions>,
    writers: Writers,
) -> Result<Arc<dyn Store>, StoreError> {
    let journal = journal.into();
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok(Arc::new(SqlStore::connect_postgres(url, max_connections, journal, writers).await?))
    } else if url.starts_with("sqlite:") || !url.contains("://") {
        Ok(Arc::new(SqlStore::connect_sqlite(url, journal, writers).await?))
    } else {
        Err(StoreError::UnsupportedUrl(crate::settings::secret::redact(url)))
    }
}

/// Constraint violations mean a bad row; anything else means the store could not be trusted to
/// have committed (connection lost, timeout, shutdown).
pub(crate) fn sink_error(error: sqlx::Error) -> SinkError {
    match &error {
        sqlx::Error::Database(db) if is_refusal(&error) => SinkError::Refused(db.to_string()),
        _ => SinkError::Unavailable(error.to_string()),
    }
}

/// Whether the store refused the content (so nothing was committed), rather than went away.
pub(crate) fn is_refusal(error: &sqlx::Error) -> bool {
    matches!(error, sqlx::Error::Database(db)
        if db.is_unique_violation() || db.is_check_violation() || db.is_foreign_key_violation())
}
