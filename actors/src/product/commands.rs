//! Each product command as a type of its own, with the one reply it gives: a caller that reserves
//! gets a `Reserved`, never an outcome it must pick apart. `ProductRequest` ties a command to its
//! reply and to the state machine's method that applies it; the actor and the supervisor take any
//! `ProductRequest`. `ProductCommand` (in `messages`) is all of them as one enum, for property
//! tests and logs: it is a `ProductRequest` too, answered with a `ProductOutcome`.

use super::terms::{PriceTier, ReleaseReason, Restock, StoreWhen};
use crate::domain::{ActorName, Item, ItemSecret, Money, OrderId, ProductCode, Quantity, Reference, UnixMs};

/// Take `quantity` units out of the available queue for `order`, for `ttl_ms` from now.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct Reserve {
    pub order: OrderId,
    pub quantity: Quantity,
    pub ttl_ms: i64,
    pub store: StoreWhen,
    /// Which price the buyer pays: a reseller pays the reseller price where one is set.
    pub tier: PriceTier,
    pub actor: ActorName,
}

/// The units are held for the order until `expires_at`, at `unit_price` each.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Reserved {
    pub order: OrderId,
    pub quantity: Quantity,
    pub unit_price: Money,
    pub total: Money,
    pub expires_at: UnixMs,
}

/// The order is paid: its reserved units are sold and its items delivered.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct Commit {
    pub order: OrderId,
    pub actor: ActorName,
}

/// The order's units are sold; `items` is empty for counted stock.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Committed {
    pub order: OrderId,
    pub quantity: Quantity,
    pub total: Money,
    pub items: Vec<ItemSecret>,
}

/// The order will not be paid: its reserved units go back to the queue.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct Release {
    pub order: OrderId,
    pub reason: ReleaseReason,
    pub actor: ActorName,
}

#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Released {
    pub order: OrderId,
    pub quantity: Quantity,
}

/// Release every reservation whose time has come.
#[derive(Clone, Copy, Debug, serde::Serialize, serde::Deserialize)]
pub struct ExpireDue;

/// The orders whose reservations were released, in expiry order.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Expired {
    pub orders: Vec<OrderId>,
}

/// Bring stock in, once per reference.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct AddStock {
    pub reference: Reference,
    pub stock: Restock,
    pub actor: ActorName,
}

#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Restocked {
    pub added: Quantity,
    pub available: i64,
}

/// Set the price one tier of buyers pays, once per reference.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct SetPrice {
    pub reference: Reference,
    pub tier: PriceTier,
    pub price: Money,
    pub actor: ActorName,
}

#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct PriceSet {
    pub tier: PriceTier,
    pub price: Money,
}

#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct Rename {
    pub name: String,
    pub actor: ActorName,
}

#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Renamed {
    pub name: String,
}

/// Put the product on sale or take it off; reservations already made stand.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct SetActive {
    pub active: bool,
    pub actor: ActorName,
}

#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ActiveSet {
    pub active: bool,
}

/// Move up to `quantity` available units to `to` (a share of this product, or the home this
/// share sells for), once per reference. Fewer are moved when fewer are available.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct MoveOut {
    pub reference: Reference,
    pub quantity: Quantity,
    pub to: ProductCode,
    pub actor: ActorName,
}

/// What a move takes from one product to another: items keep their numbers.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Moved {
    Items(Vec<Item>),
    Count(Quantity),
}

impl Moved {
    pub fn quantity(&self) -> Quantity {
        match self {
            Moved::Items(items) => items.len() as Quantity,
            Moved::Count(count) => *count,
        }
    }
}

/// The units that left; none when none were available.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct MovedOut {
    pub moved: Moved,
    pub available: i64,
}

/// Take in what a `MoveOut` under the same reference gave, once per reference.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct MoveIn {
    pub reference: Reference,
    pub moved: Moved,
    pub from: ProductCode,
    pub actor: ActorName,
}

#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct MovedIn {
    pub added: Quantity,
    pub available: i64,
}
