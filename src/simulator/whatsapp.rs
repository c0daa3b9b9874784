//! The stand-in for WhatsApp: customers' phones. What a customer types becomes a webhook body
//! shaped like Meta's, signed with the app secret and posted to the engine's webhook; what the
//! engine sends through the stand-in Graph API lands in the customer's chat.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use serde::Serialize;
use serde_json::{json, Value};

use crate::providers::whatsapp::sign;
use crate::settings::Secret;

/// Lines one simulated chat keeps; older ones are dropped from the page (not from the engine).
const CHAT_LINES_MAX: usize = 200;

/// Chats the simulator keeps at once; a new one past this drops the least recently active.
const CHATS_MAX: usize = 1_000;

/// What a customer types is kept (and sent) up to this many bytes: a WhatsApp text holds at most
/// 4,096 characters, and the page needs no more.
pub const SIM_TEXT_BYTES_MAX: usize = 4_096;

/// Bytes all chats keep together; past this the least recently active chats are dropped.
const SIM_CHATS_BYTES_MAX: usize = 32 * 1024 * 1024;

/// One line of a simulated chat.
#[derive(Clone, Debug, Serialize)]
pub struct ChatLine {
    pub seq: u64,
    /// `customer` or `shop`.
    pub from: &'static str,
    /// What the customer typed, or the Graph API message body the engine sent.
    pub message: Value,
}

#[derive(Default)]
struct Chat {
    lines: VecDeque<(ChatLine, usize)>,
    bytes: usize,
}

#[derive(Default)]
struct Chats {
    by_customer: HashMap<String, Chat>,
    bytes: usize,
}

impl Chats {
    /// Drops the least recently active chat, other than `keep`.
    fn drop_oldest(&mut self, keep: &str) -> bool {
        let oldest = self
            .by_customer
            .iter()
            .filter(|(customer, _)| customer.as_str() != keep)
            .min_by_key(|(_, chat)| chat.lines.back().map_or(0, |(line, _)| line.seq))
            .map(|(customer, _)| customer.clone());
        match oldest.and_then(|customer| self.by_customer.remove(&customer)) {
            Some(chat) => {
                self.bytes -= chat.bytes;
                true
            }
            None => false,
        }
    }
}

pub struct WhatsAppSim {
    pub app_secret: Secret,
    pub access_token: Secret,
    chats: Mutex<Chats>,
    seq: AtomicU64,
}

impl WhatsAppSim {
    pub fn new(app_secret: Secret, access_token: Secret) -> WhatsAppSim {
        WhatsAppSim { app_secret, access_token, chats: Mutex::new(Chats::default()), seq: AtomicU64::new(1) }
    }

    fn push(&self, customer: &str, from: &'static str, message: Value) -> u64 {
        let seq = self.seq.fetch_add(1, Ordering::Relaxed);
        let size = customer.len() + message.to_string().len();
        let mut chats = self.chats.lock().expect("chats lock");
        if !chats.by_customer.contains_key(customer) && chats.by_customer.len() >= CHATS_MAX {
            chats.drop_oldest(customer);
        }
        let chat = chats.by_customer.entry(customer.to_string()).or_default();
        chat.lines.push_back((ChatLine { seq, from, message }, size));
        chat.bytes += size;
        let mut freed = 0;
        while chat.lines.len() > CHAT_LINES_MAX {
            if let Some((_, size)) = chat.lines.pop_front() {
                chat.bytes -= size;
                freed += size;
            }
        }
        chats.bytes = chats.bytes + size - freed;
        while chats.bytes > SIM_CHATS_BYTES_MAX && chats.drop_oldest(customer) {}
        seq
    }

    /// A customer's chat after line `after`.
    pub fn lines(&self, customer: &str, after: u64) -> Vec<ChatLine> {
        let chats = self.chats.lock().expect("chats lock");
        chats
            .by_customer
            .get(customer)
            .map(|chat| chat.lines.iter().map(|(line, _)| line).filter(|l| l.seq > after).cloned().collect())
            .unwrap_or_default()
    }

    /// A message the engine sent through the stand-in Graph API; returns its message id.
    pub fn receive_from_shop(&self, body: &Value) -> Result<String, String> {
        let customer = body["to"]
            .as_str()
            .map(|to| to.trim_start_matches('+'))
            .or(body["recipient"].as_str())
            .ok_or("no recipient (`to` or `recipient`)")?
            .to_string();
        if body["messaging_product"] != "whatsapp" || body["type"].as_str().is_none() {
            return Err("not a WhatsApp message body".into());
        }
        let seq = self.push(&customer, "shop", body.clone());
        Ok(format!("wamid.SIM{seq:012}"))
    }

    /// The signed webhook for what a customer typed or tapped, and the line it adds to the chat.
    pub fn customer_says(&self, customer: &str, name: &str, said: &Said) -> (Vec<u8>, String) {
        let said = said.clipped();
        let said = &said;
        let seq = self.push(customer, "customer", serde_json::to_value(said).expect("serializes"));
        let id = format!("wamid.SIMIN{seq:012}");
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
        let mut message = json!({"from": customer, "id": id, "timestamp": now.to_string()});
        match said {
            Said::Text { text } => {
                message["type"] = json!("text");
                message["text"] = json!({"body": text});
            }
            Said::Choice { id, title } => {
                message["type"] = json!("interactive");
                message["interactive"] = json!({"type": "list_reply", "list_reply": {"id": id, "title": title}});
            }
        }
        let body = json!({
            "object": "whatsapp_business_account",
            "entry": [{"id": "SIMULATOR", "changes": [{"field": "messages", "value": {
                "messaging_product": "whatsapp",
                "metadata": {"display_phone_number": "620000000000", "phone_number_id": "simulator"},
                "contacts": [{"profile": {"name": name}, "wa_id": customer}],
                "messages": [message]
            }}]}]
        });
        let bytes = serde_json::to_vec(&body).expect("serializes");
        let signature = sign(&self.app_secret, &bytes);
        (bytes, signature)
    }
}

/// What a simulated customer sends.
#[derive(Clone, Debug, Serialize, serde::Deserialize)]
#[serde(untagged)]
pub enum Said {
    Choice { id: String, title: String },
    Text { text: String },
}

impl Said {
    /// What is kept and sent: every text at most SIM_TEXT_BYTES_MAX bytes.
    fn clipped(&self) -> Said {
        match self {
            Said::Choice { id, title } => Said::Choice { id: clip(id), title: clip(title) },
            Said::Text { text } => Said::Text { text: clip(text) },
        }
    }
}

fn clip(text: &str) -> String {
    let mut end = text.len().min(SIM_TEXT_BYTES_MAX);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text[..end].to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_the_chats_keep_is_clipped_and_bounded() {
        let sim = WhatsAppSim::new(Secret::new("a"), Secret::new("b"));
        let long = "x".repeat(100_000);
        for n in 0..9_000 {
            sim.customer_says(&format!("62{n}"), "n", &Said::Text { text: long.clone() });
        }
        let chats = sim.chats.lock().unwrap();
        assert!(chats.bytes <= SIM_CHATS_BYTES_MAX, "{} bytes kept", chats.bytes);
        assert!(chats.by_customer.len() <= CHATS_MAX);
        let kept: usize = chats.by_customer.values().map(|c| c.bytes).sum();
        assert_eq!(kept, chats.bytes, "the count is exact");
        let line = &chats.by_customer.values().next().unwrap().lines[0].0;
        assert!(line.message["text"].as_str().unwrap().len() <= SIM_TEXT_BYTES_MAX);
    }
}
