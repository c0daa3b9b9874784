//! What recovery and the catalogue read when the engine starts (or asks again after a stop
//! between two steps): the catalogue, open orders and reservations, recorded payments and
//! restocks; and the one row the catalogue writes itself, a product's first.

use async_trait::async_trait;
use warung_actors::domain::{CustomerId, Money, OrderId, ProductCode, Reference};
use warung_actors::journal::{ProductRow, ReservationStatus};

use super::backend::SqlStore;
use super::rows::{self, PaymentTuple};
use super::sql::Query;
use super::StoreError;
use crate::records::{OrderRow, PaymentRow};

#[async_trait]
pub trait Loads {
    /// The owner's products, in order (never their shares).
    async fn product_codes(&self) -> Result<Vec<ProductCode>, StoreError>;
    /// Every product's shares, in order.
    async fn share_codes(&self) -> Result<Vec<ProductCode>, StoreError>;
    /// Stores a new product's row; `false` (and nothing written) when the code exists.
    async fn create_product(&self, row: &ProductRow) -> Result<bool, StoreError>;
    /// Orders still pending or awaiting payment.
    async fn open_orders(&self) -> Result<Vec<OrderRow>, StoreError>;
    async fn products_with_open_reservations(&self) -> Result<Vec<ProductCode>, StoreError>;
    /// Open reservations last changed before `changed_before` (ms) whose order is missing or no
    /// longer open: a crash between steps.
    async fn orphan_reservations(&self, changed_before: i64) -> Result<Vec<(OrderId, ProductCode)>, StoreError>;
    async fn reservation_status(&self, order: &OrderId) -> Result<Option<ReservationStatus>, StoreError>;
    /// A product's restock under `reference`: the units it added and its content fingerprint
    /// (`None` when stored before fingerprints were kept).
    async fn restocked(
        &self,
        product: &ProductCode,
        reference: &Reference,
    ) -> Result<Option<(i64, Option<u64>)>, StoreError>;
    /// Moves out of a product with no move in under the same reference (a stop between the
    /// two): the product, the reference and the units.
    async fn unfinished_moves(&self) -> Result<Vec<(ProductCode, Reference, i64)>, StoreError>;
    /// The payment recorded under `id`, if any.
    async fn payment(&self, id: &Reference) -> Result<Option<PaymentRow>, StoreError>;
    /// Whether the customer's ledger has an entry under `reference`.
    async fn ledger_has(&self, customer: &CustomerId, reference: &Reference) -> Result<bool, StoreError>;
    /// Delivered payments whose surplus is not yet in the wallet (a stop between the two steps).
    async fn payments_owing_surplus(&self) -> Result<Vec<PaymentRow>, StoreError>;
}

#[async_trait]
impl Loads for SqlStore {
    async fn product_codes(&self) -> Result<Vec<ProductCode>, StoreError> {
        let codes: Vec<(String,)> = Query::new("SELECT code FROM products ORDER BY code").fetch_all(&self.pool).await?;
        let codes: Result<Vec<ProductCode>, StoreError> = codes.iter().map(|(c,)| rows::product_code(c)).collect();
        Ok(codes?.into_iter().filter(|code| !code.is_share()).collect())
    }

    async fn share_codes(&self) -> Result<Vec<ProductCode>, StoreError> {
        let codes: Vec<(String,)> =
            Query::new("SELECT code FROM products WHERE code LIKE '%~%' ORDER BY code").fetch_all(&self.pool).await?;
        codes.iter().map(|(c,)| rows::product_code(c)).collect()
    }

    /// A product's first row, written once: a second create of the same code changes nothing.
    async fn create_product(&self, r: &ProductRow) -> Result<bool, StoreError> {
        let done = Query::new(
            "INSERT INTO products (code, name, price, kind, active, received, available, reserved, sold, removed, next_item_no, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12) ON CONFLICT (code) DO NOTHING",
        )
        .bind(r.code.as_str())
        .bind(&r.name)
        .bind(r.price)
        .bind(r.kind.as_str())
        .bind(i64::from(r.active))
        .bind(r.received)
        .bind(r.available)
        .bind(r.reserved)
        .bind(r.sold)
        .bind(r.removed)
        .bind(r.next_item_no)
        .bind(r.updated_at)
        .execute(&self.pool)
        .await?;
        Ok(done == 1)
    }

    async fn open_orders(&self) -> Result<Vec<OrderRow>, StoreError> {
        self.read_orders("state IN ('pending', 'awaiting_payment')", None, i64::MAX).await
    }

    async fn products_with_open_reservations(&self) -> Result<Vec<ProductCode>, StoreError> {
        let codes: Vec<(String,)> = Query::new("SELECT DISTINCT product FROM reservations WHERE status = 'reserved'")
            .fetch_all(&self.pool)
            .await?;
        codes.iter().map(|(c,)| rows::product_code(c)).collect()
    }

    async fn orphan_reservations(&self, changed_before: i64) -> Result<Vec<(OrderId, ProductCode)>, StoreError> {
        let found: Vec<(String, String)> = Query::new(
            "SELECT r.order_id, r.product FROM reservations r LEFT JOIN orders o ON o.id = r.order_id \
             WHERE r.status = 'reserved' AND r.updated_at < $1 \
               AND (o.id IS NULL OR o.state NOT IN ('pending', 'awaiting_payment'))",
        )
        .bind(changed_before)
        .fetch_all(&self.pool)
        .await?;
        found.iter().map(|(o, p)| Ok((rows::order_id(o)?, rows::product_code(p)?))).collect()
    }

    async fn reservation_status(&self, order: &OrderId) -> Result<Option<ReservationStatus>, StoreError> {
        let status: Option<(String,)> = Query::new("SELECT status FROM reservations WHERE order_id = $1")
            .bind(order.as_str())
            .fetch_optional(&self.pool)
            .await?;
        if let Some((status,)) = status {
            return Ok(ReservationStatus::parse(&status));
        }
        // A sale whose reservation was never written is on its order's row.
        let sold: Option<(String,)> = Query::new("SELECT id FROM orders WHERE id = $1 AND sold_items IS NOT NULL")
            .bind(order.as_str())
            .fetch_optional(&self.pool)
            .await?;
        Ok(sold.map(|_| ReservationStatus::Committed))
    }

    async fn restocked(
        &self,
        product: &ProductCode,
        reference: &Reference,
    ) -> Result<Option<(i64, Option<u64>)>, StoreError> {
        let row: Option<(i64, Option<String>)> = Query::new(
            "SELECT quantity, content_hash FROM inventory_movements WHERE product = $1 AND reason = 'restock' AND reference = $2 LIMIT 1",
        )
        .bind(product.as_str())
        .bind(reference.as_str())
        .fetch_optional(&self.pool)
        .await?;
        row.map(|(quantity, hash)| Ok((quantity, hash.as_deref().map(rows::fingerprint).transpose()?))).transpose()
    }

    async fn unfinished_moves(&self) -> Result<Vec<(ProductCode, Reference, i64)>, StoreError> {
        let moves: Vec<(String, String, i64)> = Query::new(
            "SELECT o.product, o.reference, o.quantity FROM inventory_movements o \
             WHERE o.reason = 'move' AND o.to_state = 'removed' AND NOT EXISTS ( \
               SELECT 1 FROM inventory_movements i WHERE i.reason = 'move' AND i.to_state = 'available' AND i.reference = o.reference) \
             ORDER BY o.id",
        )
        .fetch_all(&self.pool)
        .await?;
        moves.iter().map(|(p, r, q)| Ok((rows::product_code(p)?, rows::reference(r)?, *q))).collect()
    }

    async fn payment(&self, id: &Reference) -> Result<Option<PaymentRow>, StoreError> {
        let row: Option<PaymentTuple> =
            Query::assembled(format!("SELECT {} FROM payments WHERE id = $1", rows::PAYMENT_COLUMNS))
                .bind(id.as_str())
                .fetch_optional(&self.pool.of_rows_written_with_the_log())
                .await?;
        row.map(rows::payment).transpose()
    }

    async fn ledger_has(&self, customer: &CustomerId, reference: &Reference) -> Result<bool, StoreError> {
        let found: Option<(String,)> =
            Query::new("SELECT reference FROM ledger_entries WHERE customer = $1 AND reference = $2")
                .bind(customer.as_str())
                .bind(reference.as_str())
                .fetch_optional(&self.pool)
                .await?;
        Ok(found.is_some())
    }

    async fn payments_owing_surplus(&self) -> Result<Vec<PaymentRow>, StoreError> {
        let sql = format!(
            "SELECT {} FROM payments p WHERE status = 'delivered' AND surplus <> $1 \
             AND NOT EXISTS (SELECT 1 FROM ledger_entries l WHERE l.customer = p.customer AND l.reference = 'surplus:' || p.id)",
            rows::PAYMENT_COLUMNS
        );
        let found: Vec<PaymentTuple> = Query::assembled(sql).bind(Money::ZERO).fetch_all(&self.pool).await?;
        found.into_iter().map(rows::payment).collect()
    }
}
