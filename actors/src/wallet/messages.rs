//! Every wallet command and every outcome as one enum each, the balance a wallet answers with,
//! and the rules by which it refuses.

use rust_decimal::Decimal;
use serde::Serialize;

use super::commands::{Adjusted, Credited, Debited, Refunded, WalletRequest};
use super::state::WalletState;
use crate::domain::{Money, Reference, UnixMs};
use crate::journal::LedgerKind;
use crate::runtime::Transition;

/// Every wallet command as one enum (each is a type of its own in `commands`), for property
/// tests, logs and callers that need no particular reply.
#[derive(Clone, Debug)]
pub enum WalletCommand {
    /// Add money: a top up or another credit (not a refund: see `Refund`).
    Credit { reference: Reference, amount: Money, kind: LedgerKind, reason: String, actor: String },
    /// Take money now, for a purchase.
    Debit { reference: Reference, amount: Money, reason: String, actor: String },
    /// Give back an earlier debit, whole; the amount comes from the debit itself.
    Refund { reference: Reference, original: Reference, reason: String, actor: String },
    /// An admin's correction, up or down, with a reason; never below zero.
    Adjust { reference: Reference, delta: Decimal, reason: String, actor: String },
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

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct WalletBalance {
    pub balance: Money,
    /// What a purchase may take: the whole balance (no money is ever set aside).
    pub available: Money,
}

/// Every command's reply as one enum: what `WalletCommand` is answered with.
#[derive(Clone, Debug, PartialEq)]
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

/// Why a wallet actor refused a command, checked in the order listed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error, Serialize)]
#[serde(tag = "rule", rename_all = "snake_case")]
pub enum WalletRejection {
    #[error("the amount must not be zero")]
    AmountMustNotBeZero,
    #[error("a reason is required")]
    ReasonRequired,
    #[error("this reference was used for a different command")]
    ExistsWithDifferentContent,
    #[error("insufficient balance: {available} available, {requested} requested")]
    InsufficientBalance { available: Money, requested: Money },
    #[error("the balance would exceed the largest amount accepted")]
    BalanceLimitExceeded,
    #[error("no debit with this reference to refund")]
    OriginalNotFound,
    #[error("the debit was already refunded")]
    AlreadyRefunded,
}
