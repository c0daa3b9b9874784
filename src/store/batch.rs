//! A journal batch sorted by table: upserts keep the last row per key (the journal is ordered, so
//! the last is the newest), appends keep every row in order. Both backends write from this.

mod last_wins;
mod sales;

use std::collections::HashSet;
use std::hash::{DefaultHasher, Hash, Hasher};

// A projection merges tens of thousands of rows by key: foldhash (seeded per process) rather
// than SipHash, which took a sixth of the projector's thread.
use foldhash::HashMap;

use warung_actors::domain::{ItemNo, ItemSecret, OrderId, StockState, UnixMs};
use warung_actors::journal::{Entries, Entry, Event, LedgerRow, MovementRow, ProductRow, ReservationRow, WalletRow};

use crate::records::{AuditRow, OrderRow, PaymentRow, ShopRecord};

pub use last_wins::LastWins;

/// The rows a batch writes, by table and key, hashed: a collision only makes a row look shared,
/// which costs overlap, never correctness.
#[derive(Default)]
pub struct RowKeys(HashSet<u64>);

impl RowKeys {
    fn add(&mut self, table: &str, key: impl Hash) {
        self.0.insert(row_key(table, key));
    }

    fn has(&self, table: &str, key: impl Hash) -> bool {
        !self.0.is_empty() && self.0.contains(&row_key(table, key))
    }
}

fn row_key(table: &str, key: impl Hash) -> u64 {
    let mut hasher = DefaultHasher::new();
    (table, key).hash(&mut hasher);
    hasher.finish()
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
    /// What holds the item: the order it is reserved or sold to, or the move that took it out
    /// (a removed item).
    pub holder: Option<&'a str>,
    pub at: UnixMs,
}

/// How a batch's orders are written (on Postgres; SQLite's writer always upserts).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum OrderWrites {
    /// The new ones inserted, so a second creation of an id refuses the batch; the rest upserted.
    /// The tables' journal, and the log's projection in one process.
    #[default]
    InsertNew,
    /// Every one upserted, and only as far along as it goes (`OrderState::progress`): the log's
    /// projection in a cluster, where the orders a batch creates were stored with its record and
    /// one order's rows come from two nodes' records, each projected by its own node; and what
    /// a start finds in the log (it may have been a cluster's).
    UpsertForward,
}

/// Which rows the log stores with a batch's record (`Batch::guards_of`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Guarded {
    /// Its payments: one process writes the log.
    Payments,
    /// Its payments and the orders it creates: a cluster's node.
    PaymentsAndNewOrders,
}

/// Borrows the journal's entries: a batch is read once, by one writer, while the entries live.
#[derive(Default)]
pub struct Batch<'a> {
    pub products: LastWins<&'a str, &'a ProductRow>,
    pub new_items: Vec<NewItem<'a>>,
    pub item_statuses: LastWins<(&'a str, ItemNo), ItemStatus<'a>>,
    pub reservations: LastWins<&'a str, &'a ReservationRow>,
    pub movements: Vec<&'a MovementRow>,
    pub wallets: LastWins<&'a str, &'a WalletRow>,
    /// Per wallet, the time of its first row in the batch: a wallet the batch creates was created
    /// then, however many batches the writer merged (the last row wins only for its balance).
    pub wallet_first_at: HashMap<&'a str, UnixMs>,
    pub ledger: Vec<&'a LedgerRow>,
    pub orders: LastWins<&'a str, &'a OrderRow>,
    /// Per order: the item numbers of its sale, when the batch folded the sale's reservation into
    /// the order's row (`fold_sales`).
    pub sold: HashMap<&'a str, &'a [ItemNo]>,
    /// Appended, not last-wins: two rows with one payment id make the insert fail, never one
    /// silently replace the other.
    pub payments: Vec<&'a PaymentRow>,
    pub audit: Vec<&'a AuditRow>,
    /// The payments were stored before (with the log record the batch came from): a stored one
    /// is kept, the others written.
    pub payments_stored: bool,
    /// How its orders are written.
    pub order_writes: OrderWrites,
}

impl<'a> Batch<'a> {
    pub fn of(entries: &'a [Entry<ShopRecord>]) -> Batch<'a> {
        Batch::of_all(entries)
    }

    /// As `of`, over the journal's batches in order, read in place (a projection's).
    pub fn of_batches(batches: &'a [Entries<ShopRecord>]) -> Batch<'a> {
        Batch::of_all(batches.iter().flat_map(|entries| entries.iter()))
    }

    /// As `of`, over the entries of several batches in order.
    pub fn of_all(entries: impl IntoIterator<Item = &'a Entry<ShopRecord>>) -> Batch<'a> {
        let mut batch = Batch::default();
        for entry in entries {
            match entry {
                Entry::Event(event) => batch.put_event(event),
                Entry::Attached(record) => batch.put_record(record),
            }
        }
        batch.fold_sales();
        batch
    }

    fn put_event(&mut self, event: &'a Event) {
        match event {
            Event::Product(row) => self.products.put(row.code.as_str(), row),
            Event::ItemsAdded { product, items, at } => {
                for (no, secret) in items {
                    self.new_items.push(NewItem { product: product.as_str(), no: *no, secret, at: *at });
                }
            }
            Event::ItemsMoved { product, items, to, order, at } => {
                for no in items {
                    let holder = order.as_ref().map(OrderId::as_str);
                    let status = ItemStatus { product: product.as_str(), no: *no, status: *to, holder, at: *at };
                    self.item_statuses.put((product.as_str(), *no), status);
                }
            }
            Event::ItemsMovedOut { product, items, by, at } => {
                for no in items {
                    let holder = Some(by.as_str());
                    let status =
                        ItemStatus { product: product.as_str(), no: *no, status: StockState::Removed, holder, at: *at };
                    self.item_statuses.put((product.as_str(), *no), status);
                }
            }
            Event::Reservation(row) => self.reservations.put_new(row.order.as_str(), row, row.creates),
            Event::Movement(row) => self.movements.push(row),
            Event::Wallet(row) => {
                self.wallet_first_at.entry(row.customer.as_str()).or_insert(row.updated_at);
                self.wallets.put(row.customer.as_str(), row)
            }
            Event::Ledger(row) => self.ledger.push(row),
        }
    }

    /// The rows of a batch whose primary key is what refuses a second one, so the log stores
    /// them with the record, before any reply (the tables' journal refuses such a batch at its
    /// commit): its payments, and on a cluster's node the orders it creates (an order id is the
    /// caller's, and two nodes' flows may both try to create one while its customer moves
    /// between them; in one process the customer's claim keeps a second flow out).
    pub fn guards_of(entries: &'a [Entry<ShopRecord>], guarded: Guarded) -> Batch<'a> {
        let mut guards = Batch::default();
        let mut orders = LastWins::default();
        for entry in entries {
            match entry {
                Entry::Attached(ShopRecord::Payment(row)) => guards.payments.push(row),
                Entry::Attached(ShopRecord::Order(row)) if guarded == Guarded::PaymentsAndNewOrders => {
                    orders.put_new(row.id.as_str(), row, row.creates)
                }
                _ => {}
            }
        }
        guards.orders = orders.created_only();
        guards
    }

    fn put_record(&mut self, record: &'a ShopRecord) {
        match record {
            ShopRecord::Order(row) => self.orders.put_new(row.id.as_str(), row, row.creates),
            ShopRecord::Payment(row) => self.payments.push(row),
            ShopRecord::Audit(row) => self.audit.push(row),
        }
    }

    /// When the wallet of `row` was first written in this batch.
    pub fn wallet_created_at(&self, row: &WalletRow) -> UnixMs {
        self.wallet_first_at.get(row.customer.as_str()).copied().unwrap_or(row.updated_at)
    }

    /// Every row this batch writes, by its unique key, so that a batch written beside this one
    /// never waits on its rows. Movements and ledger entries are keyed by their product and
    /// customer instead: appended in order, their ids keep each one's history in order.
    pub fn keys(&self) -> RowKeys {
        let mut keys = RowKeys::default();
        self.products.keys.iter().for_each(|k| keys.add("products", k));
        for item in &self.new_items {
            keys.add("items", (item.product, item.no));
            keys.add("item_secrets", (item.product, item.secret.expose()));
        }
        self.item_statuses.keys.iter().for_each(|k| keys.add("items", k));
        self.reservations.keys.iter().for_each(|k| keys.add("reservations", k));
        self.wallets.keys.iter().for_each(|k| keys.add("customers", k));
        self.movements.iter().for_each(|m| keys.add("movements", m.product.as_str()));
        self.ledger.iter().for_each(|l| keys.add("ledger", l.customer.as_str()));
        self.orders.keys.iter().for_each(|k| keys.add("orders", k));
        self.payments.iter().for_each(|p| keys.add("payments", p.id.as_str()));
        self.audit.iter().for_each(|a| keys.add("audit", a.subject.as_str()));
        keys
    }

    /// Splits this batch into the rows `earlier` does not write, which may be written while it is
    /// still open, and the rows it does, which must wait until it has committed.
    pub fn split(self, earlier: &RowKeys) -> (Batch<'a>, Batch<'a>) {
        let (products, products_shared) = self.products.split(|k| earlier.has("products", k));
        let (new_items, new_items_shared) = self.new_items.into_iter().partition(|item| {
            !earlier.has("items", (item.product, item.no))
                && !earlier.has("item_secrets", (item.product, item.secret.expose()))
        });
        let (item_statuses, item_statuses_shared) = self.item_statuses.split(|k| earlier.has("items", k));
        let (reservations, reservations_shared) = self.reservations.split(|k| earlier.has("reservations", k));
        let (wallets, wallets_shared) = self.wallets.split(|k| earlier.has("customers", k));
        let (movements, movements_shared) =
            self.movements.into_iter().partition(|m| !earlier.has("movements", m.product.as_str()));
        let (ledger, ledger_shared) =
            self.ledger.into_iter().partition(|l| !earlier.has("ledger", l.customer.as_str()));
        let (orders, orders_shared) = self.orders.split(|k| earlier.has("orders", k));
        let (payments, payments_shared) =
            self.payments.into_iter().partition(|p| !earlier.has("payments", p.id.as_str()));
        let (audit, audit_shared) = self.audit.into_iter().partition(|a| !earlier.has("audit", a.subject.as_str()));
        let own = Batch {
            products,
            new_items,
            item_statuses,
            reservations,
            movements,
            wallets,
            wallet_first_at: self.wallet_first_at.clone(),
            ledger,
            orders,
            sold: self.sold.clone(),
            payments,
            audit,
            payments_stored: self.payments_stored,
            order_writes: self.order_writes,
        };
        let shared = Batch {
            products: products_shared,
            new_items: new_items_shared,
            item_statuses: item_statuses_shared,
            reservations: reservations_shared,
            movements: movements_shared,
            wallets: wallets_shared,
            wallet_first_at: self.wallet_first_at,
            ledger: ledger_shared,
            orders: orders_shared,
            sold: self.sold,
            payments: payments_shared,
            audit: audit_shared,
            payments_stored: self.payments_stored,
            order_writes: self.order_writes,
        };
        (own, shared)
    }
}

/// Reservation item numbers as stored: comma-separated.
pub fn item_list(items: &[ItemNo]) -> String {
    use std::fmt::Write;
    // Written into one string: the projector makes one per reservation row.
    let mut list = String::with_capacity(items.len() * 4);
    for (at, item) in items.iter().enumerate() {
        let comma = if at == 0 { "" } else { "," };
        write!(list, "{comma}{item}").expect("writing to a String cannot fail");
    }
    list
}

pub fn parse_item_list(text: &str) -> Vec<ItemNo> {
    text.split(',').filter_map(|n| n.trim().parse().ok()).collect()
}

#[cfg(test)]
mod tests {
    use warung_actors::domain::{CustomerId, Money};
    use warung_actors::journal::WalletRow;

    use super::*;

    fn wallet(balance: u64, at: UnixMs) -> Entry<ShopRecord> {
        let customer = CustomerId::parse("6281100").unwrap();
        Entry::Event(Event::Wallet(WalletRow { customer, balance: Money::rupiah(balance), updated_at: at }))
    }

    #[test]
    fn item_lists_are_comma_separated_and_read_back() {
        assert_eq!(item_list(&[]), "");
        assert_eq!(item_list(&[7]), "7");
        assert_eq!(item_list(&[1, 22, 333]), "1,22,333");
        assert_eq!(parse_item_list(&item_list(&[1, 22, 333])), vec![1, 22, 333]);
    }

    #[test]
    fn a_projection_merges_its_batches_as_one_batch_of_all_their_entries() {
        let first = [wallet(5_000, 1)];
        let second = [wallet(3_000, 2), wallet(1_000, 3)];
        let merged = Batch::of_all(first.iter().chain(&second));
        assert_eq!(merged.wallets.rows.len(), 1, "one row per wallet");
        assert_eq!(merged.wallets.rows[0].balance, Money::rupiah(1_000), "the last write wins");
        assert_eq!(merged.wallet_first_at["6281100"], 1, "created at its first row");

        let joined: Vec<Entry<ShopRecord>> = first.iter().chain(&second).cloned().collect();
        let one = Batch::of(&joined);
        assert_eq!(one.wallets.rows, merged.wallets.rows);
        assert_eq!(one.wallet_first_at, merged.wallet_first_at);
    }
}
