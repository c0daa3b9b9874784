//! Each wallet command with the reply only it gives (`WalletRequest`), and the state machine's
//! method that is its transition.

use std::fmt;

use serde::de::DeserializeOwned;
use serde::Serialize;

use super::commands::{Adjust, Adjusted, Credit, Credited, Debit, Debited, Refund, Refunded};
use super::state::WalletState;
use super::terms::WalletRejection;
use crate::domain::UnixMs;
use crate::runtime::Transition;

/// A command a wallet actor takes, and the reply only it gives.
/// Both travel between nodes (serde) when the actor lives on another one.
pub trait WalletRequest: Clone + fmt::Debug + Send + Serialize + DeserializeOwned + 'static {
    type Reply: Clone + fmt::Debug + Send + Serialize + DeserializeOwned + 'static;

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
