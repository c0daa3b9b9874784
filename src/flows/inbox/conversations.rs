//! The customers being answered: each one's actor and the messages in its mailbox, under one
//! lock, so a message is never handed to an actor that is stopping.
//!
//! A dead actor (a panic outside the answer's own guard) is replaced by a new incarnation that is
//! handed the same waiting messages in the same order (answering one twice is harmless, see the
//! inbox), within the supervisor's restart budget. Past the budget the customer is parked: their
//! messages wait, in order, with no actor, until the budget's window ends; new ones queue behind
//! them. The supervisor's watch starts dead and parked ones again; a new message does it at once.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix::{Actor, Addr, Handler, Message};
use warung_actors::domain::{CustomerId, UnixMs};
use warung_actors::journal::ActorKey;
use warung_actors::runtime::{ActorReport, ActorStats, KindTotals};
use warung_actors::supervisor::{RestartBudget, Restarts};

use super::Queued;

/// Messages one customer may have waiting for an answer (their actor's mailbox). Past this, a
/// message stays recorded and unanswered until the next start: a flood from one customer does
/// not grow memory without end.
pub const CONVERSATION_QUEUED_MAX: usize = 256;

/// Answer this message (what a conversation's actor is sent).
#[derive(Message)]
#[rtype(result = "()")]
pub struct Answer(pub Queued);

/// Starts a customer's actor.
pub type Start<'a, A> = &'a dyn Fn(&CustomerId) -> Addr<A>;

pub struct Conversations<A: Actor + Handler<Answer>> {
    waiting: Mutex<HashMap<CustomerId, Waiting<A>>>,
    restarts: Restarts<CustomerId>,
    /// Answers counted over every conversation that ever ran.
    totals: Arc<KindTotals>,
    /// Each customer's actor is a new incarnation.
    incarnations: AtomicU64,
}

/// A customer's actor (none while parked) and what it has yet to answer, oldest first.
struct Waiting<A: Actor> {
    actor: Option<Addr<A>>,
    queued: Vec<Queued>,
    stats: Arc<ActorStats>,
}

impl<A: Actor> Waiting<A> {
    fn died(&self) -> bool {
        self.actor.as_ref().is_some_and(|actor| !actor.connected())
    }
}

/// What `push` did with a message.
#[derive(Debug, PartialEq, Eq)]
pub enum Pushed {
    Queued,
    /// Already waiting (resumed at start while the webhook also handed it over).
    AlreadyQueued,
    /// The customer's queue is full: answered at the next start.
    QueueFull,
    /// The customer's actor keeps dying: the message waits, in order, until the restart
    /// budget's window ends.
    Parked,
}

impl<A: Actor + Handler<Answer>> Conversations<A>
where
    A::Context: actix::dev::ToEnvelope<A, Answer>,
{
    pub fn new(budget: RestartBudget) -> Conversations<A> {
        Conversations {
            waiting: Mutex::new(HashMap::new()),
            restarts: Restarts::new(budget),
            totals: Arc::new(KindTotals::default()),
            incarnations: AtomicU64::new(0),
        }
    }

    /// Queues `message` behind its customer's earlier ones, starting their actor if they have
    /// none or it died.
    pub fn push(&self, message: Queued, now: UnixMs, start: Start<A>) -> Pushed {
        let customer = message.customer().clone();
        let mut all = self.waiting.lock().expect("conversations lock");
        let waiting = all.entry(customer.clone()).or_insert_with(|| self.parked(&customer, now));
        if waiting.queued.iter().any(|queued| queued.event_id == message.event_id) {
            return Pushed::AlreadyQueued;
        }
        if waiting.died() {
            self.bury(&customer, waiting, now);
        }
        if waiting.actor.is_none() {
            self.revive(&customer, waiting, now, start);
        }
        if !waiting.stats.try_enqueue() {
            return Pushed::QueueFull;
        }
        waiting.queued.push(message.clone());
        match &waiting.actor {
            Some(actor) => {
                actor.do_send(Answer(message));
                Pushed::Queued
            }
            None => Pushed::Parked,
        }
    }

    /// The message is answered: it leaves its customer's queue. Whether the customer has nothing
    /// more waiting, and their actor is to stop (removed here, under the same lock as `push`).
    pub fn answered(&self, customer: &CustomerId, event_id: &str, took: Duration, now: UnixMs) -> bool {
        let mut all = self.waiting.lock().expect("conversations lock");
        let Some(waiting) = all.get_mut(customer) else { return true };
        waiting.queued.retain(|queued| queued.event_id != event_id);
        waiting.stats.handled(took, now);
        if waiting.queued.is_empty() {
            waiting.stats.mark_stopped();
            all.remove(customer);
            return true;
        }
        false
    }

    /// Starts again every actor that died, and every parked one whose budget's window ended,
    /// with what it had yet to answer.
    pub fn restart_dead(&self, now: UnixMs, start: Start<A>) {
        let mut all = self.waiting.lock().expect("conversations lock");
        for (customer, waiting) in all.iter_mut() {
            if waiting.died() {
                self.bury(customer, waiting, now);
            }
            if waiting.actor.is_none() {
                self.revive(customer, waiting, now, start);
            }
        }
    }

    /// Counts a dead actor's crash and forgets it; its messages stay.
    fn bury(&self, customer: &CustomerId, waiting: &mut Waiting<A>, now: UnixMs) {
        waiting.stats.mark_stopped();
        waiting.actor = None;
        self.restarts.crashed(customer, now);
        match self.restarts.check(customer, now) {
            Ok(()) => tracing::error!(customer = %customer.masked(), waiting = waiting.queued.len(),
                "a conversation's actor died; starting it again with its waiting messages"),
            Err(error) => tracing::error!(customer = %customer.masked(), waiting = waiting.queued.len(), %error,
                "a conversation's actor keeps dying; its messages wait for the restart budget's window to end"),
        }
    }

    /// Starts an actor for a customer who has none, handing it what they have waiting, unless
    /// their restart budget is spent (then they stay parked).
    fn revive(&self, customer: &CustomerId, waiting: &mut Waiting<A>, now: UnixMs, start: Start<A>) {
        if self.restarts.check(customer, now).is_err() {
            return;
        }
        let incarnation = self.incarnations.fetch_add(1, Ordering::Relaxed) + 1;
        let stats = Arc::new(self.stats(customer, incarnation, now));
        let actor = start(customer);
        for message in &waiting.queued {
            stats.try_enqueue();
            actor.do_send(Answer(message.clone()));
        }
        waiting.actor = Some(actor);
        waiting.stats = stats;
    }

    /// A customer with no actor yet.
    fn parked(&self, customer: &CustomerId, now: UnixMs) -> Waiting<A> {
        Waiting { actor: None, queued: Vec::new(), stats: Arc::new(self.stats(customer, 0, now)) }
    }

    fn stats(&self, customer: &CustomerId, incarnation: u64, now: UnixMs) -> ActorStats {
        let key = ActorKey::Conversation(customer.clone());
        ActorStats::new(key, incarnation, CONVERSATION_QUEUED_MAX, now, self.totals.clone())
    }

    pub fn is_empty(&self) -> bool {
        self.waiting.lock().expect("conversations lock").is_empty()
    }

    /// Customers with an actor, and the messages waiting or being answered over all of them.
    pub fn sizes(&self) -> (usize, i64) {
        let all = self.waiting.lock().expect("conversations lock");
        (all.len(), all.values().map(|waiting| waiting.stats.depth()).sum())
    }

    pub fn totals(&self) -> &KindTotals {
        &self.totals
    }

    pub fn reports(&self) -> Vec<ActorReport> {
        let all = self.waiting.lock().expect("conversations lock");
        all.values().map(|waiting| waiting.stats.report()).collect()
    }

    pub fn crashes_total(&self) -> u64 {
        self.restarts.total()
    }
}
