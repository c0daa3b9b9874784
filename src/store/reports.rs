//! What the owner's reports read: sales grouped by WIB day, product and price (summed in Rust,
//! exactly: SQLite keeps money as text, and a SQL sum of it would be a float), the orders that
//! wait for someone, and the rows of a bookkeeping export, page by page. Written once for both
//! backends.

use async_trait::async_trait;
use warung_actors::domain::{Money, ProductCode, UnixMs};
use warung_actors::journal::LedgerRow;

use super::backend::SqlStore;
use super::rows::{self, LedgerTuple, OrderTuple, LEDGER_COLUMNS, ORDER_COLUMNS};
use super::sql::Query;
use super::StoreError;
use crate::infra::wib::{DAY_MS, WIB_OFFSET_MS};
use crate::records::OrderRow;

/// Rows one export page reads; an export reads pages until one comes back short.
pub const EXPORT_PAGE_ROWS: i64 = 1_000;

/// Paid orders of one WIB day, one product and one total.
#[derive(Clone, Debug, PartialEq)]
pub struct SalesGroup {
    /// Days since 1970-01-01, WIB.
    pub day: i64,
    pub product: ProductCode,
    /// Each order's total.
    pub total: Money,
    pub orders: i64,
    pub units: i64,
}

/// Orders that wait for someone.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Waiting {
    pub awaiting_payment: i64,
    pub in_review: i64,
}

#[async_trait]
pub trait Reports {
    /// Orders paid (and not refunded) created in `[from, to)`, grouped.
    async fn sales(&self, from: UnixMs, to: UnixMs) -> Result<Vec<SalesGroup>, StoreError>;
    async fn waiting(&self) -> Result<Waiting, StoreError>;
    /// Orders created in `[from, to)` after the cursor `(created_at, id)`, oldest first.
    async fn orders_page(
        &self,
        from: UnixMs,
        to: UnixMs,
        after: Option<(UnixMs, String)>,
    ) -> Result<Vec<OrderRow>, StoreError>;
    /// Ledger entries made in `[from, to)` after the entry `after`, in the order they were made,
    /// with their ids (the next page's cursor).
    async fn ledger_page(&self, from: UnixMs, to: UnixMs, after: i64) -> Result<Vec<(i64, LedgerRow)>, StoreError>;
    /// Orders in review whose last change is at or after `since`, oldest first (for alerts).
    async fn reviews_since(&self, since: UnixMs, limit: i64) -> Result<Vec<OrderRow>, StoreError>;
}

#[async_trait]
impl Reports for SqlStore {
    async fn sales(&self, from: UnixMs, to: UnixMs) -> Result<Vec<SalesGroup>, StoreError> {
        let sql = format!(
            "SELECT (created_at + {WIB_OFFSET_MS}) / {DAY_MS}, product, CAST(total AS TEXT), COUNT(*), \
             CAST(SUM(quantity) AS BIGINT) FROM orders WHERE state = 'paid' AND created_at >= $1 AND created_at < $2 \
             GROUP BY 1, 2, 3"
        );
        let rows: Vec<(i64, String, String, i64, i64)> =
            Query::assembled(sql).bind(from).bind(to).fetch_all(&self.pool).await?;
        rows.into_iter()
            .map(|(day, product, total, orders, units)| {
                Ok(SalesGroup {
                    day,
                    // A share's sales are its product's.
                    product: rows::product_code(&product)?.home(),
                    total: rows::money(&total)?,
                    orders,
                    units,
                })
            })
            .collect()
    }

    async fn waiting(&self) -> Result<Waiting, StoreError> {
        let counts: Vec<(String, i64)> = Query::new(
            "SELECT state, COUNT(*) FROM orders WHERE state IN ('awaiting_payment', 'review') GROUP BY state",
        )
        .fetch_all(&self.pool)
        .await?;
        let count = |state: &str| counts.iter().find(|(s, _)| s == state).map_or(0, |(_, n)| *n);
        Ok(Waiting { awaiting_payment: count("awaiting_payment"), in_review: count("review") })
    }

    async fn orders_page(
        &self,
        from: UnixMs,
        to: UnixMs,
        after: Option<(UnixMs, String)>,
    ) -> Result<Vec<OrderRow>, StoreError> {
        let (after_at, after_id) = after.unwrap_or((i64::MIN, String::new()));
        let sql = format!(
            "SELECT {ORDER_COLUMNS} FROM orders WHERE created_at >= $1 AND created_at < $2 \
             AND (created_at > $3 OR (created_at = $3 AND id > $4)) ORDER BY created_at, id LIMIT $5"
        );
        let rows: Vec<OrderTuple> = Query::assembled(sql)
            .bind(from)
            .bind(to)
            .bind(after_at)
            .bind(after_id)
            .bind(EXPORT_PAGE_ROWS)
            .fetch_all(&self.pool)
            .await?;
        rows.into_iter().map(rows::order).collect()
    }

    async fn ledger_page(&self, from: UnixMs, to: UnixMs, after: i64) -> Result<Vec<(i64, LedgerRow)>, StoreError> {
        let sql = format!(
            "SELECT id, {LEDGER_COLUMNS} FROM ledger_entries WHERE at >= $1 AND at < $2 AND id > $3 ORDER BY id LIMIT $4"
        );
        type Numbered = (i64, String, String, String, String, String, String, String, i64);
        let rows: Vec<Numbered> =
            Query::assembled(sql).bind(from).bind(to).bind(after).bind(EXPORT_PAGE_ROWS).fetch_all(&self.pool).await?;
        rows.into_iter()
            .map(|t| {
                let entry: LedgerTuple = (t.1, t.2, t.3, t.4, t.5, t.6, t.7, t.8);
                Ok((t.0, rows::ledger(entry)?))
            })
            .collect()
    }

    async fn reviews_since(&self, since: UnixMs, limit: i64) -> Result<Vec<OrderRow>, StoreError> {
        let sql = format!(
            "SELECT {ORDER_COLUMNS} FROM orders WHERE state = 'review' AND updated_at >= $1 \
             ORDER BY updated_at, id LIMIT $2"
        );
        let rows: Vec<OrderTuple> = Query::assembled(sql).bind(since).bind(limit).fetch_all(&self.pool).await?;
        rows.into_iter().map(rows::order).collect()
    }
}
