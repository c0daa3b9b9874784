//! Every wallet command and every outcome as one enum each, for property tests, logs and callers
//! that need no particular reply; the actor runs each command's own type.

use rust_decimal::Decimal;

use super::commands::{Adjust, Adjusted, Credit, Credited, Debit, Debited, Refund, Refunded};
use super::requests::WalletRequest;
use super::state::WalletState;
use super::terms::{WalletBalance, WalletRejection};
use crate::domain::{ActorName, Money, Reference, UnixMs};
use crate::journal::LedgerKind;
use crate::runtime::Transition;

/// Every wallet command as one enum (each is a type of its own in `commands`), for property
/// tests, logs and callers that need no particular reply.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub enum WalletCommand {
    /// Add money: a top up or another credit (not a refund: see `Refund`).
    Credit { reference: Reference, amount: Money, kind: LedgerKind, reason: String, actor: ActorName },
    /// Take money now, for a purchase.
    Debit { reference: Reference, amount: Money, reason: String, actor: ActorName },
    /// Give back an earlier debit, whole; the amount comes from the debit itself.
    Refund { reference: Reference, original: Reference, reason: String, actor: ActorName },
    /// An admin's correction, up or down, with a reason; never below zero.
    Adjust { reference: Reference, delta: Decimal, reason: String, actor: ActorName },
}

impl WalletCommand {
    /// The command's name, for logs.
    pub fn kind(&self) -> &'static str {
        match self {
            WalletCommand::Credit { .. } => "credit",
            WalletCommand::Debit { .. } => "debit",
            WalletCommand::Refund { .. } => "refund",
            WalletCommand::Adjust { .. } => "adjust",
        }
    }
}

impl WalletRequest for WalletCommand {
    type Reply = WalletOutcome;

    fn kind(&self) -> &'static str {
        WalletCommand::kind(self)
    }

    fn apply_to(self, state: &mut WalletState, now: UnixMs) -> Result<Transition<WalletOutcome>, WalletRejection> {
        state.apply(self, now)
    }
}

/// Every command's reply as one enum: what `WalletCommand` is answered with.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub enum WalletOutcome {
    Credited { amount: Money, balance: WalletBalance },
    Debited { amount: Money, balance: WalletBalance },
    Refunded { amount: Money, balance: WalletBalance },
    Adjusted { delta: Decimal, balance: WalletBalance },
}

impl WalletOutcome {
    /// The balance right after this command was first applied.
    pub fn balance(&self) -> WalletBalance {
        match self {
            WalletOutcome::Credited { balance, .. }
            | WalletOutcome::Debited { balance, .. }
            | WalletOutcome::Refunded { balance, .. }
            | WalletOutcome::Adjusted { balance, .. } => *balance,
        }
    }
}

/// Each reply is the outcome of the same name, field for field.
macro_rules! outcome_from {
    ($reply:ident { $($field:ident),* }) => {
        impl From<$reply> for WalletOutcome {
            fn from($reply { $($field),* }: $reply) -> WalletOutcome {
                WalletOutcome::$reply { $($field),* }
            }
        }
    };
}

outcome_from!(Credited { amount, balance });
outcome_from!(Debited { amount, balance });
outcome_from!(Refunded { amount, balance });
outcome_from!(Adjusted { delta, balance });

impl WalletState {
    /// Any command, answered with the enum of every outcome (for property tests and logs; the
    /// actor runs each command's own method).
    pub fn apply(&mut self, command: WalletCommand, now: UnixMs) -> Result<Transition<WalletOutcome>, WalletRejection> {
        Ok(match command {
            WalletCommand::Credit { reference, amount, kind, reason, actor } => {
                self.credit(Credit { reference, amount, kind, reason, actor }, now)?.map(WalletOutcome::from)
            }
            WalletCommand::Debit { reference, amount, reason, actor } => {
                self.debit(Debit { reference, amount, reason, actor }, now)?.map(WalletOutcome::from)
            }
            WalletCommand::Refund { reference, original, reason, actor } => {
                self.refund(Refund { reference, original, reason, actor }, now)?.map(WalletOutcome::from)
            }
            WalletCommand::Adjust { reference, delta, reason, actor } => {
                self.adjust(Adjust { reference, delta, reason, actor }, now)?.map(WalletOutcome::from)
            }
        })
    }
}
