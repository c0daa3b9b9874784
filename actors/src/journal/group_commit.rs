//! Group commit. Submissions are committed strictly in the order they were made, many per
//! transaction: a batch closes when it holds `batch_events_max` events or `batch_window` has
//! passed since its first submission. While one batch commits, the next one fills, and may start
//! writing (see `runner`).
//!
//! Guarantees:
//! - A ticket resolves `Ok` only after the transaction holding its events has committed.
//! - When a batch fails, every ticket in it resolves to an error, and every actor that had events
//!   in it is fenced: its later submissions from the same incarnation are refused, because they
//!   were computed from memory that included the lost events. The keys are reported so the
//!   supervisor can restart those actors from the store.

use std::collections::HashMap;
use std::fmt;
use std::hash::BuildHasher;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use futures::future::{BoxFuture, FutureExt};
use tokio::sync::mpsc;

use super::{Entry, Record};
use crate::domain::{CustomerId, ProductCode};

/// Submissions waiting for the journal; past this, actors answer "busy, try again" rather than
/// queue more work than the store can absorb.
pub const JOURNAL_QUEUE_SUBMISSIONS_MAX: usize = 65_536;

/// Slots of the journal's count of unsettled submissions per actor (`Journal::holds_changes_of`).
pub const IN_FLIGHT_SLOTS: usize = 65_536;

/// Events from which a batch is written from the journal's writer thread (`writer_thread`): the
/// lab's batches are about 250 events at 64 buyers in flight, where handing them over gained
/// nothing, and about 1,600 at 1,000 in flight, where it gained about an eighth (docs/benchmarks.md).
pub const JOURNAL_WRITER_THREAD_EVENTS_MIN: usize = 1_024;

/// Which actor made a submission (or, for the gateway's actors, which actor ops is shown).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ActorKey {
    Product(ProductCode),
    Wallet(CustomerId),
    /// A customer's conversation, in the gateway: it answers messages and never submits to the
    /// journal itself (what it changes goes through the product and wallet actors).
    Conversation(CustomerId),
    /// One of the application's long-lived actors kept running by the supervisor (the outbox
    /// sender, the QRIS sweep): never submits to the journal either.
    Service(&'static str),
}

impl fmt::Display for ActorKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ActorKey::Product(code) => write!(f, "product/{code}"),
            ActorKey::Wallet(customer) => write!(f, "wallet/{}", customer.masked()),
            ActorKey::Conversation(customer) => write!(f, "conversation/{}", customer.masked()),
            ActorKey::Service(name) => write!(f, "service/{name}"),
        }
    }
}

/// Each activation of an actor has a new incarnation number, increasing across the process.
pub type Incarnation = u64;

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum JournalError {
    #[error("the store did not commit this change: {0}")]
    CommitFailed(String),
    #[error("this actor's earlier change failed to commit; it is reloading")]
    Fenced,
    #[error("the journal queue is full")]
    Busy,
    #[error("the journal has stopped")]
    Closed,
}

#[derive(Clone, Debug, thiserror::Error)]
pub enum SinkError {
    /// The store could not be reached or the transaction was cut off: nothing in the batch is
    /// known to be stored.
    #[error("store unavailable: {0}")]
    Unavailable(String),
    /// The store refused the content (a constraint): some submission in the batch is bad.
    #[error("store refused the batch: {0}")]
    Refused(String),
    /// The batch before this one failed, so this one was rolled back unwritten.
    #[error("an earlier batch failed")]
    EarlierFailed,
    /// The store refused this process as a writer: another process has taken over its work
    /// (a cluster node declared dead, or restarted under the same name). Nothing in the batch
    /// was stored, and nothing this process submits from now on will be: the journal refuses
    /// every later submission without sending it, and the process must stop.
    #[error("this process may no longer write: {0}")]
    Fenced(String),
}

/// Resolves once the batch before is settled: `true` if it committed.
pub type Earlier = BoxFuture<'static, bool>;

/// The store, as the journal sees it: one transaction per call, all or nothing. `R` is the type
/// of the records attached to actors' events (see `Record`): the sink is the one that knows it.
///
/// Calls are made in batch order (the code of `commit` before its future runs in that order), and
/// a call may come before the previous one's future has finished. A sink
/// must not commit before `earlier` resolves, and must roll back with `EarlierFailed` if it
/// resolves `false`. Until then it may write the rows the earlier batch does not write (so two
/// transactions never wait on each other's rows: the later one touches shared rows only once the
/// earlier has committed), or simply wait (`after`).
pub trait Sink<R>: Send + Sync + 'static {
    fn commit<'a>(&'a self, entries: &'a Entries<R>, earlier: Earlier) -> BoxFuture<'a, Result<(), SinkError>>;
}

/// A batch's entries as a sink receives them: shared, so a sink that keeps a committed batch
/// (the log's projector writes it later) takes it without a copy. The journal takes them back
/// after a failure, to send them again; a sink keeps them only once they are committed.
pub type Entries<R> = Arc<Vec<Entry<R>>>;

/// For a sink that writes nothing until the batch before it has committed.
pub async fn after(earlier: Earlier) -> Result<(), SinkError> {
    if earlier.await {
        Ok(())
    } else {
        Err(SinkError::EarlierFailed)
    }
}

#[derive(Clone, Copy, Debug)]
pub struct JournalSettings {
    /// A batch closes at this many events (it may exceed it by one submission's events).
    pub batch_events_max: usize,
    /// A batch closes this long after its first submission, if not full before. Zero by default:
    /// a batch launches as soon as the one ahead has committed (or at once if none is in the
    /// store), and the submissions made meanwhile ride in it; group commit needs no wait of its
    /// own beyond the runner's (a submission someone waits for; half the group the batch before
    /// answered: `runner::pacing::should_launch`). Measured on Postgres at 64 buyers in flight:
    /// at 2 ms the rate halved (callers answered together come back together, and the window
    /// adds to the round); 0 was as fast as 500 µs or faster (docs/benchmarks.md, 2026-12-04).
    pub batch_window: Duration,
    /// A batch of at least this many events is written from the journal's writer thread, not
    /// from the thread that gathers batches (`writer_thread`); `usize::MAX`: never.
    pub writer_thread_events_min: usize,
}

impl Default for JournalSettings {
    fn default() -> Self {
        JournalSettings {
            batch_events_max: 4_096,
            batch_window: Duration::ZERO,
            writer_thread_events_min: JOURNAL_WRITER_THREAD_EVENTS_MIN,
        }
    }
}

type Outcome = Result<(), JournalError>;

/// How many submissions of each actor the journal holds unsettled (neither committed nor
/// failed), counted in a fixed number of slots by the key's hash: a fixed size however many
/// customers there are, and two actors sharing a slot only make one wait when it need not.
struct InFlight(Box<[AtomicU32]>);

impl InFlight {
    fn new() -> InFlight {
        InFlight((0..IN_FLIGHT_SLOTS).map(|_| AtomicU32::new(0)).collect())
    }

    fn slot(key: &ActorKey) -> usize {
        // Fixed-seeded (the same slot for a key at every call), as std's default hasher was; foldhash
        // because this runs for every event a batch holds.
        (foldhash::fast::FixedState::default().hash_one(key) % IN_FLIGHT_SLOTS as u64) as usize
    }
}

/// Where a submission's outcome goes. Dropped once the outcome is sent (or never will be), which
/// counts the submission as settled.
pub(super) struct Done {
    resolver: Option<Resolver>,
    counted: Option<(Arc<InFlight>, usize)>,
}

impl Done {
    pub(super) fn send(mut self, outcome: Outcome) {
        self.resolver.take().expect("sent once").resolve(outcome);
    }
}

impl Drop for Done {
    fn drop(&mut self) {
        // Unsent (the journal stopped): resolved `Closed` before the count says it is settled.
        drop(self.resolver.take());
        if let Some((in_flight, slot)) = &self.counted {
            in_flight.0[*slot].fetch_sub(1, Ordering::AcqRel);
        }
    }
}

/// Who made a submission, and where its outcome goes.
type Waiter = (Option<Origin>, Done);

/// An actor incarnation: who made a change, or whose change another one depends on.
pub type Origin = (ActorKey, Incarnation);

/// Whether anyone waits for a submission to be stored before answering.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Awaited {
    /// A durable answer waits for it: its batch goes to the store as soon as the rules allow.
    Yes,
    /// Answered already (`ReplyWhen::Applied`, an intermediate step of a flow whose last step is
    /// durable): it rides with the next batch someone waits for, instead of launching one of its
    /// own that the flow's last step would then wait behind (see `runner::pacing::should_launch`).
    No,
}

struct Submission<R> {
    awaited: Awaited,
    origin: Option<Origin>,
    /// Incarnations whose earlier changes this one needs: if any of them is fenced (its changes
    /// failed to commit), this submission fails too.
    depends_on: Vec<Origin>,
    entries: Vec<Entry<R>>,
    done: Done,
}

/// The journal of a store whose actors' events carry records of type `R` (see `Record`).
pub struct Journal<R> {
    tx: mpsc::Sender<Submission<R>>,
    stats: Arc<JournalStats>,
    next_incarnation: Arc<AtomicU64>,
    in_flight: Arc<InFlight>,
}

impl<R> Clone for Journal<R> {
    fn clone(&self) -> Self {
        Journal {
            tx: self.tx.clone(),
            stats: self.stats.clone(),
            next_incarnation: self.next_incarnation.clone(),
            in_flight: self.in_flight.clone(),
        }
    }
}

/// Room in the journal's queue, taken before an actor changes its state, so a full queue refuses
/// the command instead of losing a change already made in memory.
pub struct SubmitSlot<'a, R>(mpsc::Permit<'a, Submission<R>>, &'a Arc<InFlight>, Awaited);

impl<R> SubmitSlot<'_, R> {
    /// Says whether the submission's answer waits for it (`Awaited::Yes` unless told).
    pub fn awaited(mut self, awaited: Awaited) -> Self {
        self.2 = awaited;
        self
    }

    pub fn submit(self, origin: Option<Origin>, entries: Vec<Entry<R>>) -> Ticket {
        self.submit_after(origin, Vec::new(), entries)
    }

    /// Submits rows that must not be stored unless the changes of `depends_on` were.
    pub fn submit_after(self, origin: Option<Origin>, depends_on: Vec<Origin>, entries: Vec<Entry<R>>) -> Ticket {
        let (ticket, resolver) = ticket::ticket();
        let counted = origin.as_ref().map(|(key, _)| {
            let slot = InFlight::slot(key);
            self.1 .0[slot].fetch_add(1, Ordering::AcqRel);
            (self.1.clone(), slot)
        });
        self.0.send(Submission {
            awaited: self.2,
            origin,
            depends_on,
            entries,
            done: Done { resolver: Some(resolver), counted },
        });
        ticket
    }
}

impl<R: Record> Journal<R> {
    /// Starts the commit loop on the current tokio runtime. The receiver reports fenced actors.
    pub fn start(
        sink: Arc<dyn Sink<R>>,
        settings: JournalSettings,
    ) -> (Journal<R>, mpsc::UnboundedReceiver<Vec<ActorKey>>) {
        Journal::start_with(sink, settings, |run| {
            tokio::spawn(run);
        })
    }

    /// Starts the commit loop with `spawn` (the supervisor gives it a thread of its own, so its
    /// round trips to the store are never queued behind other work).
    pub fn start_with(
        sink: Arc<dyn Sink<R>>,
        settings: JournalSettings,
        spawn: impl FnOnce(BoxFuture<'static, ()>),
    ) -> (Journal<R>, mpsc::UnboundedReceiver<Vec<ActorKey>>) {
        assert!(settings.batch_events_max > 0);
        let (tx, rx) = mpsc::channel(JOURNAL_QUEUE_SUBMISSIONS_MAX);
        let (fenced_tx, fenced_rx) = mpsc::unbounded_channel();
        let stats = Arc::new(JournalStats::default());
        let runner =
            Runner { rx, sink, settings, stats: stats.clone(), fence: HashMap::new(), fenced_tx, writer_fenced: None };
        spawn(runner.run().boxed());
        let in_flight = Arc::new(InFlight::new());
        (Journal { tx, stats, next_incarnation: Arc::new(AtomicU64::new(1)), in_flight }, fenced_rx)
    }

    pub fn try_slot(&self) -> Result<SubmitSlot<'_, R>, JournalError> {
        match self.tx.try_reserve() {
            Ok(permit) => Ok(SubmitSlot(permit, &self.in_flight, Awaited::Yes)),
            Err(mpsc::error::TrySendError::Full(())) => Err(JournalError::Busy),
            Err(mpsc::error::TrySendError::Closed(())) => Err(JournalError::Closed),
        }
    }

    /// Submits records that go with no actor's change (an order's new state, a payment), waiting
    /// for queue room.
    pub async fn submit_records(&self, records: Vec<R>) -> Ticket {
        let entries = records.into_iter().map(Entry::Attached).collect();
        match self.tx.reserve().await {
            Ok(permit) => SubmitSlot(permit, &self.in_flight, Awaited::Yes).submit(None, entries),
            Err(_) => Ticket::resolved(Err(JournalError::Closed)),
        }
    }

    /// Resolves once everything submitted before it has been committed (or has failed).
    pub async fn flush(&self) -> Outcome {
        self.submit_records(Vec::new()).await.await
    }

    /// Whether a submission of `key`'s actor may still be unsettled: false means every change it
    /// submitted has committed or failed, so the store shows all that will ever be stored of it
    /// (an activation need not flush the journal first). May be true when it is not (a shared slot).
    pub fn holds_changes_of(&self, key: &ActorKey) -> bool {
        self.in_flight.0[InFlight::slot(key)].load(Ordering::Acquire) > 0
    }

    pub fn next_incarnation(&self) -> Incarnation {
        self.next_incarnation.fetch_add(1, Ordering::Relaxed)
    }

    pub fn stats(&self) -> &JournalStats {
        &self.stats
    }

    /// Submissions waiting to be committed.
    pub fn queued(&self) -> usize {
        JOURNAL_QUEUE_SUBMISSIONS_MAX - self.tx.capacity()
    }
}

mod runner;
mod stats;
#[cfg(test)]
mod tests;
mod ticket;
mod writer_thread;

use runner::Runner;
pub use runner::PIPELINE_BATCHES_MAX;
pub use stats::JournalStats;
use ticket::Resolver;
pub use ticket::Ticket;
