//! Inbound messages, answered once each: one customer's messages in the order they arrived,
//! different customers' at the same time.
//!
//! Each customer being answered has an actor (`customer`): its mailbox is their queue, its
//! messages are handled one at a time and in order, and it stops when its queue is empty. The
//! inbox is the registry of those actors.
//!
//! The webhook records a message in the inbox table and hands it here; the answer's replies and
//! the mark "handled" are stored in one transaction, then the outbox sender is woken. A message
//! recorded but not handled (a crash, a dead database) is handled at the next start. Handling a
//! message twice is harmless: a purchase takes an order id derived from the message id, so the
//! second time finds the order instead of buying again, and the replies' outbox keys are the
//! message id and position, so they are queued once.

mod customer;
mod record;
mod stats;

pub use record::{record_of, Queued};
pub use stats::ConversationsReport;

use std::collections::{HashMap, HashSet};
use std::panic::AssertUnwindSafe;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use actix::{Actor, Addr};
use futures::FutureExt;
use std::sync::atomic::{AtomicU64, Ordering};
use tokio::sync::Semaphore;

use warung_actors::domain::{Clock, CustomerId};
use warung_actors::journal::ActorKey;
use warung_actors::runtime::{ActorReport, ActorStats, KindTotals};

use super::chat::{reply, Answer, Conversation};
use super::outbox::{OutboxSignal, WHATSAPP_KIND};
use super::qris::Qris;
use crate::providers::whatsapp::Outbound;
use crate::store::{Mailbox, NewOutbox, StoreError};
use customer::{CustomerActor, Handle};

/// The provider name under which WhatsApp events are recorded in the inbox.
pub const WHATSAPP: &str = "whatsapp";

/// Customers whose messages are being answered at the same moment; the rest wait their turn.
const CONVERSATIONS_IN_FLIGHT_MAX: usize = 512;

/// Messages one customer may have waiting for an answer (their actor's mailbox). Past this, a
/// message stays recorded and unanswered until the next start: a flood from one customer does
/// not grow memory without end.
pub const CONVERSATION_QUEUED_MAX: usize = 256;

/// Unhandled messages picked up at a start; any beyond wait for the next start.
const INBOX_RESUMED_MAX: i64 = 100_000;

/// Waits between attempts to store an answer while the database is down (doubling up to the
/// max). The customer's later messages wait behind it, in order.
const STORE_RETRY_FIRST_MS: u64 = 100;
const STORE_RETRY_MAX_MS: u64 = 10_000;

#[derive(Clone)]
pub struct Inbox {
    inner: Arc<Inner>,
}

struct Inner {
    conversation: Conversation,
    qris: Qris,
    outbox: OutboxSignal,
    /// Where a message's answer is stored, with the mark "handled".
    store: Arc<dyn Mailbox>,
    clock: Clock,
    /// The customers being answered: their actor, and the ids of the messages in its mailbox.
    conversations: Mutex<HashMap<CustomerId, Waiting>>,
    in_flight: Semaphore,
    /// Answers counted over every conversation that ever ran.
    totals: Arc<KindTotals>,
    /// Each customer's actor is a new incarnation.
    incarnations: AtomicU64,
}

/// A customer's actor and what it has yet to answer.
struct Waiting {
    actor: Addr<CustomerActor>,
    queued: HashSet<String>,
    stats: Arc<ActorStats>,
}

impl Inbox {
    pub fn new(
        conversation: Conversation,
        qris: Qris,
        outbox: OutboxSignal,
        store: Arc<dyn Mailbox>,
        clock: Clock,
    ) -> Inbox {
        let inner = Inner {
            conversation,
            qris,
            outbox,
            store,
            clock,
            conversations: Mutex::new(HashMap::new()),
            in_flight: Semaphore::new(CONVERSATIONS_IN_FLIGHT_MAX),
            totals: Arc::new(KindTotals::default()),
            incarnations: AtomicU64::new(0),
        };
        Inbox { inner: Arc::new(inner) }
    }

    /// Queues a recorded message behind its customer's earlier ones, in their actor's mailbox
    /// (starting the actor if they have none).
    pub fn push(&self, message: Queued) {
        let customer = message.customer().clone();
        let mut conversations = self.inner.conversations.lock().expect("inbox lock");
        let waiting = conversations.entry(customer.clone()).or_insert_with(|| self.start_actor(&customer));
        // Already waiting (resumed at start while the webhook also handed it over).
        if waiting.queued.contains(&message.event_id) {
            return;
        }
        if !waiting.stats.try_enqueue() {
            tracing::warn!(customer = %customer.masked(), event = %message.event_id,
                "a customer's queue is full; the message is answered at the next start");
            return;
        }
        waiting.queued.insert(message.event_id.clone());
        // Bounded by `queued` above, so the mailbox's own capacity is not needed.
        waiting.actor.do_send(Handle(message));
    }

    fn start_actor(&self, customer: &CustomerId) -> Waiting {
        let incarnation = self.inner.incarnations.fetch_add(1, Ordering::Relaxed) + 1;
        let key = ActorKey::Conversation(customer.clone());
        let now = self.inner.clock.now();
        let stats = ActorStats::new(key, incarnation, CONVERSATION_QUEUED_MAX, now, self.inner.totals.clone());
        let actor = CustomerActor { customer: customer.clone(), inbox: self.clone() }.start();
        Waiting { actor, queued: HashSet::new(), stats: Arc::new(stats) }
    }

    /// The message is answered: it leaves its customer's queue. Whether the customer has nothing
    /// more waiting, and their actor is to stop (removed here, under the same lock as `push`, so
    /// a message is never handed to a stopping actor).
    fn answered(&self, customer: &CustomerId, event_id: &str, took: Duration) -> bool {
        let mut conversations = self.inner.conversations.lock().expect("inbox lock");
        let Some(waiting) = conversations.get_mut(customer) else { return true };
        waiting.queued.remove(event_id);
        waiting.stats.handled(took, self.inner.clock.now());
        if waiting.queued.is_empty() {
            waiting.stats.mark_stopped();
            conversations.remove(customer);
            return true;
        }
        false
    }

    /// No message is waiting for its answer or being answered.
    pub fn is_idle(&self) -> bool {
        self.inner.conversations.lock().expect("inbox lock").is_empty()
    }

    /// The conversations in all, for `/ops/gateway`.
    pub fn report(&self) -> ConversationsReport {
        let conversations = self.inner.conversations.lock().expect("inbox lock");
        let queued = conversations.values().map(|waiting| waiting.stats.depth()).sum();
        ConversationsReport::of(&self.inner.totals, conversations.len(), queued)
    }

    /// Each conversation's actor as `/ops/actors` lists every actor.
    pub fn actor_reports(&self) -> Vec<ActorReport> {
        let conversations = self.inner.conversations.lock().expect("inbox lock");
        conversations.values().map(|waiting| waiting.stats.report()).collect()
    }

    /// Queues every message recorded but not answered (the process stopped before it could).
    pub async fn resume(&self) -> Result<usize, StoreError> {
        let rows = self.inner.store.unhandled_webhooks(WHATSAPP, INBOX_RESUMED_MAX).await?;
        let mut resumed = 0;
        for row in rows {
            match Queued::from_row(&row) {
                Ok(message) => {
                    self.push(message);
                    resumed += 1;
                }
                Err(why) => {
                    tracing::error!(event = %row.event_id, %why, "inbox entry cannot be answered; marked handled");
                    self.store_answer(&row.event_id, Vec::new()).await;
                }
            }
        }
        Ok(resumed)
    }

    /// Answers one message. A message that panics its handler is a bug; the customer still gets
    /// an answer, the message is marked handled (so no start replays the panic), and their queue
    /// goes on.
    async fn answer_one(&self, message: Queued) -> Duration {
        let (event_id, customer) = (message.event_id.clone(), message.customer().clone());
        let started = Instant::now();
        if AssertUnwindSafe(self.handle(message)).catch_unwind().await.is_err() {
            tracing::error!(event = %event_id, "answering a message panicked; apologised and marked handled");
            let apology = NewOutbox {
                dedup_key: format!("reply:{event_id}:0"),
                kind: WHATSAPP_KIND.to_string(),
                destination: customer.as_str().to_string(),
                payload: serde_json::to_string(&Outbound::text(reply::something_went_wrong()))
                    .expect("a reply serializes"),
            };
            self.store_answer(&event_id, vec![apology]).await;
        }
        started.elapsed()
    }

    #[tracing::instrument(name = "inbox.handle", skip_all, fields(customer = %message.customer().masked()))]
    async fn handle(&self, message: Queued) {
        let _turn = self.inner.in_flight.acquire().await.expect("the semaphore is never closed");
        let conversation = &self.inner.conversation;
        let replies = match conversation.answer(message.customer(), &message.message.content, message.order_id()).await
        {
            Answer::Text(text) => vec![Outbound::text(text)],
            Answer::Choices { text, choices } => {
                vec![Outbound::List { body: text, button: "Pilih produk".into(), rows: choices }]
            }
            Answer::Payment(request) => self.inner.qris.start(message.customer(), request).await,
        };
        let destination = message.customer().as_str();
        let entries = replies
            .iter()
            .enumerate()
            .map(|(i, reply)| NewOutbox {
                dedup_key: format!("reply:{}:{i}", message.event_id),
                kind: WHATSAPP_KIND.to_string(),
                destination: destination.to_string(),
                payload: serde_json::to_string(reply).expect("a reply serializes"),
            })
            .collect();
        self.store_answer(&message.event_id, entries).await;
    }

    /// Stores the replies and marks the message handled, retrying while the store is down: the
    /// customer's later messages wait, so they are still answered in order.
    async fn store_answer(&self, event_id: &str, entries: Vec<NewOutbox>) {
        let store = &self.inner.store;
        let mut wait = STORE_RETRY_FIRST_MS;
        loop {
            let now = self.inner.clock.now();
            match store.finish_webhook(WHATSAPP, event_id, now, &entries).await {
                Ok(()) => break,
                Err(error) => {
                    tracing::error!(%error, event = %event_id, "could not store an answer; retrying");
                    tokio::time::sleep(Duration::from_millis(wait)).await;
                    wait = (wait * 2).min(STORE_RETRY_MAX_MS);
                }
            }
        }
        self.inner.outbox.wake();
    }
}

#[cfg(test)]
mod tests;
