//! The wallet: its commands, each with its own reply (`commands`), the enums of them all and the
//! rules by which it refuses (`messages`), its state machine (`state`) and its actor (`actor`).

mod actor;
mod commands;
mod messages;
mod state;
#[cfg(test)]
mod tests;

pub use actor::{WalletActor, WalletBalanceQuery, WalletGauges, WalletMsg};
pub use commands::{Adjust, Adjusted, Credit, Credited, Debit, Debited, Refund, Refunded, WalletRequest};
pub use messages::{WalletBalance, WalletCommand, WalletOutcome, WalletRejection};
pub use state::{WalletRecord, WalletState, WALLET_REFERENCES_REMEMBERED_MAX};
