//! What ops can see of one actor: mailbox depth, messages handled, handling latency, last activity.
//! actix exposes no queue length, so depth is counted here: up on send, down when handled.

use std::sync::atomic::{AtomicI64, AtomicU64, AtomicU8, Ordering};
use std::time::Duration;

use serde::Serialize;

use crate::domain::UnixMs;
use crate::journal::{ActorKey, Incarnation};

/// Latency buckets: bucket `i` counts handlings that took less than `2^i` microseconds; the last
/// one counts everything slower (over about a second).
pub const LATENCY_BUCKETS: usize = 21;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Lifecycle {
    Running,
    /// Stopped on purpose (idle, or fenced after a failed commit): not a crash.
    Stopped,
}

/// Messages handled and their handling time, summed over every actor of one kind that ever ran:
/// kept by the supervisor, so a passivated actor's counts stay (Prometheus counters never drop).
#[derive(Debug, Default)]
pub struct KindTotals {
    handled: AtomicU64,
    latency: [AtomicU64; LATENCY_BUCKETS],
    micros_sum: AtomicU64,
}

impl KindTotals {
    fn record(&self, bucket: usize, micros: u64) {
        self.handled.fetch_add(1, Ordering::Relaxed);
        self.latency[bucket].fetch_add(1, Ordering::Relaxed);
        self.micros_sum.fetch_add(micros, Ordering::Relaxed);
    }

    pub fn handled(&self) -> u64 {
        self.handled.load(Ordering::Relaxed)
    }

    /// Adds `other`'s counts to these (the totals of several supervisors' actors of one kind).
    /// The count handled is the buckets' sum, read once: every handling is in one bucket, and
    /// a handling recorded while this runs is then counted in both or in neither.
    pub fn add(&self, other: &KindTotals) {
        let buckets = other.latency_buckets();
        self.handled.fetch_add(buckets.iter().sum(), Ordering::Relaxed);
        for (bucket, count) in self.latency.iter().zip(buckets) {
            bucket.fetch_add(count, Ordering::Relaxed);
        }
        self.micros_sum.fetch_add(other.micros_sum(), Ordering::Relaxed);
    }

    /// Bucket `i` counts handlings under `2^i` microseconds (the last: everything slower).
    pub fn latency_buckets(&self) -> [u64; LATENCY_BUCKETS] {
        std::array::from_fn(|i| self.latency[i].load(Ordering::Relaxed))
    }

    pub fn micros_sum(&self) -> u64 {
        self.micros_sum.load(Ordering::Relaxed)
    }

    /// The upper bound of the bucket holding the 99th percentile, in microseconds.
    pub fn p99_micros(&self) -> u64 {
        p99_micros(&self.latency_buckets())
    }
}

/// The upper bound of the bucket holding the 99th percentile of `buckets` (bucket `i` counts
/// handlings under `2^i` microseconds), in microseconds; 0 when nothing was handled.
pub fn p99_micros(buckets: &[u64; LATENCY_BUCKETS]) -> u64 {
    let total: u64 = buckets.iter().sum();
    if total == 0 {
        return 0;
    }
    let target = total - total / 100;
    let mut seen = 0;
    for (i, count) in buckets.iter().enumerate() {
        seen += count;
        if seen >= target {
            return 1u64 << i;
        }
    }
    1u64 << (LATENCY_BUCKETS - 1)
}

/// Laid out for the cold actor: a flash sale's buyer is mostly a customer whose wallet has not run
/// for a while, and each line of its stats that a message touches is a miss. What every message
/// reads or writes (the lifecycle, the mailbox's count, the handled count, the last activity, the
/// kind's totals) shares the first line; the latency buckets of the usual handlings (under 128
/// µs) the second; what only the ops view reads comes after. `repr(C)` keeps that order, and the
/// alignment starts the first line with the struct (the `Arc`'s counts sit on the line before).
#[derive(Debug)]
#[repr(C, align(64))]
pub struct ActorStats {
    lifecycle: AtomicU8,
    depth: AtomicI64,
    /// The deepest the mailbox has been since activation: a gauge read now and then misses a
    /// burst the actor drained between two readings; this does not.
    peak: AtomicI64,
    handled: AtomicU64,
    last_activity: AtomicI64,
    pub capacity: usize,
    totals: std::sync::Arc<KindTotals>,
    latency: [AtomicU64; LATENCY_BUCKETS],
    pub key: ActorKey,
    pub incarnation: Incarnation,
    activated_at: UnixMs,
}

/// A copy of an actor's stats at one moment, for the ops API.
#[derive(Clone, Debug, Serialize)]
pub struct ActorReport {
    pub kind: &'static str,
    pub id: String,
    pub incarnation: Incarnation,
    pub mailbox_depth: i64,
    /// The deepest the mailbox has been since the actor activated.
    pub mailbox_peak: i64,
    pub mailbox_capacity: usize,
    pub messages_handled: u64,
    pub handling_p99_micros: u64,
    /// Messages per second between activation and the last message handled.
    pub messages_per_s: f64,
    pub activated_at_ms: UnixMs,
    pub last_activity_ms: UnixMs,
}

impl ActorStats {
    pub fn new(
        key: ActorKey,
        incarnation: Incarnation,
        capacity: usize,
        now: UnixMs,
        totals: std::sync::Arc<KindTotals>,
    ) -> ActorStats {
        ActorStats {
            lifecycle: AtomicU8::new(0),
            depth: AtomicI64::new(0),
            peak: AtomicI64::new(0),
            handled: AtomicU64::new(0),
            last_activity: AtomicI64::new(now),
            capacity,
            totals,
            latency: std::array::from_fn(|_| AtomicU64::new(0)),
            key,
            incarnation,
            activated_at: now,
        }
    }

    pub fn depth(&self) -> i64 {
        self.depth.load(Ordering::Relaxed)
    }

    pub fn peak(&self) -> i64 {
        self.peak.load(Ordering::Relaxed)
    }

    /// Counts a message in, unless the mailbox is at capacity (then the caller is told "busy").
    pub fn try_enqueue(&self) -> bool {
        let before = self.depth.fetch_add(1, Ordering::Relaxed);
        if before >= self.capacity as i64 {
            self.depth.fetch_sub(1, Ordering::Relaxed);
            return false;
        }
        self.note_depth(before + 1);
        true
    }

    /// Counts a message in even at capacity (`Admission::Always`).
    pub fn enqueue(&self) {
        let before = self.depth.fetch_add(1, Ordering::Relaxed);
        self.note_depth(before + 1);
    }

    /// Raises the peak to `depth` if it is deeper; a plain read first, because on the hot path the
    /// peak is almost always already higher and a read-modify-write would be wasted.
    fn note_depth(&self, depth: i64) {
        if depth > self.peak.load(Ordering::Relaxed) {
            self.peak.fetch_max(depth, Ordering::Relaxed);
        }
    }

    /// A message left the mailbox without being handled (the actor stopped).
    pub fn dequeue_unhandled(&self) {
        self.depth.fetch_sub(1, Ordering::Relaxed);
    }

    /// A message from the mailbox was handled.
    pub fn handled(&self, took: Duration, now: UnixMs) {
        self.depth.fetch_sub(1, Ordering::Relaxed);
        self.ran(took, now);
    }

    /// Work that did not come through the mailbox (the actor's own timer) was done: counted and
    /// timed as a handling, the mailbox's depth untouched.
    pub fn ran(&self, took: Duration, now: UnixMs) {
        self.handled.fetch_add(1, Ordering::Relaxed);
        let micros = took.as_micros().max(1) as u64;
        let bucket = (64 - micros.leading_zeros() as usize).min(LATENCY_BUCKETS - 1);
        self.latency[bucket].fetch_add(1, Ordering::Relaxed);
        self.totals.record(bucket, micros);
        self.last_activity.store(now, Ordering::Relaxed);
    }

    pub fn messages_handled(&self) -> u64 {
        self.handled.load(Ordering::Relaxed)
    }

    pub fn last_activity(&self) -> UnixMs {
        self.last_activity.load(Ordering::Relaxed)
    }

    pub fn latency_buckets(&self) -> [u64; LATENCY_BUCKETS] {
        std::array::from_fn(|i| self.latency[i].load(Ordering::Relaxed))
    }

    /// The upper bound of the bucket holding the 99th percentile, in microseconds.
    pub fn p99_micros(&self) -> u64 {
        p99_micros(&self.latency_buckets())
    }

    /// Messages per second while active (at least one second counted, so a burst at activation
    /// is not read as a huge rate).
    pub fn rate(&self) -> f64 {
        let span_ms = (self.last_activity() - self.activated_at).max(1_000);
        self.messages_handled() as f64 * 1_000.0 / span_ms as f64
    }

    pub fn mark_stopped(&self) {
        self.lifecycle.store(1, Ordering::Relaxed);
    }

    pub fn lifecycle(&self) -> Lifecycle {
        match self.lifecycle.load(Ordering::Relaxed) {
            0 => Lifecycle::Running,
            _ => Lifecycle::Stopped,
        }
    }

    pub fn report(&self) -> ActorReport {
        let (kind, id) = match &self.key {
            ActorKey::Product(code) => ("product", code.to_string()),
            ActorKey::Wallet(customer) => ("wallet", customer.masked().to_string()),
            ActorKey::Conversation(customer) => ("conversation", customer.masked().to_string()),
            ActorKey::Service(name) => ("service", name.to_string()),
        };
        ActorReport {
            kind,
            id,
            incarnation: self.incarnation,
            mailbox_depth: self.depth(),
            mailbox_peak: self.peak(),
            mailbox_capacity: self.capacity,
            messages_handled: self.messages_handled(),
            handling_p99_micros: self.p99_micros(),
            messages_per_s: self.rate(),
            activated_at_ms: self.activated_at,
            last_activity_ms: self.last_activity(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_99th_percentile_is_the_bucket_that_holds_it() {
        let mut buckets = [0; LATENCY_BUCKETS];
        assert_eq!(p99_micros(&buckets), 0, "nothing handled yet");
        buckets[7] = 98;
        buckets[9] = 2;
        assert_eq!(p99_micros(&buckets), 512);
        buckets[7] = 990;
        assert_eq!(p99_micros(&buckets), 128);
    }

    #[test]
    fn what_every_message_touches_shares_one_line_and_the_usual_buckets_the_next() {
        use std::mem::{align_of, offset_of, size_of};
        assert_eq!(align_of::<ActorStats>(), 64);
        let hot_end = offset_of!(ActorStats, totals) + size_of::<std::sync::Arc<KindTotals>>();
        assert!(hot_end <= 64, "the fields every message touches end at {hot_end}");
        let usual_buckets_end = offset_of!(ActorStats, latency) + 8 * size_of::<AtomicU64>();
        assert!(usual_buckets_end <= 128, "the buckets under 128 µs end at {usual_buckets_end}");
    }

    #[test]
    fn the_peak_keeps_the_deepest_the_mailbox_has_been_after_it_drains() {
        let stats = ActorStats::new(ActorKey::Service("test"), 1, 3, 0, Default::default());
        for _ in 0..3 {
            assert!(stats.try_enqueue());
        }
        assert!(!stats.try_enqueue(), "a full mailbox refuses, and the refusal is not counted as depth");
        stats.handled(Duration::from_micros(5), 1);
        stats.enqueue();
        stats.enqueue();
        assert_eq!((stats.depth(), stats.peak()), (4, 4), "always-admitted messages count past capacity");
        for _ in 0..4 {
            stats.handled(Duration::from_micros(5), 2);
        }
        let report = stats.report();
        assert_eq!((report.mailbox_depth, report.mailbox_peak), (0, 4));
    }
}
