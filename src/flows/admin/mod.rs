//! The shop owner's rules, whoever asks (the admin API today): prices with guard rails
//! (`prices`), products created and changed (`products`).

pub mod prices;
pub mod products;

use warung_actors::domain::ActorName;

pub use prices::{PriceChange, PriceError, Prices};
pub use products::{ProductError, Products};

/// Who makes a change, as the audit trail names them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Admin(pub String);

impl Admin {
    /// As inventory movements and ledger entries record it.
    pub fn actor(&self) -> ActorName {
        ActorName::of("admin", &self.0)
    }
}
