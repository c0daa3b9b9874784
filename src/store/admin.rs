//! What the admin API reads and the few admin writes that are neither stock nor money (roles,
//! price requests, settings), written once for both backends. Stock, prices and money change
//! only through the actors; these tables hold who asked for what.

use async_trait::async_trait;
use warung_actors::domain::{CustomerId, Money, OrderId, ProductCode};
use warung_actors::journal::{LedgerRow, MovementRow};
use warung_actors::product::PriceTier;

use super::StoreError;
use crate::checkout::{AuditRow, OrderRow};

/// Most rows one admin list returns; a longer list is paged with `before`.
pub const ADMIN_LIST_ROWS_MAX: i64 = 500;

/// Orders as the admin filters them; every field narrows the list.
#[derive(Clone, Debug, Default)]
pub struct OrderFilter {
    pub state: Option<String>,
    pub customer: Option<CustomerId>,
    pub product: Option<ProductCode>,
    /// Created at or after (Unix ms).
    pub from_ms: Option<i64>,
    /// Created before (Unix ms); also the page cursor.
    pub to_ms: Option<i64>,
    pub limit: i64,
}

/// A customer as the admin list shows them.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct CustomerLine {
    pub id: CustomerId,
    pub balance: Money,
    pub role: String,
    pub orders_paid: i64,
    pub orders_refunded: i64,
}

/// A payment recorded for an order (`payments` table).
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct PaymentLine {
    pub id: String,
    pub purpose: String,
    pub amount: Money,
    pub status: String,
    pub at: i64,
}

/// Everything stored about one order besides its row.
#[derive(Clone, Debug, Default)]
pub struct OrderHistory {
    pub movements: Vec<MovementRow>,
    pub ledger: Vec<LedgerRow>,
    pub payments: Vec<PaymentLine>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PriceRequestStatus {
    Pending,
    Confirmed,
    Expired,
    /// A newer request for the same product and tier replaced it.
    Superseded,
}

impl PriceRequestStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            PriceRequestStatus::Pending => "pending",
            PriceRequestStatus::Confirmed => "confirmed",
            PriceRequestStatus::Expired => "expired",
            PriceRequestStatus::Superseded => "superseded",
        }
    }

    fn parse(text: &str) -> Result<PriceRequestStatus, StoreError> {
        Ok(match text {
            "pending" => PriceRequestStatus::Pending,
            "confirmed" => PriceRequestStatus::Confirmed,
            "expired" => PriceRequestStatus::Expired,
            "superseded" => PriceRequestStatus::Superseded,
            other => return Err(StoreError::Corrupt(format!("price request status {other:?}"))),
        })
    }
}

/// A price change beyond the guard rail, waiting for a second admin call.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct PriceRequest {
    pub id: String,
    pub product: ProductCode,
    pub tier: PriceTier,
    pub from_price: Option<Money>,
    pub to_price: Money,
    pub reason: String,
    pub requested_by: String,
    pub requested_at: i64,
    pub expires_at: i64,
    pub status: PriceRequestStatus,
    pub confirmed_by: Option<String>,
    pub confirmed_at: Option<i64>,
}

#[async_trait]
pub trait AdminStore {
    /// Newest first.
    async fn list_orders(&self, filter: &OrderFilter) -> Result<Vec<OrderRow>, StoreError>;
    async fn order_history(&self, order: &OrderRow) -> Result<OrderHistory, StoreError>;
    /// A product's latest stock movements, newest first.
    async fn movements_of(&self, product: &ProductCode, limit: i64) -> Result<Vec<MovementRow>, StoreError>;
    /// By id, after `after` (the page cursor).
    async fn list_customers(&self, after: Option<&str>, limit: i64) -> Result<Vec<CustomerLine>, StoreError>;
    async fn customer(&self, id: &CustomerId) -> Result<Option<CustomerLine>, StoreError>;
    /// Newest first.
    async fn ledger_of(&self, customer: &CustomerId, limit: i64) -> Result<Vec<LedgerRow>, StoreError>;
    /// Customers with at least `min_orders` paid or refunded orders, with their counts.
    async fn refund_counts(&self, min_orders: i64) -> Result<Vec<CustomerLine>, StoreError>;
    async fn roles(&self) -> Result<Vec<(CustomerId, String)>, StoreError>;
    /// Sets a role and records it in the audit trail, in one transaction.
    async fn set_role(&self, customer: &CustomerId, role: &str, audit: &AuditRow) -> Result<(), StoreError>;
    /// Stores a pending request, superseding any pending one for the same product and tier.
    async fn open_price_request(&self, request: &PriceRequest) -> Result<(), StoreError>;
    async fn price_request(&self, id: &str) -> Result<Option<PriceRequest>, StoreError>;
    async fn price_requests(&self, product: &ProductCode) -> Result<Vec<PriceRequest>, StoreError>;
    /// Moves a pending request to `to`; `false` when it was no longer pending.
    async fn close_price_request(
        &self,
        id: &str,
        to: PriceRequestStatus,
        confirmed_by: Option<&str>,
        at: i64,
    ) -> Result<bool, StoreError>;
    async fn stored_settings(&self) -> Result<Vec<(String, String)>, StoreError>;
    /// Writes settings and one audit row per change, in one transaction.
    async fn put_settings(&self, values: &[(String, String)], audit: &[AuditRow]) -> Result<(), StoreError>;
    /// Newest first; `subject` narrows to one product, customer or setting.
    async fn audit_trail(&self, subject: Option<&str>, limit: i64) -> Result<Vec<AuditRow>, StoreError>;
}

/// id, product, tier, from_price, to_price, reason, requested_by, requested_at, expires_at, status,
/// confirmed_by, confirmed_at
pub(crate) type PriceRequestTuple =
    (String, String, String, Option<String>, String, String, String, i64, i64, String, Option<String>, Option<i64>);

pub(crate) const PRICE_REQUEST_COLUMNS: &str = "id, product, tier, CAST(from_price AS TEXT), CAST(to_price AS TEXT), \
     reason, requested_by, requested_at, expires_at, status, confirmed_by, confirmed_at";

pub(crate) fn price_request(t: PriceRequestTuple) -> Result<PriceRequest, StoreError> {
    Ok(PriceRequest {
        id: t.0,
        product: super::rows::product_code(&t.1)?,
        tier: PriceTier::parse(&t.2).ok_or_else(|| StoreError::Corrupt(format!("price tier {:?}", t.2)))?,
        from_price: t.3.as_deref().map(super::rows::money).transpose()?,
        to_price: super::rows::money(&t.4)?,
        reason: t.5,
        requested_by: t.6,
        requested_at: t.7,
        expires_at: t.8,
        status: PriceRequestStatus::parse(&t.9)?,
        confirmed_by: t.10,
        confirmed_at: t.11,
    })
}

/// id, balance, role, paid, refunded
pub(crate) type CustomerTuple = (String, String, Option<String>, i64, i64);

/// Customers with their role and order counts; `{where}` and `{having}` are filled by the caller
/// with this module's literals only.
pub(crate) const CUSTOMER_SELECT: &str = "SELECT c.id, CAST(c.balance AS TEXT), r.role, \
       (SELECT COUNT(*) FROM orders o WHERE o.customer = c.id AND o.state IN ('paid', 'refunded')), \
       (SELECT COUNT(*) FROM orders o WHERE o.customer = c.id AND o.state = 'refunded') \
     FROM customers c LEFT JOIN customer_roles r ON r.customer = c.id";

pub(crate) fn customer_line(t: CustomerTuple) -> Result<CustomerLine, StoreError> {
    Ok(CustomerLine {
        id: super::rows::customer(&t.0)?,
        balance: super::rows::money(&t.1)?,
        role: t.2.unwrap_or_else(|| "member".to_string()),
        orders_paid: t.3,
        orders_refunded: t.4,
    })
}

/// admin, action, subject, before, after, reason, at
pub(crate) type AuditTuple = (String, String, String, String, String, String, i64);

pub(crate) fn audit_row(t: AuditTuple) -> AuditRow {
    AuditRow { admin: t.0, action: t.1, subject: t.2, before: t.3, after: t.4, reason: t.5, at: t.6 }
}

/// product, quantity, from_state, to_state, reason, reference, actor, at
pub(crate) type MovementTuple = (String, i64, String, String, String, String, String, i64);

pub(crate) const MOVEMENT_COLUMNS: &str = "product, quantity, from_state, to_state, reason, reference, actor, at";

pub(crate) fn movement(m: MovementTuple) -> Result<MovementRow, StoreError> {
    Ok(MovementRow {
        product: super::rows::product_code(&m.0)?,
        quantity: m.1,
        from: super::rows::stock_state(&m.2)?,
        to: super::rows::stock_state(&m.3)?,
        reason: m.4,
        reference: m.5,
        actor: m.6,
        at: m.7,
        content_hash: None,
    })
}

pub(crate) fn order_id_text(order: &OrderId) -> String {
    format!("%{order}%")
}

/// Implements `AdminStore` for a backend type with a `pool` field; `$money` binds Money.
macro_rules! impl_admin {
    ($store:ty, $money:path) => {
        #[async_trait::async_trait]
        impl crate::store::admin::AdminStore for $store {
            async fn list_orders(
                &self,
                f: &crate::store::admin::OrderFilter,
            ) -> Result<Vec<crate::checkout::OrderRow>, crate::store::StoreError> {
                let sql = concat!(
                    "SELECT ",
                    crate::store::rows::order_columns!(),
                    " FROM orders WHERE ($1 IS NULL OR state = $1) AND ($2 IS NULL OR customer = $2) \
                     AND ($3 IS NULL OR product = $3) AND ($4 IS NULL OR created_at >= $4) \
                     AND ($5 IS NULL OR created_at < $5) ORDER BY created_at DESC, id DESC LIMIT $6"
                );
                let rows = sqlx::query_as::<_, crate::store::rows::OrderTuple>(sql)
                    .bind(f.state.clone())
                    .bind(f.customer.as_ref().map(|c| c.to_string()))
                    .bind(f.product.as_ref().map(|p| p.to_string()))
                    .bind(f.from_ms)
                    .bind(f.to_ms)
                    .bind(f.limit.clamp(1, crate::store::admin::ADMIN_LIST_ROWS_MAX))
                    .fetch_all(&self.pool)
                    .await?;
                rows.into_iter().map(crate::store::rows::order).collect()
            }

            async fn order_history(
                &self,
                order: &crate::checkout::OrderRow,
            ) -> Result<crate::store::admin::OrderHistory, crate::store::StoreError> {
                use crate::store::rows;
                let id = order.id.as_str();
                // Movements are not indexed by reference (purchases must not pay for an index
                // only this page reads): this scans the product's movements.
                let sql = format!(
                    "SELECT {} FROM inventory_movements WHERE product = $1 AND reference = $2 ORDER BY id",
                    crate::store::admin::MOVEMENT_COLUMNS
                );
                let movements: Vec<crate::store::admin::MovementTuple> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
                    .bind(order.product.as_str())
                    .bind(id)
                    .fetch_all(&self.pool)
                    .await?;
                let movements = movements.into_iter().map(crate::store::admin::movement).collect::<Result<Vec<_>, _>>()?;
                let sql = concat!(
                    "SELECT ",
                    crate::store::rows::ledger_columns!(),
                    " FROM ledger_entries WHERE customer = $1 AND reference LIKE $2 ORDER BY id"
                );
                let ledger = sqlx::query_as::<_, rows::LedgerTuple>(sql)
                    .bind(order.customer.as_str())
                    .bind(crate::store::admin::order_id_text(&order.id))
                    .fetch_all(&self.pool)
                    .await?
                    .into_iter()
                    .map(rows::ledger)
                    .collect::<Result<_, _>>()?;
                let payments: Vec<(String, String, String, String, i64)> = sqlx::query_as(
                    "SELECT id, purpose, CAST(amount AS TEXT), status, at FROM payments WHERE order_id = $1 ORDER BY at",
                )
                .bind(id)
                .fetch_all(&self.pool)
                .await?;
                let payments = payments
                    .into_iter()
                    .map(|p| {
                        Ok(crate::store::admin::PaymentLine {
                            id: p.0,
                            purpose: p.1,
                            amount: rows::money(&p.2)?,
                            status: p.3,
                            at: p.4,
                        })
                    })
                    .collect::<Result<Vec<_>, crate::store::StoreError>>()?;
                Ok(crate::store::admin::OrderHistory { movements, ledger, payments })
            }

            async fn movements_of(
                &self,
                product: &warung_actors::domain::ProductCode,
                limit: i64,
            ) -> Result<Vec<warung_actors::journal::MovementRow>, crate::store::StoreError> {
                let sql = format!(
                    "SELECT {} FROM inventory_movements WHERE product = $1 ORDER BY id DESC LIMIT $2",
                    crate::store::admin::MOVEMENT_COLUMNS
                );
                let rows: Vec<crate::store::admin::MovementTuple> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
                    .bind(product.as_str())
                    .bind(limit.clamp(1, crate::store::admin::ADMIN_LIST_ROWS_MAX))
                    .fetch_all(&self.pool)
                    .await?;
                rows.into_iter().map(crate::store::admin::movement).collect()
            }

            async fn list_customers(
                &self,
                after: Option<&str>,
                limit: i64,
            ) -> Result<Vec<crate::store::admin::CustomerLine>, crate::store::StoreError> {
                let sql = format!(
                    "{} WHERE ($1 IS NULL OR c.id > $1) ORDER BY c.id LIMIT $2",
                    crate::store::admin::CUSTOMER_SELECT
                );
                let rows: Vec<crate::store::admin::CustomerTuple> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
                    .bind(after.map(str::to_string))
                    .bind(limit.clamp(1, crate::store::admin::ADMIN_LIST_ROWS_MAX))
                    .fetch_all(&self.pool)
                    .await?;
                rows.into_iter().map(crate::store::admin::customer_line).collect()
            }

            async fn customer(
                &self,
                id: &warung_actors::domain::CustomerId,
            ) -> Result<Option<crate::store::admin::CustomerLine>, crate::store::StoreError> {
                let sql = format!("{} WHERE c.id = $1", crate::store::admin::CUSTOMER_SELECT);
                let row: Option<crate::store::admin::CustomerTuple> =
                    sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(id.as_str()).fetch_optional(&self.pool).await?;
                row.map(crate::store::admin::customer_line).transpose()
            }

            async fn ledger_of(
                &self,
                customer: &warung_actors::domain::CustomerId,
                limit: i64,
            ) -> Result<Vec<warung_actors::journal::LedgerRow>, crate::store::StoreError> {
                let sql = concat!(
                    "SELECT ",
                    crate::store::rows::ledger_columns!(),
                    " FROM ledger_entries WHERE customer = $1 ORDER BY id DESC LIMIT $2"
                );
                sqlx::query_as::<_, crate::store::rows::LedgerTuple>(sql)
                    .bind(customer.as_str())
                    .bind(limit.clamp(1, crate::store::admin::ADMIN_LIST_ROWS_MAX))
                    .fetch_all(&self.pool)
                    .await?
                    .into_iter()
                    .map(crate::store::rows::ledger)
                    .collect()
            }

            async fn refund_counts(
                &self,
                min_orders: i64,
            ) -> Result<Vec<crate::store::admin::CustomerLine>, crate::store::StoreError> {
                // Only customers with a refund can be above any threshold above zero.
                let sql = format!(
                    "{} WHERE c.id IN (SELECT customer FROM orders WHERE state = 'refunded') ORDER BY c.id",
                    crate::store::admin::CUSTOMER_SELECT
                );
                let rows: Vec<crate::store::admin::CustomerTuple> =
                    sqlx::query_as(sqlx::AssertSqlSafe(sql)).fetch_all(&self.pool).await?;
                let lines = rows.into_iter().map(crate::store::admin::customer_line).collect::<Result<Vec<_>, _>>()?;
                Ok(lines.into_iter().filter(|l| l.orders_paid >= min_orders).collect())
            }

            async fn roles(&self) -> Result<Vec<(warung_actors::domain::CustomerId, String)>, crate::store::StoreError> {
                let rows: Vec<(String, String)> =
                    sqlx::query_as("SELECT customer, role FROM customer_roles").fetch_all(&self.pool).await?;
                rows.into_iter().map(|(c, r)| Ok((crate::store::rows::customer(&c)?, r))).collect()
            }

            async fn set_role(
                &self,
                customer: &warung_actors::domain::CustomerId,
                role: &str,
                audit: &crate::checkout::AuditRow,
            ) -> Result<(), crate::store::StoreError> {
                let mut tx = self.pool.begin().await?;
                sqlx::query(
                    "INSERT INTO customer_roles (customer, role, updated_at, updated_by) VALUES ($1, $2, $3, $4) \
                     ON CONFLICT (customer) DO UPDATE SET role = excluded.role, updated_at = excluded.updated_at, \
                     updated_by = excluded.updated_by",
                )
                .bind(customer.as_str())
                .bind(role)
                .bind(audit.at)
                .bind(&audit.admin)
                .execute(&mut *tx)
                .await?;
                crate::store::admin::insert_audit!(tx, audit);
                tx.commit().await?;
                Ok(())
            }

            async fn open_price_request(
                &self,
                r: &crate::store::admin::PriceRequest,
            ) -> Result<(), crate::store::StoreError> {
                let mut tx = self.pool.begin().await?;
                sqlx::query(
                    "UPDATE price_requests SET status = 'superseded' WHERE product = $1 AND tier = $2 AND status = 'pending'",
                )
                .bind(r.product.as_str())
                .bind(r.tier.as_str())
                .execute(&mut *tx)
                .await?;
                sqlx::query(
                    "INSERT INTO price_requests (id, product, tier, from_price, to_price, reason, requested_by, requested_at, \
                     expires_at, status, confirmed_by, confirmed_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'pending', NULL, NULL)",
                )
                .bind(&r.id)
                .bind(r.product.as_str())
                .bind(r.tier.as_str())
                .bind(r.from_price.map($money))
                .bind($money(r.to_price))
                .bind(&r.reason)
                .bind(&r.requested_by)
                .bind(r.requested_at)
                .bind(r.expires_at)
                .execute(&mut *tx)
                .await?;
                tx.commit().await?;
                Ok(())
            }

            async fn price_request(
                &self,
                id: &str,
            ) -> Result<Option<crate::store::admin::PriceRequest>, crate::store::StoreError> {
                let sql = format!(
                    "SELECT {} FROM price_requests WHERE id = $1",
                    crate::store::admin::PRICE_REQUEST_COLUMNS
                );
                let row: Option<crate::store::admin::PriceRequestTuple> =
                    sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(&self.pool).await?;
                row.map(crate::store::admin::price_request).transpose()
            }

            async fn price_requests(
                &self,
                product: &warung_actors::domain::ProductCode,
            ) -> Result<Vec<crate::store::admin::PriceRequest>, crate::store::StoreError> {
                let sql = format!(
                    "SELECT {} FROM price_requests WHERE product = $1 ORDER BY requested_at DESC LIMIT {}",
                    crate::store::admin::PRICE_REQUEST_COLUMNS,
                    crate::store::admin::ADMIN_LIST_ROWS_MAX
                );
                let rows: Vec<crate::store::admin::PriceRequestTuple> =
                    sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(product.as_str()).fetch_all(&self.pool).await?;
                rows.into_iter().map(crate::store::admin::price_request).collect()
            }

            async fn close_price_request(
                &self,
                id: &str,
                to: crate::store::admin::PriceRequestStatus,
                confirmed_by: Option<&str>,
                at: i64,
            ) -> Result<bool, crate::store::StoreError> {
                let done = sqlx::query(
                    "UPDATE price_requests SET status = $1, confirmed_by = $2, confirmed_at = $3 \
                     WHERE id = $4 AND status = 'pending'",
                )
                .bind(to.as_str())
                .bind(confirmed_by)
                .bind(confirmed_by.map(|_| at))
                .bind(id)
                .execute(&self.pool)
                .await?;
                Ok(done.rows_affected() == 1)
            }

            async fn stored_settings(&self) -> Result<Vec<(String, String)>, crate::store::StoreError> {
                Ok(sqlx::query_as("SELECT key, value FROM settings ORDER BY key").fetch_all(&self.pool).await?)
            }

            async fn put_settings(
                &self,
                values: &[(String, String)],
                audit: &[crate::checkout::AuditRow],
            ) -> Result<(), crate::store::StoreError> {
                let mut tx = self.pool.begin().await?;
                for ((key, value), row) in values.iter().zip(audit) {
                    sqlx::query(
                        "INSERT INTO settings (key, value, updated_at, updated_by) VALUES ($1, $2, $3, $4) \
                         ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at, \
                         updated_by = excluded.updated_by",
                    )
                    .bind(key)
                    .bind(value)
                    .bind(row.at)
                    .bind(&row.admin)
                    .execute(&mut *tx)
                    .await?;
                    crate::store::admin::insert_audit!(tx, row);
                }
                tx.commit().await?;
                Ok(())
            }

            async fn audit_trail(
                &self,
                subject: Option<&str>,
                limit: i64,
            ) -> Result<Vec<crate::checkout::AuditRow>, crate::store::StoreError> {
                let rows: Vec<crate::store::admin::AuditTuple> = sqlx::query_as(
                    "SELECT admin, action, subject, before, after, reason, at FROM admin_audit \
                     WHERE ($1 IS NULL OR subject = $1) ORDER BY id DESC LIMIT $2",
                )
                .bind(subject.map(str::to_string))
                .bind(limit.clamp(1, crate::store::admin::ADMIN_LIST_ROWS_MAX))
                .fetch_all(&self.pool)
                .await?;
                Ok(rows.into_iter().map(crate::store::admin::audit_row).collect())
            }
        }
    };
}
pub(crate) use impl_admin;

/// Inserts one audit row inside the caller's transaction `$tx`.
macro_rules! insert_audit {
    ($tx:expr, $row:expr) => {
        sqlx::query(
            "INSERT INTO admin_audit (admin, action, subject, before, after, reason, at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(&$row.admin)
        .bind(&$row.action)
        .bind(&$row.subject)
        .bind(&$row.before)
        .bind(&$row.after)
        .bind(&$row.reason)
        .bind($row.at)
        .execute(&mut *$tx)
        .await?
    };
}
pub(crate) use insert_audit;
