//! Each wallet command as a type of its own, with the one reply it gives (see
//! `product::commands`). `WalletCommand` (in `messages`) is all of them as one enum, for property
//! tests and logs, answered with a `WalletOutcome`.

use std::fmt;

use rust_decimal::Decimal;

use super::messages::{WalletBalance, WalletRejection};
use super::state::WalletState;
use crate::domain::{Money, Reference, UnixMs};
use crate::journal::LedgerKind;
use crate::runtime::Transition;

/// Add money: a top up or another credit (not a refund of a debit: see `Refund`).
#[derive(Clone, Debug)]
pub struct Credit {
    pub reference: Reference,
    pub amount: Money,
    pub kind: LedgerKind,
    pub reason: String,
    pub actor: String,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Credited {
    pub amount: Money,
    /// The balance right after the credit was first applied.
    pub balance: WalletBalance,
}

/// Take money now, for a purchase.
#[derive(Clone, Debug)]
pub struct Debit {
    pub reference: Reference,
    pub amount: Money,
    pub reason: String,
    pub actor: String,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Debited {
    pub amount: Money,
    /// The balance right after the debit was first applied.
    pub balance: WalletBalance,
}

/// Give back an earlier debit, whole; the amount comes from the debit itself.
#[derive(Clone, Debug)]
pub struct Refund {
    pub reference: Reference,
    pub original: Reference,
    pub reason: String,
    pub actor: String,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Refunded {
    pub amount: Money,
    /// The balance right after the refund was first applied.
    pub balance: WalletBalance,
}

/// An admin's correction, up or down, with a reason; never below zero.
#[derive(Clone, Debug)]
pub struct Adjust {
    pub reference: Reference,
    pub delta: Decimal,
    pub reason: String,
    pub actor: String,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Adjusted {
    pub delta: Decimal,
    /// The balance right after the adjustment was first applied.
    pub balance: WalletBalance,
}

/// A command a wallet actor takes, and the reply only it gives.
pub trait WalletRequest: Clone + fmt::Debug + Send + 'static {
    type Reply: Clone + fmt::Debug + Send + 'static;

    /// The command's name, for logs.
    fn kind(&self) -> &'static str;

    /// Applies the command to `state` at `now`: pure, as every transition of the state machine.
    fn apply_to(self, state: &mut WalletState, now: UnixMs) -> Result<Transition<Self::Reply>, WalletRejection>;
}

/// A command whose transition is the state machine's method of the same purpose.
macro_rules! wallet_request {
    ($command:ty => $reply:ty, $kind:literal, $method:ident) => {
        impl WalletRequest for $command {
            type Reply = $reply;

            fn kind(&self) -> &'static str {
                $kind
            }

            fn apply_to(self, state: &mut WalletState, now: UnixMs) -> Result<Transition<$reply>, WalletRejection> {
                state.$method(self, now)
            }
        }
    };
}

wallet_request!(Credit => Credited, "credit", credit);
wallet_request!(Debit => Debited, "debit", debit);
wallet_request!(Refund => Refunded, "refund", refund);
wallet_request!(Adjust => Adjusted, "adjust", adjust);
