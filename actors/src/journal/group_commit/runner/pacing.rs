//! When a batch goes to the store: the batch being filled, and the rule that launches it
//! (`should_launch`), which keeps both the engine and the store at work (docs/journal-log.md,
//! "When a batch goes to the store").

use super::PIPELINE_BATCHES_MAX;
use crate::journal::group_commit::{Awaited, Submission};

/// Longest a batch waits, with the store idle, for the rest of the callers that came back from
/// the batch before it (see `Sizes::gather`); past it, the batch launches with what it has. It
/// bounds what a fall in load costs once: the first batch after it waits this long at most.
pub const BATCH_GATHER_MICROS_MAX: u64 = 1_000;

/// The fewest callers worth gathering again: after a batch that answered fewer, the next launches
/// as soon as one of its callers waits, so a light load never waits.
pub const BATCH_GATHER_CALLERS_MIN: usize = 8;

/// The batch being filled.
pub(super) struct Filling<R> {
    pub(super) submissions: Vec<Submission<R>>,
    pub(super) events: usize,
    /// Submissions someone waits for (`Awaited::Yes`).
    pub(super) awaited: usize,
    /// The end of the batch's window (`JournalSettings::batch_window`).
    pub(super) deadline: Option<tokio::time::Instant>,
    /// The end of its wait for the rest of its group (`BATCH_GATHER_MICROS_MAX`).
    pub(super) gathered_by: Option<tokio::time::Instant>,
}

impl<R> Default for Filling<R> {
    fn default() -> Self {
        Filling { submissions: Vec::new(), events: 0, awaited: 0, deadline: None, gathered_by: None }
    }
}

impl<R> Filling<R> {
    pub(super) fn push(&mut self, submission: Submission<R>, window: std::time::Duration) {
        if self.deadline.is_none() {
            let now = tokio::time::Instant::now();
            self.deadline = Some(now + window);
            self.gathered_by = Some(now + window + std::time::Duration::from_micros(BATCH_GATHER_MICROS_MAX));
        }
        self.events += submission.entries.len();
        if submission.awaited == Awaited::Yes {
            self.awaited += 1;
        }
        self.submissions.push(submission);
    }
}

/// The sizes a batch launches at: the most events it holds, and how many callers the batch
/// launched before it answered.
#[derive(Clone, Copy, Debug)]
pub(super) struct Sizes {
    pub(super) max: usize,
    pub(super) previous_awaited: usize,
}

impl Sizes {
    /// With the store idle, a batch waits (up to `BATCH_GATHER_MICROS_MAX`) until half the callers
    /// of the batch before it are back. Callers answered together come back together: at 64
    /// buyers in flight, all 64 rode one batch, and the first of them to come back launched a
    /// batch of its own that the other 63 then waited behind, while the engine sat idle through
    /// every commit. Half a group launched, the other half fills behind it, and the engine works
    /// while the store commits.
    ///
    /// Callers, not events: a saldo sale's debit (answered at once) reaches the batch long before
    /// its commit (awaited), so counted by events one group's debits filled the other's gathering.
    /// A hot product's 64 buyers settled into batches of 9 and 55 sales, and the engine's work on
    /// the 55 outlasted a commit (docs/benchmarks.md, 2026-12-06).
    fn gather(self) -> usize {
        match self.previous_awaited >= BATCH_GATHER_CALLERS_MIN {
            true => self.previous_awaited / 2,
            false => 1,
        }
    }

    /// Behind a batch in the store, the next closes at half the most a batch holds, so the two
    /// overlap instead of the second being a sliver.
    fn behind(self) -> usize {
        self.max / 2
    }
}

/// A batch goes to the store when it is full; or, once its window has passed, when the store is
/// idle and it holds a submission someone waits for and enough of its group (or has waited long
/// enough for them); or, behind a batch already in the store, when it is worth a second writer
/// (`Sizes::behind`). A saldo sale's debit is answered at once and its commit waits for both:
/// launched alone, the debit cost every sale at a light load two commits one after the other.
pub(super) fn should_launch<R>(
    filling: &Filling<R>,
    in_flight: usize,
    open: bool,
    sizes: Sizes,
    now: tokio::time::Instant,
) -> bool {
    if filling.submissions.is_empty() || in_flight >= PIPELINE_BATCHES_MAX {
        return false;
    }
    if filling.events >= sizes.max || !open {
        return true;
    }
    let passed = |at: Option<tokio::time::Instant>| at.is_some_and(|at| at <= now);
    if !passed(filling.deadline) {
        return false;
    }
    match in_flight {
        0 => filling.awaited >= sizes.gather() || passed(filling.gathered_by),
        _ => filling.events >= sizes.behind(),
    }
}

/// When the loop must look again if nothing else happens: the end of the batch's window, or of
/// its wait for its group, whichever comes first and is still ahead. One already passed needs no
/// timer: the batch launches now, or when the batch ahead settles (which wakes the loop).
pub(super) fn wait_until<R>(filling: &Filling<R>, now: tokio::time::Instant) -> Option<tokio::time::Instant> {
    [filling.deadline, filling.gathered_by].into_iter().flatten().filter(|at| *at > now).min()
}
