//! This process as a node of the cluster: it joins (arming the journal's fence), then keeps its
//! heartbeat, takes over nodes whose heartbeat expired, and acquires the shards rendezvous
//! hashing gives it. When the database says it was taken over, or it cannot renew its heartbeat
//! for longer than it may safely assume it is alive, it trips its fence: the application stops
//! serving and the process exits, to be started again as a new incarnation.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use sqlx::PgPool;
use tokio::time::Instant;

use super::membership::{self, MembershipError};
use super::rendezvous;
use super::shard::{Shard, SHARDS_COUNT};
use crate::settings::ClusterSettings;
use crate::store::{ClusterAccess, FenceId, WriterFence};

/// How long calls already past the routing check get to finish on a shard being handed off,
/// before its journal is flushed and its actors stopped.
const HANDOFF_GRACE_MS: u64 = 200;

/// What a node does with shards it is giving up, before they are released: flush what their
/// actors changed and stop them (see `Joined::attach`).
pub type HandOff = Arc<dyn Fn(Vec<Shard>) -> futures::future::BoxFuture<'static, ()> + Send + Sync>;

/// Takeovers per upkeep round: enough for every node of a small cluster dying at once, without
/// one round waiting on many victims' batches.
const TAKEOVERS_PER_ROUND_MAX: usize = 8;

/// Which shards this process owns, as far as it knows (the table is the truth; this is updated
/// each round and at every acquisition and release).
pub struct OwnedShards([AtomicBool; SHARDS_COUNT]);

impl Default for OwnedShards {
    fn default() -> Self {
        OwnedShards(std::array::from_fn(|_| AtomicBool::new(false)))
    }
}

impl OwnedShards {
    pub fn owns(&self, shard: Shard) -> bool {
        self.0[usize::from(shard.number())].load(Ordering::Acquire)
    }

    pub fn count(&self) -> usize {
        self.0.iter().filter(|owned| owned.load(Ordering::Relaxed)).count()
    }

    fn set(&self, shards: &[Shard], owned: bool) {
        for shard in shards {
            self.0[usize::from(shard.number())].store(owned, Ordering::Release);
        }
    }

    fn replace(&self, shards: &[Shard]) {
        for shard in Shard::all() {
            self.0[usize::from(shard.number())].store(shards.contains(&shard), Ordering::Release);
        }
    }
}

/// What a node's upkeep did, for `/metrics`.
#[derive(Debug, Default)]
pub struct NodeCounters {
    pub takeovers: AtomicU64,
    pub acquired: AtomicU64,
    pub handed_off: AtomicU64,
    pub hand_off_millis_total: AtomicU64,
    pub last_hand_off_millis: AtomicU64,
    pub heartbeat_failures: AtomicU64,
}

#[derive(Clone)]
pub struct ClusterNode {
    pool: PgPool,
    me: FenceId,
    fence: Arc<WriterFence>,
    heartbeat: Duration,
    ttl: Duration,
    owned: Arc<OwnedShards>,
    hand_off: Arc<std::sync::OnceLock<HandOff>>,
    recover: Arc<std::sync::OnceLock<Recover>>,
    counters: Arc<NodeCounters>,
}

/// What a node does with shards it has just acquired: recover what they left unfinished.
pub type Recover = Arc<dyn Fn(Vec<Shard>) + Send + Sync>;

impl ClusterNode {
    /// Joins as a new incarnation of `node_id` and arms the store's fence with it: every journal
    /// batch from now on commits only while this incarnation is the node's.
    pub async fn join(
        access: ClusterAccess,
        settings: &ClusterSettings,
        node_id: &str,
        address: &str,
    ) -> Result<ClusterNode, MembershipError> {
        let me = membership::join(&access.pool, node_id, address, settings.ttl()).await?;
        access.fence.arm(me.clone());
        tracing::info!(node = %me.node, incarnation = me.incarnation, "joined the cluster");
        Ok(ClusterNode {
            pool: access.pool,
            me,
            fence: access.fence,
            heartbeat: settings.heartbeat(),
            ttl: settings.ttl(),
            owned: Arc::default(),
            hand_off: Arc::default(),
            recover: Arc::default(),
            counters: Arc::default(),
        })
    }

    pub fn id(&self) -> &FenceId {
        &self.me
    }

    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    pub fn owned(&self) -> &Arc<OwnedShards> {
        &self.owned
    }

    pub fn fence(&self) -> &Arc<WriterFence> {
        &self.fence
    }

    pub fn counters(&self) -> &NodeCounters {
        &self.counters
    }

    /// Sets what is done with shards before they are released. Set once.
    pub fn on_hand_off(&self, hand_off: HandOff) {
        assert!(self.hand_off.set(hand_off).is_ok(), "one hand-off");
    }

    /// Sets what is started for shards just acquired. Set once, before the upkeep runs.
    pub fn on_acquire(&self, recover: Recover) {
        assert!(self.recover.set(recover).is_ok(), "one recovery");
    }

    /// Keeps this node in the cluster until its fence trips. Run it on its own task.
    pub async fn run_upkeep(self) {
        let mut last_renewed = Instant::now();
        let mut ticks = tokio::time::interval(self.heartbeat);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        while !self.fence.is_tripped() {
            ticks.tick().await;
            let sent = Instant::now();
            match self.round().await {
                Ok(()) => last_renewed = sent,
                Err(MembershipError::Fenced) => {
                    tracing::error!(node = %self.me.node, incarnation = self.me.incarnation, "declared dead by the cluster; stopping");
                    self.fence.trip();
                }
                Err(MembershipError::Database(error)) => {
                    self.counters.heartbeat_failures.fetch_add(1, Ordering::Relaxed);
                    tracing::warn!(%error, "cluster upkeep failed");
                    // Another node may take this one over once the TTL has passed by the
                    // database's clock; stop before that could happen by ours.
                    if last_renewed.elapsed() + self.heartbeat >= self.ttl {
                        tracing::error!("heartbeat not renewed within the TTL; stopping");
                        self.fence.trip();
                    }
                }
            }
        }
    }

    /// One round: renew, take over the expired, acquire what this node should own.
    pub async fn round(&self) -> Result<(), MembershipError> {
        membership::heartbeat(&self.pool, &self.me, self.ttl).await?;
        self.take_over_expired().await?;
        self.acquire_due().await
    }

    pub async fn take_over_expired(&self) -> Result<usize, MembershipError> {
        let mut taken = 0;
        for (victim, seen) in membership::expired(&self.pool).await?.into_iter().take(TAKEOVERS_PER_ROUND_MAX) {
            if victim == self.me.node {
                continue;
            }
            if membership::take_over(&self.pool, &self.me, &victim, seen).await? {
                tracing::warn!(%victim, incarnation = seen, "took over a node whose heartbeat expired");
                self.counters.takeovers.fetch_add(1, Ordering::Relaxed);
                taken += 1;
            }
        }
        Ok(taken)
    }

    /// Acquires the unowned shards rendezvous hashing gives this node among the live, stable ones.
    pub async fn acquire_due(&self) -> Result<(), MembershipError> {
        let nodes = membership::nodes(&self.pool, self.heartbeat * 2).await?;
        let candidates: Vec<String> =
            nodes.iter().filter(|n| n.alive && n.stable && n.state == "up").map(|n| n.node_id.clone()).collect();
        let due = rendezvous::shards_of(&self.me.node, &candidates);
        if candidates.contains(&self.me.node) {
            let undue: Vec<Shard> = Shard::all().filter(|s| self.owned.owns(*s) && !due.contains(s)).collect();
            self.hand_off(undue).await?;
        }
        let wanted: Vec<Shard> = due.into_iter().filter(|s| !self.owned.owns(*s)).collect();
        let taken = membership::acquire(&self.pool, &self.me, &wanted).await?;
        self.owned.replace(&membership::owned(&self.pool, &self.me).await?);
        if !taken.is_empty() {
            tracing::info!(shards = taken.len(), "acquired shards");
            self.counters.acquired.fetch_add(taken.len() as u64, Ordering::Relaxed);
            if let Some(recover) = self.recover.get() {
                recover(taken);
            }
        }
        Ok(())
    }

    /// Leaves the cluster gracefully (a SIGTERM): marked leaving, so no node hands it shards, and
    /// every shard handed off, so the others acquire them at their next round.
    pub async fn leave(&self) -> Result<(), MembershipError> {
        membership::leave(&self.pool, &self.me).await?;
        let owned: Vec<Shard> = Shard::all().filter(|s| self.owned.owns(*s)).collect();
        self.hand_off(owned).await
    }

    /// Gives shards up to the node that should own them: no new call is taken for them, those
    /// in flight get `HANDOFF_GRACE_MS`, their changes are flushed and their actors stopped, and
    /// only then are they released (the new owner loads what was stored).
    pub async fn hand_off(&self, shards: Vec<Shard>) -> Result<(), MembershipError> {
        if shards.is_empty() {
            return Ok(());
        }
        let started = Instant::now();
        self.owned.set(&shards, false);
        tokio::time::sleep(Duration::from_millis(HANDOFF_GRACE_MS)).await;
        if let Some(hand_off) = self.hand_off.get() {
            hand_off(shards.clone()).await;
        }
        membership::release(&self.pool, &self.me, &shards).await?;
        let took_ms = started.elapsed().as_millis() as u64;
        self.counters.handed_off.fetch_add(shards.len() as u64, Ordering::Relaxed);
        self.counters.hand_off_millis_total.fetch_add(took_ms, Ordering::Relaxed);
        self.counters.last_hand_off_millis.store(took_ms, Ordering::Relaxed);
        tracing::info!(shards = shards.len(), took_ms, "handed shards off");
        Ok(())
    }
}
