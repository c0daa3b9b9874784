//! The product: its commands, each with its own reply (`commands`), the vocabulary they share
//! and the enums of them all (`messages`), its state machine (`state`) and its actor (`actor`).

mod actor;
mod commands;
mod messages;
mod state;
#[cfg(test)]
mod tests;

pub use actor::{ProductActor, ProductGauges, ProductMsg, ProductSnapshotQuery};
pub use commands::{
    ActiveSet, AddStock, Commit, Committed, ExpireDue, Expired, PriceSet, ProductRequest, Release, Released, Rename,
    Renamed, Reserve, Reserved, Restocked, SetActive, SetPrice,
};
pub use messages::{PriceTier, ProductCommand, ProductOutcome, ProductRejection, ReleaseReason, Restock, StoreWhen};
pub use state::{
    ProductRecord, ProductSnapshot, ProductState, Reservation, Settled, Settlement, PRODUCT_NAME_CHARS_MAX,
    PRODUCT_REFERENCES_REMEMBERED_MAX, PRODUCT_SETTLED_REMEMBERED_MAX, RESTOCK_UNITS_MAX,
};
