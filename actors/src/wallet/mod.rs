//! The wallet, from the bottom up: the balance it answers with and the rules by which it refuses
//! (`terms`), its commands, each with its own reply (`commands`), its state machine (`state`),
//! each command tied to its reply and transition (`requests`), the enums of them all
//! (`messages`) and its actor (`actor`).

mod actor;
mod commands;
mod messages;
mod requests;
mod state;
mod terms;
#[cfg(test)]
mod tests;

pub use actor::{WalletActor, WalletBalanceQuery, WalletGauges, WalletMsg};
pub use commands::{Adjust, Adjusted, Credit, Credited, Debit, Debited, Refund, Refunded};
pub use messages::{WalletCommand, WalletOutcome};
pub use requests::WalletRequest;
pub use state::{WalletRecord, WalletState, WALLET_REFERENCES_REMEMBERED_MAX};
pub use terms::{WalletBalance, WalletRejection};
