//! The wallet: its state machine (`state`), its messages (`messages`) and its actor (`actor`).

mod actor;
mod messages;
mod state;
#[cfg(test)]
mod tests;

pub use actor::{WalletActor, WalletBalanceQuery, WalletGauges, WalletMsg};
pub use messages::{WalletBalance, WalletCommand, WalletOutcome, WalletRejection};
pub use state::{WalletRecord, WalletState, WALLET_REFERENCES_REMEMBERED_MAX};
