//! What a product's commands share (the price tiers, when a reservation is stored, what a
//! restock brings, why a reservation is released), every command and every outcome as one enum
//! each, and the rules by which a product refuses.

use serde::Serialize;

use super::commands::{
    ActiveSet, Committed, Expired, PriceSet, ProductRequest, Released, Renamed, Reserved, Restocked,
};
use super::state::ProductState;
use crate::domain::{ItemSecret, Money, OrderId, Quantity, Reference, UnixMs};
use crate::journal::StockKind;
use crate::runtime::Transition;

/// Every product command as one enum (each is a type of its own in `commands`), for property
/// tests, logs and callers that need no particular reply.
#[derive(Clone, Debug)]
pub enum ProductCommand {
    /// Take `quantity` units out of the available queue for `order`, until `expires_at`.
    Reserve {
        order: OrderId,
        quantity: Quantity,
        ttl_ms: i64,
        store: StoreWhen,
        /// Which price the buyer pays: a reseller pays the reseller price where one is set.
        tier: PriceTier,
        actor: String,
    },
    /// The order is paid: its reserved units are sold and its items delivered.
    Commit {
        order: OrderId,
        actor: String,
    },
    /// The order will not be paid: its reserved units go back to the queue.
    Release {
        order: OrderId,
        reason: ReleaseReason,
        actor: String,
    },
    /// Release every reservation whose time has come.
    ExpireDue,
    Restock {
        reference: Reference,
        stock: Restock,
        actor: String,
    },
    SetPrice {
        reference: Reference,
        tier: PriceTier,
        price: Money,
        actor: String,
    },
    Rename {
        name: String,
        actor: String,
    },
    SetActive {
        active: bool,
        actor: String,
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
        }
    }
}

/// Which of a product's prices applies: every buyer pays `Member` unless the shop made them a
/// reseller and the product has a reseller price.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PriceTier {
    Member,
    Reseller,
}

impl PriceTier {
    pub fn as_str(self) -> &'static str {
        match self {
            PriceTier::Member => "member",
            PriceTier::Reseller => "reseller",
        }
    }

    /// What a buyer of this tier pays, given a product's member and reseller prices.
    pub fn price(self, member: Money, reseller: Option<Money>) -> Money {
        match self {
            PriceTier::Member => member,
            PriceTier::Reseller => reseller.unwrap_or(member),
        }
    }

    pub fn parse(value: &str) -> Option<PriceTier> {
        match value {
            "member" => Some(PriceTier::Member),
            "reseller" => Some(PriceTier::Reseller),
            _ => None,
        }
    }
}

/// When a reservation reaches the store.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StoreWhen {
    /// At once: the reservation outlives a restart (an order awaiting an outside payment).
    Reserved,
    /// Only when it is committed, as a sale straight from available to sold. For a reservation
    /// held for the moment of a saldo purchase: a restart forgets it (the purchase then fails and
    /// its debit is refunded), and the store writes each sale once instead of twice. A release
    /// stores nothing: in the store the units never left the queue.
    Committed,
}

/// What a restock brings in.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Restock {
    Items(Vec<ItemSecret>),
    Count(Quantity),
}

impl Restock {
    /// A stable fingerprint of the content (FNV-1a, 64 bits): the same on every build and every
    /// machine, so it is stored beside the restock and compared when its reference comes again.
    pub fn fingerprint(&self) -> u64 {
        const OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
        const PRIME: u64 = 0x0000_0100_0000_01b3;
        let mut hash = OFFSET;
        let mut feed = |bytes: &[u8]| {
            for byte in bytes {
                hash = (hash ^ u64::from(*byte)).wrapping_mul(PRIME);
            }
        };
        match self {
            Restock::Items(items) => {
                feed(b"items");
                for item in items {
                    feed(&(item.expose().len() as u64).to_le_bytes());
                    feed(item.expose().as_bytes());
                }
            }
            Restock::Count(count) => {
                feed(b"count");
                feed(&count.to_le_bytes());
            }
        }
        hash
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ReleaseReason {
    Cancelled,
    Expired,
    /// A later step of the purchase failed (insufficient balance, a store error).
    Failed,
}

impl ReleaseReason {
    pub fn as_str(self) -> &'static str {
        match self {
            ReleaseReason::Cancelled => "cancelled",
            ReleaseReason::Expired => "expired",
            ReleaseReason::Failed => "failed",
        }
    }

    pub fn parse(value: &str) -> Option<ReleaseReason> {
        match value {
            "cancelled" => Some(ReleaseReason::Cancelled),
            "expired" => Some(ReleaseReason::Expired),
            "failed" => Some(ReleaseReason::Failed),
            _ => None,
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
}

/// Every command's reply as one enum: what `ProductCommand` is answered with.
#[derive(Clone, Debug, PartialEq)]
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

/// Why a product actor refused a command, checked in the order listed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error, Serialize)]
#[serde(tag = "rule", rename_all = "snake_case")]
pub enum ProductRejection {
    #[error("the quantity must not be zero")]
    QuantityMustNotBeZero,
    #[error("one order takes at most {limit} units")]
    QuantityExceedsOrderLimit { limit: Quantity },
    #[error("a reservation needs a positive time to live")]
    TimeToLiveMustBePositive,
    #[error("the product is not on sale")]
    ProductInactive,
    #[error("this order already reserved {reserved} units, not {requested}")]
    ExistsWithDifferentQuantity { reserved: Quantity, requested: Quantity },
    #[error("the order total would exceed the largest amount accepted")]
    TotalExceedsMoneyLimit,
    #[error("only {available} available, {requested} requested")]
    ExceedsAvailable { available: i64, requested: Quantity },
    #[error("no reservation for this order")]
    ReservationNotFound,
    #[error("the reservation has expired")]
    ReservationExpired,
    #[error("the reservation was released ({reason:?})")]
    ReservationReleased { reason: ReleaseReason },
    #[error("the order is already committed")]
    AlreadyCommitted,
    #[error("a restock must bring at least one unit")]
    RestockMustNotBeEmpty,
    #[error("this product keeps {kind:?} stock")]
    RestockKindMismatch { kind: StockKind },
    #[error("item {index} of the upload is already in stock or repeated")]
    DuplicateItem { index: usize },
    #[error("this reference was used for a different command")]
    ExistsWithDifferentContent,
    #[error("the price must not be zero")]
    PriceMustNotBeZero,
    #[error("a product name must be 1 to {limit} characters")]
    NameMustBeShort { limit: usize },
}
