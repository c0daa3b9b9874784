//! What ops can see of the conversations: how many customers are being answered, how deep their
//! queues are, how many messages were answered and how long each took.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use serde::Serialize;

/// Latency buckets: bucket `i` counts answers that took less than `2^i` microseconds; the last one
/// counts everything slower (about 8 s and beyond).
const ANSWER_LATENCY_BUCKETS: usize = 24;

/// Deepest queues `/ops` lists.
const DEEPEST_LISTED_MAX: usize = 10;

#[derive(Default)]
pub(super) struct ConversationStats {
    handled: AtomicU64,
    micros_sum: AtomicU64,
    latency: [AtomicU64; ANSWER_LATENCY_BUCKETS],
}

/// The conversations at one moment.
#[derive(Debug, Serialize)]
pub struct ConversationsReport {
    /// Customers with an actor: messages waiting or being answered.
    pub active: usize,
    /// Messages waiting or being answered, over every customer.
    pub queued: usize,
    pub queue_capacity: usize,
    /// The deepest queues: the customer (masked) and how many messages wait.
    pub deepest: Vec<(String, usize)>,
    pub answered: u64,
    pub answer_mean_micros: u64,
    /// The upper bound of the bucket holding the 99th percentile.
    pub answer_p99_micros: u64,
}

impl ConversationStats {
    pub(super) fn handled(&self, took: Duration) {
        let micros = took.as_micros().max(1) as u64;
        let bucket = (64 - micros.leading_zeros() as usize).min(ANSWER_LATENCY_BUCKETS - 1);
        self.handled.fetch_add(1, Ordering::Relaxed);
        self.micros_sum.fetch_add(micros, Ordering::Relaxed);
        self.latency[bucket].fetch_add(1, Ordering::Relaxed);
    }

    pub(super) fn report(&self, depths: impl Iterator<Item = (String, usize)>, capacity: usize) -> ConversationsReport {
        let mut depths: Vec<(String, usize)> = depths.collect();
        let (active, queued) = (depths.len(), depths.iter().map(|(_, depth)| depth).sum());
        depths.sort_by_key(|(_, depth)| std::cmp::Reverse(*depth));
        depths.truncate(DEEPEST_LISTED_MAX);
        let answered = self.handled.load(Ordering::Relaxed);
        let mean = self.micros_sum.load(Ordering::Relaxed).checked_div(answered).unwrap_or(0);
        ConversationsReport {
            active,
            queued,
            queue_capacity: capacity,
            deepest: depths,
            answered,
            answer_mean_micros: mean,
            answer_p99_micros: self.p99_micros(),
        }
    }

    fn p99_micros(&self) -> u64 {
        let buckets: Vec<u64> = self.latency.iter().map(|b| b.load(Ordering::Relaxed)).collect();
        let total: u64 = buckets.iter().sum();
        if total == 0 {
            return 0;
        }
        let target = total - total / 100;
        let mut seen = 0;
        for (i, count) in buckets.iter().enumerate() {
            seen += count;
            if seen >= target {
                return 1 << i;
            }
        }
        1 << (ANSWER_LATENCY_BUCKETS - 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_report_lists_the_deepest_queues_first_and_sums_them() {
        let stats = ConversationStats::default();
        stats.handled(Duration::from_micros(100));
        stats.handled(Duration::from_micros(300));
        let depths = [("62***1".to_string(), 1), ("62***2".to_string(), 5)].into_iter();
        let report = stats.report(depths, 256);
        assert_eq!((report.active, report.queued, report.answered), (2, 6, 2));
        assert_eq!(report.deepest[0], ("62***2".to_string(), 5));
        assert_eq!(report.answer_mean_micros, 200);
        assert_eq!(report.answer_p99_micros, 512, "300 µs falls in the bucket under 2^9");
    }
}
