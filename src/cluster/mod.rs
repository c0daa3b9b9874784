//! Several nodes on one Postgres, one owner per actor (docs/cluster.md).
//!
//! - `shard`: which of the 256 shards a product or customer is on.
//! - `rendezvous`: which live node should own each shard.
//! - `membership`: the tables: joins, heartbeats, takeovers, shard ownership, events.
//! - `node`: this process as a node: its upkeep, its fence.
//! - `owned`: the shards it owns as far as it knows, and until when it may act on that.
//! - `route`: the actors as the flows call them: here, or on the shard's owner over NATS (`wire`).
//! - `scope`: which customers and products recovery and the sweeps look at on this node.
//! - `wakes`: telling a shard's owner that a message recorded elsewhere waits for it.
//! - `serve`: the owner's side: the calls other nodes send to its shards, with bounded intake.
//!
//! The fence itself (every journal batch checks this process's incarnation) is the store's:
//! `store::fence`.

mod flows_seen;
pub mod membership;
pub mod node;
mod owned;
pub mod remote;
pub mod rendezvous;
pub mod route;
pub mod scope;
pub mod serve;
pub mod shard;
pub mod wakes;
pub mod wire;

pub use membership::MembershipError;
pub use node::{ClusterNode, OwnedShards};
pub use remote::{Remote, RemoteCounters, FLOW_DEADLINES_MAX};
pub use route::{Actors, FlowPlace};
pub use scope::Scope;
pub use shard::{Shard, SHARDS_COUNT};

/// A node that has joined a cluster: what the engine needs to run its actors as one.
#[derive(Clone)]
pub struct Joined {
    pub node: ClusterNode,
    pub nats: async_nats::Client,
    /// The subject prefix of this cluster's calls (several clusters may share a NATS server).
    pub name: String,
    /// How long a call keeps looking for an owner before it answers "try again".
    pub route_deadline: std::time::Duration,
    /// This node's calls to other nodes, by outcome.
    pub remote_counters: std::sync::Arc<RemoteCounters>,
    /// How this node runs the customers' flows other nodes send it (`Joined::serve_flows`).
    flows: serve::FlowSlot,
}

impl Joined {
    pub fn new(
        node: ClusterNode,
        nats: async_nats::Client,
        name: String,
        route_deadline: std::time::Duration,
    ) -> Joined {
        Joined { node, nats, name, route_deadline, remote_counters: Default::default(), flows: Default::default() }
    }

    /// Sets how the customers' flows sent to this node run (the engine's checkout). Set once.
    pub fn serve_flows(&self, run: serve::FlowRun) {
        assert!(self.flows.set(run).is_ok(), "one way to run flows");
    }

    /// Limits this node's lanes to the actors of the shards it owns, starts serving the
    /// calls other nodes send to them, and returns the actors as the flows call them.
    pub fn attach(&self, lanes: crate::records::Lanes) -> Actors {
        let owned = self.node.owned().clone();
        let owns = owned.clone();
        lanes.activate_only(std::sync::Arc::new(move |key| match key {
            warung_actors::journal::ActorKey::Product(code) => owns.owns(Shard::of_product(code)),
            warung_actors::journal::ActorKey::Wallet(customer) => owns.owns(Shard::of_customer(customer)),
            _ => true,
        }));
        let stopping = lanes.clone();
        self.node.on_hand_off(std::sync::Arc::new(move |shards: Vec<Shard>| {
            let lanes = stopping.clone();
            Box::pin(async move {
                let stopped = lanes
                    .stop_actors(|key| match key {
                        warung_actors::journal::ActorKey::Product(code) => shards.contains(&Shard::of_product(code)),
                        warung_actors::journal::ActorKey::Wallet(customer) => {
                            shards.contains(&Shard::of_customer(customer))
                        }
                        _ => false,
                    })
                    .await;
                if let Err(error) = lanes.flush().await {
                    tracing::error!(%error, "flushing before a hand-off failed");
                }
                tracing::info!(stopped, "stopped the actors of shards handed off");
            })
        }));
        let intake =
            serve::Intake::new(self.nats.clone(), self.name.clone(), lanes.clone(), owned.clone(), self.flows.clone());
        tokio::spawn(intake.run());
        let remote = Remote {
            client: self.nats.clone(),
            cluster: self.name.clone(),
            owned,
            deadline: self.route_deadline,
            counters: self.remote_counters.clone(),
        };
        Actors::clustered(lanes, std::sync::Arc::new(remote))
    }
}

/// Joins the cluster the settings name: the store's fence is armed with the new incarnation, and
/// NATS is connected. The node's upkeep (and so its shards) starts with the engine
/// (`Engine::start_in`), once there is something to recover them with.
pub async fn join(settings: &crate::settings::Settings, store: &dyn crate::store::Store) -> anyhow::Result<Joined> {
    use anyhow::Context;
    let cluster = &settings.cluster;
    let access =
        store.cluster_access().context("a cluster needs a Postgres store (WARUNG_DATABASE__URL=postgres://...)")?;
    let node_id = cluster.node_id(&settings.http.bind);
    let node = ClusterNode::join(access, cluster, &node_id, &settings.http.bind)
        .await
        .with_context(|| format!("joining the cluster as {node_id}"))?;
    let nats = async_nats::connect(cluster.nats_url.expose())
        .await
        .with_context(|| format!("connecting to NATS at {}", cluster.nats_url))?;
    Ok(Joined::new(node, nats, cluster.name.clone(), cluster.route_deadline()))
}
