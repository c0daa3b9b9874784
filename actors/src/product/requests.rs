//! Each product command with the reply only it gives (`ProductRequest`), and the state
//! machine's method that is its transition.

use std::fmt;

use serde::de::DeserializeOwned;
use serde::Serialize;

use super::commands::{
    ActiveSet, AddStock, Commit, Committed, ExpireDue, Expired, MoveIn, MoveOut, MovedIn, MovedOut, PriceSet, Release,
    Released, Rename, Renamed, Reserve, Reserved, Restocked, SetActive, SetPrice,
};
use super::state::ProductState;
use super::terms::ProductRejection;
use crate::domain::UnixMs;
use crate::runtime::{Admission, Transition};

/// A command a product actor takes, and the reply only it gives.
/// Both travel between nodes (serde) when the actor lives on another one.
pub trait ProductRequest: Clone + fmt::Debug + Send + Serialize + DeserializeOwned + 'static {
    type Reply: Clone + fmt::Debug + Send + Serialize + DeserializeOwned + 'static;

    /// The command's name, for logs (never its content: a restock carries item secrets).
    fn kind(&self) -> &'static str;

    /// Applies the command to `state` at `now`: pure, as every transition of the state machine.
    fn apply_to(self, state: &mut ProductState, now: UnixMs) -> Result<Transition<Self::Reply>, ProductRejection>;

    /// Whether a full mailbox refuses it: new work is refused, what settles a reservation is not.
    fn admission(&self) -> Admission {
        Admission::WhenRoom
    }
}

/// A command whose transition is the state machine's method of the same purpose.
macro_rules! product_request {
    ($command:ty => $reply:ty, $kind:literal, $method:ident) => {
        product_request!($command => $reply, $kind, $method, Admission::WhenRoom);
    };
    ($command:ty => $reply:ty, $kind:literal, $method:ident, $admission:expr) => {
        impl ProductRequest for $command {
            type Reply = $reply;

            fn kind(&self) -> &'static str {
                $kind
            }

            fn apply_to(self, state: &mut ProductState, now: UnixMs) -> Result<Transition<$reply>, ProductRejection> {
                state.$method(self, now)
            }

            fn admission(&self) -> Admission {
                $admission
            }
        }
    };
}

product_request!(Reserve => Reserved, "reserve", reserve);
product_request!(Commit => Committed, "commit", commit, Admission::Always);
product_request!(Release => Released, "release", release, Admission::Always);
product_request!(AddStock => Restocked, "restock", restock);
product_request!(SetPrice => PriceSet, "set_price", set_price);
product_request!(Rename => Renamed, "rename", rename);
product_request!(SetActive => ActiveSet, "set_active", set_active);
product_request!(MoveOut => MovedOut, "move_out", move_out);
// A move's units are out of the other product already: taking them in is never refused for room.
product_request!(MoveIn => MovedIn, "move_in", move_in, Admission::Always);

impl ProductRequest for ExpireDue {
    type Reply = Expired;

    fn kind(&self) -> &'static str {
        "expire_due"
    }

    fn apply_to(self, state: &mut ProductState, now: UnixMs) -> Result<Transition<Expired>, ProductRejection> {
        Ok(state.expire_due(now))
    }
}
