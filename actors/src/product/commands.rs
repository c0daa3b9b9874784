//! Each product command as a type of its own, with the one reply it gives: a caller that reserves
//! gets a `Reserved`, never an outcome it must pick apart. `ProductRequest` ties a command to its
//! reply and to the state machine's method that applies it; the actor and the supervisor take any
//! `ProductRequest`. `ProductCommand` (in `messages`) is all of them as one enum, for property
//! tests and logs: it is a `ProductRequest` too, answered with a `ProductOutcome`.

use std::fmt;

use super::messages::{PriceTier, ProductRejection, ReleaseReason, Restock, StoreWhen};
use super::state::ProductState;
use crate::domain::{ItemSecret, Money, OrderId, Quantity, Reference, UnixMs};
use crate::runtime::Transition;

/// Take `quantity` units out of the available queue for `order`, for `ttl_ms` from now.
#[derive(Clone, Debug)]
pub struct Reserve {
    pub order: OrderId,
    pub quantity: Quantity,
    pub ttl_ms: i64,
    pub store: StoreWhen,
    /// Which price the buyer pays: a reseller pays the reseller price where one is set.
    pub tier: PriceTier,
    pub actor: String,
}

/// The units are held for the order until `expires_at`, at `unit_price` each.
#[derive(Clone, Debug, PartialEq)]
pub struct Reserved {
    pub order: OrderId,
    pub quantity: Quantity,
    pub unit_price: Money,
    pub total: Money,
    pub expires_at: UnixMs,
}

/// The order is paid: its reserved units are sold and its items delivered.
#[derive(Clone, Debug)]
pub struct Commit {
    pub order: OrderId,
    pub actor: String,
}

/// The order's units are sold; `items` is empty for counted stock.
#[derive(Clone, Debug, PartialEq)]
pub struct Committed {
    pub order: OrderId,
    pub quantity: Quantity,
    pub total: Money,
    pub items: Vec<ItemSecret>,
}

/// The order will not be paid: its reserved units go back to the queue.
#[derive(Clone, Debug)]
pub struct Release {
    pub order: OrderId,
    pub reason: ReleaseReason,
    pub actor: String,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Released {
    pub order: OrderId,
    pub quantity: Quantity,
}

/// Release every reservation whose time has come.
#[derive(Clone, Copy, Debug)]
pub struct ExpireDue;

/// The orders whose reservations were released, in expiry order.
#[derive(Clone, Debug, PartialEq)]
pub struct Expired {
    pub orders: Vec<OrderId>,
}

/// Bring stock in, once per reference.
#[derive(Clone, Debug)]
pub struct AddStock {
    pub reference: Reference,
    pub stock: Restock,
    pub actor: String,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Restocked {
    pub added: Quantity,
    pub available: i64,
}

/// Set the price one tier of buyers pays, once per reference.
#[derive(Clone, Debug)]
pub struct SetPrice {
    pub reference: Reference,
    pub tier: PriceTier,
    pub price: Money,
    pub actor: String,
}

#[derive(Clone, Debug, PartialEq)]
pub struct PriceSet {
    pub tier: PriceTier,
    pub price: Money,
}

#[derive(Clone, Debug)]
pub struct Rename {
    pub name: String,
    pub actor: String,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Renamed {
    pub name: String,
}

/// Put the product on sale or take it off; reservations already made stand.
#[derive(Clone, Debug)]
pub struct SetActive {
    pub active: bool,
    pub actor: String,
}

#[derive(Clone, Debug, PartialEq)]
pub struct ActiveSet {
    pub active: bool,
}

/// A command a product actor takes, and the reply only it gives.
pub trait ProductRequest: Clone + fmt::Debug + Send + 'static {
    type Reply: Clone + fmt::Debug + Send + 'static;

    /// The command's name, for logs (never its content: a restock carries item secrets).
    fn kind(&self) -> &'static str;

    /// Applies the command to `state` at `now`: pure, as every transition of the state machine.
    fn apply_to(self, state: &mut ProductState, now: UnixMs) -> Result<Transition<Self::Reply>, ProductRejection>;
}

/// A command whose transition is the state machine's method of the same purpose.
macro_rules! product_request {
    ($command:ty => $reply:ty, $kind:literal, $method:ident) => {
        impl ProductRequest for $command {
            type Reply = $reply;

            fn kind(&self) -> &'static str {
                $kind
            }

            fn apply_to(self, state: &mut ProductState, now: UnixMs) -> Result<Transition<$reply>, ProductRejection> {
                state.$method(self, now)
            }
        }
    };
}

product_request!(Reserve => Reserved, "reserve", reserve);
product_request!(Commit => Committed, "commit", commit);
product_request!(Release => Released, "release", release);
product_request!(AddStock => Restocked, "restock", restock);
product_request!(SetPrice => PriceSet, "set_price", set_price);
product_request!(Rename => Renamed, "rename", rename);
product_request!(SetActive => ActiveSet, "set_active", set_active);

impl ProductRequest for ExpireDue {
    type Reply = Expired;

    fn kind(&self) -> &'static str {
        "expire_due"
    }

    fn apply_to(self, state: &mut ProductState, now: UnixMs) -> Result<Transition<Expired>, ProductRejection> {
        Ok(state.expire_due(now))
    }
}
