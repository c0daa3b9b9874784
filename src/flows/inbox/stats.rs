//! What ops can see of the conversations: each customer's actor reports as every actor does
//! (`ActorStats`: mailbox depth and capacity, messages handled, p99 handling time, rate), and
//! the totals over every conversation that ever ran (`KindTotals`).

use serde::Serialize;
use warung_actors::runtime::{KindTotals, LATENCY_BUCKETS};

/// The conversations at one moment, for `/ops/gateway` (each one is in `/ops/actors`).
#[derive(Debug, Serialize)]
pub struct ConversationsReport {
    /// Customers with an actor: messages waiting or being answered.
    pub active: usize,
    /// Messages waiting or being answered, over every customer.
    pub queued: i64,
    pub answered: u64,
    pub answer_mean_micros: u64,
    /// The upper bound of the bucket holding the 99th percentile.
    pub answer_p99_micros: u64,
}

impl ConversationsReport {
    pub(super) fn of(totals: &KindTotals, active: usize, queued: i64) -> ConversationsReport {
        let answered = totals.handled();
        ConversationsReport {
            active,
            queued,
            answered,
            answer_mean_micros: totals.micros_sum().checked_div(answered).unwrap_or(0),
            answer_p99_micros: p99_micros(&totals.latency_buckets()),
        }
    }
}

/// The upper bound of the bucket holding the 99th percentile: bucket `i` counts handlings under
/// `2^i` microseconds.
fn p99_micros(buckets: &[u64; LATENCY_BUCKETS]) -> u64 {
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
    1 << (LATENCY_BUCKETS - 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_99th_percentile_is_the_bucket_that_holds_it() {
        let mut buckets = [0; LATENCY_BUCKETS];
        assert_eq!(p99_micros(&buckets), 0, "nothing answered yet");
        buckets[7] = 98;
        buckets[9] = 2;
        assert_eq!(p99_micros(&buckets), 512);
        buckets[7] = 990;
        assert_eq!(p99_micros(&buckets), 128);
    }
}
