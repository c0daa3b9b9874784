//! The outbox sender: delivers queued messages through the Graph API, oldest first, one at a
//! time per customer (so a customer reads replies in the order they were written) and many
//! customers at once, paced to the number's throughput.
//!
//! Guarantees: an entry marked sent is never sent again; an entry is retried with backoff on
//! timeouts and 5xx, waits out Meta's rate limits (130429 pauses every send, 131056 only that
//! customer's queue), and is given up only when Meta refuses it for good or it runs out of
//! attempts. A restart resumes from the table. The one case where a customer may get a message
//! twice: the process dies after Meta accepted it and before the table says so.

use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use actix::{Actor, ActorFutureExt, AsyncContext, AtomicResponse, Context, Handler, Message, SpawnHandle, WrapFuture};
use futures::{FutureExt, StreamExt};
use serde::Serialize;
use tokio::time::Instant;
use warung_actors::domain::Clock;
use warung_actors::runtime::ActorStats;
use warung_actors::supervisor::Service;

use crate::infra::counters::{bump, GatewayCounters};
use crate::providers::whatsapp::{GraphClient, Outbound, SendError};
use crate::records::Supervisor;
use crate::store::{OutboxRow, Store};
use pace::Pace;

mod pace;

/// The outbox kind of a WhatsApp message.
pub const WHATSAPP_KIND: &str = "whatsapp";

/// Customers' due entries sent per round (each customer's first unsent one); the rest are picked
/// up by the next round, at once.
const OUTBOX_ROUND_ENTRIES_MAX: i64 = 1_000;

/// The sender's name among the supervisor's services.
pub const OUTBOX_SENDER: &str = "outbox-sender";

/// Wakes from new entries in the sender's mailbox, the running one included. Wakes that come
/// while one waits are that one, so two are the most there can be; past this a wake is refused
/// and logged, and the entries are sent by the sender's own timer (at most `OUTBOX_IDLE_POLL_MS`
/// later).
const OUTBOX_SENDER_MAILBOX_MAX: usize = 2;

/// Sends in flight at once.
const OUTBOX_SENDS_IN_FLIGHT_MAX: usize = 32;

/// How long a sender holds an entry it is sending; if it dies, the entry is due again after this.
const OUTBOX_CLAIM_MS: i64 = 60_000;

/// Attempts at a temporary failure before the entry is given up (backoff doubles from
/// OUTBOX_BACKOFF_FIRST_MS to OUTBOX_BACKOFF_MAX_MS: about two hours in all).
const OUTBOX_ATTEMPTS_MAX: i64 = 30;
const OUTBOX_BACKOFF_FIRST_MS: i64 = 1_000;
const OUTBOX_BACKOFF_MAX_MS: i64 = 300_000;

/// Meta's pair limit (131056) asks for 4^n seconds between retries; n stops growing here.
const PAIR_LIMIT_EXPONENT_MAX: u32 = 5;

/// Attempts at an entry Meta keeps refusing for the pair limit (about an hour in all, 4^n s up
/// to 4^PAIR_LIMIT_EXPONENT_MAX each) before it is given up: the customer's later replies go on.
const PAIR_LIMIT_ATTEMPTS_MAX: i64 = 8;

/// Longest sleep when nothing is due: also the delay before an entry written by another
/// instance is noticed.
const OUTBOX_IDLE_POLL_MS: u64 = 1_000;

/// How long a stopping engine waits for the outbox's due entries to be sent before it exits
/// (what is left is sent at the next start).
pub const OUTBOX_SHUTDOWN_DRAIN_SECS: u64 = 10;

/// Waits until no unsent entry is due and none is being sent (entries waiting out a backoff or a
/// rate limit are not waited for), or `within` has passed; returns how many were still due or in
/// flight then. For a stopping engine: the sender keeps running meanwhile.
pub async fn wait_until_sent(store: &dyn Store, clock: Clock, within: Duration) -> usize {
    let deadline = Instant::now() + within;
    loop {
        let now = clock.now();
        let due = async {
            let due = store.due_outbox(now, OUTBOX_ROUND_ENTRIES_MAX).await?.len();
            Ok::<_, crate::store::StoreError>(due + store.outbox_in_flight(now).await? as usize)
        };
        let due = match due.await {
            Ok(due) => due,
            Err(error) => {
                tracing::warn!(%error, "outbox drain: the store could not be read; the rest is sent at the next start");
                return 0;
            }
        };
        if due == 0 || Instant::now() >= deadline {
            return due;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Wakes the sender when entries are written. Wakes that arrive while the sender is awake
/// are one wake: the mailbox holds at most one.
#[derive(Clone)]
pub struct OutboxSignal {
    sender: Service<OutboxSender>,
    woken: Arc<AtomicBool>,
    stats: Arc<SenderStats>,
}

impl OutboxSignal {
    pub fn wake(&self) {
        if !self.woken.swap(true, Ordering::AcqRel) {
            if let Err(error) = self.sender.send(Wake { by_timer: None }) {
                self.woken.store(false, Ordering::Release);
                tracing::warn!(%error, "the outbox sender could not be woken; its timer or its restart will send");
            }
        }
    }

    /// What ops can see of the sender.
    pub fn report(&self) -> SenderReport {
        SenderReport {
            wakes: self.stats.wakes.load(Ordering::Relaxed),
            last_wake_micros: self.stats.last_wake_micros.load(Ordering::Relaxed),
        }
    }
}

/// What ops can see of the sender.
#[derive(Debug, Default, Serialize)]
pub struct SenderReport {
    /// Times the sender woke and sent what was due.
    pub wakes: u64,
    /// How long its last wake took, sending included.
    pub last_wake_micros: u64,
}

#[derive(Default)]
struct SenderStats {
    wakes: AtomicU64,
    last_wake_micros: AtomicU64,
}

/// Starts the sender as a service the supervisor keeps running (a sender that dies is started
/// again, and its first act is a round: a wake it lost is not missed). With `may_send`, it sends
/// only while that says so (a cluster's one sender).
pub fn start(
    supervisor: &Supervisor,
    store: Arc<dyn Store>,
    client: GraphClient,
    messages_per_second: u32,
    counters: Arc<GatewayCounters>,
    may_send: Option<MaySend>,
) -> OutboxSignal {
    let clock = supervisor.clock();
    let pace = Arc::new(Pace::new(messages_per_second));
    let sender = Arc::new(Sender { may_send, store, client, clock, pace, counters });
    let woken = Arc::new(AtomicBool::new(false));
    let stats = Arc::new(SenderStats::default());
    let recipe = {
        let (woken, stats) = (woken.clone(), stats.clone());
        move |actor| OutboxSender {
            sender: sender.clone(),
            woken: woken.clone(),
            timer: None,
            timers_set: 0,
            stats: stats.clone(),
            actor,
        }
    };
    let sender = supervisor.keep_running(OUTBOX_SENDER, OUTBOX_SENDER_MAILBOX_MAX, recipe);
    OutboxSignal { sender, woken, stats }
}

/// The sender: one actor, so one round at a time. Woken by new entries, and by its own timer
/// when the next entry is due.
struct OutboxSender {
    sender: Arc<Sender>,
    woken: Arc<AtomicBool>,
    /// The wake it set for itself, cancelled when woken sooner, and that wake's number.
    timer: Option<(SpawnHandle, u64)>,
    /// The number of the latest timer set: actix cancels lazily, so a cancelled timer may still
    /// fire in the same turn; a wake with an older number is ignored.
    timers_set: u64,
    stats: Arc<SenderStats>,
    /// Its mailbox and handling times, as every actor's. Only wakes from new entries pass through
    /// the mailbox; the timer's are counted as handled, never as queued.
    actor: Arc<ActorStats>,
}

impl Actor for OutboxSender {
    type Context = Context<Self>;

    /// A sender started again after a crash may have lost a wake: it starts with a round.
    fn started(&mut self, ctx: &mut Context<Self>) {
        self.woken.store(false, Ordering::Release);
        self.set_timer(ctx, Duration::ZERO);
    }
}

impl OutboxSender {
    fn set_timer(&mut self, ctx: &mut Context<Self>, after: Duration) {
        self.timers_set += 1;
        let wake = Wake { by_timer: Some(self.timers_set) };
        self.timer = Some((ctx.notify_later(wake, after), self.timers_set));
    }
}

/// Send what is due. `by_timer`: the number of the sender's own wake, set for when the next entry
/// is due; `None` for a wake from new entries.
#[derive(Message)]
#[rtype(result = "()")]
struct Wake {
    by_timer: Option<u64>,
}

impl Handler<Wake> for OutboxSender {
    type Result = AtomicResponse<Self, ()>;

    fn handle(&mut self, wake: Wake, ctx: &mut Context<Self>) -> Self::Result {
        match (wake.by_timer, self.timer.take()) {
            // A timer cancelled when a wake came sooner, firing anyway: that wake did its work.
            (Some(number), current) if current.is_none_or(|(_, set)| set != number) => {
                self.timer = current;
                return AtomicResponse::new(Box::pin(actix::fut::ready(())));
            }
            (Some(_), _) => {}
            (None, Some((timer, _))) => {
                ctx.cancel_future(timer);
            }
            (None, None) => {}
        }
        self.woken.store(false, Ordering::Release);
        let (sender, stats) = (self.sender.clone(), self.stats.clone());
        let started = std::time::Instant::now();
        let sending = async move {
            let wait = sender.until_nothing_due().await;
            stats.wakes.fetch_add(1, Ordering::Relaxed);
            stats.last_wake_micros.store(started.elapsed().as_micros() as u64, Ordering::Relaxed);
            wait
        };
        let by_timer = wake.by_timer.is_some();
        AtomicResponse::new(Box::pin(sending.into_actor(self).map(move |wait, actor, ctx| {
            let (took, now) = (started.elapsed(), actor.sender.clock.now());
            if by_timer {
                actor.actor.ran(took, now);
            } else {
                actor.actor.handled(took, now);
            }
            actor.set_timer(ctx, wait);
        })))
    }
}

enum Round {
    SentSome,
    NextDueIn(Duration),
}

/// Whether this process may send now (in a cluster: while it holds the outbox lease).
pub type MaySend = Arc<dyn Fn() -> bool + Send + Sync>;

struct Sender {
    /// None: always (one process).
    may_send: Option<MaySend>,
    store: Arc<dyn Store>,
    client: GraphClient,
    clock: Clock,
    pace: Arc<Pace>,
    counters: Arc<GatewayCounters>,
}

impl Sender {
    /// Sends rounds until nothing is due; returns how long until something is. A round that
    /// fails (or panics: a bug) is logged and tried again after the idle poll.
    async fn until_nothing_due(&self) -> Duration {
        loop {
            match AssertUnwindSafe(self.round()).catch_unwind().await {
                Ok(Ok(Round::SentSome)) => continue,
                Ok(Ok(Round::NextDueIn(wait))) => return wait,
                Ok(Err(error)) => tracing::error!(%error, "outbox round failed; trying again"),
                Err(_) => tracing::error!("an outbox round panicked; trying again"),
            }
            return Duration::from_millis(OUTBOX_IDLE_POLL_MS);
        }
    }

    async fn round(&self) -> Result<Round, crate::store::StoreError> {
        let now = self.clock.now();
        if self.may_send.as_ref().is_some_and(|may_send| !may_send()) {
            // Another node sends; this one looks again in case the lease comes its way.
            return Ok(Round::NextDueIn(Duration::from_millis(OUTBOX_IDLE_POLL_MS)));
        }
        // Only a customer's oldest unsent entry may go; the rest wait behind it.
        let due = self.store.due_outbox(now, OUTBOX_ROUND_ENTRIES_MAX).await?;
        if due.is_empty() {
            let idle = now + OUTBOX_IDLE_POLL_MS as i64;
            let next_due = self.store.next_outbox_due().await?.unwrap_or(idle).min(idle);
            return Ok(Round::NextDueIn(Duration::from_millis((next_due - now).max(1) as u64)));
        }
        futures::stream::iter(due)
            .map(|row| self.deliver(row))
            .buffer_unordered(OUTBOX_SENDS_IN_FLIGHT_MAX)
            .for_each(|_| async {})
            .await;
        Ok(Round::SentSome)
    }

    #[tracing::instrument(name = "outbox.deliver", skip_all, fields(entry = row.id))]
    async fn deliver(&self, row: OutboxRow) {
        if let Err(error) = self.try_deliver(&row).await {
            // The claim lapses and the entry is due again.
            tracing::error!(%error, "outbox entry could not be updated");
        }
    }

    async fn try_deliver(&self, row: &OutboxRow) -> Result<(), crate::store::StoreError> {
        // A round can outlast the lease: each send checks it.
        if self.may_send.as_ref().is_some_and(|may_send| !may_send()) {
            return Ok(());
        }
        let message: Outbound = match serde_json::from_str(&row.payload) {
            Ok(message) => message,
            Err(error) => return self.store.outbox_failed(row.id, &format!("unreadable entry: {error}")).await,
        };
        if !self.store.claim_outbox(row, self.clock.now() + OUTBOX_CLAIM_MS).await? {
            return Ok(());
        }
        self.pace.wait_turn().await;
        let now = self.clock.now();
        let sent = self.client.send(&row.destination, &message).await;
        let calls = &self.counters.whatsapp_sends;
        bump(match &sent {
            Ok(_) => &calls.ok,
            Err(SendError::Throttled { .. } | SendError::PairLimited) => &calls.throttled,
            Err(SendError::Transient(_)) => &calls.unavailable,
            Err(SendError::Refused { .. }) => &calls.refused,
        });
        match &sent {
            Ok(_) => {}
            Err(SendError::Throttled { code, .. } | SendError::Refused { code, .. }) => calls.error(&code.to_string()),
            Err(SendError::PairLimited) => calls.error("131056"),
            Err(SendError::Transient(_)) => calls.error("transient"),
        }
        match sent {
            Ok(message_id) => self.store.outbox_sent(row.id, now, &message_id).await,
            Err(SendError::Throttled { pause, .. }) => {
                self.pace.pause(pause);
                tracing::warn!(?pause, "WhatsApp throughput limit hit; every send waits");
                self.store.outbox_retry(row.id, now + pause.as_millis() as i64, "throughput limit").await
            }
            Err(SendError::PairLimited) => match pair_limit_retry_ms(row.attempts) {
                Some(wait_ms) => self.store.outbox_retry(row.id, now + wait_ms, "pair rate limit").await,
                None => {
                    tracing::error!(attempts = row.attempts + 1, "message given up: the pair limit never lifted");
                    self.store.outbox_failed(row.id, "pair rate limit (131056): given up").await
                }
            },
            Err(SendError::Transient(why)) if row.attempts + 1 < OUTBOX_ATTEMPTS_MAX => {
                let backoff = (OUTBOX_BACKOFF_FIRST_MS << row.attempts.min(20)).min(OUTBOX_BACKOFF_MAX_MS);
                tracing::warn!(attempts = row.attempts + 1, backoff_ms = backoff, %why, "send failed; will retry");
                self.store.outbox_retry(row.id, now + backoff, &why).await
            }
            Err(error) => {
                tracing::error!(%error, attempts = row.attempts + 1, "message given up");
                self.store.outbox_failed(row.id, &error.to_string()).await
            }
        }
    }
}

/// How long an entry refused for the pair limit waits before its next attempt (Meta asks for 4^n
/// seconds), or `None` once it has had its PAIR_LIMIT_ATTEMPTS_MAX attempts.
fn pair_limit_retry_ms(attempts: i64) -> Option<i64> {
    if attempts + 1 >= PAIR_LIMIT_ATTEMPTS_MAX {
        return None;
    }
    let exponent = (attempts.max(0) as u32).min(PAIR_LIMIT_EXPONENT_MAX);
    Some(4_i64.pow(exponent) * 1_000)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pair_limit_is_waited_out_four_fold_then_given_up() {
        let waits: Vec<Option<i64>> = (0..PAIR_LIMIT_ATTEMPTS_MAX).map(pair_limit_retry_ms).collect();
        assert_eq!(&waits[..4], &[Some(1_000), Some(4_000), Some(16_000), Some(64_000)]);
        assert_eq!(waits[6], Some(4_i64.pow(PAIR_LIMIT_EXPONENT_MAX) * 1_000), "the wait stops growing");
        assert_eq!(waits[PAIR_LIMIT_ATTEMPTS_MAX as usize - 1], None, "then it is given up");
    }
}
