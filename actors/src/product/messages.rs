//! Every product command and every outcome as one enum each, for property tests, logs and
//! callers that need no particular reply; the actor runs each command's own type.

use super::commands::{
    ActiveSet, AddStock, Commit, Committed, Expired, MoveIn, MoveOut, Moved, MovedIn, MovedOut, PriceSet, Release,
    Released, Rename, Renamed, Reserve, Reserved, Restocked, SetActive, SetPrice,
};
use super::requests::ProductRequest;
use super::state::ProductState;
use super::terms::{PriceTier, ProductRejection, ReleaseReason, Restock, StoreWhen};
use crate::domain::{ActorName, ItemSecret, Money, OrderId, ProductCode, Quantity, Reference, UnixMs};
use crate::runtime::{Admission, Transition};

/// Every product command as one enum (each is a type of its own in `commands`), for property
/// tests, logs and callers that need no particular reply.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub enum ProductCommand {
    /// Take `quantity` units out of the available queue for `order`, until `expires_at`.
    Reserve {
        order: OrderId,
        quantity: Quantity,
        ttl_ms: i64,
        store: StoreWhen,
        /// Which price the buyer pays: a reseller pays the reseller price where one is set.
        tier: PriceTier,
        actor: ActorName,
    },
    /// The order is paid: its reserved units are sold and its items delivered.
    Commit {
        order: OrderId,
        actor: ActorName,
    },
    /// The order will not be paid: its reserved units go back to the queue.
    Release {
        order: OrderId,
        reason: ReleaseReason,
        actor: ActorName,
    },
    /// Release every reservation whose time has come.
    ExpireDue,
    Restock {
        reference: Reference,
        stock: Restock,
        actor: ActorName,
    },
    SetPrice {
        reference: Reference,
        tier: PriceTier,
        price: Money,
        actor: ActorName,
    },
    Rename {
        name: String,
        actor: ActorName,
    },
    SetActive {
        active: bool,
        actor: ActorName,
    },
    MoveOut {
        reference: Reference,
        quantity: Quantity,
        to: ProductCode,
        actor: ActorName,
    },
    MoveIn {
        reference: Reference,
        moved: Moved,
        from: ProductCode,
        actor: ActorName,
    },
}

impl ProductCommand {
    /// The command's name, for logs (never its content: a restock carries item secrets).
    pub fn kind(&self) -> &'static str {
        match self {
            ProductCommand::Reserve { .. } => "reserve",
            ProductCommand::Commit { .. } => "commit",
            ProductCommand::Release { .. } => "release",
            ProductCommand::ExpireDue => "expire_due",
            ProductCommand::Restock { .. } => "restock",
            ProductCommand::SetPrice { .. } => "set_price",
            ProductCommand::Rename { .. } => "rename",
            ProductCommand::SetActive { .. } => "set_active",
            ProductCommand::MoveOut { .. } => "move_out",
            ProductCommand::MoveIn { .. } => "move_in",
        }
    }
}

impl ProductRequest for ProductCommand {
    type Reply = ProductOutcome;

    fn kind(&self) -> &'static str {
        ProductCommand::kind(self)
    }

    fn apply_to(self, state: &mut ProductState, now: UnixMs) -> Result<Transition<ProductOutcome>, ProductRejection> {
        state.apply(self, now)
    }

    fn admission(&self) -> Admission {
        match self {
            ProductCommand::Commit { .. } | ProductCommand::Release { .. } | ProductCommand::MoveIn { .. } => {
                Admission::Always
            }
            ProductCommand::Reserve { .. }
            | ProductCommand::ExpireDue
            | ProductCommand::Restock { .. }
            | ProductCommand::SetPrice { .. }
            | ProductCommand::Rename { .. }
            | ProductCommand::SetActive { .. }
            | ProductCommand::MoveOut { .. } => Admission::WhenRoom,
        }
    }
}

/// Every command's reply as one enum: what `ProductCommand` is answered with.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub enum ProductOutcome {
    Reserved {
        order: OrderId,
        quantity: Quantity,
        unit_price: Money,
        total: Money,
        expires_at: UnixMs,
    },
    /// `items` is empty for counted stock.
    Committed {
        order: OrderId,
        quantity: Quantity,
        total: Money,
        items: Vec<ItemSecret>,
    },
    Released {
        order: OrderId,
        quantity: Quantity,
    },
    Expired {
        orders: Vec<OrderId>,
    },
    Restocked {
        added: Quantity,
        available: i64,
    },
    PriceSet {
        tier: PriceTier,
        price: Money,
    },
    Renamed {
        name: String,
    },
    ActiveSet {
        active: bool,
    },
    MovedOut {
        moved: Moved,
        available: i64,
    },
    MovedIn {
        added: Quantity,
        available: i64,
    },
}

/// Each reply is the outcome of the same name, field for field.
macro_rules! outcome_from {
    ($reply:ident { $($field:ident),* }) => {
        impl From<$reply> for ProductOutcome {
            fn from($reply { $($field),* }: $reply) -> ProductOutcome {
                ProductOutcome::$reply { $($field),* }
            }
        }
    };
}

outcome_from!(Reserved { order, quantity, unit_price, total, expires_at });
outcome_from!(Committed { order, quantity, total, items });
outcome_from!(Released { order, quantity });
outcome_from!(Expired { orders });
outcome_from!(Restocked { added, available });
outcome_from!(PriceSet { tier, price });
outcome_from!(Renamed { name });
outcome_from!(ActiveSet { active });
outcome_from!(MovedOut { moved, available });
outcome_from!(MovedIn { added, available });

impl ProductState {
    /// Any command, answered with the enum of every outcome (for property tests and logs; the
    /// actor runs each command's own method).
    pub fn apply(
        &mut self,
        command: ProductCommand,
        now: UnixMs,
    ) -> Result<Transition<ProductOutcome>, ProductRejection> {
        Ok(match command {
            ProductCommand::Reserve { order, quantity, ttl_ms, store, tier, actor } => {
                self.reserve(Reserve { order, quantity, ttl_ms, store, tier, actor }, now)?.map(ProductOutcome::from)
            }
            ProductCommand::Commit { order, actor } => {
                self.commit(Commit { order, actor }, now)?.map(ProductOutcome::from)
            }
            ProductCommand::Release { order, reason, actor } => {
                self.release(Release { order, reason, actor }, now)?.map(ProductOutcome::from)
            }
            ProductCommand::ExpireDue => self.expire_due(now).map(ProductOutcome::from),
            ProductCommand::Restock { reference, stock, actor } => {
                self.restock(AddStock { reference, stock, actor }, now)?.map(ProductOutcome::from)
            }
            ProductCommand::SetPrice { reference, tier, price, actor } => {
                self.set_price(SetPrice { reference, tier, price, actor }, now)?.map(ProductOutcome::from)
            }
            ProductCommand::Rename { name, actor } => {
                self.rename(Rename { name, actor }, now)?.map(ProductOutcome::from)
            }
            ProductCommand::SetActive { active, actor } => {
                self.set_active(SetActive { active, actor }, now)?.map(ProductOutcome::from)
            }
            ProductCommand::MoveOut { reference, quantity, to, actor } => {
                self.move_out(MoveOut { reference, quantity, to, actor }, now)?.map(ProductOutcome::from)
            }
            ProductCommand::MoveIn { reference, moved, from, actor } => {
                self.move_in(MoveIn { reference, moved, from, actor }, now)?.map(ProductOutcome::from)
            }
        })
    }
}
