//! Where the projection stands against the log, in this process: what has been acknowledged
//! (appended and committed), what the tables already show, and the batches in between, in order.
//!
//! - `appended` is called once a batch's log record has committed, before its replies are
//!   released: so a read that begins after a reply finds it counted, and waits for it (`fresh`).
//! - `fresh_for` is the same for actors' activation: it waits only while those actors' own
//!   events are not in the tables yet (a flash sale's new buyers, never written, never wait).
//! - `room` is the journal's backpressure: it waits while the projection is too far behind.
//! - The projector takes the batches in order (`take`) and reports them written (`projected`).

use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use foldhash::HashMap;
use tokio::sync::{watch, Notify};
use warung_actors::journal::{ActorKey, Entries, Entry};

use crate::records::ShopRecord;

/// Events acknowledged and not yet in the tables, at most; past it the journal waits before it
/// appends (so actors, once its queue is full, answer "busy"), rather than let the lag grow.
pub const PROJECTION_LAG_EVENTS_MAX: u64 = 200_000;

/// The oldest acknowledged batch not yet in the tables, at most this old; past it the journal
/// waits as above.
pub const PROJECTION_LAG_MS_MAX: u64 = 2_000;

/// How long a read waits for the projection to reach what was acknowledged before it began; past
/// it the read fails as if the store were unavailable (the projector is failing: its error is
/// logged and counted), rather than answer from tables that miss an acknowledged change.
pub const FRESH_READ_WAIT_SECS: u64 = 10;

/// Events the projector writes in one transaction, at most (it may exceed it by one batch).
pub const PROJECTION_TRANSACTION_EVENTS_MAX: usize = 50_000;

/// A batch whose log record has committed.
pub struct Committed {
    /// Its place in this process's order: 1, 2, 3...
    pub seq: u64,
    /// Its record's position in the log table.
    pub position: i64,
    /// Moved out to the projector when it takes the batch (`events` keeps the count).
    pub entries: Entries<ShopRecord>,
    pub events: usize,
    /// The actors whose events it holds, each once.
    pub actors: Vec<ActorKey>,
    pub at: Instant,
}

#[derive(Default)]
struct Pending {
    batches: VecDeque<Committed>,
    appended_seq: u64,
    /// The last batch handed to the projector.
    taken_seq: u64,
    /// Events in `batches`.
    events: u64,
    /// Per actor with events in `batches`: the `seq` of the last batch holding one.
    last_batch_of: HashMap<ActorKey, u64>,
}

pub struct Projection {
    pending: Mutex<Pending>,
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
        Projection {
            pending: Mutex::default(),
            failures: Default::default(),
            projected: watch::Sender::new(0),
            appended_signal: Notify::new(),
            held: Default::default(),
        }
    }
}

impl Projection {
    /// Counts a batch whose log record has committed, and queues it for the projector.
    pub fn appended(&self, position: i64, entries: Entries<ShopRecord>) {
        let mut actors: Vec<ActorKey> = entries
            .iter()
            .filter_map(|entry| match entry {
                Entry::Event(event) => Some(event.actor()),
                Entry::Attached(_) => None,
            })
            .collect();
        actors.sort_unstable();
        actors.dedup();
        let mut pending = self.pending.lock().expect("projection lock");
        pending.appended_seq += 1;
        pending.events += entries.len() as u64;
        let seq = pending.appended_seq;
        let events = entries.len();
        for actor in &actors {
            pending.last_batch_of.insert(actor.clone(), seq);
        }
        pending.batches.push_back(Committed { seq, position, entries, events, actors, at: Instant::now() });
        drop(pending);
        self.appended_signal.notify_one();
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
        let reached = tokio::time::timeout(Duration::from_secs(FRESH_READ_WAIT_SECS), async {
            let _ = projected.wait_for(|seq| *seq >= target).await;
        })
        .await;
        reached.map_err(|_| ProjectionBehind(self.lag()))
    }

    /// Waits while the projection is further behind than its limits allow; fails after
    /// `FRESH_READ_WAIT_SECS` (the projector is failing), so the journal's callers hear "try
    /// again" instead of waiting without end.
    pub async fn room(&self) -> Result<(), ProjectionBehind> {
        let mut projected = self.projected.subscribe();
        let deadline = tokio::time::Instant::now() + Duration::from_secs(FRESH_READ_WAIT_SECS);
        loop {
            let lag = self.lag();
            if lag.events <= PROJECTION_LAG_EVENTS_MAX && lag.ms <= PROJECTION_LAG_MS_MAX {
                return Ok(());
            }
            if tokio::time::Instant::now() >= deadline {
                return Err(ProjectionBehind(lag));
            }
            // Woken when the projector moves; checked again at least every 10 ms for the age limit.
            let _ = tokio::time::timeout(Duration::from_millis(10), projected.changed()).await;
        }
    }

    /// Whether the projector is held (`hold`).
    pub fn is_held(&self) -> bool {
        self.held.load(std::sync::atomic::Ordering::Acquire)
    }

    /// The next batches to project, oldest first, up to `PROJECTION_TRANSACTION_EVENTS_MAX`
    /// events (at least one batch); waits for one if there is none. Their entries move to the
    /// caller, which keeps them until it has written them; they stay counted as pending until
    /// `projected`.
    pub async fn take(&self) -> Vec<(u64, i64, Entries<ShopRecord>)> {
        loop {
            let notified = self.appended_signal.notified();
            if !self.held.load(std::sync::atomic::Ordering::Acquire) {
                let mut pending = self.pending.lock().expect("projection lock");
                let from = pending.taken_seq;
                let mut taken = Vec::new();
                let mut events = 0;
                for batch in pending.batches.iter_mut().filter(|b| b.seq > from) {
                    if !taken.is_empty() && events + batch.events > PROJECTION_TRANSACTION_EVENTS_MAX {
                        break;
                    }
                    events += batch.events;
                    taken.push((batch.seq, batch.position, std::mem::take(&mut batch.entries)));
                }
                if let Some(last) = taken.last() {
                    pending.taken_seq = last.0;
                }
                if !taken.is_empty() {
                    return taken;
                }
            }
            notified.await;
        }
    }

    /// Stops the projector taking batches, or lets it go on: the tables then stay as they are
    /// while the log grows (and past the lag limits the journal waits). For tests that stop a
    /// process between a batch's log commit and its projection.
    pub fn hold(&self, held: bool) {
        self.held.store(held, std::sync::atomic::Ordering::Release);
        self.appended_signal.notify_one();
    }

    /// Counts a projection transaction that failed.
    pub fn failed(&self) {
        self.failures.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }

    pub fn failures(&self) -> u64 {
        self.failures.load(std::sync::atomic::Ordering::Relaxed)
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

#[derive(Clone, Copy, Debug, thiserror::Error)]
#[error(
    "the tables are behind the journal's log ({} events, oldest {} ms) and did not catch up in time",
    .0.events,
    .0.ms
)]
pub struct ProjectionBehind(pub Lag);

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn a_read_waits_for_what_was_acknowledged_before_it_and_no_more() {
        let projection = std::sync::Arc::new(Projection::default());
        projection.fresh().await.expect("nothing acknowledged: no wait");
        projection.appended(1, Entries::default());
        projection.appended(2, Entries::default());
        let reader = {
            let projection = projection.clone();
            tokio::spawn(async move { projection.fresh().await })
        };
        tokio::task::yield_now().await;
        projection.projected(1);
        tokio::task::yield_now().await;
        assert!(!reader.is_finished(), "the second batch is not in the tables yet");
        let taken = projection.take().await;
        assert_eq!(taken.iter().map(|t| t.0).collect::<Vec<_>>(), vec![2]);
        projection.appended(3, Entries::default());
        projection.projected(2);
        reader.await.unwrap().expect("caught up with what was acknowledged before the read");
        assert_eq!(projection.lag().batches, 1);
    }

    fn wallet_change(customer: &str) -> Entry<ShopRecord> {
        use warung_actors::domain::{CustomerId, Money};
        use warung_actors::journal::{Event, WalletRow};
        let customer = CustomerId::parse(customer).unwrap();
        Entry::Event(Event::Wallet(WalletRow { customer, balance: Money::rupiah(1_000), updated_at: 1 }))
    }

    #[tokio::test(start_paused = true)]
    async fn an_activation_waits_for_its_own_actors_changes_only() {
        use warung_actors::domain::CustomerId;
        let projection = std::sync::Arc::new(Projection::default());
        projection.appended(1, std::sync::Arc::new(vec![wallet_change("6281100")]));
        projection.appended(2, std::sync::Arc::new(vec![wallet_change("6281200")]));
        let first = ActorKey::Wallet(CustomerId::parse("6281100").unwrap());
        let second = ActorKey::Wallet(CustomerId::parse("6281200").unwrap());
        let stranger = ActorKey::Wallet(CustomerId::parse("6281300").unwrap());
        projection
            .fresh_for(std::slice::from_ref(&stranger))
            .await
            .expect("a customer never written waits for nothing");

        let activation = {
            let projection = projection.clone();
            tokio::spawn(async move { projection.fresh_for(std::slice::from_ref(&second)).await })
        };
        projection.projected(1);
        projection.fresh_for(std::slice::from_ref(&first)).await.expect("the first customer's change is in the tables");
        tokio::task::yield_now().await;
        assert!(!activation.is_finished(), "the second customer's change is not in the tables yet");
        projection.projected(2);
        activation.await.unwrap().expect("projected");
        assert!(projection.pending.lock().unwrap().last_batch_of.is_empty(), "forgotten once projected");
    }

    #[tokio::test(start_paused = true)]
    async fn a_read_that_the_projection_never_reaches_fails_rather_than_answer_stale() {
        let projection = Projection::default();
        projection.appended(1, Entries::default());
        let behind = projection.fresh().await.unwrap_err();
        assert_eq!(behind.0.batches, 1);
    }
}
