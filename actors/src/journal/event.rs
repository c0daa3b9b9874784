//! What the actors write: rows made by one transition, in the order they were made.
//!
//! Upsert rows carry the whole current value (an actor's state is the truth while it is active,
//! and the journal commits in order, so the last row of a key in a batch wins). Append rows
//! (ledger entries, inventory movements) are never updated: they are the audit trail.

use std::borrow::Cow;
use std::sync::Arc;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::domain::{
    ActorName, CustomerId, ItemNo, ItemSecret, Money, OrderId, ProductCode, Quantity, Reference, StockState, UnixMs,
};

#[derive(Clone, Debug, PartialEq)]
pub enum Event {
    Product(ProductRow),
    ItemsAdded {
        product: ProductCode,
        items: Vec<(ItemNo, ItemSecret)>,
        at: UnixMs,
    },
    ItemsMoved {
        product: ProductCode,
        items: Vec<ItemNo>,
        to: StockState,
        order: Option<OrderId>,
        at: UnixMs,
    },
    /// Items that left the product for one of its shares (or a share's items back to its
    /// home): their rows say removed, held by the move's reference, so recovery can finish a
    /// move that was cut short and the product's next activation knows them as away.
    ItemsMovedOut {
        product: ProductCode,
        items: Vec<ItemNo>,
        by: Reference,
        at: UnixMs,
    },
    Reservation(ReservationRow),
    Movement(MovementRow),
    Wallet(WalletRow),
    Ledger(LedgerRow),
}

impl Event {
    /// The actor whose state the event's row holds: the one whose activation reads it back.
    pub fn actor(&self) -> super::ActorKey {
        self.actor_ref().to_key()
    }

    /// The same as `actor`, borrowed: comparing two events' actors builds no key.
    pub fn actor_ref(&self) -> ActorRef<'_> {
        match self {
            Event::Product(row) => ActorRef::Product(&row.code),
            Event::ItemsAdded { product, .. }
            | Event::ItemsMoved { product, .. }
            | Event::ItemsMovedOut { product, .. } => ActorRef::Product(product),
            Event::Reservation(row) => ActorRef::Product(&row.product),
            Event::Movement(row) => ActorRef::Product(&row.product),
            Event::Wallet(row) => ActorRef::Wallet(&row.customer),
            Event::Ledger(row) => ActorRef::Wallet(&row.customer),
        }
    }
}

/// An event's actor, borrowed from the event (`Event::actor_ref`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ActorRef<'a> {
    Product(&'a ProductCode),
    Wallet(&'a CustomerId),
}

impl ActorRef<'_> {
    pub fn to_key(self) -> super::ActorKey {
        match self {
            ActorRef::Product(code) => super::ActorKey::Product(code.clone()),
            ActorRef::Wallet(customer) => super::ActorKey::Wallet(customer.clone()),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StockKind {
    /// Each unit is a deliverable item (a login, a voucher code).
    Items,
    /// Plain counted units with nothing to deliver but the count.
    Counted,
}

impl StockKind {
    pub fn as_str(self) -> &'static str {
        match self {
            StockKind::Items => "items",
            StockKind::Counted => "counted",
        }
    }

    pub fn parse(value: &str) -> Option<StockKind> {
        match value {
            "items" => Some(StockKind::Items),
            "counted" => Some(StockKind::Counted),
            _ => None,
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct ProductRow {
    pub code: ProductCode,
    pub name: String,
    pub price: Money,
    pub reseller_price: Option<Money>,
    pub kind: StockKind,
    pub active: bool,
    /// Units ever received; `received = available + reserved + sold + removed`.
    pub received: i64,
    pub available: i64,
    pub reserved: i64,
    pub sold: i64,
    pub removed: i64,
    pub next_item_no: ItemNo,
    pub updated_at: UnixMs,
}

impl ProductRow {
    /// A new product's first row: on sale, no stock, its items numbered from 1.
    pub fn first(code: ProductCode, name: String, price: Money, kind: StockKind, at: UnixMs) -> ProductRow {
        ProductRow {
            code,
            name,
            price,
            reseller_price: None,
            kind,
            active: true,
            received: 0,
            available: 0,
            reserved: 0,
            sold: 0,
            removed: 0,
            next_item_no: 1,
            updated_at: at,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReservationStatus {
    Reserved,
    Committed,
    Released,
}

impl ReservationStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ReservationStatus::Reserved => "reserved",
            ReservationStatus::Committed => "committed",
            ReservationStatus::Released => "released",
        }
    }

    pub fn parse(value: &str) -> Option<ReservationStatus> {
        match value {
            "reserved" => Some(ReservationStatus::Reserved),
            "committed" => Some(ReservationStatus::Committed),
            "released" => Some(ReservationStatus::Released),
            _ => None,
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct ReservationRow {
    pub order: OrderId,
    pub product: ProductCode,
    pub quantity: Quantity,
    pub unit_price: Money,
    pub items: Vec<ItemNo>,
    pub expires_at: UnixMs,
    pub status: ReservationStatus,
    /// Why it was released (cancelled, expired, failed), empty otherwise.
    pub release_reason: String,
    pub updated_at: UnixMs,
    /// This write creates the row (the reservation reaches the store for the first time); later
    /// writes update it. Lets the store insert without first looking for a conflict.
    pub creates: bool,
}

/// One change of stock: who, when, from, to, why.
#[derive(Clone, Debug, PartialEq)]
pub struct MovementRow {
    pub product: ProductCode,
    pub quantity: i64,
    pub from: StockState,
    pub to: StockState,
    /// The engine's own reasons are constants; one read from the store is owned.
    pub reason: Cow<'static, str>,
    /// Shared with the id it names (an order's, a restock's reference), not copied at each sale.
    pub reference: Arc<str>,
    pub actor: ActorName,
    pub at: UnixMs,
    /// A restock's content fingerprint (`Restock::fingerprint`), so a reference reused with other
    /// content is refused however long ago it was used; `None` for every other movement.
    pub content_hash: Option<u64>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct WalletRow {
    pub customer: CustomerId,
    pub balance: Money,
    pub updated_at: UnixMs,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LedgerKind {
    TopUp,
    Purchase,
    Refund,
    Adjustment,
}

impl LedgerKind {
    pub fn as_str(self) -> &'static str {
        match self {
            LedgerKind::TopUp => "top_up",
            LedgerKind::Purchase => "purchase",
            LedgerKind::Refund => "refund",
            LedgerKind::Adjustment => "adjustment",
        }
    }

    pub fn parse(value: &str) -> Option<LedgerKind> {
        Some(match value {
            "top_up" => LedgerKind::TopUp,
            "purchase" => LedgerKind::Purchase,
            "refund" => LedgerKind::Refund,
            "adjustment" => LedgerKind::Adjustment,
            _ => return None,
        })
    }
}

/// One change of a balance. `amount` is signed: credits positive, debits negative.
#[derive(Clone, Debug, PartialEq)]
pub struct LedgerRow {
    pub customer: CustomerId,
    pub reference: Reference,
    pub kind: LedgerKind,
    pub amount: Decimal,
    pub balance_after: Money,
    pub reason: String,
    pub actor: ActorName,
    pub at: UnixMs,
}
