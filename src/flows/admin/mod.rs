//! The shop owner's rules, whoever asks (the admin API today): prices with guard rails.

pub mod prices;

pub use prices::{PriceChange, PriceError, Prices};

/// Who makes a change, as the audit trail names them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Admin(pub String);

impl Admin {
    /// As inventory movements and ledger entries record it.
    pub fn actor(&self) -> String {
        format!("admin:{}", self.0)
    }
}
