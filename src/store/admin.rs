//! What the admin API reads and the few admin writes that are neither stock nor money (roles,
//! price requests, settings), written once for both backends. Stock, prices and money change
//! only through the actors; these tables hold who asked for what. This file has the types and the
//! decoding of rows; `queries` the statements.

use async_trait::async_trait;
use warung_actors::domain::{CustomerId, Money, OrderId, ProductCode};
use warung_actors::journal::{LedgerRow, MovementRow};
use warung_actors::product::PriceTier;

use super::StoreError;
use crate::records::{AuditRow, OrderRow};

mod queries;

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

#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
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
pub trait AdminStore: Send + Sync {
    /// Newest first.
    async fn list_orders(&self, filter: &OrderFilter) -> Result<Vec<OrderRow>, StoreError>;
    async fn order_history(&self, order: &OrderRow) -> Result<OrderHistory, StoreError>;
    /// A product's latest stock movements with its shares', newest first, without the moves
    /// between them.
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
        reason: m.4.into(),
        reference: m.5.into(),
        actor: m.6.into(),
        at: m.7,
        content_hash: None,
    })
}

pub(crate) fn order_id_text(order: &OrderId) -> String {
    format!("%{order}%")
}
