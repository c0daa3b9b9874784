//! What a journal counts of its batches, for the ops page, the metrics and the alerts.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use super::SinkError;

/// A journal's figures since it started.
#[derive(Debug, Default)]
pub struct JournalStats {
    pub batches_committed: AtomicU64,
    pub batches_failed: AtomicU64,
    pub events_committed: AtomicU64,
    pub submissions_fenced: AtomicU64,
    pub last_batch_events: AtomicU64,
    pub last_commit_micros: AtomicU64,
    pub commit_micros_total: AtomicU64,
    /// The store has refused this process as a writer (`SinkError::Fenced`); never reset.
    pub writer_fenced: AtomicBool,
}

impl JournalStats {
    /// Adds `other`'s figures to these (several journals' figures as one): counts are summed,
    /// the last batch's figures are the larger of the two, and a fenced writer stays fenced.
    pub fn add(&self, other: &JournalStats) {
        let sum =
            |mine: &AtomicU64, theirs: &AtomicU64| mine.fetch_add(theirs.load(Ordering::Relaxed), Ordering::Relaxed);
        let max =
            |mine: &AtomicU64, theirs: &AtomicU64| mine.fetch_max(theirs.load(Ordering::Relaxed), Ordering::Relaxed);
        sum(&self.batches_committed, &other.batches_committed);
        sum(&self.batches_failed, &other.batches_failed);
        sum(&self.events_committed, &other.events_committed);
        sum(&self.submissions_fenced, &other.submissions_fenced);
        sum(&self.commit_micros_total, &other.commit_micros_total);
        max(&self.last_batch_events, &other.last_batch_events);
        max(&self.last_commit_micros, &other.last_commit_micros);
        self.writer_fenced.fetch_or(other.writer_fenced.load(Ordering::Relaxed), Ordering::Relaxed);
    }

    /// Counts a batch the store has answered for: committed, failed, or not tried (behind one
    /// that failed).
    pub(super) fn record(&self, events: usize, started: std::time::Instant, result: &Result<(), SinkError>) {
        let micros = started.elapsed().as_micros() as u64;
        self.last_commit_micros.store(micros, Ordering::Relaxed);
        match result {
            Ok(()) => {
                self.batches_committed.fetch_add(1, Ordering::Relaxed);
                self.events_committed.fetch_add(events as u64, Ordering::Relaxed);
                self.last_batch_events.store(events as u64, Ordering::Relaxed);
                self.commit_micros_total.fetch_add(micros, Ordering::Relaxed);
            }
            Err(SinkError::EarlierFailed) => {}
            Err(error) => {
                self.batches_failed.fetch_add(1, Ordering::Relaxed);
                tracing::error!(%error, events, "journal batch failed to commit");
            }
        }
    }
}
