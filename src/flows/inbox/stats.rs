//! What ops can see of the conversations: each customer's actor reports as every actor does
//! (`ActorStats`: mailbox depth and capacity, messages handled, p99 handling time, rate), and
//! the totals over every conversation that ever ran (`KindTotals`).

use serde::Serialize;
use warung_actors::runtime::KindTotals;

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
            answer_p99_micros: totals.p99_micros(),
        }
    }
}
