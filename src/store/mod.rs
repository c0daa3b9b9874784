//! The store: Postgres in production, SQLite as the embedded default, behind one trait. It is the
//! journal's sink: it writes the actors' events and the shop's records attached to them
//! (`checkout::ShopRecord`).
//!
//! - `batch`: a journal batch sorted by table, shared by both backends' writers.
//! - `postgres`, `sqlite`: connection, migrations and the batch commit of each backend;
//!   `combined`: Postgres statements sent as one.
//! - `reads`: every query, written once for both backends; `loads`: the actors' state, the same way.
//! - `rows`: decoding stored text into domain types.
//! - `mailbox`: the gateway's webhook inbox and outbox.
//! - `admin`: the admin API's reads, roles, price requests, settings and their audit trail.
//! - `payments`: QRIS charges awaiting payment, each with an amount no other open charge has.

pub mod admin;
pub(crate) mod batch;
mod combined;
mod loads;
pub mod mailbox;
pub mod payments;
mod postgres;
mod reads;
pub(crate) mod rows;
mod sqlite;

use std::sync::Arc;

use async_trait::async_trait;
use warung_actors::domain::{CustomerId, ItemSecret, OrderId, ProductCode, Reference};
use warung_actors::journal::{LedgerRow, ProductRow, ReservationStatus, SinkError};
use warung_actors::supervisor::Persistence;

use crate::checkout::{OrderRow, PaymentRow, ShopRecord};

pub use admin::AdminStore;
pub use mailbox::{InboxEntry, InboxRow, Mailbox, NewOutbox, OutboxRow, OutboxStatus};
pub use payments::{ChargeMove, ChargePurpose, ChargeRow, ChargeStatus, NewCharge, Opened, Payments};
pub use postgres::{PgStore, JOURNAL_APPLICATION_NAME};
pub use sqlite::SqliteStore;

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
}

/// Everything `warung audit` reads, in plain rows; the checks are in `crate::audit`.
#[derive(Debug, Default)]
pub struct AuditData {
    pub products: Vec<ProductRow>,
    /// (product, status, count)
    pub item_counts: Vec<(String, String, i64)>,
    /// (product, secret, count) for secrets sold more than once
    pub items_sold_twice: Vec<(String, String, i64)>,
    /// (product, order, count) sold items grouped by order
    pub sold_items_by_order: Vec<(String, String, i64)>,
    /// (product, sum of quantity) over open reservations
    pub reserved_by_product: Vec<(String, i64)>,
    /// (customer, balance)
    pub customers: Vec<(String, String)>,
    pub ledger: Vec<LedgerRow>,
    pub orders: Vec<OrderRow>,
    pub payments: Vec<PaymentRow>,
}

/// One connection pool's use, for `/metrics`.
#[derive(Clone, Debug, PartialEq)]
pub struct PoolUse {
    pub pool: &'static str,
    pub open: u32,
    pub idle: usize,
}

/// Counts the metrics report, read from the tables at each scrape.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct StoreCounts {
    pub orders_by_state: Vec<(String, i64)>,
    pub charges_by_status: Vec<(String, i64)>,
    pub outbox_by_status: Vec<(String, i64)>,
}

#[async_trait]
pub trait Store: Persistence<ShopRecord> + Mailbox + Payments + AdminStore {
    fn pools(&self) -> Vec<PoolUse>;
    async fn counts(&self) -> Result<StoreCounts, StoreError>;
    fn backend(&self) -> &'static str;
    async fn migrate(&self) -> Result<(), StoreError>;
    async fn ping(&self) -> Result<(), StoreError>;
    /// Migrations this build has that the store has not applied.
    async fn migrations_pending(&self) -> Result<usize, StoreError>;
    async fn product_codes(&self) -> Result<Vec<ProductCode>, StoreError>;
    async fn order(&self, id: &OrderId) -> Result<Option<OrderRow>, StoreError>;
    /// Orders still pending or awaiting payment.
    async fn open_orders(&self) -> Result<Vec<OrderRow>, StoreError>;
    async fn orders_of(&self, customer: &CustomerId, limit: i64) -> Result<Vec<OrderRow>, StoreError>;
    async fn delivered_items(&self, order: &OrderId) -> Result<Vec<ItemSecret>, StoreError>;
    async fn products_with_open_reservations(&self) -> Result<Vec<ProductCode>, StoreError>;
    /// Open reservations whose order is missing or no longer open: a crash between steps.
    async fn orphan_reservations(&self) -> Result<Vec<(OrderId, ProductCode)>, StoreError>;
    async fn reservation_status(&self, order: &OrderId) -> Result<Option<ReservationStatus>, StoreError>;
    /// A product's restock under `reference`: the units it added and its content fingerprint
    /// (`None` when stored before fingerprints were kept).
    async fn restocked(
        &self,
        product: &ProductCode,
        reference: &Reference,
    ) -> Result<Option<(i64, Option<u64>)>, StoreError>;
    /// The payment recorded under `id`, if any.
    async fn payment(&self, id: &Reference) -> Result<Option<PaymentRow>, StoreError>;
    /// Whether the customer's ledger has an entry under `reference`.
    async fn ledger_has(&self, customer: &CustomerId, reference: &Reference) -> Result<bool, StoreError>;
    /// Delivered payments whose surplus is not yet in the wallet (a stop between the two steps).
    async fn payments_owing_surplus(&self) -> Result<Vec<PaymentRow>, StoreError>;
    async fn audit_data(&self) -> Result<AuditData, StoreError>;
    /// Stores a new product's row; `false` (and nothing written) when the code exists.
    async fn create_product(&self, row: &ProductRow) -> Result<bool, StoreError>;
    async fn close(&self);
}

/// Opens the store a URL names: `postgres://...` or `sqlite://path` (a bare path is SQLite too).
pub async fn connect(url: &str, max_connections: u32) -> Result<Arc<dyn Store>, StoreError> {
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok(Arc::new(PgStore::connect(url, max_connections).await?))
    } else if url.starts_with("sqlite:") || !url.contains("://") {
        Ok(Arc::new(SqliteStore::connect(url).await?))
    } else {
        Err(StoreError::UnsupportedUrl(url.to_string()))
    }
}

/// Constraint violations mean a bad row; anything else means the store could not be trusted to
/// have committed (connection lost, timeout, shutdown).
pub(crate) fn sink_error(error: sqlx::Error) -> SinkError {
    match &error {
        sqlx::Error::Database(db)
            if db.is_unique_violation() || db.is_check_violation() || db.is_foreign_key_violation() =>
        {
            SinkError::Refused(db.to_string())
        }
        _ => SinkError::Unavailable(error.to_string()),
    }
}
