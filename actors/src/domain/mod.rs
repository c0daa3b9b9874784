//! Domain types shared by every part of warung: money, quantities, identifiers, items, time.

mod actor_name;
mod bounded;
mod clock;
mod ids;
mod money;

pub use actor_name::ActorName;
pub use bounded::BoundedMap;
pub use clock::{Clock, UnixMs};
pub use ids::{
    masked, CustomerId, IdError, OrderId, ProductCode, Reference, CUSTOMER_ID_LEN_MAX, CUSTOMER_ID_PATTERN,
    ORDER_ID_PATTERN, PRODUCT_CODE_LEN_MAX, PRODUCT_CODE_PATTERN, REFERENCE_LEN_MAX, REFERENCE_PATTERN,
    SHARE_SEPARATOR,
};
pub use money::{
    parse_plain_delta, Money, MoneyError, DELTA_PLAIN_PATTERN, MONEY_MAX_RUPIAH, MONEY_PLAIN_PATTERN, MONEY_SCALE_MAX,
};

use std::fmt;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

/// A map the actors consult on every command (their remembered ids, a product's open
/// reservations, the registry): hashed with foldhash, hashbrown's own hasher, rather than std's
/// SipHash, which took about a twentieth of the engine's thread in a sustained sale (most of it
/// rehashing wallets' remembered references as they grew). Its seed is drawn once per process, so
/// a client cannot choose ids that collide.
pub type FastMap<K, V> = std::collections::HashMap<K, V, FastHasher>;

/// The hasher of `FastMap` (and of the registries' maps).
pub type FastHasher = foldhash::fast::RandomState;

/// Most units one order may take: a flash-sale buyer cannot empty a product in one message.
pub const ORDER_QUANTITY_MAX: u32 = 100;

/// Longest deliverable item (an account login, a voucher code).
pub const ITEM_SECRET_LEN_MAX: usize = 1024;

/// A number of units of a product.
pub type Quantity = u32;

/// The number of a deliverable item within its product, assigned by the product actor.
pub type ItemNo = i64;

/// A deliverable item: an opaque secret such as an account login or a voucher code.
/// It never prints; only the customer who bought it sees it. Shared, not copied: a sale hands
/// its items to its buyer and keeps them for a repeated commit's answer.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ItemSecret(Arc<str>);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ItemError {
    #[error("an item must not be empty")]
    Empty,
    #[error("an item is at most {ITEM_SECRET_LEN_MAX} bytes")]
    TooLong,
}

impl ItemSecret {
    pub fn parse(value: &str) -> Result<ItemSecret, ItemError> {
        let value = value.trim();
        if value.is_empty() {
            return Err(ItemError::Empty);
        }
        if value.len() > ITEM_SECRET_LEN_MAX {
            return Err(ItemError::TooLong);
        }
        Ok(ItemSecret(Arc::from(value)))
    }

    /// The secret itself, for delivery to its buyer and for the store.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for ItemSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ItemSecret(***)")
    }
}

/// One deliverable unit with its number.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Item {
    pub no: ItemNo,
    pub secret: ItemSecret,
}

/// Where a unit of stock is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StockState {
    /// Not yet in the shop (the source of a restock).
    Supplier,
    Available,
    Reserved,
    Sold,
    Removed,
}

impl StockState {
    pub fn as_str(self) -> &'static str {
        match self {
            StockState::Supplier => "supplier",
            StockState::Available => "available",
            StockState::Reserved => "reserved",
            StockState::Sold => "sold",
            StockState::Removed => "removed",
        }
    }

    pub fn parse(value: &str) -> Option<StockState> {
        Some(match value {
            "supplier" => StockState::Supplier,
            "available" => StockState::Available,
            "reserved" => StockState::Reserved,
            "sold" => StockState::Sold,
            "removed" => StockState::Removed,
            _ => return None,
        })
    }
}
