//! The words a product's commands share: the price tiers, when a reservation is stored, what a
//! restock brings, why a reservation is released, and the rules by which a product refuses.

use serde::Serialize;

use crate::domain::{ItemSecret, Money, Quantity};
use crate::journal::StockKind;

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
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
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
#[derive(Clone, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
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

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
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

/// Why a product actor refused a command, checked in the order listed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error, Serialize, serde::Deserialize)]
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
    #[error("a move must take at least one unit")]
    MoveMustNotBeEmpty,
    #[error("stock moves only between a product and its shares")]
    MoveBetweenUnrelatedProducts,
    #[error("this product keeps {kind:?} stock")]
    MoveKindMismatch { kind: StockKind },
}
