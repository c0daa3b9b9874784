//! The product: its state machine (`state`), its messages (`messages`) and its actor (`actor`).

mod actor;
mod messages;
mod state;
#[cfg(test)]
mod tests;

pub use actor::{ProductActor, ProductGauges, ProductMsg, ProductSnapshotQuery};
pub use messages::{PriceTier, ProductCommand, ProductOutcome, ProductRejection, ReleaseReason, Restock, StoreWhen};
pub use state::{
    ProductRecord, ProductSnapshot, ProductState, Reservation, Settled, Settlement, PRODUCT_NAME_CHARS_MAX,
    PRODUCT_REFERENCES_REMEMBERED_MAX, PRODUCT_SETTLED_REMEMBERED_MAX, RESTOCK_UNITS_MAX,
};
