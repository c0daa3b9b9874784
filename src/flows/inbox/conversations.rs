//! The customers being answered: each one's actor and the messages in its mailbox, under one
//! lock, so a message is never handed to an actor that is stopping.
//!
//! A dead actor (a panic outside the answer's own guard) is replaced by a new incarnation that is
//! handed the same waiting messages in the same order (answering one twice is harmless, see the
//! inbox), within the supervisor's restart budget; past the budget the customer's messages stay
//! recorded and are answered at the next start. The supervisor's watch asks for dead ones to be
//! started again; a new message to a dead one does it at once.

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

/// A customer's actor and what it has yet to answer, oldest first.
struct Waiting<A: Actor> {
    actor: Addr<A>,
    queued: Vec<Queued>,
    stats: Arc<ActorStats>,
}

/// What `push` did with a message.
#[derive(Debug, PartialEq, Eq)]
pub enum Pushed {
    Queued,
    /// Already waiting (resumed at start while the webhook also handed it over).
    AlreadyQueued,
    /// The customer's queue is full: answered at the next start.
    QueueFull,
    /// The customer's actor keeps dying: answered at the next start.
    Quarantined,
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
        if !all.contains_key(&customer) {
            if self.restarts.check(&customer, now).is_err() {
                return Pushed::Quarantined;
            }
            all.insert(customer.clone(), self.spawn(&customer, now, start));
        }
        let waiting = all.get_mut(&customer).expect("inserted above");
        if waiting.queued.iter().any(|queued| queued.event_id == message.event_id) {
            return Pushed::AlreadyQueued;
        }
        if !waiting.actor.connected() && !self.restart(&customer, waiting, now, start) {
            all.remove(&customer);
            return Pushed::Quarantined;
        }
        if !waiting.stats.try_enqueue() {
            return Pushed::QueueFull;
        }
        waiting.queued.push(message.clone());
        waiting.actor.do_send(Answer(message));
        Pushed::Queued
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

    /// Starts again every actor that died, with what it had yet to answer.
    pub fn restart_dead(&self, now: UnixMs, start: Start<A>) {
        let mut all = self.waiting.lock().expect("conversations lock");
        let mut quarantined = Vec::new();
        for (customer, waiting) in all.iter_mut() {
            if !waiting.actor.connected() && !self.restart(customer, waiting, now, start) {
                quarantined.push(customer.clone());
            }
        }
        for customer in quarantined {
            all.remove(&customer);
        }
    }

    /// Replaces a dead actor; false when the customer's restart budget is spent.
    fn restart(&self, customer: &CustomerId, waiting: &mut Waiting<A>, now: UnixMs, start: Start<A>) -> bool {
        waiting.stats.mark_stopped();
        self.restarts.crashed(customer, now);
        if let Err(error) = self.restarts.check(customer, now) {
            tracing::error!(customer = %customer.masked(), %error,
                "a conversation keeps dying; its messages are answered at the next start");
            return false;
        }
        tracing::error!(customer = %customer.masked(), waiting = waiting.queued.len(),
            "a conversation's actor died; starting it again with its waiting messages");
        let again = self.spawn(customer, now, start);
        for message in &waiting.queued {
            again.stats.try_enqueue();
            again.actor.do_send(Answer(message.clone()));
        }
        waiting.actor = again.actor;
        waiting.stats = again.stats;
        true
    }

    fn spawn(&self, customer: &CustomerId, now: UnixMs, start: Start<A>) -> Waiting<A> {
        let incarnation = self.incarnations.fetch_add(1, Ordering::Relaxed) + 1;
        let key = ActorKey::Conversation(customer.clone());
        let stats = ActorStats::new(key, incarnation, CONVERSATION_QUEUED_MAX, now, self.totals.clone());
        Waiting { actor: start(customer), queued: Vec::new(), stats: Arc::new(stats) }
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
