//! What a supervisor counts of its actors' lives and messages, for the ops page and the metrics.

use std::sync::atomic::AtomicU64;
use std::sync::Arc;

use crate::runtime::KindTotals;

/// A supervisor's counts since it started.
#[derive(Debug, Default)]
pub struct SupervisorCounters {
    pub activated: AtomicU64,
    pub passivated: AtomicU64,
    pub reloaded_after_failed_commit: AtomicU64,
    /// Messages handled by every product actor that ever ran, and how long each took.
    pub products: Arc<KindTotals>,
    pub wallets: Arc<KindTotals>,
}

impl SupervisorCounters {
    /// Adds `other`'s counts to these (several supervisors' counts as one).
    pub fn add(&self, other: &SupervisorCounters) {
        use std::sync::atomic::Ordering::Relaxed;
        self.activated.fetch_add(other.activated.load(Relaxed), Relaxed);
        self.passivated.fetch_add(other.passivated.load(Relaxed), Relaxed);
        self.reloaded_after_failed_commit.fetch_add(other.reloaded_after_failed_commit.load(Relaxed), Relaxed);
        self.products.add(&other.products);
        self.wallets.add(&other.wallets);
    }
}
