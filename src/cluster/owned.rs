//! Which shards this process owns, as far as it knows, and until when it may act on that.

use std::sync::atomic::{AtomicU64, AtomicU8, Ordering};
use std::time::Duration;

use tokio::time::Instant;

use super::shard::{Shard, SHARDS_COUNT};

/// A shard's state on this node.
pub(super) const SHARD_NOT_OWNED: u8 = 0;
pub(super) const SHARD_OWNED: u8 = 1;
/// Owned, being handed off: no new reservation, the rest as owned.
pub(super) const SHARD_DRAINING: u8 = 2;

/// Which shards this process owns, as far as it knows (the table is the truth; this is updated
/// each round and at every acquisition and release), and until when it may act on that: a node
/// owns nothing once its last renewed heartbeat is older, by its own monotonic clock, than the
/// TTL less a heartbeat. So a process that was paused past its TTL answers nothing from its stale
/// memory when it resumes (not even a refusal), and sends its own callers to the new owners,
/// before its next heartbeat tells it that it was taken over.
pub struct OwnedShards {
    shards: [AtomicU8; SHARDS_COUNT],
    /// Milliseconds since `epoch` until which the lease holds.
    valid_until_ms: AtomicU64,
    epoch: Instant,
}

impl Default for OwnedShards {
    fn default() -> Self {
        OwnedShards {
            shards: std::array::from_fn(|_| AtomicU8::new(SHARD_NOT_OWNED)),
            valid_until_ms: AtomicU64::new(0),
            epoch: Instant::now(),
        }
    }
}

impl OwnedShards {
    pub fn owns(&self, shard: Shard) -> bool {
        self.lease_holds() && self.state(shard) != SHARD_NOT_OWNED
    }

    /// Whether a new reservation may be made here: owned, and not being handed off.
    pub fn takes_new_reservations(&self, shard: Shard) -> bool {
        self.lease_holds() && self.state(shard) == SHARD_OWNED
    }

    pub fn count(&self) -> usize {
        self.shards.iter().filter(|owned| owned.load(Ordering::Relaxed) != SHARD_NOT_OWNED).count()
    }

    fn state(&self, shard: Shard) -> u8 {
        self.shards[usize::from(shard.number())].load(Ordering::Acquire)
    }

    fn lease_holds(&self) -> bool {
        self.now_ms() < self.valid_until_ms.load(Ordering::Acquire)
    }

    pub(super) fn now_ms(&self) -> u64 {
        self.epoch.elapsed().as_millis() as u64
    }

    pub(super) fn ms_at(&self, at: Instant) -> u64 {
        at.saturating_duration_since(self.epoch).as_millis() as u64
    }

    /// A heartbeat sent at `sent` was renewed: the lease holds until `sent + safe_for`.
    pub(super) fn renewed(&self, sent: Instant, safe_for: Duration) {
        self.valid_until_ms.fetch_max(self.ms_at(sent + safe_for), Ordering::AcqRel);
    }

    pub(super) fn set(&self, shards: &[Shard], state: u8) {
        for shard in shards {
            self.shards[usize::from(shard.number())].store(state, Ordering::Release);
        }
    }

    /// Forgets every shard the table no longer gives this incarnation. Never adds one: only an
    /// acquisition does, so a shard being handed off is not taken back.
    pub(super) fn forget_all_but(&self, owned: &[Shard]) {
        for shard in Shard::all() {
            if !owned.contains(&shard) {
                self.shards[usize::from(shard.number())].store(SHARD_NOT_OWNED, Ordering::Release);
            }
        }
    }
}
