//! Inbound messages, answered once each: one customer's messages in the order they arrived,
//! different customers' at the same time.
//!
//! Each customer being answered has an actor (`customer`): its mailbox is their queue, its
//! messages are handled one at a time and in order, and it stops when its queue is empty.
//! `conversations` keeps those actors; the engine's supervisor watches them (the inbox is
//! `Watched`), so a dead one is started again within the same restart budget as every actor.
//!
//! The webhook records a message in the inbox table and hands it here; the answer's replies and
//! the mark "handled" are stored in one transaction, then the outbox sender is woken. A message
//! recorded but not handled (a crash, a dead database) is handled at the next start. Handling a
//! message twice is harmless: a purchase takes an order id derived from the message id, so the
//! second time finds the order instead of buying again, and the replies' outbox keys are the
//! message id and position, so they are queued once.

mod conversations;
mod customer;
mod record;
mod stats;

pub use conversations::{Pushed, CONVERSATION_QUEUED_MAX};
pub use record::{record_of, Queued};
pub use stats::ConversationsReport;

use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::{Duration, Instant};

use actix::{Actor, Addr};
use futures::FutureExt;
use tokio::sync::Semaphore;

use warung_actors::domain::{Clock, CustomerId, UnixMs};
use warung_actors::runtime::ActorReport;
use warung_actors::supervisor::{RestartBudget, Watched};

use super::chat::{reply, Answer, Conversation};
use super::outbox::{OutboxSignal, WHATSAPP_KIND};
use super::owner::{words as owner_words, Desk};
use super::qris::Qris;
use crate::cluster::wakes::{unhandled_inbox, Wakes};
use crate::cluster::{OwnedShards, Shard};
use crate::providers::whatsapp::Outbound;
use crate::store::{InboxRow, Mailbox, NewOutbox, StoreError};
use conversations::Conversations;
use customer::CustomerActor;

/// The provider name under which WhatsApp events are recorded in the inbox.
pub const WHATSAPP: &str = "whatsapp";

/// Customers whose messages are being answered at the same moment; the rest wait their turn.
const CONVERSATIONS_IN_FLIGHT_MAX: usize = 512;

/// Unhandled messages picked up at a start (or by one scan of a cluster node's shards); any
/// beyond wait for the next.
const INBOX_RESUMED_MAX: i64 = 100_000;

/// How often a cluster node looks for messages of its shards that no wake announced (a wake
/// lost, a shard just acquired): the most such a message waits.
const INBOX_SCAN_EVERY_MS: u64 = 2_000;

/// In a cluster: the customers this node answers (those of its shards), and how a message
/// recorded here reaches the owner of another's.
#[derive(Clone)]
pub struct InboxCluster {
    pub wakes: Wakes,
    pub owned: Arc<OwnedShards>,
    pub pool: sqlx::PgPool,
}

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
    /// Admin numbers' commands.
    desk: Desk,
    outbox: OutboxSignal,
    /// Where a message's answer is stored, with the mark "handled".
    store: Arc<dyn Mailbox>,
    clock: Clock,
    /// The customers being answered: their actor, and the messages in its mailbox.
    conversations: Conversations<CustomerActor>,
    in_flight: Semaphore,
    cluster: Option<InboxCluster>,
}

impl Inbox {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        conversation: Conversation,
        qris: Qris,
        desk: Desk,
        outbox: OutboxSignal,
        store: Arc<dyn Mailbox>,
        clock: Clock,
        restart_budget: RestartBudget,
        cluster: Option<InboxCluster>,
    ) -> Inbox {
        let inner = Inner {
            conversation,
            qris,
            desk,
            outbox,
            store,
            clock,
            conversations: Conversations::new(restart_budget),
            in_flight: Semaphore::new(CONVERSATIONS_IN_FLIGHT_MAX),
            cluster,
        };
        Inbox { inner: Arc::new(inner) }
    }

    /// Queues a recorded message behind its customer's earlier ones, in their actor's mailbox
    /// (starting the actor if they have none, or it died).
    pub fn push(&self, message: Queued) -> Pushed {
        let (customer, event) = (message.customer().clone(), message.event_id.clone());
        let pushed = self.inner.conversations.push(message, self.inner.clock.now(), &|c| self.start_actor(c));
        if pushed == Pushed::QueueFull {
            tracing::warn!(customer = %customer.masked(), %event,
                "a customer's queue is full; the message is answered at the next start");
        }
        pushed
    }

    /// A message just recorded: queued here when this node answers its customer, else its
    /// shard's owner is woken to answer it from the table. In a cluster, another node may have
    /// recorded an earlier message of the customer that no wake has brought here yet: the
    /// customer's unanswered messages are queued from the table, oldest first, then this one.
    pub fn deliver(&self, message: Queued) {
        if let Some(cluster) = &self.inner.cluster {
            let shard = Shard::of_customer(message.customer());
            let (wakes, inbox) = (cluster.wakes.clone(), self.clone());
            match cluster.owned.owns(shard) {
                true => actix::spawn(async move { inbox.queue_with_earlier(shard, message).await }),
                false => actix::spawn(async move { wakes.inbox(shard).await }),
            };
            return;
        }
        self.push(message);
    }

    /// The message is in the table (recorded before it is delivered), so it comes with the rows
    /// read; queued alone only when they cannot be read. Not queued again if it was answered
    /// meanwhile (a scan took it): its row is no longer unanswered.
    async fn queue_with_earlier(&self, shard: Shard, message: Queued) {
        let Some(cluster) = &self.inner.cluster else { return };
        match unhandled_inbox(&cluster.pool, WHATSAPP, &[shard], Some(message.customer()), INBOX_RESUMED_MAX).await {
            Ok(rows) => {
                self.queue_rows(rows).await;
            }
            Err(error) => {
                tracing::warn!(%error, "could not read a customer's earlier messages; queued this one");
                self.push(message);
            }
        }
    }

    /// In a cluster: answers what wakes announce for this node's shards, and scans them now and
    /// then for what no wake announced. Runs until the process ends.
    pub fn spawn_cluster_scans(&self) {
        let Some(cluster) = self.inner.cluster.clone() else { return };
        let woken = self.clone();
        actix::spawn(async move {
            let wakes = match cluster.wakes.inbox_wakes().await {
                Ok(wakes) => wakes,
                Err(error) => {
                    tracing::error!(%error, "cannot hear inbox wakes; messages wait for the periodic scan");
                    return;
                }
            };
            futures::pin_mut!(wakes);
            while let Some(shard) = futures::StreamExt::next(&mut wakes).await {
                if cluster.owned.owns(shard) {
                    woken.scan(vec![shard]).await;
                }
            }
        });
        let scanning = self.clone();
        actix::spawn(async move {
            let mut every = tokio::time::interval(Duration::from_millis(INBOX_SCAN_EVERY_MS));
            loop {
                every.tick().await;
                scanning.scan_owned().await;
            }
        });
    }

    /// Queues the unanswered messages of this node's shards.
    async fn scan_owned(&self) -> usize {
        let Some(cluster) = &self.inner.cluster else { return 0 };
        let owned: Vec<Shard> = Shard::all().filter(|s| cluster.owned.owns(*s)).collect();
        if owned.is_empty() {
            return 0;
        }
        self.scan(owned).await
    }

    async fn scan(&self, shards: Vec<Shard>) -> usize {
        let Some(cluster) = &self.inner.cluster else { return 0 };
        match unhandled_inbox(&cluster.pool, WHATSAPP, &shards, None, INBOX_RESUMED_MAX).await {
            Ok(rows) => self.queue_rows(rows).await,
            Err(error) => {
                tracing::warn!(%error, "could not read the shards' unanswered messages; the next scan will");
                0
            }
        }
    }

    fn start_actor(&self, customer: &CustomerId) -> Addr<CustomerActor> {
        CustomerActor { customer: customer.clone(), inbox: self.clone() }.start()
    }

    /// The message is answered: it leaves its customer's queue. Whether their actor is to stop.
    fn answered(&self, customer: &CustomerId, event_id: &str, took: Duration) -> bool {
        self.inner.conversations.answered(customer, event_id, took, self.inner.clock.now())
    }

    /// No message is waiting for its answer or being answered.
    pub fn is_idle(&self) -> bool {
        self.inner.conversations.is_empty()
    }

    /// The conversations in all, for `/ops/gateway`.
    pub fn report(&self) -> ConversationsReport {
        let (active, queued) = self.inner.conversations.sizes();
        ConversationsReport::of(self.inner.conversations.totals(), active, queued)
    }

    /// Queues every message recorded but not answered (the process stopped before it could).
    /// In a cluster a node answers only its shards' messages: its scans find them (it owns
    /// none yet when it starts).
    pub async fn resume(&self) -> Result<usize, StoreError> {
        if self.inner.cluster.is_some() {
            return Ok(self.scan_owned().await);
        }
        let rows = self.inner.store.unhandled_webhooks(WHATSAPP, INBOX_RESUMED_MAX).await?;
        Ok(self.queue_rows(rows).await)
    }

    /// Queues recorded messages (one already queued is not queued twice).
    async fn queue_rows(&self, rows: Vec<InboxRow>) -> usize {
        let mut resumed = 0;
        for row in rows {
            match Queued::from_row(&row) {
                Ok(message) => {
                    if self.push(message) == Pushed::Queued {
                        resumed += 1;
                    }
                }
                Err(why) => {
                    tracing::error!(event = %row.event_id, %why, "inbox entry cannot be answered; marked handled");
                    self.store_answer(&row.event_id, Vec::new()).await;
                }
            }
        }
        resumed
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
            Answer::Buttons { text, buttons } => vec![Outbound::Buttons { body: text, buttons }],
            Answer::Payment(request) => self.inner.qris.start(message.customer(), request).await,
            Answer::Owner(Ok(command)) => {
                let text = self.inner.desk.run(message.customer(), command, &message.order_id()).await;
                vec![Outbound::text(text)]
            }
            Answer::Owner(Err(error)) => vec![Outbound::text(owner_words::not_understood(&error))],
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

/// The supervisor's watch starts dead conversations again, and lists them with every actor.
impl Watched for Inbox {
    fn restart_dead(&self, now: UnixMs) {
        self.inner.conversations.restart_dead(now, &|customer| self.start_actor(customer));
    }

    fn reports(&self) -> Vec<ActorReport> {
        self.inner.conversations.reports()
    }

    fn crashes_total(&self) -> u64 {
        self.inner.conversations.crashes_total()
    }
}

#[cfg(test)]
mod tests;
