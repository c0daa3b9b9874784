//! What nodes send each other over NATS: a call to an actor (or a customer's flow) on the owner
//! of its shard, and the owner's answer. JSON, as every type involved is already serde; the subject names the shard
//! (`<cluster>.shard.<n>`), and only the shard's owner subscribes to it.

use serde::{Deserialize, Serialize};
use warung_actors::domain::{CustomerId, ProductCode};
use warung_actors::product::{ProductCommand, Reserve};

use super::shard::Shard;
use crate::records::ShopRecord;

/// A call to the owner of an actor's shard. A command is answered once its change is durable on
/// the owner (a remote caller cannot name the owner's journal in a later change's dependencies).
#[derive(Debug, Serialize, Deserialize)]
pub enum Request {
    Product {
        code: ProductCode,
        tag: String,
        command: serde_json::Value,
        attach: Vec<ShopRecord>,
    },
    Wallet {
        customer: CustomerId,
        tag: String,
        command: serde_json::Value,
        attach: Vec<ShopRecord>,
    },
    ProductSnapshot {
        code: ProductCode,
    },
    WalletBalance {
        customer: CustomerId,
    },
    /// One of a customer's flows (a purchase, a payment, a cancellation, a refund), run where the
    /// customer's claims and turns are kept: on the owner of the customer's shard.
    /// `id` is the caller's, the same each time it asks (see `FlowsSeen`).
    Flow {
        customer: CustomerId,
        id: u64,
        flow: serde_json::Value,
    },
}

impl Request {
    /// Whether this starts something new (a product command that opens a reservation, or a
    /// customer's flow): never on a shard being handed off, as it could not finish there.
    pub fn opens_reservation(&self) -> bool {
        match self {
            Request::Product { tag, command, .. } => {
                tag == tag_of::<Reserve>() || (tag == tag_of::<ProductCommand>() && command.get("Reserve").is_some())
            }
            Request::Flow { .. } => true,
            _ => false,
        }
    }

    pub fn shard(&self) -> Shard {
        match self {
            Request::Product { code, .. } | Request::ProductSnapshot { code } => Shard::of_product(code),
            Request::Wallet { customer, .. } | Request::WalletBalance { customer } | Request::Flow { customer, .. } => {
                Shard::of_customer(customer)
            }
        }
    }
}

/// The owner's answer.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub enum Answer {
    /// The actor's reply (`Reply<..>` of the command, serialized).
    Done(serde_json::Value),
    /// This node no longer owns the shard (it is being handed off): ask again.
    NotOwner,
    /// Too many calls in flight here: the caller's "busy, try again".
    Busy,
    /// The request could not be read (nodes of different builds?): not retried.
    Malformed(String),
}

/// The subject of a shard's calls in cluster `cluster`.
pub fn subject(cluster: &str, shard: Shard) -> String {
    format!("{cluster}.shard.{shard}")
}

/// A command's wire tag: its type's name, the same on every node of one build.
pub fn tag_of<C>() -> &'static str {
    std::any::type_name::<C>()
}
