//! Which customers and products a node answers for, in the work nobody asks for (recovery, the
//! sweeps): every one when it runs alone, those of the shards it owns in a cluster, or those of
//! the shards it has just acquired.

use std::sync::Arc;

use warung_actors::domain::{CustomerId, ProductCode};

use super::node::OwnedShards;
use super::shard::Shard;

#[derive(Clone)]
pub enum Scope {
    Everything,
    /// The shards this node owns, as they are when asked.
    Owned(Arc<OwnedShards>),
    /// These shards only (just acquired).
    Shards(Vec<Shard>),
}

impl Scope {
    pub fn has_customer(&self, customer: &CustomerId) -> bool {
        self.has(Shard::of_customer(customer))
    }

    pub fn has_product(&self, code: &ProductCode) -> bool {
        self.has(Shard::of_product(code))
    }

    fn has(&self, shard: Shard) -> bool {
        match self {
            Scope::Everything => true,
            Scope::Owned(owned) => owned.owns(shard),
            Scope::Shards(shards) => shards.contains(&shard),
        }
    }
}
