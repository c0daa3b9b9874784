//! The admin store's statements, written once for both backends (see `AdminStore`).

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
