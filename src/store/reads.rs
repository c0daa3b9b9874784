//! Every read, written once: both drivers accept `$N` placeholders, and money is read as TEXT
//! (`CAST(... AS TEXT)`) so the same decoding serves NUMERIC and TEXT columns.

/// Implements `Loader` (see `loads`) and `Store` for a backend type with a `pool` field.
macro_rules! impl_store {
    // `$money` turns Money into the backend's bind value (NUMERIC on Postgres, TEXT on SQLite).
    ($store:ty, $migrations:literal, $backend:literal, $money:path) => {
        crate::store::loads::impl_loader!($store);

        impl $store {
            async fn read_orders(&self, filter: &str, bind: Option<&str>, limit: i64) -> Result<Vec<crate::checkout::OrderRow>, crate::store::StoreError> {
                // `filter` is one of this file's literals, never user input; values are bound.
                let sql = format!("SELECT {} FROM orders WHERE {filter} ORDER BY created_at DESC LIMIT {limit}", crate::store::rows::order_columns!());
                let mut query = sqlx::query_as::<_, crate::store::rows::OrderTuple>(sqlx::AssertSqlSafe(sql));
                if let Some(value) = bind {
                    query = query.bind(value.to_string());
                }
                query.fetch_all(&self.pool).await?.into_iter().map(crate::store::rows::order).collect()
            }
        }

        #[async_trait::async_trait]
        impl crate::store::Store for $store {
            fn backend(&self) -> &'static str {
                $backend
            }

            async fn migrate(&self) -> Result<(), crate::store::StoreError> {
                sqlx::migrate!($migrations).run(&self.pool).await?;
                Ok(())
            }

            async fn ping(&self) -> Result<(), crate::store::StoreError> {
                sqlx::query("SELECT 1").execute(&self.pool).await?;
                Ok(())
            }

            async fn migrations_pending(&self) -> Result<usize, crate::store::StoreError> {
                let applied: Vec<(i64,)> = sqlx::query_as("SELECT version FROM _sqlx_migrations WHERE success")
                    .fetch_all(&self.pool)
                    .await?;
                let migrator = sqlx::migrate!($migrations);
                Ok(migrator.iter().filter(|m| !applied.iter().any(|(v,)| *v == m.version)).count())
            }

            async fn product_codes(&self) -> Result<Vec<warung_actors::domain::ProductCode>, crate::store::StoreError> {
                let codes: Vec<(String,)> = sqlx::query_as("SELECT code FROM products ORDER BY code").fetch_all(&self.pool).await?;
                codes.iter().map(|(c,)| crate::store::rows::product_code(c)).collect()
            }

            async fn order(&self, id: &warung_actors::domain::OrderId) -> Result<Option<crate::checkout::OrderRow>, crate::store::StoreError> {
                Ok(self.read_orders("id = $1", Some(id.as_str()), 1).await?.pop())
            }

            async fn open_orders(&self) -> Result<Vec<crate::checkout::OrderRow>, crate::store::StoreError> {
                self.read_orders("state IN ('pending', 'awaiting_payment')", None, i64::MAX).await
            }

            async fn orders_of(&self, customer: &warung_actors::domain::CustomerId, limit: i64) -> Result<Vec<crate::checkout::OrderRow>, crate::store::StoreError> {
                self.read_orders("customer = $1", Some(customer.as_str()), limit).await
            }

            async fn delivered_items(&self, order: &warung_actors::domain::OrderId) -> Result<Vec<warung_actors::domain::ItemSecret>, crate::store::StoreError> {
                // Through the reservation's item numbers: items are indexed by (product, item_no)
                // only, so their status updates never write an index.
                let reservation: Option<(String, String)> =
                    sqlx::query_as("SELECT product, items FROM reservations WHERE order_id = $1 AND status = 'committed'")
                        .bind(order.as_str())
                        .fetch_optional(&self.pool)
                        .await?;
                let Some((product, numbers)) = reservation else { return Ok(Vec::new()) };
                let mut items = Vec::new();
                for no in crate::store::batch::parse_item_list(&numbers) {
                    let item: Option<(String,)> =
                        sqlx::query_as("SELECT secret FROM items WHERE product = $1 AND item_no = $2 AND status = 'sold' AND order_id = $3")
                            .bind(&product)
                            .bind(no)
                            .bind(order.as_str())
                            .fetch_optional(&self.pool)
                            .await?;
                    let Some((secret,)) = item else {
                        return Err(crate::store::StoreError::Corrupt(format!("order {order}: item {no} is not sold to it")));
                    };
                    items.push(warung_actors::domain::ItemSecret::parse(&secret).map_err(|_| crate::store::StoreError::Corrupt("item".into()))?);
                }
                Ok(items)
            }

            async fn products_with_open_reservations(&self) -> Result<Vec<warung_actors::domain::ProductCode>, crate::store::StoreError> {
                let codes: Vec<(String,)> = sqlx::query_as("SELECT DISTINCT product FROM reservations WHERE status = 'reserved'")
                    .fetch_all(&self.pool)
                    .await?;
                codes.iter().map(|(c,)| crate::store::rows::product_code(c)).collect()
            }

            async fn orphan_reservations(&self) -> Result<Vec<(warung_actors::domain::OrderId, warung_actors::domain::ProductCode)>, crate::store::StoreError> {
                let rows: Vec<(String, String)> = sqlx::query_as(
                    "SELECT r.order_id, r.product FROM reservations r LEFT JOIN orders o ON o.id = r.order_id \
                     WHERE r.status = 'reserved' AND (o.id IS NULL OR o.state NOT IN ('pending', 'awaiting_payment'))",
                )
                .fetch_all(&self.pool)
                .await?;
                rows.iter()
                    .map(|(o, p)| Ok((crate::store::rows::order_id(o)?, crate::store::rows::product_code(p)?)))
                    .collect()
            }

            async fn reservation_status(&self, order: &warung_actors::domain::OrderId) -> Result<Option<warung_actors::journal::ReservationStatus>, crate::store::StoreError> {
                let status: Option<(String,)> = sqlx::query_as("SELECT status FROM reservations WHERE order_id = $1")
                    .bind(order.as_str())
                    .fetch_optional(&self.pool)
                    .await?;
                Ok(status.and_then(|(s,)| warung_actors::journal::ReservationStatus::parse(&s)))
            }

            async fn restocked(
                &self,
                product: &warung_actors::domain::ProductCode,
                reference: &warung_actors::domain::Reference,
            ) -> Result<Option<(i64, Option<u64>)>, crate::store::StoreError> {
                let row: Option<(i64, Option<String>)> = sqlx::query_as(
                    "SELECT quantity, content_hash FROM inventory_movements WHERE product = $1 AND reason = 'restock' AND reference = $2 LIMIT 1",
                )
                .bind(product.as_str())
                .bind(reference.as_str())
                .fetch_optional(&self.pool)
                .await?;
                row.map(|(quantity, hash)| Ok((quantity, hash.as_deref().map(crate::store::rows::fingerprint).transpose()?)))
                    .transpose()
            }

            async fn payment(&self, id: &warung_actors::domain::Reference) -> Result<Option<crate::checkout::PaymentRow>, crate::store::StoreError> {
                let sql = concat!("SELECT ", crate::store::rows::payment_columns!(), " FROM payments WHERE id = $1");
                let row = sqlx::query_as::<_, crate::store::rows::PaymentTuple>(sql)
                    .bind(id.as_str())
                    .fetch_optional(&self.pool)
                    .await?;
                row.map(crate::store::rows::payment).transpose()
            }

            async fn ledger_has(&self, customer: &warung_actors::domain::CustomerId, reference: &warung_actors::domain::Reference) -> Result<bool, crate::store::StoreError> {
                let found: Option<(String,)> = sqlx::query_as("SELECT reference FROM ledger_entries WHERE customer = $1 AND reference = $2")
                    .bind(customer.as_str())
                    .bind(reference.as_str())
                    .fetch_optional(&self.pool)
                    .await?;
                Ok(found.is_some())
            }

            async fn payments_owing_surplus(&self) -> Result<Vec<crate::checkout::PaymentRow>, crate::store::StoreError> {
                let sql = concat!(
                    "SELECT ", crate::store::rows::payment_columns!(), " FROM payments p \
                     WHERE status = 'delivered' AND surplus <> $1 \
                     AND NOT EXISTS (SELECT 1 FROM ledger_entries l WHERE l.customer = p.customer AND l.reference = 'surplus:' || p.id)"
                );
                let rows = sqlx::query_as::<_, crate::store::rows::PaymentTuple>(sql)
                    .bind($money(warung_actors::domain::Money::ZERO))
                    .fetch_all(&self.pool)
                    .await?;
                rows.into_iter().map(crate::store::rows::payment).collect()
            }

            async fn audit_data(&self) -> Result<crate::store::AuditData, crate::store::StoreError> {
                use crate::store::rows;
                let sql = concat!("SELECT ", crate::store::rows::product_columns!(), " FROM products ORDER BY code");
                let products = sqlx::query_as::<_, rows::ProductTuple>(sql).fetch_all(&self.pool).await?;
                let item_counts = sqlx::query_as("SELECT product, status, COUNT(*) FROM items GROUP BY product, status")
                    .fetch_all(&self.pool)
                    .await?;
                let items_sold_twice = sqlx::query_as(
                    "SELECT product, secret, COUNT(*) FROM items WHERE status = 'sold' GROUP BY product, secret HAVING COUNT(*) > 1",
                )
                .fetch_all(&self.pool)
                .await?;
                let sold_items_by_order = sqlx::query_as(
                    "SELECT product, order_id, COUNT(*) FROM items WHERE status = 'sold' GROUP BY product, order_id",
                )
                .fetch_all(&self.pool)
                .await?;
                let reserved_by_product = sqlx::query_as(
                    "SELECT product, CAST(SUM(quantity) AS BIGINT) FROM reservations WHERE status = 'reserved' GROUP BY product",
                )
                .fetch_all(&self.pool)
                .await?;
                let customers = sqlx::query_as("SELECT id, CAST(balance AS TEXT) FROM customers ORDER BY id")
                    .fetch_all(&self.pool)
                    .await?;
                let sql = concat!("SELECT ", crate::store::rows::ledger_columns!(), " FROM ledger_entries ORDER BY id");
                let ledger = sqlx::query_as::<_, rows::LedgerTuple>(sql).fetch_all(&self.pool).await?;
                let sql = concat!("SELECT ", crate::store::rows::order_columns!(), " FROM orders ORDER BY created_at");
                let orders = sqlx::query_as::<_, rows::OrderTuple>(sql).fetch_all(&self.pool).await?;
                let sql = concat!("SELECT ", crate::store::rows::payment_columns!(), " FROM payments ORDER BY at, id");
                let payments = sqlx::query_as::<_, rows::PaymentTuple>(sql).fetch_all(&self.pool).await?;
                Ok(crate::store::AuditData {
                    products: products.into_iter().map(rows::product).collect::<Result<_, _>>()?,
                    item_counts,
                    items_sold_twice,
                    sold_items_by_order,
                    reserved_by_product,
                    customers,
                    ledger: ledger.into_iter().map(rows::ledger).collect::<Result<_, _>>()?,
                    orders: orders.into_iter().map(rows::order).collect::<Result<_, _>>()?,
                    payments: payments.into_iter().map(rows::payment).collect::<Result<_, _>>()?,
                })
            }

            /// A product's first row, written once: a second create of the same code changes nothing.
            async fn create_product(&self, r: &warung_actors::journal::ProductRow) -> Result<bool, crate::store::StoreError> {
                let done = sqlx::query(
                    "INSERT INTO products (code, name, price, kind, active, received, available, reserved, sold, removed, next_item_no, created_at, updated_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12) ON CONFLICT (code) DO NOTHING",
                )
                .bind(r.code.as_str())
                .bind(&r.name)
                .bind($money(r.price))
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
                Ok(done.rows_affected() == 1)
            }

            async fn close(&self) {
                self.close_pools().await;
            }

            fn pools(&self) -> Vec<crate::store::PoolUse> {
                self.pool_use()
            }

            async fn counts(&self) -> Result<crate::store::StoreCounts, crate::store::StoreError> {
                let orders_by_state = sqlx::query_as("SELECT state, COUNT(*) FROM orders GROUP BY state ORDER BY state")
                    .fetch_all(&self.pool)
                    .await?;
                let charges_by_status =
                    sqlx::query_as("SELECT status, COUNT(*) FROM qris_charges GROUP BY status ORDER BY status")
                        .fetch_all(&self.pool)
                        .await?;
                let outbox_by_status = sqlx::query_as("SELECT status, COUNT(*) FROM outbox GROUP BY status ORDER BY status")
                    .fetch_all(&self.pool)
                    .await?;
                Ok(crate::store::StoreCounts { orders_by_state, charges_by_status, outbox_by_status })
            }
        }
    };
}

pub(crate) use impl_store;
