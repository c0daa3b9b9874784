//! What a conversation reads: a customer's orders and what they delivered.

use async_trait::async_trait;
use warung_actors::domain::{CustomerId, ItemSecret, OrderId};

use super::backend::SqlStore;
use super::batch::parse_item_list;
use super::rows::{self, OrderTuple};
use super::sql::{Query, Value};
use super::StoreError;
use crate::records::OrderRow;

#[async_trait]
pub trait ChatReads: Send + Sync {
    async fn order(&self, id: &OrderId) -> Result<Option<OrderRow>, StoreError>;
    async fn orders_of(&self, customer: &CustomerId, limit: i64) -> Result<Vec<OrderRow>, StoreError>;
    async fn delivered_items(&self, order: &OrderId) -> Result<Vec<ItemSecret>, StoreError>;
}

impl SqlStore {
    /// Orders newest first; `filter` is one of this crate's literals, never input.
    pub(crate) async fn read_orders(
        &self,
        filter: &str,
        value: Option<Value>,
        limit: i64,
    ) -> Result<Vec<OrderRow>, StoreError> {
        let sql =
            format!("SELECT {} FROM orders WHERE {filter} ORDER BY created_at DESC LIMIT {limit}", rows::ORDER_COLUMNS);
        let mut query = Query::assembled(sql);
        if let Some(value) = value {
            query = query.bind(value);
        }
        let rows: Vec<OrderTuple> = query.fetch_all(&self.pool).await?;
        rows.into_iter().map(rows::order).collect()
    }
}

#[async_trait]
impl ChatReads for SqlStore {
    async fn order(&self, id: &OrderId) -> Result<Option<OrderRow>, StoreError> {
        Ok(self.read_orders("id = $1", Some(id.as_str().into()), 1).await?.pop())
    }

    async fn orders_of(&self, customer: &CustomerId, limit: i64) -> Result<Vec<OrderRow>, StoreError> {
        self.read_orders("customer = $1", Some(customer.as_str().into()), limit).await
    }

    async fn delivered_items(&self, order: &OrderId) -> Result<Vec<ItemSecret>, StoreError> {
        // Through the sale's item numbers: items are indexed by (product, item_no) only, so
        // their status updates never write an index. The numbers are on the order's row, or on
        // its reservation's when that was written (`store::batch::sales`).
        let on_order: Option<(String, String)> =
            Query::new("SELECT product, sold_items FROM orders WHERE id = $1 AND sold_items IS NOT NULL")
                .bind(order.as_str())
                .fetch_optional(&self.pool)
                .await?;
        let sale = match on_order {
            Some(sale) => Some(sale),
            None => {
                Query::new("SELECT product, items FROM reservations WHERE order_id = $1 AND status = 'committed'")
                    .bind(order.as_str())
                    .fetch_optional(&self.pool)
                    .await?
            }
        };
        let Some((product, numbers)) = sale else { return Ok(Vec::new()) };
        let mut items = Vec::new();
        for no in parse_item_list(&numbers) {
            let item: Option<(String,)> = Query::new(
                "SELECT secret FROM items WHERE product = $1 AND item_no = $2 AND status = 'sold' AND order_id = $3",
            )
            .bind(product.as_str())
            .bind(no)
            .bind(order.as_str())
            .fetch_optional(&self.pool)
            .await?;
            let Some((secret,)) = item else {
                return Err(StoreError::Corrupt(format!("order {order}: item {no} is not sold to it")));
            };
            items.push(ItemSecret::parse(&secret).map_err(|_| StoreError::Corrupt("item".into()))?);
        }
        Ok(items)
    }
}
