//! Loading an actor's state when it is activated: a product with its items, open reservations
//! and latest settled ones and restocks; wallets with their latest ledger entries (`wallets`).

mod wallets;

use std::collections::HashMap;

use futures::future::BoxFuture;
use warung_actors::domain::{CustomerId, Item, ItemSecret, OrderId, ProductCode, Reference};
use warung_actors::journal::{ActorKey, ReservationStatus};
use warung_actors::product::{
    ProductRecord, ReleaseReason, Reservation, Settled, Settlement, StoredMove, MOVE_REASON,
    PRODUCT_MOVES_RESTORED_MAX, PRODUCT_REFERENCES_REMEMBERED_MAX,
};
use warung_actors::supervisor::{LoadError, Loader};
use warung_actors::wallet::WalletRecord;

use super::backend::SqlStore;
use super::batch::parse_item_list;
use super::rows::{self, ProductTuple};
use super::sql::{Pool, Query};
use super::{StoreError, ACTOR_HISTORY_LOADED_MAX};

/// Items held by an open or settled reservation, by order id.
type Held = HashMap<String, Vec<Item>>;

/// A product's items as stored, by where they are.
struct Items {
    available: Vec<Item>,
    held: Held,
    /// Moved out to a share (or back to the home), with the move's reference.
    away: Vec<(Reference, Item)>,
    secrets: Vec<ItemSecret>,
}

impl Loader for SqlStore {
    fn load_product<'a>(&'a self, code: &'a ProductCode) -> BoxFuture<'a, Result<Option<ProductRecord>, LoadError>> {
        let pool = self.pool.for_activation_of(ActorKey::Product(code.clone()));
        Box::pin(async move { read_product(&pool, code).await.map_err(|e| LoadError(e.to_string())) })
    }

    fn load_wallet<'a>(&'a self, customer: &'a CustomerId) -> BoxFuture<'a, Result<WalletRecord, LoadError>> {
        Box::pin(async move {
            let mut records = self.load_wallets(std::slice::from_ref(customer)).await;
            records.pop().expect("one answer per wallet asked")
        })
    }

    fn load_wallets<'a>(&'a self, customers: &'a [CustomerId]) -> BoxFuture<'a, Vec<Result<WalletRecord, LoadError>>> {
        let pool = self.pool.for_activation_of_all(customers.iter().cloned().map(ActorKey::Wallet).collect());
        Box::pin(async move {
            let failed = |e: &StoreError| LoadError(e.to_string());
            match wallets::read_wallets(&pool, customers).await {
                Ok(records) => records.into_iter().map(|r| r.map_err(|e| failed(&e))).collect(),
                Err(e) => customers.iter().map(|_| Err(failed(&e))).collect(),
            }
        })
    }
}

async fn read_product(pool: &Pool, code: &ProductCode) -> Result<Option<ProductRecord>, StoreError> {
    let sql = format!("SELECT {} FROM products WHERE code = $1", rows::PRODUCT_COLUMNS);
    let row: Option<ProductTuple> = Query::assembled(sql).bind(code.as_str()).fetch_optional(pool).await?;
    let Some(row) = row else { return Ok(None) };
    let row = rows::product(row)?;
    let Items { available, mut held, away, secrets } = read_items(pool, code).await?;
    let open: Vec<(String, i64, String, i64)> = Query::new(
            "SELECT order_id, quantity, CAST(unit_price AS TEXT), expires_at FROM reservations WHERE product = $1 AND status = 'reserved'",
        )
        .bind(code.as_str())
        .fetch_all(pool)
        .await?;
    let mut reservations = Vec::with_capacity(open.len());
    for (order, quantity, unit_price, expires_at) in open {
        let items = held.remove(&order).unwrap_or_default();
        let reservation = Reservation {
            quantity: quantity as u32,
            unit_price: rows::money(&unit_price)?,
            items,
            expires_at,
            stored: true,
        };
        reservations.push((rows::order_id(&order)?, reservation));
    }
    let settled = read_settled(pool, code, &mut held).await?;
    let restocks = read_restocks(pool, code).await?;
    let moves = read_moves(pool, code).await?;
    Ok(Some(ProductRecord { row, available, reservations, settled, secrets, restocks, moves, away }))
}

/// A product's items: those available, those held by an order, those a move took, and every
/// secret.
async fn read_items(pool: &Pool, code: &ProductCode) -> Result<Items, StoreError> {
    let secret = |s: &str| ItemSecret::parse(s).map_err(|_| StoreError::Corrupt(format!("item of {code}")));
    let items: Vec<(i64, String, String, Option<String>)> =
        Query::new("SELECT item_no, secret, status, order_id FROM items WHERE product = $1 ORDER BY item_no")
            .bind(code.as_str())
            .fetch_all(pool)
            .await?;
    let mut available = Vec::new();
    let mut held: Held = HashMap::new();
    let mut away = Vec::new();
    let mut secrets = Vec::with_capacity(items.len());
    for (no, text, status, holder) in items {
        let item = Item { no, secret: secret(&text)? };
        secrets.push(item.secret.clone());
        match (status.as_str(), holder) {
            ("available", _) => available.push(item),
            ("reserved", Some(order)) | ("sold", Some(order)) => held.entry(order).or_default().push(item),
            ("removed", Some(by)) => away.push((rows::reference(&by)?, item)),
            _ => {}
        }
    }
    Ok(Items { available, held, away, secrets })
}

/// A settled reservation as read: order, quantity, unit price, expiry, status, release reason,
/// item numbers, and when it settled (a sale on its order's row: when the order was made, a
/// moment before; never its `updated_at`, which a refund moves).
type SettledTuple = (String, i64, String, i64, String, String, String, i64);

/// A product's latest settled reservations, oldest first; a committed one takes its sold
/// items out of `held`. They are in two places: the sales whose reservation was never written
/// are on their orders' rows (`store::batch::sales`), the rest in `reservations`. Each is read
/// newest first along its index (`orders_sold_by_product`, `reservations_by_product_time`),
/// never by sorting all of the product's (a hot product has millions).
async fn read_settled(pool: &Pool, code: &ProductCode, held: &mut Held) -> Result<Vec<(OrderId, Settled)>, StoreError> {
    let mut tx = pool.begin_in_index_order().await?;
    let mut recent: Vec<SettledTuple> = Query::new(
        "SELECT order_id, quantity, CAST(unit_price AS TEXT), expires_at, status, release_reason, items, updated_at \
             FROM reservations WHERE product = $1 AND status <> 'reserved' ORDER BY updated_at DESC LIMIT $2",
    )
    .planned_each_run()
    .bind(code.as_str())
    .bind(ACTOR_HISTORY_LOADED_MAX)
    .fetch_all_in(&mut tx)
    .await?;
    let sales: Vec<SettledTuple> = Query::new(
        "SELECT id, quantity, CAST(unit_price AS TEXT), expires_at, 'committed', '', sold_items, created_at \
             FROM orders WHERE product = $1 AND sold_items IS NOT NULL ORDER BY created_at DESC LIMIT $2",
    )
    .planned_each_run()
    .bind(code.as_str())
    .bind(ACTOR_HISTORY_LOADED_MAX)
    .fetch_all_in(&mut tx)
    .await?;
    tx.commit().await?;
    recent.extend(sales);
    recent.sort_unstable_by_key(|row| std::cmp::Reverse(row.7));
    recent.truncate(ACTOR_HISTORY_LOADED_MAX as usize);
    let mut settled = Vec::with_capacity(recent.len());
    for (order, quantity, unit_price, expires_at, status, reason, item_nos, _) in recent.into_iter().rev() {
        let settlement = match ReservationStatus::parse(&status) {
            Some(ReservationStatus::Committed) => {
                let mut items = held.remove(&order).unwrap_or_default();
                let wanted = parse_item_list(&item_nos);
                items.sort_by_key(|item| wanted.iter().position(|n| *n == item.no));
                Settlement::Committed { items: items.into_iter().map(|item| item.secret).collect() }
            }
            _ => Settlement::Released { reason: ReleaseReason::parse(&reason).unwrap_or(ReleaseReason::Failed) },
        };
        let settled_row =
            Settled { quantity: quantity as u32, unit_price: rows::money(&unit_price)?, expires_at, settlement };
        settled.push((rows::order_id(&order)?, settled_row));
    }
    Ok(settled)
}

/// A product's latest moves in and out, and every move out of it that has not arrived, oldest
/// first. Recovery finishes such a move by asking for it again under its reference, which must
/// give the units it took: a product that had forgotten it would move others.
async fn read_moves(pool: &Pool, code: &ProductCode) -> Result<Vec<StoredMove>, StoreError> {
    // The reason is written out, not bound, so the planner can use the partial indexes on it.
    let sql = format!(
        "SELECT id, reference, to_state, quantity FROM ( \
           SELECT id, reference, to_state, quantity FROM inventory_movements \
           WHERE product = $1 AND reason = '{MOVE_REASON}' ORDER BY id DESC LIMIT $2) AS latest \
         UNION \
         SELECT o.id, o.reference, o.to_state, o.quantity FROM inventory_movements o \
         WHERE o.product = $1 AND o.reason = '{MOVE_REASON}' AND o.to_state = 'removed' AND NOT EXISTS ( \
           SELECT 1 FROM inventory_movements i \
           WHERE i.reason = '{MOVE_REASON}' AND i.to_state = 'available' AND i.reference = o.reference)"
    );
    let mut moves: Vec<(i64, String, String, i64)> =
        Query::assembled(sql).bind(code.as_str()).bind(PRODUCT_MOVES_RESTORED_MAX as i64).fetch_all(pool).await?;
    moves.sort_unstable_by_key(|(id, ..)| *id);
    moves
        .into_iter()
        .map(|(_, reference, to, quantity)| {
            let out = to == "removed";
            Ok(StoredMove { reference: rows::reference(&reference)?, out, quantity: quantity as u32 })
        })
        .collect()
}

/// A product's latest restocks (reference, units, content fingerprint), oldest first.
async fn read_restocks(pool: &Pool, code: &ProductCode) -> Result<Vec<(Reference, u32, Option<u64>)>, StoreError> {
    let restocks: Vec<(String, i64, Option<String>)> = Query::new(
            "SELECT reference, quantity, content_hash FROM inventory_movements WHERE product = $1 AND reason = 'restock' ORDER BY id DESC LIMIT $2",
        )
        .bind(code.as_str())
        .bind(PRODUCT_REFERENCES_REMEMBERED_MAX as i64)
        .fetch_all(pool)
        .await?;
    restocks
        .into_iter()
        .rev()
        .map(|(reference, quantity, hash)| {
            Ok((rows::reference(&reference)?, quantity as u32, hash.as_deref().map(rows::fingerprint).transpose()?))
        })
        .collect()
}
