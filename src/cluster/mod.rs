//! Several nodes on one Postgres, one owner per actor (docs/cluster.md).
//!
//! - `shard`: which of the 256 shards a product or customer is on.
//! - `rendezvous`: which live node should own each shard.
//! - `membership`: the tables: joins, heartbeats, takeovers, shard ownership, events.
//! - `node`: this process as a node: its upkeep, the shards it owns, its fence.
//!
//! The fence itself (every journal batch checks this process's incarnation) is the store's:
//! `store::fence`.

pub mod membership;
pub mod node;
pub mod rendezvous;
pub mod shard;

pub use membership::MembershipError;
pub use node::{ClusterNode, OwnedShards};
pub use shard::{Shard, SHARDS_COUNT};
