//! This process as a node of the cluster: it joins (arming the journal's fence), then keeps its
//! heartbeat, takes over nodes whose heartbeat expired, and acquires the shards rendezvous
//! hashing gives it. When the database says it was taken over, or it cannot renew its heartbeat
//! for longer than it may safely assume it is alive, it trips its fence: the application stops
//! serving and the process exits, to be started again as a new incarnation.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use sqlx::PgPool;
use tokio::time::Instant;

use super::membership::{self, MembershipError};
pub use super::owned::OwnedShards;
use super::owned::{SHARD_DRAINING, SHARD_NOT_OWNED, SHARD_OWNED};
use super::rendezvous;
use super::shard::Shard;
use crate::settings::ClusterSettings;
use crate::store::log::cluster::LogHandOver;
use crate::store::{ClusterAccess, FenceId, WriterFence};

/// How long purchases in flight get to finish on a shard being handed off (new reservations go
/// to the next owner meanwhile), before its actors are stopped and its changes flushed. A saldo
/// purchase holds its reservation in memory for one commit wait, milliseconds, or a few remote
/// calls: this is many times that, and bounds how long a hand-off takes.
const HANDOFF_DRAIN_MS: u64 = 500;

/// What a node does with shards it is giving up, before they are released: flush what their
/// actors changed and stop them (see `Joined::attach`).
pub type HandOff = Arc<dyn Fn(Vec<Shard>) -> futures::future::BoxFuture<'static, ()> + Send + Sync>;

/// The lease of the one outbox sender of a cluster (Meta paces sends per phone number, so two
/// senders would send twice the rate).
pub const OUTBOX_LEASE: &str = "outbox-sender";

/// Takeovers per upkeep round: enough for every node of a small cluster dying at once, without
/// one round waiting on many victims' batches.
const TAKEOVERS_PER_ROUND_MAX: usize = 8;

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
    released: Arc<std::sync::OnceLock<Released>>,
    drained: Arc<std::sync::OnceLock<HandOff>>,
    counters: Arc<NodeCounters>,
    /// Until when (milliseconds on `owned`'s clock) this node holds the outbox lease.
    outbox_lease_until_ms: Arc<AtomicU64>,
    /// Set by `leave`: no lease is taken and no shard acquired any more.
    leaving: Arc<std::sync::atomic::AtomicBool>,
    /// With the journal's log: the records of nodes fenced out, projected before this node serves
    /// their shards, and its own, projected before it hands shards off.
    log: Option<LogHandOver>,
    /// Held by a maintenance round and by `leave`, so a round never runs beside a leave.
    upkeep: Arc<tokio::sync::Mutex<()>>,
}

/// What a node does with shards it has just acquired: recover what they left unfinished.
pub type Recover = Arc<dyn Fn(Vec<Shard>) + Send + Sync>;

/// What a node forgets of shards it has handed off, once their actors stopped: what it kept in
/// memory for their customers (the new owner rebuilds it from the store).
pub type Released = Arc<dyn Fn(&[Shard]) + Send + Sync>;

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
        if let Some(log) = &access.log {
            // What this node's last incarnation left in the log, before anything here reads.
            log.project_orphans().await?;
        }
        Ok(ClusterNode {
            pool: access.pool,
            me,
            fence: access.fence,
            heartbeat: settings.heartbeat(),
            ttl: settings.ttl(),
            owned: Arc::default(),
            hand_off: Arc::default(),
            recover: Arc::default(),
            released: Arc::default(),
            drained: Arc::default(),
            counters: Arc::default(),
            outbox_lease_until_ms: Arc::default(),
            leaving: Arc::default(),
            upkeep: Arc::default(),
            log: access.log,
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

    /// Whether this node holds the outbox lease now: renewed each round, and lapsing by this
    /// process's own clock, as its shards do.
    pub fn sends_outbox(&self) -> bool {
        self.owned.now_ms() < self.outbox_lease_until_ms.load(Ordering::Acquire)
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

    /// Sets what a hand-off waits for once its shards take nothing new (the customers' flows
    /// running here). Set once, before the upkeep runs.
    pub fn on_drain(&self, drained: HandOff) {
        assert!(self.drained.set(drained).is_ok(), "one drain");
    }

    /// Sets what is forgotten of shards handed off. Set once, before the upkeep runs.
    pub fn on_release(&self, released: Released) {
        assert!(self.released.set(released).is_ok(), "one release");
    }

    /// Keeps this node in the cluster until its fence trips. Run it on its own task.
    pub async fn run_upkeep(self) {
        let maintenance = self.clone();
        actix_rt::spawn(async move { maintenance.run_maintenance().await });
        self.run_heartbeats().await;
    }

    /// The heartbeat on its own, so nothing slow (a takeover waiting for a victim's batch, a
    /// hand-off draining) delays it. A renewal the database refuses means this incarnation was
    /// replaced; one that cannot be made for TTL less a heartbeat (by this process's clock) means
    /// another node may take this one over by the database's: either way, the fence trips.
    async fn run_heartbeats(&self) {
        let mut last_renewed = Instant::now();
        let mut ticks = tokio::time::interval(self.heartbeat);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        while !self.fence.is_tripped() {
            ticks.tick().await;
            let sent = Instant::now();
            match self.renew().await {
                Ok(()) => last_renewed = sent,
                Err(MembershipError::Fenced) => self.declared_dead(),
                Err(error @ (MembershipError::Database(_) | MembershipError::Log(_))) => {
                    self.counters.heartbeat_failures.fetch_add(1, Ordering::Relaxed);
                    tracing::warn!(%error, "heartbeat not renewed");
                    if last_renewed.elapsed() + self.heartbeat >= self.ttl {
                        tracing::error!("heartbeat not renewed within the TTL; stopping");
                        self.fence.trip();
                    }
                }
            }
        }
    }

    /// Takeovers, acquisitions, hand-offs and the outbox lease, one round a heartbeat.
    async fn run_maintenance(&self) {
        let mut ticks = tokio::time::interval(self.heartbeat);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        while !self.fence.is_tripped() {
            ticks.tick().await;
            match self.maintain().await {
                Ok(()) => {}
                Err(MembershipError::Fenced) => self.declared_dead(),
                Err(error @ (MembershipError::Database(_) | MembershipError::Log(_))) => {
                    tracing::warn!(%error, "cluster upkeep failed; next round")
                }
            }
        }
    }

    fn declared_dead(&self) {
        tracing::error!(node = %self.me.node, incarnation = self.me.incarnation, "declared dead by the cluster; stopping");
        self.fence.trip();
    }

    async fn renew(&self) -> Result<(), MembershipError> {
        let sent = Instant::now();
        membership::heartbeat(&self.pool, &self.me, self.ttl).await?;
        self.owned.renewed(sent, self.ttl.saturating_sub(self.heartbeat));
        Ok(())
    }

    /// One round of everything: renew, then maintain (tests step nodes with it).
    pub async fn round(&self) -> Result<(), MembershipError> {
        self.renew().await?;
        self.maintain().await
    }

    /// Take over the expired, acquire what this node should own (handing off what it should
    /// not), renew the outbox lease. Under the upkeep lock, which `leave` holds too: a leaving
    /// node neither acquires nor takes the lease again.
    async fn maintain(&self) -> Result<(), MembershipError> {
        let _upkeep = self.upkeep.lock().await;
        if self.leaving.load(Ordering::Acquire) {
            return Ok(());
        }
        self.take_over_expired().await?;
        if let Some(log) = &self.log {
            // Whatever a node fenced out left, even one whose shards were all handed off.
            log.project_orphans().await?;
        }
        self.acquire_due().await?;
        let sent = Instant::now();
        if membership::hold_lease(&self.pool, &self.me, OUTBOX_LEASE, self.ttl).await? {
            let safe_for = self.ttl.saturating_sub(self.heartbeat);
            self.outbox_lease_until_ms.store(self.owned.ms_at(sent + safe_for), Ordering::Release);
        }
        Ok(())
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
        if let (Some(log), false) = (&self.log, taken.is_empty()) {
            // Their last owner's acknowledged changes are in the tables before any of their
            // actors activates here. If that fails, they go back, for this node's next round or
            // another node's (if even that fails, the table keeps them as this node's, and its
            // next round takes them again).
            if let Err(error) = log.project_orphans().await {
                membership::release(&self.pool, &self.me, &taken).await?;
                return Err(error.into());
            }
        }
        self.owned.set(&taken, SHARD_OWNED);
        self.owned.forget_all_but(&membership::owned(&self.pool, &self.me).await?);
        if !taken.is_empty() {
            tracing::info!(shards = taken.len(), "acquired shards");
            self.counters.acquired.fetch_add(taken.len() as u64, Ordering::Relaxed);
            if let Some(recover) = self.recover.get() {
                recover(taken);
            }
        }
        Ok(())
    }

    /// Leaves the cluster gracefully (a SIGTERM): marked leaving, so no node hands it shards,
    /// the outbox lease given up, and every shard handed off, so the others acquire them at their
    /// next round.
    pub async fn leave(&self) -> Result<(), MembershipError> {
        let _upkeep = self.upkeep.lock().await;
        self.leaving.store(true, Ordering::Release);
        membership::leave(&self.pool, &self.me).await?;
        self.outbox_lease_until_ms.store(0, Ordering::Release);
        membership::release_lease(&self.pool, &self.me, OUTBOX_LEASE).await?;
        // The table's list, not this process's view (which lapses with its lease).
        self.hand_off(membership::owned(&self.pool, &self.me).await?).await
    }

    /// Gives shards up to the node that should own them: new reservations and customers' flows
    /// go elsewhere while the purchases in flight finish (`HANDOFF_DRAIN_MS`, then the flows
    /// running here, bounded: `on_drain`); then no call is taken for them, their
    /// actors stop after the messages already sent to them, what they changed is flushed, and
    /// only then are the shards released (the new owner loads what was stored).
    pub async fn hand_off(&self, shards: Vec<Shard>) -> Result<(), MembershipError> {
        if shards.is_empty() {
            return Ok(());
        }
        let started = Instant::now();
        self.owned.set(&shards, SHARD_DRAINING);
        tokio::time::sleep(Duration::from_millis(HANDOFF_DRAIN_MS)).await;
        if let Some(drained) = self.drained.get() {
            drained(shards.clone()).await;
        }
        self.owned.set(&shards, SHARD_NOT_OWNED);
        if let Some(hand_off) = self.hand_off.get() {
            hand_off(shards.clone()).await;
        }
        if let Some(released) = self.released.get() {
            released(&shards);
        }
        if let Some(log) = &self.log {
            // The next owner activates their actors from the tables: they show all of it first.
            // It fails only with the fence tripped: another node projects the rest.
            log.caught_up().await.map_err(|_| MembershipError::Fenced)?;
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
