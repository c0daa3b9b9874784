//! Where the projection stands against the log, in this process: what has been acknowledged
//! (appended and committed), what the tables already show, and the batches in between, in order.
//!
//! - `appended` is called once a batch's log record has committed, before its replies are
//!   released: so a read that begins after a reply finds it counted, and waits for it (`fresh`).
//! - `fresh_for` is the same for actors' activation: it waits only while those actors' own
//!   events are not in the tables yet (a flash sale's new buyers, never written, never wait).
//! - `room` is the journal's backpressure: it waits while the projection is too far behind.
//! - The projector takes the batches in order (`take_more_once_paused`) and reports them written
//!   (`projected`).
//!
//! `pending` holds the batches in between; `take_more_once_paused` chooses how many one
//! transaction takes, the larger bound once `Pending::appends_paused`.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use tokio::sync::{watch, Notify};
use tokio::time::Instant;
use warung_actors::journal::{ActorKey, Entries, Entry};

use super::limits::{Due, Pressure, ProjectionLimits};
use crate::records::ShopRecord;
pub use pending::Committed;
use pending::Pending;

/// How long a read waits for the projection to reach what was acknowledged before it began; past
/// it the read fails as if the store were unavailable (the projector is failing: its error is
/// logged and counted), rather than answer from tables that miss an acknowledged change.
pub const FRESH_READ_WAIT_SECS: u64 = 10;

/// Events the projector writes in one transaction on Postgres, at most (it may exceed it by one
/// batch). There the appends commit beside it; on SQLite they wait for it (see
/// `SQLITE_PROJECTION_TRANSACTION_EVENTS_MAX`).
pub const PROJECTION_TRANSACTION_EVENTS_MAX: usize = 50_000;

pub struct Projection {
    limits: ProjectionLimits,
    pending: Mutex<Pending>,
    /// Reads waiting for the tables (`reach`): the projector does not defer while there are any.
    readers: AtomicUsize,
    /// Projection transactions that failed (and were tried again).
    failures: std::sync::atomic::AtomicU64,
    /// The last `seq` the tables show.
    projected: watch::Sender<u64>,
    /// Wakes the projector when a batch is appended, or released from `hold`.
    appended_signal: Notify,
    /// While set, the projector takes nothing (see `hold`).
    held: std::sync::atomic::AtomicBool,
}

impl std::fmt::Debug for Projection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let lag = self.lag();
        f.debug_struct("Projection").field("lag_events", &lag.events).field("lag_ms", &lag.ms).finish()
    }
}

/// How far the tables are behind the log, in this process.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Lag {
    pub batches: u64,
    pub events: u64,
    /// Age of the oldest acknowledged batch not yet projected.
    pub ms: u64,
    pub appended_seq: u64,
    pub projected_seq: u64,
}

impl Default for Projection {
    fn default() -> Self {
        Projection::new(ProjectionLimits::default())
    }
}

impl Projection {
    pub fn new(limits: ProjectionLimits) -> Projection {
        Projection {
            limits,
            pending: Mutex::default(),
            readers: AtomicUsize::new(0),
            failures: Default::default(),
            projected: watch::Sender::new(0),
            appended_signal: Notify::new(),
            held: Default::default(),
        }
    }

    /// Counts a batch whose log record has committed, and queues it for the projector.
    pub fn appended(&self, position: i64, entries: Entries<ShopRecord>) {
        // A submission's events are its actor's, one after another: a key is built once per run
        // of them, not once per event.
        let mut actors: Vec<ActorKey> = Vec::new();
        let mut previous = None;
        for entry in entries.iter() {
            if let Entry::Event(event) = entry {
                let actor = event.actor_ref();
                if previous != Some(actor) {
                    previous = Some(actor);
                    actors.push(actor.to_key());
                }
            }
        }
        actors.sort_unstable();
        actors.dedup();
        let mut pending = self.pending.lock().expect("projection lock");
        let now = Instant::now();
        pending.appended_seq += 1;
        pending.events += entries.len() as u64;
        let seq = pending.appended_seq;
        let events = entries.len();
        for actor in &actors {
            pending.last_batch_of.insert(actor.clone(), seq);
        }
        pending.batches.push_back(Committed { seq, position, entries, events, actors, at: now });
        // The projector, deferring, looks again when its time comes; it is woken only when the
        // batch may change its decision.
        let first_untaken = pending.taken_seq + 1 == seq;
        let wake = first_untaken || self.limits.due(&pending.backlog(0), now) == Due::Now;
        drop(pending);
        if wake {
            self.appended_signal.notify_one();
        }
    }

    /// The bounds this projection keeps to (`database.projection_*`).
    pub fn limits(&self) -> ProjectionLimits {
        self.limits
    }

    pub fn lag(&self) -> Lag {
        let pending = self.pending.lock().expect("projection lock");
        Lag {
            batches: pending.batches.len() as u64,
            events: pending.events,
            ms: pending.batches.front().map_or(0, |b| b.at.elapsed().as_millis() as u64),
            appended_seq: pending.appended_seq,
            projected_seq: *self.projected.borrow(),
        }
    }

    /// Waits until the tables show every batch acknowledged before this call.
    pub async fn fresh(&self) -> Result<(), ProjectionBehind> {
        let target = self.pending.lock().expect("projection lock").appended_seq;
        self.reach(target).await
    }

    /// Waits until the tables show every event of these actors acknowledged before this call:
    /// what their activation reads (every row it reads back is one their own events wrote).
    pub async fn fresh_for(&self, actors: &[ActorKey]) -> Result<(), ProjectionBehind> {
        let target = {
            let pending = self.pending.lock().expect("projection lock");
            actors.iter().filter_map(|actor| pending.last_batch_of.get(actor).copied()).max()
        };
        match target {
            Some(target) => self.reach(target).await,
            None => Ok(()),
        }
    }

    async fn reach(&self, target: u64) -> Result<(), ProjectionBehind> {
        let mut projected = self.projected.subscribe();
        if *projected.borrow() >= target {
            return Ok(());
        }
        // Counted while it waits, however the wait ends: the projector stops deferring for it.
        let _waiting = Waiting::start(self);
        let reached = tokio::time::timeout(Duration::from_secs(FRESH_READ_WAIT_SECS), async {
            let _ = projected.wait_for(|seq| *seq >= target).await;
        })
        .await;
        reached.map_err(|_| ProjectionBehind(self.lag()))
    }

    /// Brakes past half a bound of the lag (`ProjectionLimits::pressure`), and waits while the
    /// projection is further behind than its limits allow; fails after
    /// `FRESH_READ_WAIT_SECS` (the projector is failing), so the journal's callers hear "try
    /// again" instead of waiting without end. The append that called it holds what it returns
    /// until it has ended, counted as under way.
    pub async fn room(&self) -> Result<Appending<'_>, ProjectionBehind> {
        let mut projected = self.projected.subscribe();
        let deadline = tokio::time::Instant::now() + Duration::from_secs(FRESH_READ_WAIT_SECS);
        loop {
            let lag = self.lag();
            match self.limits.pressure(lag.events, lag.ms) {
                Pressure::None => break,
                Pressure::Brake(wait) => {
                    tokio::time::sleep(wait).await;
                    break;
                }
                Pressure::Full if tokio::time::Instant::now() >= deadline => return Err(ProjectionBehind(lag)),
                // Woken when the projector moves; checked again at least every 10 ms for the age limit.
                Pressure::Full => drop(tokio::time::timeout(Duration::from_millis(10), projected.changed()).await),
            }
        }
        self.begin_append();
        Ok(Appending(self))
    }

    /// Counts an append under way; one that begins after a pause (no append under way for
    /// `PROJECTION_QUIET_MS`) starts a new run, which the projector may wait for the end of again.
    fn begin_append(&self) {
        let mut pending = self.pending.lock().expect("projection lock");
        if pending.appends_paused() {
            pending.catching_up = false;
        }
        pending.appending += 1;
        pending.idle_since = None;
    }

    /// Whether the projector is held (`hold`).
    pub fn is_held(&self) -> bool {
        self.held.load(Ordering::Acquire)
    }

    /// As `take_more_once_paused` with one bound whether or not the appends have paused.
    #[cfg(test)]
    pub async fn take(&self, events_max: usize) -> Vec<(u64, i64, Entries<ShopRecord>)> {
        self.take_more_once_paused(events_max, events_max).await
    }

    /// The next batches to project, oldest first, up to `events_max` events (at least one
    /// batch), once they are due (`ProjectionLimits::due`); waits for one if there is none. Once
    /// the appends have paused for `PROJECTION_QUIET_MS` (a burst's catch-up), up to
    /// `paused_events_max` instead: then no reply waits behind the transaction. The entries move
    /// to the caller, which keeps them until it has written them; they stay counted as pending
    /// until `projected`.
    pub async fn take_more_once_paused(
        &self,
        events_max: usize,
        paused_events_max: usize,
    ) -> Vec<(u64, i64, Entries<ShopRecord>)> {
        loop {
            let notified = self.appended_signal.notified();
            let mut look_again = None;
            if !self.held.load(Ordering::Acquire) {
                let mut pending = self.pending.lock().expect("projection lock");
                let backlog = pending.backlog(self.readers.load(Ordering::Acquire));
                match self.limits.due(&backlog, Instant::now()) {
                    Due::Now => {
                        let events_max = match pending.appends_paused() {
                            true => paused_events_max,
                            false => events_max,
                        };
                        return pending.take(events_max);
                    }
                    Due::In(wait) => look_again = Some(wait),
                    Due::Nothing => {}
                }
            }
            match look_again {
                Some(wait) => drop(tokio::time::timeout(wait, notified).await),
                None => notified.await,
            }
        }
    }

    /// Stops the projector taking batches, or lets it go on: the tables then stay as they are
    /// while the log grows (and past the lag limits the journal waits). For tests that stop a
    /// process between a batch's log commit and its projection.
    pub fn hold(&self, held: bool) {
        self.held.store(held, Ordering::Release);
        self.appended_signal.notify_one();
    }

    /// Counts a projection transaction that failed.
    pub fn failed(&self) {
        self.failures.fetch_add(1, Ordering::Relaxed);
    }

    pub fn failures(&self) -> u64 {
        self.failures.load(Ordering::Relaxed)
    }

    /// The tables now show every batch up to `seq`.
    pub fn projected(&self, seq: u64) {
        let mut pending = self.pending.lock().expect("projection lock");
        while pending.batches.front().is_some_and(|b| b.seq <= seq) {
            let batch = pending.batches.pop_front().expect("checked");
            pending.events -= batch.events as u64;
            for actor in batch.actors {
                if pending.last_batch_of.get(&actor) == Some(&batch.seq) {
                    pending.last_batch_of.remove(&actor);
                }
            }
        }
        drop(pending);
        self.projected.send_if_modified(|at| {
            let moved = seq > *at;
            *at = (*at).max(seq);
            moved
        });
    }
}

/// An append under way, from `room` until dropped.
pub struct Appending<'p>(&'p Projection);

impl Drop for Appending<'_> {
    fn drop(&mut self) {
        let mut pending = self.0.pending.lock().expect("projection lock");
        pending.appending -= 1;
        if pending.appending == 0 {
            pending.idle_since = Some(Instant::now());
        }
    }
}

/// A read waiting in `reach`, counted from `start` until dropped.
struct Waiting<'p>(&'p Projection);

impl<'p> Waiting<'p> {
    fn start(projection: &'p Projection) -> Waiting<'p> {
        projection.readers.fetch_add(1, Ordering::AcqRel);
        projection.appended_signal.notify_one();
        Waiting(projection)
    }
}

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.0.readers.fetch_sub(1, Ordering::AcqRel);
    }
}

#[derive(Clone, Copy, Debug, thiserror::Error)]
#[error(
    "the tables are behind the journal's log ({} events, oldest {} ms) and did not catch up in time",
    .0.events,
    .0.ms
)]
pub struct ProjectionBehind(pub Lag);

mod pending;
#[cfg(test)]
mod tests;
