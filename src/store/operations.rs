//! What running the store takes, apart from any customer: migrations, health, metrics, the
//! audit's rows, closing.

use std::collections::HashSet;

use warung_actors::domain::SHARE_SEPARATOR;

use async_trait::async_trait;

use super::backend::{ClusterAccess, SqlStore};
use super::rows::{self, LedgerTuple, OrderTuple, PaymentTuple, ProductTuple};
use super::sql::{Backend, Pool, Query};
use super::{AuditData, PoolUse, StoreCounts, StoreError};
use crate::records::{OrderRow, PaymentRow};
use crate::store::batch::{Batch, Guarded};
use crate::store::log::projector::{decode_rows, LogRow};

#[async_trait]
pub trait Operations {
    fn pools(&self) -> Vec<PoolUse>;
    async fn counts(&self) -> Result<StoreCounts, StoreError>;
    fn backend(&self) -> &'static str;
    /// What this store's committed batches recorded (sales, top-ups, charges) and refusals.
    fn counters(&self) -> &super::counters::ShopCounters;
    /// With the journal's log: how far the tables are behind it.
    fn projection(&self) -> Option<&super::log::projection::Projection>;
    async fn migrate(&self) -> Result<(), StoreError>;
    async fn ping(&self) -> Result<(), StoreError>;
    /// Migrations this build has that the store has not applied.
    async fn migrations_pending(&self) -> Result<usize, StoreError>;
    async fn audit_data(&self) -> Result<AuditData, StoreError>;
    async fn close(&self);
    /// The pool and journal fence a cluster node runs on; None on SQLite.
    fn cluster_access(&self) -> Option<ClusterAccess>;
}

fn migrator(pool: &Pool) -> sqlx::migrate::Migrator {
    match &pool.backend {
        Backend::Postgres(_) => sqlx::migrate!("./migrations/postgres"),
        Backend::Sqlite(_) => sqlx::migrate!("./migrations/sqlite"),
    }
}

#[async_trait]
impl Operations for SqlStore {
    fn pools(&self) -> Vec<PoolUse> {
        self.pool_use()
    }

    async fn counts(&self) -> Result<StoreCounts, StoreError> {
        let outbox_unsent_by_status = Query::new(
            "SELECT status, COUNT(*) FROM outbox WHERE status IN ('pending', 'sending', 'failed') \
             GROUP BY status ORDER BY status",
        )
        .fetch_all(&self.pool)
        .await?;
        let (outbox_oldest_pending_ms,): (Option<i64>,) =
            Query::new("SELECT MIN(created_at) FROM outbox WHERE status = 'pending'").fetch_one(&self.pool).await?;
        let (database_bytes, disk_free_bytes) = match &self.pool.backend {
            Backend::Postgres(_) => {
                let (bytes,): (i64,) =
                    Query::new("SELECT pg_database_size(current_database())").fetch_one(&self.pool).await?;
                (Some(bytes), None)
            }
            Backend::Sqlite(pool) => sqlite_file_use(pool),
        };
        Ok(StoreCounts { outbox_unsent_by_status, outbox_oldest_pending_ms, database_bytes, disk_free_bytes })
    }

    fn counters(&self) -> &super::counters::ShopCounters {
        &self.counters
    }

    fn projection(&self) -> Option<&super::log::projection::Projection> {
        SqlStore::projection(self).map(|p| p.as_ref())
    }

    fn backend(&self) -> &'static str {
        match self.pool.backend {
            Backend::Postgres(_) => "postgres",
            Backend::Sqlite(_) => "sqlite",
        }
    }

    async fn migrate(&self) -> Result<(), StoreError> {
        match &self.pool.backend {
            Backend::Postgres(pool) => migrator(&self.pool).run(pool).await?,
            Backend::Sqlite(pool) => migrator(&self.pool).run(pool).await?,
        }
        self.project_leftovers().await
    }

    async fn ping(&self) -> Result<(), StoreError> {
        Query::new("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    async fn migrations_pending(&self) -> Result<usize, StoreError> {
        let applied: Vec<(i64,)> =
            Query::new("SELECT version FROM _sqlx_migrations WHERE success").fetch_all(&self.pool).await?;
        let migrator = migrator(&self.pool);
        Ok(migrator.iter().filter(|m| !applied.iter().any(|(v,)| *v == m.version)).count())
    }

    /// Every table read in one snapshot, so a batch committed while the audit reads cannot show
    /// in one table and not in another. On the log, the records in it are batches the tables do
    /// not show yet, except the rows written beside them (their payments, a cluster node's new
    /// orders): those are set aside and checked once projected.
    async fn audit_data(&self) -> Result<AuditData, StoreError> {
        let mut tx = self.pool.begin_snapshot().await?;
        let tx = &mut tx;
        let in_flight = InFlight::of(
            Query::new("SELECT position, record FROM journal_log ORDER BY position").fetch_all_in(tx).await?,
        )?;
        let products: Vec<ProductTuple> =
            Query::assembled(format!("SELECT {} FROM products ORDER BY code", rows::PRODUCT_COLUMNS))
                .fetch_all_in(tx)
                .await?;
        let item_counts =
            Query::new("SELECT product, status, COUNT(*) FROM items GROUP BY product, status").fetch_all_in(tx).await?;
        // Sold rows whose secret is sold in another row too, grouped by product and its shares
        // (a share's items are its product's, moved): one item sold by both is sold twice.
        let sold_again: Vec<(String, String)> = Query::new(
            "SELECT product, secret FROM items WHERE status = 'sold' AND secret IN \
             (SELECT secret FROM items WHERE status = 'sold' GROUP BY secret HAVING COUNT(*) > 1)",
        )
        .fetch_all_in(tx)
        .await?;
        let items_sold_twice = sold_twice_by_product(sold_again);
        let moves_unfinished = Query::new(
            "SELECT o.product, o.reference, o.at FROM inventory_movements o \
             WHERE o.reason = 'move' AND o.to_state = 'removed' AND NOT EXISTS ( \
               SELECT 1 FROM inventory_movements i WHERE i.reason = 'move' AND i.to_state = 'available' AND i.reference = o.reference)",
        )
        .fetch_all_in(tx)
        .await?;
        // A move out and its move in are one row each, of the same units.
        let moves_unbalanced = Query::new(
            "SELECT reference, CAST(SUM(CASE WHEN to_state = 'removed' THEN quantity ELSE 0 END) AS BIGINT) AS out_units, \
             CAST(SUM(CASE WHEN to_state = 'available' THEN quantity ELSE 0 END) AS BIGINT) AS in_units \
             FROM inventory_movements WHERE reason = 'move' GROUP BY reference \
             HAVING SUM(CASE WHEN to_state = 'available' THEN quantity ELSE 0 END) > 0 \
             AND SUM(CASE WHEN to_state = 'removed' THEN quantity ELSE 0 END) <> SUM(CASE WHEN to_state = 'available' THEN quantity ELSE 0 END)",
        )
        .fetch_all_in(tx)
        .await?;
        let sold_items_by_order = Query::new(
            "SELECT product, order_id, COUNT(*) FROM items WHERE status = 'sold' GROUP BY product, order_id",
        )
        .fetch_all_in(tx)
        .await?;
        let reserved_by_product = Query::new(
            "SELECT product, CAST(SUM(quantity) AS BIGINT) FROM reservations WHERE status = 'reserved' GROUP BY product",
        )
        .fetch_all_in(tx)
        .await?;
        let customers =
            Query::new("SELECT id, CAST(balance AS TEXT) FROM customers ORDER BY id").fetch_all_in(tx).await?;
        let ledger: Vec<LedgerTuple> =
            Query::assembled(format!("SELECT {} FROM ledger_entries ORDER BY id", rows::LEDGER_COLUMNS))
                .fetch_all_in(tx)
                .await?;
        let orders: Vec<OrderTuple> =
            Query::assembled(format!("SELECT {} FROM orders ORDER BY created_at", rows::ORDER_COLUMNS))
                .fetch_all_in(tx)
                .await?;
        let payments: Vec<PaymentTuple> =
            Query::assembled(format!("SELECT {} FROM payments ORDER BY at, id", rows::PAYMENT_COLUMNS))
                .fetch_all_in(tx)
                .await?;
        let orders: Vec<OrderRow> = orders.into_iter().map(rows::order).collect::<Result<_, _>>()?;
        let payments: Vec<PaymentRow> = payments.into_iter().map(rows::payment).collect::<Result<_, _>>()?;
        Ok(AuditData {
            products: products.into_iter().map(rows::product).collect::<Result<_, _>>()?,
            item_counts,
            items_sold_twice,
            moves_unfinished,
            moves_unbalanced,
            sold_items_by_order,
            reserved_by_product,
            customers,
            ledger: ledger.into_iter().map(rows::ledger).collect::<Result<_, _>>()?,
            orders: orders.into_iter().filter(|o| !in_flight.orders.contains(o.id.as_str())).collect(),
            payments: payments.into_iter().filter(|p| !in_flight.payments.contains(p.id.as_str())).collect(),
            log_records_unprojected: in_flight.records,
        })
    }

    async fn close(&self) {
        self.close_pools().await;
    }

    fn cluster_access(&self) -> Option<ClusterAccess> {
        SqlStore::cluster_access(self)
    }
}

/// (product, secret, count) for each secret sold more than once by one product and its shares.
fn sold_twice_by_product(sold: Vec<(String, String)>) -> Vec<(String, String, i64)> {
    let mut counts: std::collections::BTreeMap<(String, String), i64> = std::collections::BTreeMap::new();
    for (product, secret) in sold {
        let home = product.split_once(SHARE_SEPARATOR).map_or(product.as_str(), |(home, _)| home).to_string();
        *counts.entry((home, secret)).or_default() += 1;
    }
    counts.into_iter().filter(|(_, n)| *n > 1).map(|((product, secret), n)| (product, secret, n)).collect()
}

/// The SQLite file's size (with its write-ahead log) and the free space beside it.
fn sqlite_file_use(pool: &sqlx::SqlitePool) -> (Option<i64>, Option<u64>) {
    let file = pool.connect_options().get_filename().to_path_buf();
    let size = |path: &std::path::Path| std::fs::metadata(path).map(|m| m.len() as i64).unwrap_or(0);
    let mut wal = file.clone().into_os_string();
    wal.push("-wal");
    let bytes = std::fs::metadata(&file).ok().map(|m| m.len() as i64 + size(std::path::Path::new(&wal)));
    let dir = file.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(std::path::Path::new("."));
    let free = nix::sys::statvfs::statvfs(dir).ok().map(|s| s.blocks_available() * s.fragment_size());
    (bytes, free)
}

/// What the log's records hold that the tables already show: the rows written beside a record, in
/// its own transaction (`Batch::guards_of`), ahead of the rest of its batch.
struct InFlight {
    records: usize,
    payments: HashSet<String>,
    orders: HashSet<String>,
}

impl InFlight {
    fn of(rows: Vec<LogRow>) -> Result<InFlight, StoreError> {
        let (_, entries) = decode_rows(&rows)?;
        let beside = Batch::guards_of(&entries, Guarded::PaymentsAndNewOrders);
        Ok(InFlight {
            records: rows.len(),
            payments: beside.payments.iter().map(|p| p.id.to_string()).collect(),
            orders: beside.orders.rows.iter().map(|o| o.id.to_string()).collect(),
        })
    }
}
