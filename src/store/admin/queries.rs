//! The admin store's statements, written once for both backends (see `AdminStore`).

use async_trait::async_trait;
use warung_actors::domain::{CustomerId, ProductCode};
use warung_actors::journal::{LedgerRow, MovementRow};

use super::{
    audit_row, customer_line, movement, order_id_text, price_request, AdminStore, AuditTuple, CustomerLine,
    CustomerTuple, MovementTuple, OrderFilter, OrderHistory, PaymentLine, PriceRequest, PriceRequestStatus,
    PriceRequestTuple, ADMIN_LIST_ROWS_MAX, CUSTOMER_SELECT, MOVEMENT_COLUMNS, PRICE_REQUEST_COLUMNS,
};
use crate::records::{AuditRow, OrderRow};
use crate::store::backend::SqlStore;
use crate::store::rows::{self, LedgerTuple, OrderTuple, LEDGER_COLUMNS, ORDER_COLUMNS};
use crate::store::sql::{Query, Tx};
use crate::store::StoreError;

/// A list's length as asked, within 1 and ADMIN_LIST_ROWS_MAX.
fn rows_max(limit: i64) -> i64 {
    limit.clamp(1, ADMIN_LIST_ROWS_MAX)
}

/// Inserts one audit row inside the caller's transaction.
async fn insert_audit(tx: &mut Tx, row: &AuditRow) -> Result<(), sqlx::Error> {
    Query::new(
        "INSERT INTO admin_audit (admin, action, subject, before, after, reason, at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(&row.admin)
    .bind(&row.action)
    .bind(&row.subject)
    .bind(&row.before)
    .bind(&row.after)
    .bind(&row.reason)
    .bind(row.at)
    .execute_in(tx)
    .await?;
    Ok(())
}

impl SqlStore {
    async fn ledger_lines(
        &self,
        sql: String,
        customer: &CustomerId,
        value: String,
    ) -> Result<Vec<LedgerRow>, StoreError> {
        let rows: Vec<LedgerTuple> =
            Query::assembled(sql).bind(customer.as_str()).bind(value).fetch_all(&self.pool).await?;
        rows.into_iter().map(rows::ledger).collect()
    }

    async fn payment_lines(&self, order: &str) -> Result<Vec<PaymentLine>, StoreError> {
        let payments: Vec<(String, String, String, String, i64)> = Query::new(
            "SELECT id, purpose, CAST(amount AS TEXT), status, at FROM payments WHERE order_id = $1 ORDER BY at",
        )
        .bind(order)
        .fetch_all(&self.pool)
        .await?;
        payments
            .into_iter()
            .map(|p| Ok(PaymentLine { id: p.0, purpose: p.1, amount: rows::money(&p.2)?, status: p.3, at: p.4 }))
            .collect()
    }
}

#[async_trait]
impl AdminStore for SqlStore {
    async fn list_orders(&self, f: &OrderFilter) -> Result<Vec<OrderRow>, StoreError> {
        let sql = format!(
            "SELECT {ORDER_COLUMNS} FROM orders WHERE ($1 IS NULL OR state = $1) AND ($2 IS NULL OR customer = $2) \
             AND ($3 IS NULL OR product = $3 OR substr(product, 1, length($3) + 1) = $3 || '~') \
             AND ($4 IS NULL OR created_at >= $4) \
             AND ($5 IS NULL OR created_at < $5) ORDER BY created_at DESC, id DESC LIMIT $6"
        );
        let rows: Vec<OrderTuple> = Query::assembled(sql)
            .bind(f.state.clone())
            .bind(f.customer.as_ref().map(|c| c.to_string()))
            .bind(f.product.as_ref().map(|p| p.to_string()))
            .bind(f.from_ms)
            .bind(f.to_ms)
            .bind(rows_max(f.limit))
            .fetch_all(&self.pool)
            .await?;
        rows.into_iter().map(rows::order).collect()
    }

    async fn order_history(&self, order: &OrderRow) -> Result<OrderHistory, StoreError> {
        // Movements are not indexed by reference (purchases must not pay for an index only this
        // page reads): this scans the product's movements.
        let sql = format!(
            "SELECT {MOVEMENT_COLUMNS} FROM inventory_movements WHERE product = $1 AND reference = $2 ORDER BY id"
        );
        let movements: Vec<MovementTuple> =
            Query::assembled(sql).bind(order.product.as_str()).bind(order.id.as_str()).fetch_all(&self.pool).await?;
        let movements = movements.into_iter().map(movement).collect::<Result<Vec<_>, _>>()?;
        let sql = format!(
            "SELECT {LEDGER_COLUMNS} FROM ledger_entries WHERE customer = $1 AND reference LIKE $2 ORDER BY id"
        );
        let ledger = self.ledger_lines(sql, &order.customer, order_id_text(&order.id)).await?;
        let payments = self.payment_lines(order.id.as_str()).await?;
        Ok(OrderHistory { movements, ledger, payments })
    }

    async fn movements_of(&self, product: &ProductCode, limit: i64) -> Result<Vec<MovementRow>, StoreError> {
        // Its shares' rows are the product's (a buyer in another lane bought there); the moves
        // between them are neither received nor removed, so an owner is not shown them.
        let sql = format!(
            "SELECT {MOVEMENT_COLUMNS} FROM inventory_movements \
             WHERE (product = $1 OR substr(product, 1, length($1) + 1) = $1 || '~') AND reason <> 'move' \
             ORDER BY id DESC LIMIT $2"
        );
        let rows: Vec<MovementTuple> =
            Query::assembled(sql).bind(product.as_str()).bind(rows_max(limit)).fetch_all(&self.pool).await?;
        rows.into_iter().map(movement).collect()
    }

    async fn list_customers(&self, after: Option<&str>, limit: i64) -> Result<Vec<CustomerLine>, StoreError> {
        let sql = format!("{CUSTOMER_SELECT} WHERE ($1 IS NULL OR c.id > $1) ORDER BY c.id LIMIT $2");
        let rows: Vec<CustomerTuple> =
            Query::assembled(sql).bind(after).bind(rows_max(limit)).fetch_all(&self.pool).await?;
        rows.into_iter().map(customer_line).collect()
    }

    async fn customer(&self, id: &CustomerId) -> Result<Option<CustomerLine>, StoreError> {
        let sql = format!("{CUSTOMER_SELECT} WHERE c.id = $1");
        let row: Option<CustomerTuple> = Query::assembled(sql).bind(id.as_str()).fetch_optional(&self.pool).await?;
        row.map(customer_line).transpose()
    }

    async fn ledger_of(&self, customer: &CustomerId, limit: i64) -> Result<Vec<LedgerRow>, StoreError> {
        let sql = format!("SELECT {LEDGER_COLUMNS} FROM ledger_entries WHERE customer = $1 ORDER BY id DESC LIMIT $2");
        let rows: Vec<LedgerTuple> =
            Query::assembled(sql).bind(customer.as_str()).bind(rows_max(limit)).fetch_all(&self.pool).await?;
        rows.into_iter().map(rows::ledger).collect()
    }

    async fn refund_counts(&self, min_orders: i64) -> Result<Vec<CustomerLine>, StoreError> {
        // Only customers with a refund can be above any threshold above zero.
        let sql = format!(
            "{CUSTOMER_SELECT} WHERE c.id IN (SELECT customer FROM orders WHERE state = 'refunded') ORDER BY c.id"
        );
        let rows: Vec<CustomerTuple> = Query::assembled(sql).fetch_all(&self.pool).await?;
        let lines = rows.into_iter().map(customer_line).collect::<Result<Vec<_>, _>>()?;
        Ok(lines.into_iter().filter(|l| l.orders_paid >= min_orders).collect())
    }

    async fn roles(&self) -> Result<Vec<(CustomerId, String)>, StoreError> {
        let rows: Vec<(String, String)> =
            Query::new("SELECT customer, role FROM customer_roles").fetch_all(&self.pool).await?;
        rows.into_iter().map(|(c, r)| Ok((rows::customer(&c)?, r))).collect()
    }

    async fn set_role(&self, customer: &CustomerId, role: &str, audit: &AuditRow) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        Query::new(
            "INSERT INTO customer_roles (customer, role, updated_at, updated_by) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (customer) DO UPDATE SET role = excluded.role, updated_at = excluded.updated_at, \
             updated_by = excluded.updated_by",
        )
        .bind(customer.as_str())
        .bind(role)
        .bind(audit.at)
        .bind(&audit.admin)
        .execute_in(&mut tx)
        .await?;
        insert_audit(&mut tx, audit).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn open_price_request(&self, r: &PriceRequest) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        Query::new(
            "UPDATE price_requests SET status = 'superseded' WHERE product = $1 AND tier = $2 AND status = 'pending'",
        )
        .bind(r.product.as_str())
        .bind(r.tier.as_str())
        .execute_in(&mut tx)
        .await?;
        Query::new(
            "INSERT INTO price_requests (id, product, tier, from_price, to_price, reason, requested_by, requested_at, \
             expires_at, status, confirmed_by, confirmed_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'pending', NULL, NULL)",
        )
        .bind(&r.id)
        .bind(r.product.as_str())
        .bind(r.tier.as_str())
        .bind(r.from_price)
        .bind(r.to_price)
        .bind(&r.reason)
        .bind(&r.requested_by)
        .bind(r.requested_at)
        .bind(r.expires_at)
        .execute_in(&mut tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn price_request(&self, id: &str) -> Result<Option<PriceRequest>, StoreError> {
        let sql = format!("SELECT {PRICE_REQUEST_COLUMNS} FROM price_requests WHERE id = $1");
        let row: Option<PriceRequestTuple> = Query::assembled(sql).bind(id).fetch_optional(&self.pool).await?;
        row.map(price_request).transpose()
    }

    async fn price_requests(&self, product: &ProductCode) -> Result<Vec<PriceRequest>, StoreError> {
        let sql = format!(
            "SELECT {PRICE_REQUEST_COLUMNS} FROM price_requests WHERE product = $1 ORDER BY requested_at DESC LIMIT {ADMIN_LIST_ROWS_MAX}"
        );
        let rows: Vec<PriceRequestTuple> = Query::assembled(sql).bind(product.as_str()).fetch_all(&self.pool).await?;
        rows.into_iter().map(price_request).collect()
    }

    async fn close_price_request(
        &self,
        id: &str,
        to: PriceRequestStatus,
        confirmed_by: Option<&str>,
        at: i64,
    ) -> Result<bool, StoreError> {
        let done = Query::new(
            "UPDATE price_requests SET status = $1, confirmed_by = $2, confirmed_at = $3 \
             WHERE id = $4 AND status = 'pending'",
        )
        .bind(to.as_str())
        .bind(confirmed_by)
        .bind(confirmed_by.map(|_| at))
        .bind(id)
        .execute(&self.pool)
        .await?;
        Ok(done == 1)
    }

    async fn stored_settings(&self) -> Result<Vec<(String, String)>, StoreError> {
        Ok(Query::new("SELECT key, value FROM settings ORDER BY key").fetch_all(&self.pool).await?)
    }

    async fn put_settings(&self, values: &[(String, String)], audit: &[AuditRow]) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        for ((key, value), row) in values.iter().zip(audit) {
            Query::new(
                "INSERT INTO settings (key, value, updated_at, updated_by) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at, \
                 updated_by = excluded.updated_by",
            )
            .bind(key)
            .bind(value)
            .bind(row.at)
            .bind(&row.admin)
            .execute_in(&mut tx)
            .await?;
            insert_audit(&mut tx, row).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn audit_trail(&self, subject: Option<&str>, limit: i64) -> Result<Vec<AuditRow>, StoreError> {
        let rows: Vec<AuditTuple> = Query::new(
            "SELECT admin, action, subject, before, after, reason, at FROM admin_audit \
             WHERE ($1 IS NULL OR subject = $1) ORDER BY id DESC LIMIT $2",
        )
        .bind(subject)
        .bind(rows_max(limit))
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(audit_row).collect())
    }
}
