//! The product state machine: price, the queue of available units, reservations, sold.
//! One method per command, each with its own reply; every one is pure: no I/O, no clock reads
//! (time comes in as `now`), no awaiting. This file holds the state, `apply` (any command from a
//! `ProductCommand`) and the invariants; the flows are in `reservations` (reserve, commit,
//! release, expire) and `catalogue` (restock, price, name, on sale).

mod catalogue;
mod moves;
mod reservations;

pub use moves::MOVE_REASON;

use std::collections::{BTreeSet, HashSet, VecDeque};

use super::commands::{Moved, MovedIn, MovedOut, PriceSet, Restocked};
use super::terms::{PriceTier, ReleaseReason};
use crate::domain::{
    BoundedMap, FastMap, Item, ItemNo, ItemSecret, Money, OrderId, ProductCode, Quantity, Reference, UnixMs,
};
use crate::journal::{Event, ProductRow, StockKind};
use crate::runtime::Transition;

/// Settled orders (committed or released) a product remembers, so a re-sent commit or release
/// returns its first outcome. Older ones are the caller's to remember (the orders table does).
pub const PRODUCT_SETTLED_REMEMBERED_MAX: usize = 10_000;

/// Restock and price references a product remembers for idempotency.
pub const PRODUCT_REFERENCES_REMEMBERED_MAX: usize = 1_000;

/// Moves a product's activation remembers (the latest), besides every move out of it that has
/// not arrived (recovery repeats those, and must get the units they took): moves are few (a
/// block at a time), and they share the references' room with the restocks.
pub const PRODUCT_MOVES_RESTORED_MAX: usize = 100;

/// Longest product name, in characters: it is shown in a chat list line.
pub const PRODUCT_NAME_CHARS_MAX: usize = 80;

/// Most units one restock may bring: an upload bigger than this is split by the caller.
pub const RESTOCK_UNITS_MAX: usize = 100_000;

#[derive(Clone, Debug, PartialEq)]
pub struct Reservation {
    pub quantity: Quantity,
    pub unit_price: Money,
    pub items: Vec<Item>,
    pub expires_at: UnixMs,
    /// Whether the store holds it yet (see `StoreWhen`); a restored reservation always is.
    pub stored: bool,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Settlement {
    Committed { items: Vec<ItemSecret> },
    Released { reason: ReleaseReason },
}

#[derive(Clone, Debug, PartialEq)]
pub struct Settled {
    pub quantity: Quantity,
    pub unit_price: Money,
    pub expires_at: UnixMs,
    pub settlement: Settlement,
}

/// What a product remembers of a restock or price reference: the command's content, to tell a
/// repeat from a reuse of the reference, and its first reply, to answer a repeat with.
#[derive(Clone, Debug, PartialEq)]
enum Remembered {
    /// A restock and its content's fingerprint (`None`: restored from the store, where it was
    /// stored before fingerprints were kept; any content matches).
    Restock { fingerprint: Option<u64>, restocked: Restocked },
    /// A price change; its reply is its content.
    Price(PriceSet),
    /// A move out, with what was asked (`None`: restored from the store; any ask matches).
    MoveOut { asked: Option<(ProductCode, Quantity)>, reply: MovedOut },
    /// A move in and the units it took.
    MoveIn { added: Quantity, reply: MovedIn },
}

/// A move as the store recorded it on one product's side.
#[derive(Clone, Debug, PartialEq)]
pub struct StoredMove {
    pub reference: Reference,
    /// Out of this product (its units removed), or into it.
    pub out: bool,
    pub quantity: Quantity,
}

/// Everything the store keeps of a product, to rebuild its state.
#[derive(Clone, Debug)]
pub struct ProductRecord {
    pub row: ProductRow,
    /// Available items, in queue order.
    pub available: Vec<Item>,
    pub reservations: Vec<(OrderId, Reservation)>,
    /// The latest settled reservations, oldest first.
    pub settled: Vec<(OrderId, Settled)>,
    /// Every item the product ever received.
    pub secrets: Vec<ItemSecret>,
    /// The latest restocks (reference, units, content fingerprint), oldest first.
    pub restocks: Vec<(Reference, Quantity, Option<u64>)>,
    /// The latest moves in and out, and every move out not yet arrived, oldest first.
    pub moves: Vec<StoredMove>,
    /// Items moved out and not back, with the move that took each.
    pub away: Vec<(Reference, Item)>,
}

#[derive(Clone, Debug)]
pub struct ProductState {
    pub code: ProductCode,
    pub name: String,
    pub price: Money,
    /// What a reseller pays; `None`: the member price.
    pub reseller_price: Option<Money>,
    pub kind: StockKind,
    pub active: bool,
    queue: VecDeque<Item>,
    available_count: i64,
    reservations: FastMap<OrderId, Reservation>,
    /// The open reservations by expiry, so the next one is found without a scan.
    expiries: BTreeSet<(UnixMs, OrderId)>,
    reserved_units: i64,
    /// Reserved units the store does not know of yet: in the store they are still available.
    unstored_units: i64,
    settled: BoundedMap<OrderId, Settled>,
    secrets: HashSet<ItemSecret>,
    /// Items moved out to a share (or back to the home) and not returned: their rows are here,
    /// removed, so one that comes back is moved, not inserted.
    away: HashSet<ItemNo>,
    references: BoundedMap<Reference, Remembered>,
    received: i64,
    sold: i64,
    removed: i64,
    next_item_no: ItemNo,
}

/// A read-only view, safe to show: counts and price, no item contents.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ProductSnapshot {
    pub code: ProductCode,
    pub name: String,
    pub price: Money,
    /// What a reseller pays; `None`: the member price.
    pub reseller_price: Option<Money>,
    pub kind: StockKind,
    pub active: bool,
    pub available: i64,
    pub reserved: i64,
    pub sold: i64,
    pub removed: i64,
    pub received: i64,
    pub open_reservations: usize,
    pub next_expiry: Option<UnixMs>,
}

impl ProductState {
    pub fn new(code: ProductCode, name: String, price: Money, kind: StockKind) -> ProductState {
        ProductState {
            code,
            name,
            price,
            reseller_price: None,
            kind,
            active: true,
            queue: VecDeque::new(),
            available_count: 0,
            reservations: FastMap::default(),
            expiries: BTreeSet::new(),
            reserved_units: 0,
            unstored_units: 0,
            settled: BoundedMap::new(PRODUCT_SETTLED_REMEMBERED_MAX),
            secrets: HashSet::new(),
            away: HashSet::new(),
            references: BoundedMap::new(PRODUCT_REFERENCES_REMEMBERED_MAX),
            received: 0,
            sold: 0,
            removed: 0,
            next_item_no: 1,
        }
    }

    /// Rebuilds a product from the store; refuses a record that breaks an invariant.
    pub fn restore(record: ProductRecord) -> Result<ProductState, String> {
        let row = record.row;
        let mut state = ProductState::new(row.code, row.name, row.price, row.kind);
        state.active = row.active;
        state.reseller_price = row.reseller_price;
        state.received = row.received;
        state.sold = row.sold;
        state.removed = row.removed;
        state.next_item_no = row.next_item_no;
        match row.kind {
            StockKind::Items => state.queue = record.available.into(),
            StockKind::Counted => state.available_count = row.available,
        }
        for (order, reservation) in record.reservations {
            if !reservation.stored {
                return Err(format!("reservation {order} comes from the store but is marked unstored"));
            }
            state.reserved_units += i64::from(reservation.quantity);
            state.expiries.insert((reservation.expires_at, order.clone()));
            state.reservations.insert(order, reservation);
        }
        for (order, settled) in record.settled {
            state.settled.insert(order, settled);
        }
        state.secrets = record.secrets.into_iter().collect();
        for (reference, added, fingerprint) in record.restocks {
            let restocked = Restocked { added, available: state.available() };
            state.references.insert(reference, Remembered::Restock { fingerprint, restocked });
        }
        state.restore_moves(record.moves, record.away);
        state.check_counters()?;
        state.check_contents()?;
        Ok(state)
    }

    /// Remembers the moves read back, so a repeated one gets its first answer, and which items
    /// are away.
    fn restore_moves(&mut self, moves: Vec<StoredMove>, away: Vec<(Reference, Item)>) {
        let mut items_by_move: FastMap<Reference, Vec<Item>> = FastMap::default();
        for (reference, item) in away {
            self.away.insert(item.no);
            items_by_move.entry(reference).or_default().push(item);
        }
        let available = self.available();
        for StoredMove { reference, out, quantity } in moves {
            let remembered = if out {
                let moved = match self.kind {
                    // Items that came back since are no longer the move's: it finished long ago.
                    StockKind::Items => Moved::Items(items_by_move.remove(&reference).unwrap_or_default()),
                    StockKind::Counted => Moved::Count(quantity),
                };
                Remembered::MoveOut { asked: None, reply: MovedOut { moved, available } }
            } else {
                Remembered::MoveIn { added: quantity, reply: MovedIn { added: quantity, available } }
            };
            self.references.insert(reference, remembered);
        }
    }

    /// What a buyer of `tier` pays per unit.
    pub fn price_for(&self, tier: PriceTier) -> Money {
        tier.price(self.price, self.reseller_price)
    }

    pub fn available(&self) -> i64 {
        match self.kind {
            StockKind::Items => self.queue.len() as i64,
            StockKind::Counted => self.available_count,
        }
    }

    pub fn reserved(&self) -> i64 {
        self.reserved_units
    }

    pub fn open_reservations(&self) -> usize {
        self.reservations.len()
    }

    /// When the next reservation expires, for arming the actor's timer.
    pub fn next_expiry(&self) -> Option<UnixMs> {
        self.expiries.first().map(|(at, _)| *at)
    }

    pub fn snapshot(&self) -> ProductSnapshot {
        ProductSnapshot {
            code: self.code.clone(),
            name: self.name.clone(),
            price: self.price,
            reseller_price: self.reseller_price,
            kind: self.kind,
            active: self.active,
            available: self.available(),
            reserved: self.reserved_units,
            sold: self.sold,
            removed: self.removed,
            received: self.received,
            open_reservations: self.reservations.len(),
            next_expiry: self.next_expiry(),
        }
    }

    /// The row as the store must see it: units under an unstored reservation count as available,
    /// so the row agrees with the stored items and reservations.
    pub fn row(&self, now: UnixMs) -> ProductRow {
        ProductRow {
            code: self.code.clone(),
            name: self.name.clone(),
            price: self.price,
            reseller_price: self.reseller_price,
            kind: self.kind,
            active: self.active,
            received: self.received,
            available: self.available() + self.unstored_units,
            reserved: self.reserved_units - self.unstored_units,
            sold: self.sold,
            removed: self.removed,
            next_item_no: self.next_item_no,
            updated_at: now,
        }
    }

    /// A transition's answer, once the invariants hold after it: a broken one is a bug, and
    /// crashes the actor (the supervisor reloads it from the store).
    fn transition<O>(&self, outcome: O, events: Vec<Event>) -> Transition<O> {
        if let Err(broken) = self.check_invariants() {
            panic!("product {} broke an invariant: {broken}", self.code);
        }
        Transition { outcome, events }
    }

    /// One property per check; a broken one is a bug in this file. The counter identities are
    /// checked after every transition; the checks that walk every reservation and item run on
    /// restore and in debug builds (tests), so the hot path stays O(1).
    pub fn check_invariants(&self) -> Result<(), String> {
        self.check_counters()?;
        if cfg!(debug_assertions) {
            self.check_contents()?;
        }
        Ok(())
    }

    fn check_counters(&self) -> Result<(), String> {
        let available = self.available();
        if available < 0 || self.reserved_units < 0 || self.sold < 0 || self.removed < 0 {
            return Err("a stock count is negative".into());
        }
        if self.unstored_units < 0 || self.unstored_units > self.reserved_units {
            return Err(format!("{} unstored of {} reserved units", self.unstored_units, self.reserved_units));
        }
        if self.received != available + self.reserved_units + self.sold + self.removed {
            return Err(format!(
                "received {} != available {available} + reserved {} + sold {} + removed {}",
                self.received, self.reserved_units, self.sold, self.removed
            ));
        }
        Ok(())
    }

    fn check_contents(&self) -> Result<(), String> {
        if self.expiries.len() != self.reservations.len() {
            return Err(format!("{} expiries for {} reservations", self.expiries.len(), self.reservations.len()));
        }
        let reserved: i64 = self.reservations.values().map(|r| i64::from(r.quantity)).sum();
        if reserved != self.reserved_units {
            return Err(format!("reservations hold {reserved}, counter says {}", self.reserved_units));
        }
        let unstored: i64 = self.reservations.values().filter(|r| !r.stored).map(|r| i64::from(r.quantity)).sum();
        if unstored != self.unstored_units {
            return Err(format!("unstored reservations hold {unstored}, counter says {}", self.unstored_units));
        }
        if self.kind == StockKind::Items {
            if let Some((order, _)) = self.reservations.iter().find(|(_, r)| r.items.len() != r.quantity as usize) {
                return Err(format!("reservation {order} holds a different number of items than its quantity"));
            }
            if self.queue.iter().any(|item| item.no >= self.next_item_no) {
                return Err("an available item has a number not yet issued".into());
            }
        }
        Ok(())
    }
}

fn total(unit_price: Money, quantity: Quantity) -> Money {
    unit_price.checked_mul(quantity).expect("price times an order-limited quantity fits")
}
