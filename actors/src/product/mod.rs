//! The product, from the bottom up: the words its commands share (`terms`), its commands, each
//! with its own reply (`commands`), its state machine (`state`), each command tied to its reply
//! and transition (`requests`), the enums of them all (`messages`) and its actor (`actor`).

mod actor;
mod commands;
mod messages;
#[cfg(test)]
mod moves_tests;
mod requests;
mod state;
mod terms;
#[cfg(test)]
mod tests;

pub use actor::{ProductActor, ProductGauges, ProductMsg, ProductSnapshotQuery};
pub use commands::{
    ActiveSet, AddStock, Commit, Committed, ExpireDue, Expired, MoveIn, MoveOut, Moved, MovedIn, MovedOut, PriceSet,
    Release, Released, Rename, Renamed, Reserve, Reserved, Restocked, SetActive, SetPrice,
};
pub use messages::{ProductCommand, ProductOutcome};
pub use requests::ProductRequest;
pub use state::{
    ProductRecord, ProductSnapshot, ProductState, Reservation, Settled, Settlement, StoredMove, MOVE_REASON,
    PRODUCT_MOVES_RESTORED_MAX, PRODUCT_NAME_CHARS_MAX, PRODUCT_REFERENCES_REMEMBERED_MAX,
    PRODUCT_SETTLED_REMEMBERED_MAX, RESTOCK_UNITS_MAX,
};
pub use terms::{PriceTier, ProductRejection, ReleaseReason, Restock, StoreWhen};
