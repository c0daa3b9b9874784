//! A journal batch sorted by table: upserts keep the last row per key (the journal is ordered, so
//! the last is the newest), appends keep every row in order. Both backends write from this.

use std::collections::HashMap;
use std::hash::Hash;

use warung_actors::domain::{ItemNo, ItemSecret, OrderId, StockState, UnixMs};
use warung_actors::journal::{
    Event, HoldRow, LedgerRow, MovementRow, OrderRow, PaymentRow, ProductRow, ReservationRow, WalletRow,
};

/// Rows keyed by identity, the last write of each key winning, in first-seen order.
pub struct LastWins<K, V> {
    index: HashMap<K, usize>,
    pub rows: Vec<V>,
}

impl<K: Eq + Hash, V> Default for LastWins<K, V> {
    fn default() -> Self {
        LastWins { index: HashMap::new(), rows: Vec::new() }
    }
}

impl<K: Eq + Hash, V> LastWins<K, V> {
    fn put(&mut self, key: K, row: V) {
        match self.index.get(&key) {
            Some(&at) => self.rows[at] = row,
            None => {
                self.index.insert(key, self.rows.len());
                self.rows.push(row);
            }
        }
    }
}

pub struct NewItem {
    pub product: String,
    pub no: ItemNo,
    pub secret: ItemSecret,
    pub at: UnixMs,
}

pub struct ItemStatus {
    pub product: String,
    pub no: ItemNo,
    pub status: StockState,
    pub order: Option<OrderId>,
    pub at: UnixMs,
}

#[derive(Default)]
pub struct Batch {
    pub products: LastWins<String, ProductRow>,
    pub new_items: Vec<NewItem>,
    pub item_statuses: LastWins<(String, ItemNo), ItemStatus>,
    pub reservations: LastWins<String, ReservationRow>,
    pub movements: Vec<MovementRow>,
    pub wallets: LastWins<String, WalletRow>,
    pub ledger: Vec<LedgerRow>,
    pub holds: LastWins<(String, String), HoldRow>,
    pub orders: LastWins<String, OrderRow>,
    pub payments: LastWins<String, PaymentRow>,
}

impl Batch {
    pub fn of(events: &[Event]) -> Batch {
        let mut batch = Batch::default();
        for event in events {
            match event {
                Event::Product(row) => batch.products.put(row.code.to_string(), row.clone()),
                Event::ItemsAdded { product, items, at } => {
                    for (no, secret) in items {
                        batch.new_items.push(NewItem {
                            product: product.to_string(),
                            no: *no,
                            secret: secret.clone(),
                            at: *at,
                        });
                    }
                }
                Event::ItemsMoved { product, items, to, order, at } => {
                    for no in items {
                        let status = ItemStatus {
                            product: product.to_string(),
                            no: *no,
                            status: *to,
                            order: order.clone(),
                            at: *at,
                        };
                        batch.item_statuses.put((product.to_string(), *no), status);
                    }
                }
                Event::Reservation(row) => batch.reservations.put(row.order.to_string(), row.clone()),
                Event::Movement(row) => batch.movements.push(row.clone()),
                Event::Wallet(row) => batch.wallets.put(row.customer.to_string(), row.clone()),
                Event::Ledger(row) => batch.ledger.push(row.clone()),
                Event::Hold(row) => batch.holds.put((row.customer.to_string(), row.reference.to_string()), row.clone()),
                Event::Order(row) => batch.orders.put(row.id.to_string(), row.clone()),
                Event::Payment(row) => batch.payments.put(row.id.to_string(), row.clone()),
            }
        }
        batch
    }
}

/// Reservation item numbers as stored: comma-separated.
pub fn item_list(items: &[ItemNo]) -> String {
    items.iter().map(|n| n.to_string()).collect::<Vec<_>>().join(",")
}

pub fn parse_item_list(text: &str) -> Vec<ItemNo> {
    text.split(',').filter_map(|n| n.trim().parse().ok()).collect()
}
