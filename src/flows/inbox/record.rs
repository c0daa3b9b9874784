//! What the inbox keeps of an event, and a message waiting for its answer.

use serde_json::json;
use sha2::Digest;
use warung_actors::domain::{CustomerId, OrderId};

use crate::providers::whatsapp::{InboundMessage, WaMessageId, WhatsAppEvent};
use crate::store::InboxRow;

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
