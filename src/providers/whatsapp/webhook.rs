//! Webhook payloads (`field: "messages"`) parsed into what the engine acts on: inbound messages,
//! delivery statuses of what we sent, and asynchronous errors. Every `entry`, `change`, message
//! and status of a batch is read; what cannot be read is listed in `Webhook::skipped` (and still
//! acknowledged: a non-200 only makes Meta send it again).

use warung_actors::domain::{CustomerId, UnixMs};

/// Largest body read from the webhook. Meta sends at most 3 MB; beyond this the request is
/// refused (413) before its signature is even checked.
pub const WEBHOOK_BODY_MAX_BYTES: usize = 4 * 1024 * 1024;

/// Longest message id (`wamid.…`) accepted; Meta's are about 60 characters.
const MESSAGE_ID_LEN_MAX: usize = 256;

/// Longest text kept from a message; a chat command is a few words.
const TEXT_LEN_MAX: usize = 4_096;

#[derive(Debug, PartialEq, thiserror::Error)]
pub enum WebhookError {
    #[error("the body is not a JSON webhook: {0}")]
    NotJson(String),
    #[error("the body is not a WhatsApp Business Account webhook (object {0:?})")]
    NotWhatsApp(String),
}

/// A WhatsApp message id (`wamid.…`): the key for deduplicating deliveries.
#[derive(Clone, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct WaMessageId(String);

impl TryFrom<String> for WaMessageId {
    type Error = String;

    fn try_from(value: String) -> Result<WaMessageId, String> {
        WaMessageId::parse(&value).ok_or_else(|| "not a WhatsApp message id".to_string())
    }
}

impl From<WaMessageId> for String {
    fn from(id: WaMessageId) -> String {
        id.0
    }
}

impl WaMessageId {
    pub fn parse(value: &str) -> Option<WaMessageId> {
        let ok = !value.is_empty() && value.len() <= MESSAGE_ID_LEN_MAX && !value.chars().any(char::is_control);
        ok.then(|| WaMessageId(value.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[derive(Debug, Default, PartialEq)]
pub struct Webhook {
    pub events: Vec<WhatsAppEvent>,
    /// Elements that could not be read, with why (logged, then acknowledged with the rest).
    pub skipped: Vec<String>,
}

#[derive(Debug, PartialEq)]
pub enum WhatsAppEvent {
    Message(InboundMessage),
    Status(StatusUpdate),
    /// An error not tied to one message (a rate limit hit, an unsupported payload).
    Error(ProviderError),
}

/// An inbound message, parsed once here and handed on as it is: the inbox stores this type (as
/// JSON) and its worker reads the same type back.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct InboundMessage {
    pub id: WaMessageId,
    /// The WhatsApp id (`wa_id`, digits) when the sender shows a phone number, else the
    /// business-scoped user id: a customer need not have a visible phone number.
    pub customer: CustomerId,
    /// The profile name, if the contact block carries one.
    pub name: Option<String>,
    pub sent_at: Option<UnixMs>,
    pub content: Content,
}

#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "type", content = "value", rename_all = "snake_case")]
pub enum Content {
    Text(String),
    /// A choice from an interactive list or reply button we sent: `id` is ours.
    Choice {
        id: String,
        title: String,
    },
    /// A quick-reply button of a template message.
    TemplateButton {
        payload: String,
        text: String,
    },
    /// An image, video, audio, document or sticker: we sell by text, so only the kind is kept.
    Media {
        kind: String,
        caption: Option<String>,
    },
    /// A type WhatsApp itself could not deliver (`unsupported`), or one this shop does not read
    /// (location, contacts, reaction, ...): answered politely, never ignored.
    Unsupported {
        kind: String,
    },
}

#[derive(Debug, PartialEq)]
pub struct StatusUpdate {
    /// The id of the message we sent.
    pub message: WaMessageId,
    pub status: DeliveryStatus,
    pub recipient: Option<String>,
    pub at: Option<UnixMs>,
    pub errors: Vec<ProviderError>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DeliveryStatus {
    Sent,
    Delivered,
    Read,
    Failed,
    /// A status this version does not know (`played`, ...), kept by name.
    Other(String),
}

impl DeliveryStatus {
    fn parse(value: &str) -> DeliveryStatus {
        match value {
            "sent" => DeliveryStatus::Sent,
            "delivered" => DeliveryStatus::Delivered,
            "read" => DeliveryStatus::Read,
            "failed" => DeliveryStatus::Failed,
            other => DeliveryStatus::Other(other.to_string()),
        }
    }

    pub fn as_str(&self) -> &str {
        match self {
            DeliveryStatus::Sent => "sent",
            DeliveryStatus::Delivered => "delivered",
            DeliveryStatus::Read => "read",
            DeliveryStatus::Failed => "failed",
            DeliveryStatus::Other(other) => other,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProviderError {
    pub code: i64,
    pub title: String,
    pub details: Option<String>,
}

/// Parses a webhook body (already checked against its signature).
pub fn parse(body: &[u8]) -> Result<Webhook, WebhookError> {
    let raw: raw::Payload = serde_json::from_slice(body).map_err(|e| WebhookError::NotJson(e.to_string()))?;
    if raw.object != "whatsapp_business_account" {
        return Err(WebhookError::NotWhatsApp(raw.object));
    }
    let mut webhook = Webhook::default();
    for change in raw.entry.into_iter().flat_map(|entry| entry.changes) {
        if change.field != "messages" {
            webhook.skipped.push(format!("a change of field {:?}, not messages", change.field));
            continue;
        }
        read_value(change.value, &mut webhook);
    }
    Ok(webhook)
}

fn read_value(value: raw::Value, webhook: &mut Webhook) {
    for message in value.messages {
        let contact = value.contacts.iter().find(|c| {
            let wa_id = c.wa_id.as_deref();
            wa_id.is_some() && wa_id == message.from.as_deref()
                || c.user_id.is_some() && c.user_id == message.from_user_id
        });
        let contact = contact.or(if value.contacts.len() == 1 { value.contacts.first() } else { None });
        match inbound(message, contact) {
            Ok(message) => webhook.events.push(WhatsAppEvent::Message(message)),
            Err(why) => webhook.skipped.push(why),
        }
    }
    for status in value.statuses {
        match WaMessageId::parse(&status.id) {
            Some(message) => webhook.events.push(WhatsAppEvent::Status(StatusUpdate {
                message,
                status: DeliveryStatus::parse(&status.status),
                recipient: status.recipient_id,
                at: unix_ms(status.timestamp.as_deref()),
                errors: status.errors.into_iter().map(provider_error).collect(),
            })),
            None => webhook.skipped.push(format!("a status with an unreadable message id {:?}", status.id)),
        }
    }
    webhook.events.extend(value.errors.into_iter().map(|e| WhatsAppEvent::Error(provider_error(e))));
}

fn inbound(message: raw::Message, contact: Option<&raw::Contact>) -> Result<InboundMessage, String> {
    let id =
        WaMessageId::parse(&message.id).ok_or_else(|| format!("a message with an unreadable id {:?}", message.id))?;
    let sender = [
        message.from.as_deref(),
        contact.and_then(|c| c.wa_id.as_deref()),
        message.from_user_id.as_deref(),
        contact.and_then(|c| c.user_id.as_deref()),
    ]
    .into_iter()
    .flatten()
    .find(|candidate| !candidate.is_empty());
    let customer = sender
        .and_then(|s| CustomerId::parse(s).ok())
        .ok_or_else(|| format!("message {} has no readable sender", id.as_str()))?;
    let name = contact.and_then(|c| c.profile.as_ref()).and_then(|p| p.name.clone()).filter(|n| !n.is_empty());
    let content = content(&message);
    Ok(InboundMessage { id, customer, name, sent_at: unix_ms(message.timestamp.as_deref()), content })
}

fn content(message: &raw::Message) -> Content {
    let kind = message.kind.as_str();
    match kind {
        "text" => match &message.text {
            Some(text) => Content::Text(clip(&text.body)),
            None => Content::Unsupported { kind: kind.to_string() },
        },
        "interactive" => {
            let reply = message.interactive.as_ref().and_then(|i| i.list_reply.as_ref().or(i.button_reply.as_ref()));
            match reply {
                Some(reply) => Content::Choice { id: clip(&reply.id), title: clip(&reply.title) },
                None => Content::Unsupported { kind: kind.to_string() },
            }
        }
        "button" => match &message.button {
            Some(button) => Content::TemplateButton { payload: clip(&button.payload), text: clip(&button.text) },
            None => Content::Unsupported { kind: kind.to_string() },
        },
        "image" | "video" | "audio" | "document" | "sticker" => {
            let caption = message.media(kind).and_then(|m| m.caption.as_deref()).map(clip);
            Content::Media { kind: kind.to_string(), caption }
        }
        "unsupported" => {
            let inner = message.unsupported.as_ref().and_then(|u| u.kind.clone());
            Content::Unsupported { kind: inner.unwrap_or_else(|| kind.to_string()) }
        }
        other => Content::Unsupported { kind: other.to_string() },
    }
}

fn provider_error(error: raw::Error) -> ProviderError {
    ProviderError {
        code: error.code,
        title: error.title.or(error.message).unwrap_or_default(),
        details: error.error_data.and_then(|d| d.details),
    }
}

/// Meta sends Unix seconds as a string.
fn unix_ms(timestamp: Option<&str>) -> Option<UnixMs> {
    timestamp?.parse::<i64>().ok()?.checked_mul(1_000)
}

fn clip(text: &str) -> String {
    text.chars().take(TEXT_LEN_MAX).collect()
}

mod raw;

#[cfg(test)]
mod tests;
