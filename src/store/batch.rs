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

pub struct NewItem<'a> {
    pub product: &'a str,
    pub no: ItemNo,
    pub secret: &'a ItemSecret,
    pub at: UnixMs,
}

pub struct ItemStatus<'a> {
    pub product: &'a str,
    pub no: ItemNo,
    pub status: StockState,
    pub order: Option<&'a OrderId>,
    pub at: UnixMs,
}

/// Borrows the journal's events: a batch is read once, by one writer, while the events live.
#[derive(Default)]
pub struct Batch<'a> {
    pub products: LastWins<&'a str, &'a ProductRow>,
    pub new_items: Vec<NewItem<'a>>,
    pub item_statuses: LastWins<(&'a str, ItemNo), ItemStatus<'a>>,
    pub reservations: LastWins<&'a str, &'a ReservationRow>,
    pub movements: Vec<&'a MovementRow>,
    pub wallets: LastWins<&'a str, &'a WalletRow>,
    pub ledger: Vec<&'a LedgerRow>,
    pub holds: LastWins<(&'a str, &'a str), &'a HoldRow>,
    pub orders: LastWins<&'a str, &'a OrderRow>,
    pub payments: LastWins<&'a str, &'a PaymentRow>,
}

impl<'a> Batch<'a> {
    pub fn of(events: &'a [Event]) -> Batch<'a> {
        let mut batch = Batch::default();
        for event in events {
            match event {
                Event::Product(row) => batch.products.put(row.code.as_str(), row),
                Event::ItemsAdded { product, items, at } => {
                    for (no, secret) in items {
                        batch.new_items.push(NewItem { product: product.as_str(), no: *no, secret, at: *at });
                    }
                }
                Event::ItemsMoved { product, items, to, order, at } => {
                    for no in items {
                        let status = ItemStatus {
                            product: product.as_str(),
                            no: *no,
                            status: *to,
                            order: order.as_ref(),
                            at: *at,
                        };
                        batch.item_statuses.put((product.as_str(), *no), status);
                    }
                }
                Event::Reservation(row) => batch.reservations.put(row.order.as_str(), row),
                Event::Movement(row) => batch.movements.push(row),
                Event::Wallet(row) => batch.wallets.put(row.customer.as_str(), row),
                Event::Ledger(row) => batch.ledger.push(row),
                Event::Hold(row) => batch.holds.put((row.customer.as_str(), row.reference.as_str()), row),
                Event::Order(row) => batch.orders.put(row.id.as_str(), row),
                Event::Payment(row) => batch.payments.put(row.id.as_str(), row),
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
