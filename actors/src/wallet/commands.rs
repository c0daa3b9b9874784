//! Each wallet command as a type of its own, with the one reply it gives (see
//! `product::commands`). `WalletCommand` (in `messages`) is all of them as one enum, for property
//! tests and logs, answered with a `WalletOutcome`.

use rust_decimal::Decimal;

use super::terms::WalletBalance;
use crate::domain::{ActorName, Money, Reference};
use crate::journal::LedgerKind;

/// Add money: a top up or another credit (not a refund of a debit: see `Refund`).
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct Credit {
    pub reference: Reference,
    pub amount: Money,
    pub kind: LedgerKind,
    pub reason: String,
    pub actor: ActorName,
}

#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Credited {
    pub amount: Money,
    /// The balance right after the credit was first applied.
    pub balance: WalletBalance,
}

/// Take money now, for a purchase.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct Debit {
    pub reference: Reference,
    pub amount: Money,
    pub reason: String,
    pub actor: ActorName,
}

#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Debited {
    pub amount: Money,
    /// The balance right after the debit was first applied.
    pub balance: WalletBalance,
}

/// Give back an earlier debit, whole; the amount comes from the debit itself.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct Refund {
    pub reference: Reference,
    pub original: Reference,
    pub reason: String,
    pub actor: ActorName,
}

#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Refunded {
    pub amount: Money,
    /// The balance right after the refund was first applied.
    pub balance: WalletBalance,
}

/// An admin's correction, up or down, with a reason; never below zero.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct Adjust {
    pub reference: Reference,
    pub delta: Decimal,
    pub reason: String,
    pub actor: ActorName,
}

#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Adjusted {
    pub delta: Decimal,
    /// The balance right after the adjustment was first applied.
    pub balance: WalletBalance,
}
