//! The commit loop. Up to `PIPELINE_BATCHES_MAX` batches are in the store at once: while one
//! writes, the next starts writing the rows the first does not touch (the store decides which,
//! see `Sink`). Batches still settle strictly in order: a batch commits only after the one before
//! it did, and a batch whose predecessor failed is rolled back and its submissions run again.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Instant;

use futures::future::FutureExt;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

use super::{
    ActorKey, Earlier, Entries, Incarnation, JournalError, JournalSettings, JournalStats, Origin, Sink, SinkError,
};
use super::{Submission, Waiter};
use crate::journal::{Entry, Record};

/// Batches in the store at once: one committing, one writing behind it. More would only queue
/// behind the same rows (every batch of a flash sale touches the hot product's row).
pub const PIPELINE_BATCHES_MAX: usize = 2;

/// One submission's place in a batch.
struct Part<R> {
    range: std::ops::Range<usize>,
    submission: Submission<R>,
}

/// What a batch's writing task hands back: its entries, and whether the store committed them.
type Written<R> = (Entries<R>, Result<(), SinkError>);

/// A batch in the store.
struct Flight<R> {
    task: JoinHandle<Written<R>>,
    parts: Vec<Part<R>>,
}

pub(super) struct Runner<R> {
    pub(super) rx: mpsc::Receiver<Submission<R>>,
    pub(super) sink: Arc<dyn Sink<R>>,
    pub(super) settings: JournalSettings,
    pub(super) stats: Arc<JournalStats>,
    /// Per actor, the newest incarnation whose submissions are refused.
    pub(super) fence: HashMap<ActorKey, Incarnation>,
    pub(super) fenced_tx: mpsc::UnboundedSender<Vec<ActorKey>>,
    /// Why the store refused this process as a writer, once it has (`SinkError::Fenced`): from
    /// then on every submission fails unsent, and nothing is retried.
    pub(super) writer_fenced: Option<SinkError>,
}

/// How a new batch follows the one launched before it.
struct Chain {
    /// Resolves when the previous batch is settled (`true`: committed).
    earlier: Earlier,
    /// Resolves once the previous batch's `Sink::commit` has been called, so calls are made in
    /// batch order even if their tasks start out of order.
    called: Option<oneshot::Receiver<()>>,
}

impl Chain {
    fn fresh() -> Chain {
        Chain { earlier: futures::future::ready(true).boxed(), called: None }
    }
}

impl<R: Record> Runner<R> {
    pub(super) async fn run(mut self) {
        let mut filling = Filling::default();
        let mut flights: VecDeque<Flight<R>> = VecDeque::new();
        let mut chain = Chain::fresh();
        let mut open = true;
        // The callers of the batch launched last, which the next one's gathering follows.
        let mut previous_awaited = 0;
        loop {
            // One reading of the clock decides both whether to launch and how long to wait: read
            // twice, a window closing between the readings left the loop waiting on nothing
            // while callers waited on it (until an unrelated submission woke it, if ever).
            let now = tokio::time::Instant::now();
            let sizes = Sizes { max: self.settings.batch_events_max, previous_awaited };
            if should_launch(&filling, flights.len(), open, sizes, now) {
                let batch = std::mem::take(&mut filling);
                previous_awaited = batch.awaited;
                if let Some(flight) = self.launch(batch.submissions, &mut chain) {
                    flights.push_back(flight);
                }
                continue;
            }
            if !open && filling.submissions.is_empty() && flights.is_empty() {
                break;
            }
            let room = open && filling.events < self.settings.batch_events_max;
            let deadline = wait_until(&filling, now);
            tokio::select! {
                biased;
                settled = async { (&mut flights.front_mut().expect("guarded").task).await }, if !flights.is_empty() => {
                    let flight = flights.pop_front().expect("guarded");
                    let (events, result) = settled.unwrap_or_else(|panic| {
                        (Entries::default(), Err(SinkError::Unavailable(format!("journal writer panicked: {panic}"))))
                    });
                    if let Some(retry) = self.settle(flight.parts, events, result, &mut flights).await {
                        // Everything after a failed batch was rolled back: it runs again, first.
                        let mut again = Filling::default();
                        for submission in retry.into_iter().chain(std::mem::take(&mut filling).submissions) {
                            again.push(submission, self.settings.batch_window);
                        }
                        filling = again;
                        chain = Chain::fresh();
                    }
                }
                next = self.rx.recv(), if room => match next {
                    Some(submission) => filling.push(submission, self.settings.batch_window),
                    None => open = false,
                },
                _ = tokio::time::sleep_until(deadline.unwrap_or_else(tokio::time::Instant::now)), if deadline.is_some() => {}
            }
        }
        tracing::debug!("journal stopped: every handle dropped");
    }

    /// A fence is never lifted: an old incarnation may still be draining its mailbox after a new
    /// one has started, and must not write. (One entry per actor that ever failed a commit.)
    fn is_fenced(&self, origin: &Option<Origin>) -> bool {
        let Some((key, incarnation)) = origin else { return false };
        self.fence.get(key).is_some_and(|fenced| incarnation <= fenced)
    }

    fn is_blocked(&self, submission: &Submission<R>) -> bool {
        self.is_fenced(&submission.origin)
            || submission.depends_on.iter().any(|dependency| self.is_fenced(&Some(dependency.clone())))
    }

    /// Refuses a blocked submission. Its actor already applied the change in memory, so the actor
    /// is fenced too (if it was not yet: a change refused for a failed dependency fences its own
    /// maker), and reported, to be reloaded from the store.
    fn refuse(&mut self, submission: Submission<R>) {
        self.stats.submissions_fenced.fetch_add(1, Ordering::Relaxed);
        if let Some((key, incarnation)) = &submission.origin {
            if !self.is_fenced(&submission.origin) {
                let fenced = self.fence.entry(key.clone()).or_insert(*incarnation);
                *fenced = (*fenced).max(*incarnation);
                let _ = self.fenced_tx.send(vec![key.clone()]);
            }
        }
        submission.done.send(Err(JournalError::Fenced));
    }

    /// Sends a batch to the store behind the previous one; the next batch will follow this one.
    fn launch(&mut self, batch: Vec<Submission<R>>, chain: &mut Chain) -> Option<Flight<R>> {
        if let Some(error) = self.writer_fenced.clone() {
            self.fail(batch.into_iter().map(|s| (s.origin, s.done)).collect(), error);
            return None;
        }
        let mut events = Vec::with_capacity(batch.iter().map(|s| s.entries.len()).sum());
        let mut parts = Vec::with_capacity(batch.len());
        for mut submission in batch {
            if self.is_blocked(&submission) {
                self.refuse(submission);
                continue;
            }
            let start = events.len();
            events.append(&mut submission.entries);
            parts.push(Part { range: start..events.len(), submission });
        }
        if parts.is_empty() {
            return None;
        }
        let events: Entries<R> = Arc::new(events);
        let (settled_tx, settled_rx) = oneshot::channel();
        let (called_tx, called_rx) = oneshot::channel();
        let before =
            std::mem::replace(&mut chain.earlier, settled_rx.map(|committed| committed.unwrap_or(false)).boxed());
        let previous_called = chain.called.replace(called_rx);
        let sink = self.sink.clone();
        let stats = self.stats.clone();
        let offload = events.len() >= self.settings.writer_thread_events_min;
        let writing = async move {
            if let Some(previous) = previous_called {
                let _ = previous.await;
            }
            let result = if events.is_empty() {
                // Nothing to write (a flush): settled when everything before it is.
                let _ = called_tx.send(());
                if before.await {
                    Ok(())
                } else {
                    Err(SinkError::EarlierFailed)
                }
            } else {
                let started = Instant::now();
                let writing = sink.commit(&events, before);
                let _ = called_tx.send(());
                let result = writing.await;
                stats.record(events.len(), started, &result);
                result
            };
            let _ = settled_tx.send(result.is_ok());
            (events, result)
        };
        let task = match offload {
            true => super::writer_thread::spawn(writing),
            false => tokio::spawn(writing),
        };
        Some(Flight { task, parts })
    }

    /// Resolves a settled batch's tickets. After a failure, waits out the batches behind it (they
    /// roll back) and returns their submissions, to run again.
    async fn settle(
        &mut self,
        parts: Vec<Part<R>>,
        events: Entries<R>,
        result: Result<(), SinkError>,
        flights: &mut VecDeque<Flight<R>>,
    ) -> Option<Vec<Submission<R>>> {
        let error = match result {
            Ok(()) => {
                for part in parts {
                    part.submission.done.send(Ok(()));
                }
                return None;
            }
            Err(error) => error,
        };
        let mut retry = Vec::new();
        while let Some(behind) = flights.pop_front() {
            match behind.task.await {
                Ok((events, _)) => retry.extend(restore(behind.parts, unshared(events))),
                Err(panic) => {
                    let lost = behind.parts.into_iter().map(|part| (part.submission.origin, part.submission.done));
                    self.fail(lost.collect(), SinkError::Unavailable(format!("journal writer panicked: {panic}")));
                }
            }
        }
        match error {
            SinkError::EarlierFailed => {
                retry.splice(0..0, restore(parts, unshared(events)));
            }
            SinkError::Refused(reason) if parts.len() > 1 => {
                // One bad submission must not fail its neighbours: commit them one by one.
                tracing::warn!(%reason, submissions = parts.len(), "batch refused; committing its submissions one by one");
                for part in parts {
                    if self.is_blocked(&part.submission) {
                        self.refuse(part.submission);
                        continue;
                    }
                    let alone = Arc::new(events[part.range.clone()].to_vec());
                    let started = Instant::now();
                    let result = self.sink.commit(&alone, futures::future::ready(true).boxed()).await;
                    self.stats.record(alone.len(), started, &result);
                    match result {
                        Ok(()) => {
                            part.submission.done.send(Ok(()));
                        }
                        Err(error) => self.fail(vec![(part.submission.origin, part.submission.done)], error),
                    }
                }
            }
            error => {
                let failed = parts.into_iter().map(|part| (part.submission.origin, part.submission.done)).collect();
                self.fail(failed, error);
            }
        }
        if let Some(error) = self.writer_fenced.clone() {
            // Rolled back behind a fenced batch: sent again, they would be refused the same way.
            self.fail(retry.into_iter().map(|s| (s.origin, s.done)).collect(), error);
            return Some(Vec::new());
        }
        Some(retry)
    }

    fn fail(&mut self, failed: Vec<Waiter>, error: SinkError) {
        if matches!(error, SinkError::Fenced(_)) && self.writer_fenced.is_none() {
            tracing::error!(%error, "the store refused this process as a writer; every later change fails unsent");
            self.stats.writer_fenced.store(true, Ordering::Relaxed);
            self.writer_fenced = Some(error.clone());
        }
        let mut keys = Vec::new();
        for (origin, done) in failed {
            if let Some((key, incarnation)) = origin {
                let fenced = self.fence.entry(key.clone()).or_insert(incarnation);
                *fenced = (*fenced).max(incarnation);
                keys.push(key);
            }
            done.send(Err(JournalError::CommitFailed(error.to_string())));
        }
        keys.sort();
        keys.dedup();
        if !keys.is_empty() {
            let _ = self.fenced_tx.send(keys);
        }
    }
}

/// Gives each submission of a batch its entries back, to be sent again.
/// A failed batch's entries, whole again: a sink keeps a batch only once it is committed, so they
/// are the journal's alone (a copy otherwise, never a loss).
fn unshared<R: Record>(events: Entries<R>) -> Vec<Entry<R>> {
    Arc::try_unwrap(events).unwrap_or_else(|kept| kept.as_ref().clone())
}

fn restore<R>(parts: Vec<Part<R>>, mut events: Vec<Entry<R>>) -> Vec<Submission<R>> {
    assert_eq!(events.len(), parts.last().map_or(0, |part| part.range.end), "a batch's events come back whole");
    let mut rest = events.drain(..);
    parts
        .into_iter()
        .map(|mut part| {
            part.submission.entries = rest.by_ref().take(part.range.len()).collect();
            part.submission
        })
        .collect()
}

mod pacing;
#[cfg(test)]
mod tests;

#[cfg(test)]
use pacing::BATCH_GATHER_CALLERS_MIN;
#[cfg(test)]
pub(super) use pacing::BATCH_GATHER_MICROS_MAX;
use pacing::{should_launch, wait_until, Filling, Sizes};
