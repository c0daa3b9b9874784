//! Inbound messages, answered once each: one customer's messages in the order they arrived,
//! different customers' at the same time.
//!
//! The webhook records a message in the inbox table and hands it here; the answer's replies and
//! the mark "handled" are stored in one transaction, then the outbox sender is woken. A message
//! recorded but not handled (a crash, a dead database) is handled at the next start. Handling a
//! message twice is harmless: a purchase takes an order id derived from the message id, so the
//! second time finds the order instead of buying again, and the replies' outbox keys are the
//! message id and position, so they are queued once.

use std::collections::{HashMap, VecDeque};
use std::panic::AssertUnwindSafe;
use std::sync::{Arc, Mutex};

use futures::FutureExt;
use std::time::Duration;

use serde_json::json;
use sha2::Digest;
use tokio::sync::Semaphore;
use warung_actors::domain::{Clock, CustomerId, OrderId};

use super::chat::{reply, Answer, Conversation};
use super::outbox::{OutboxSignal, WHATSAPP_KIND};
use super::qris::Qris;
use crate::providers::whatsapp::{InboundMessage, Outbound, WaMessageId, WhatsAppEvent};
use crate::store::{InboxRow, NewOutbox, Store, StoreError};

/// The provider name under which WhatsApp events are recorded in the inbox.
pub const WHATSAPP: &str = "whatsapp";

/// Customers whose messages are being answered at the same moment; the rest wait their turn.
const CONVERSATIONS_IN_FLIGHT_MAX: usize = 512;

/// Unhandled messages picked up at a start; any beyond wait for the next start.
const INBOX_RESUMED_MAX: i64 = 100_000;

/// Waits between attempts to store an answer while the database is down (doubling up to the
/// max). The customer's later messages wait behind it, in order.
const STORE_RETRY_FIRST_MS: u64 = 100;
const STORE_RETRY_MAX_MS: u64 = 10_000;

/// The inbox's key and payload for a WhatsApp event. Messages are keyed by their id, statuses by
/// message and status (each step is delivered once), errors by their content. A message is
/// stored as the parsed `InboundMessage` itself, which its worker reads back; statuses and errors
/// are kept for the record.
pub fn record_of(event: &WhatsAppEvent) -> (String, String) {
    match event {
        WhatsAppEvent::Message(m) => (message_key(&m.id), serde_json::to_string(m).expect("a message serializes")),
        WhatsAppEvent::Status(s) => (
            format!("status:{}:{}", s.message.as_str(), s.status.as_str()),
            json!({"kind": "status", "message": s.message.as_str(), "status": s.status.as_str(), "at": s.at,
                   "errors": s.errors.iter().map(|e| json!({"code": e.code, "title": e.title})).collect::<Vec<_>>()})
            .to_string(),
        ),
        WhatsAppEvent::Error(e) => {
            let payload = json!({"kind": "error", "code": e.code, "title": e.title, "details": e.details});
            let payload = payload.to_string();
            (format!("error:{}:{}", e.code, short_hash(&payload)), payload)
        }
    }
}

const MESSAGE_KEY_PREFIX: &str = "message:";

fn message_key(id: &WaMessageId) -> String {
    format!("{MESSAGE_KEY_PREFIX}{}", id.as_str())
}

fn short_hash(text: &str) -> String {
    sha2::Sha256::digest(text.as_bytes()).iter().take(8).map(|b| format!("{b:02x}")).collect()
}

/// A message waiting for its answer: the message as parsed at the webhook, under its inbox key.
#[derive(Clone, Debug, PartialEq)]
pub struct Queued {
    pub event_id: String,
    pub received_at: i64,
    pub message: InboundMessage,
}

impl Queued {
    pub fn from_row(row: &InboxRow) -> Result<Queued, String> {
        let mut stored: serde_json::Value =
            serde_json::from_str(&row.payload).map_err(|e| format!("unreadable payload: {e}"))?;
        // Rows written before the inbox kept the message whole lack its id; their key has it.
        if let (Some(fields), Some(id)) = (stored.as_object_mut(), row.event_id.strip_prefix(MESSAGE_KEY_PREFIX)) {
            fields.entry("id").or_insert_with(|| json!(id));
        }
        let message = serde_json::from_value(stored).map_err(|e| format!("unreadable message: {e}"))?;
        Ok(Queued { event_id: row.event_id.clone(), received_at: row.received_at, message })
    }

    pub fn customer(&self) -> &CustomerId {
        &self.message.customer
    }

    /// The order id a purchase this message starts takes: the same every time it is handled.
    pub fn order_id(&self) -> OrderId {
        let digest = sha2::Sha256::digest(self.event_id.as_bytes());
        let hex: String = digest.iter().take(5).map(|b| format!("{b:02x}")).collect();
        OrderId::parse(&format!("TRX-{hex}-{}", self.received_at.max(0))).expect("a derived order id parses")
    }
}

#[derive(Clone)]
pub struct Inbox {
    inner: Arc<Inner>,
}

struct Inner {
    conversation: Conversation,
    qris: Qris,
    outbox: OutboxSignal,
    /// Where a message's answer is stored, with the mark "handled".
    store: Arc<dyn Store>,
    clock: Clock,
    /// Per customer, the messages not yet answered; a customer is here while a worker runs.
    queues: Mutex<HashMap<CustomerId, VecDeque<Queued>>>,
    in_flight: Semaphore,
}

impl Inbox {
    pub fn new(
        conversation: Conversation,
        qris: Qris,
        outbox: OutboxSignal,
        store: Arc<dyn Store>,
        clock: Clock,
    ) -> Inbox {
        let inner = Inner {
            conversation,
            qris,
            outbox,
            store,
            clock,
            queues: Mutex::new(HashMap::new()),
            in_flight: Semaphore::new(CONVERSATIONS_IN_FLIGHT_MAX),
        };
        Inbox { inner: Arc::new(inner) }
    }

    /// Queues a recorded message behind its customer's earlier ones.
    pub fn push(&self, message: Queued) {
        let customer = message.customer().clone();
        let mut queues = self.inner.queues.lock().expect("inbox lock");
        match queues.get_mut(&customer) {
            // Already waiting (resumed at start while the webhook also handed it over).
            Some(queue) if queue.iter().any(|queued| queued.event_id == message.event_id) => {}
            Some(queue) => queue.push_back(message),
            None => {
                queues.insert(customer.clone(), VecDeque::from([message]));
                let inbox = self.clone();
                actix::spawn(async move { inbox.work(customer).await });
            }
        }
    }

    /// No message is waiting for its answer or being answered.
    pub fn is_idle(&self) -> bool {
        self.inner.queues.lock().expect("inbox lock").is_empty()
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

    /// Answers one customer's messages in order until their queue is empty.
    async fn work(self, customer: CustomerId) {
        loop {
            let next = {
                let mut queues = self.inner.queues.lock().expect("inbox lock");
                let queue = queues.get_mut(&customer).expect("a working customer has a queue");
                match queue.front() {
                    Some(message) => message.clone(),
                    None => {
                        queues.remove(&customer);
                        return;
                    }
                }
            };
            // A message that panics its handler is a bug; the customer still gets an answer, the
            // message is marked handled (so no start replays the panic), and their queue goes on.
            let event_id = next.event_id.clone();
            if AssertUnwindSafe(self.handle(next)).catch_unwind().await.is_err() {
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
            let mut queues = self.inner.queues.lock().expect("inbox lock");
            queues.get_mut(&customer).expect("a working customer has a queue").pop_front();
        }
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
mod tests {
    use super::*;
    use crate::providers::whatsapp::Content;

    fn message(id: &str, content: Content) -> InboundMessage {
        InboundMessage {
            id: WaMessageId::parse(id).unwrap(),
            customer: CustomerId::parse("6281").unwrap(),
            name: Some("Budi".into()),
            sent_at: Some(4),
            content,
        }
    }

    #[test]
    fn a_message_always_derives_the_same_order_id() {
        let message = Queued {
            event_id: "message:wamid.ABC".into(),
            received_at: 1_700_000_000_123,
            message: message("wamid.ABC", Content::Text("beli a".into())),
        };
        let again = message.clone();
        assert_eq!(message.order_id(), again.order_id());
        let other = Queued { event_id: "message:wamid.ABD".into(), ..message.clone() };
        assert_ne!(message.order_id(), other.order_id());
    }

    #[test]
    fn the_stored_payload_round_trips() {
        let inbound = message("wamid.X", Content::Choice { id: "beli a".into(), title: "A".into() });
        let (event_id, payload) = record_of(&WhatsAppEvent::Message(inbound.clone()));
        let row = InboxRow { event_id, received_at: 5, customer: Some("6281".into()), payload };
        let queued = Queued::from_row(&row).unwrap();
        assert_eq!(queued.message, inbound, "the same message, whole");
        assert!(Queued::from_row(&InboxRow { payload: "{".into(), ..row }).is_err());
    }

    #[test]
    fn a_message_stored_by_an_earlier_build_is_still_answered() {
        let row = InboxRow {
            event_id: "message:wamid.OLD".into(),
            received_at: 5,
            customer: Some("6281".into()),
            payload: r#"{"customer":"6281","name":null,"sent_at":4,"content":{"type":"text","value":"saldo"}}"#.into(),
        };
        let queued = Queued::from_row(&row).unwrap();
        assert_eq!(queued.message.id.as_str(), "wamid.OLD");
        assert_eq!(queued.message.content, Content::Text("saldo".into()));
    }
}
