//! Loading an actor's state from the store, written once for both backends (see `reads`).

/// Implements `Loader` for a backend type with a `pool` field.
macro_rules! impl_loader {
    ($store:ty) => {
        impl warung_actors::supervisor::Loader for $store {
            fn load_product<'a>(
                &'a self,
                code: &'a warung_actors::domain::ProductCode,
            ) -> futures::future::BoxFuture<'a, Result<Option<warung_actors::product::ProductRecord>, warung_actors::supervisor::LoadError>> {
                Box::pin(async move {
                    self.read_product(code).await.map_err(|e| warung_actors::supervisor::LoadError(e.to_string()))
                })
            }

            fn load_wallet<'a>(
                &'a self,
                customer: &'a warung_actors::domain::CustomerId,
            ) -> futures::future::BoxFuture<'a, Result<warung_actors::wallet::WalletRecord, warung_actors::supervisor::LoadError>> {
                Box::pin(async move {
                    self.read_wallet(customer).await.map_err(|e| warung_actors::supervisor::LoadError(e.to_string()))
                })
            }
        }

        impl $store {
            async fn read_product(
                &self,
                code: &warung_actors::domain::ProductCode,
            ) -> Result<Option<warung_actors::product::ProductRecord>, crate::store::StoreError> {
                use std::collections::HashMap;
                use warung_actors::domain::{Item, ItemSecret};
                use warung_actors::product::Reservation;
                use crate::store::rows;

                let sql = concat!("SELECT ", crate::store::rows::product_columns!(), " FROM products WHERE code = $1");
                let Some(row) = sqlx::query_as::<_, rows::ProductTuple>(sql).bind(code.as_str()).fetch_optional(&self.pool).await? else {
                    return Ok(None);
                };
                let row = rows::product(row)?;
                let secret = |s: &str| ItemSecret::parse(s).map_err(|_| crate::store::StoreError::Corrupt(format!("item of {code}")));
                let items: Vec<(i64, String, String, Option<String>)> = sqlx::query_as(
                    "SELECT item_no, secret, status, order_id FROM items WHERE product = $1 ORDER BY item_no",
                )
                .bind(code.as_str())
                .fetch_all(&self.pool)
                .await?;
                let mut available = Vec::new();
                let mut held: HashMap<String, Vec<Item>> = HashMap::new();
                let mut secrets = Vec::with_capacity(items.len());
                for (no, text, status, order) in items {
                    let item = Item { no, secret: secret(&text)? };
                    secrets.push(item.secret.clone());
                    match (status.as_str(), order) {
                        ("available", _) => available.push(item),
                        ("reserved", Some(order)) | ("sold", Some(order)) => held.entry(order).or_default().push(item),
                        _ => {}
                    }
                }
                let open: Vec<(String, i64, String, i64)> = sqlx::query_as(
                    "SELECT order_id, quantity, CAST(unit_price AS TEXT), expires_at FROM reservations WHERE product = $1 AND status = 'reserved'",
                )
                .bind(code.as_str())
                .fetch_all(&self.pool)
                .await?;
                let mut reservations = Vec::with_capacity(open.len());
                for (order, quantity, unit_price, expires_at) in open {
                    let items = held.remove(&order).unwrap_or_default();
                    let reservation = Reservation { quantity: quantity as u32, unit_price: rows::money(&unit_price)?, items, expires_at, stored: true };
                    reservations.push((rows::order_id(&order)?, reservation));
                }
                let settled = self.read_settled(code, &mut held).await?;
                let restocks = self.read_restocks(code).await?;
                Ok(Some(warung_actors::product::ProductRecord { row, available, reservations, settled, secrets, restocks }))
            }

            /// A product's latest settled reservations, oldest first; a committed one takes its
            /// sold items out of `held`.
            async fn read_settled(
                &self,
                code: &warung_actors::domain::ProductCode,
                held: &mut std::collections::HashMap<String, Vec<warung_actors::domain::Item>>,
            ) -> Result<Vec<(warung_actors::domain::OrderId, warung_actors::product::Settled)>, crate::store::StoreError> {
                use warung_actors::journal::ReservationStatus;
                use warung_actors::product::{ReleaseReason, Settled, Settlement};
                use crate::store::rows;
                use crate::store::batch::parse_item_list;

                let recent: Vec<(String, i64, String, i64, String, String, String)> = sqlx::query_as(
                    "SELECT order_id, quantity, CAST(unit_price AS TEXT), expires_at, status, release_reason, items FROM reservations \
                     WHERE product = $1 AND status <> 'reserved' ORDER BY updated_at DESC LIMIT $2",
                )
                .bind(code.as_str())
                .bind(crate::store::ACTOR_HISTORY_LOADED_MAX)
                .fetch_all(&self.pool)
                .await?;
                let mut settled = Vec::with_capacity(recent.len());
                for (order, quantity, unit_price, expires_at, status, reason, item_nos) in recent.into_iter().rev() {
                    let settlement = match ReservationStatus::parse(&status) {
                        Some(ReservationStatus::Committed) => {
                            let mut items = held.remove(&order).unwrap_or_default();
                            let wanted = parse_item_list(&item_nos);
                            items.sort_by_key(|item| wanted.iter().position(|n| *n == item.no));
                            Settlement::Committed { items: items.into_iter().map(|item| item.secret).collect() }
                        }
                        _ => Settlement::Released { reason: ReleaseReason::parse(&reason).unwrap_or(ReleaseReason::Failed) },
                    };
                    let settled_row = Settled { quantity: quantity as u32, unit_price: rows::money(&unit_price)?, expires_at, settlement };
                    settled.push((rows::order_id(&order)?, settled_row));
                }
                Ok(settled)
            }

            /// A product's latest restocks (reference, units, content fingerprint), oldest first.
            async fn read_restocks(
                &self,
                code: &warung_actors::domain::ProductCode,
            ) -> Result<Vec<(warung_actors::domain::Reference, u32, Option<u64>)>, crate::store::StoreError> {
                use crate::store::rows;

                let restocks: Vec<(String, i64, Option<String>)> = sqlx::query_as(
                    "SELECT reference, quantity, content_hash FROM inventory_movements WHERE product = $1 AND reason = 'restock' ORDER BY id DESC LIMIT $2",
                )
                .bind(code.as_str())
                .bind(warung_actors::product::PRODUCT_REFERENCES_REMEMBERED_MAX as i64)
                .fetch_all(&self.pool)
                .await?;
                restocks
                    .into_iter()
                    .rev()
                    .map(|(reference, quantity, hash)| {
                        Ok((rows::reference(&reference)?, quantity as u32, hash.as_deref().map(rows::fingerprint).transpose()?))
                    })
                    .collect()
            }

            async fn read_wallet(
                &self,
                customer: &warung_actors::domain::CustomerId,
            ) -> Result<warung_actors::wallet::WalletRecord, crate::store::StoreError> {
                use crate::store::rows;

                let mut record = warung_actors::wallet::WalletRecord::default();
                let balance: Option<(String,)> = sqlx::query_as("SELECT CAST(balance AS TEXT) FROM customers WHERE id = $1")
                    .bind(customer.as_str())
                    .fetch_optional(&self.pool)
                    .await?;
                let Some((balance,)) = balance else { return Ok(record) };
                record.balance = rows::money(&balance)?;
                let sql = concat!("SELECT ", crate::store::rows::ledger_columns!(), " FROM ledger_entries WHERE customer = $1 ORDER BY id DESC LIMIT $2");
                let ledger = sqlx::query_as::<_, rows::LedgerTuple>(sql)
                    .bind(customer.as_str())
                    .bind(crate::store::ACTOR_HISTORY_LOADED_MAX)
                    .fetch_all(&self.pool)
                    .await?;
                record.ledger = ledger.into_iter().rev().map(rows::ledger).collect::<Result<_, _>>()?;
                Ok(record)
            }
        }
    };
}

pub(crate) use impl_loader;
