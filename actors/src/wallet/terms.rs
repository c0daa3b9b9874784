//! The words a wallet's commands share: the balance it answers with, and the rules by which it
//! refuses.

use serde::Serialize;

use crate::domain::Money;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct WalletBalance {
    pub balance: Money,
    /// What a purchase may take: the whole balance (no money is ever set aside).
    pub available: Money,
}

/// Why a wallet actor refused a command, checked in the order listed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error, Serialize, serde::Deserialize)]
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
