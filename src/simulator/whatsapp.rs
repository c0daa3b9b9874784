//! The stand-in for WhatsApp: customers' phones. What a customer types becomes a webhook body
//! shaped like Meta's, signed with the app secret and posted to the engine's webhook; what the
//! engine sends through the stand-in Graph API lands in the customer's chat.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use serde::Serialize;
use serde_json::{json, Value};

use crate::gateway::whatsapp::sign;
use crate::gateway::Secret;

/// Lines one simulated chat keeps; older ones are dropped from the page (not from the engine).
const CHAT_LINES_MAX: usize = 500;

/// Chats the simulator keeps at once; a new one past this drops the oldest.
const CHATS_MAX: usize = 10_000;

/// One line of a simulated chat.
#[derive(Clone, Debug, Serialize)]
pub struct ChatLine {
    pub seq: u64,
    /// `customer` or `shop`.
    pub from: &'static str,
    /// What the customer typed, or the Graph API message body the engine sent.
    pub message: Value,
}

pub struct WhatsAppSim {
    pub app_secret: Secret,
    pub access_token: Secret,
    chats: Mutex<HashMap<String, Vec<ChatLine>>>,
    seq: AtomicU64,
}

impl WhatsAppSim {
    pub fn new(app_secret: Secret, access_token: Secret) -> WhatsAppSim {
        WhatsAppSim { app_secret, access_token, chats: Mutex::new(HashMap::new()), seq: AtomicU64::new(1) }
    }

    fn push(&self, customer: &str, from: &'static str, message: Value) -> u64 {
        let seq = self.seq.fetch_add(1, Ordering::Relaxed);
        let mut chats = self.chats.lock().expect("chats lock");
        if !chats.contains_key(customer) && chats.len() >= CHATS_MAX {
            if let Some(oldest) =
                chats.iter().min_by_key(|(_, l)| l.last().map_or(0, |l| l.seq)).map(|(k, _)| k.clone())
            {
                chats.remove(&oldest);
            }
        }
        let lines = chats.entry(customer.to_string()).or_default();
        lines.push(ChatLine { seq, from, message });
        if lines.len() > CHAT_LINES_MAX {
            lines.remove(0);
        }
        seq
    }

    /// A customer's chat after line `after`.
    pub fn lines(&self, customer: &str, after: u64) -> Vec<ChatLine> {
        let chats = self.chats.lock().expect("chats lock");
        chats.get(customer).map(|lines| lines.iter().filter(|l| l.seq > after).cloned().collect()).unwrap_or_default()
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
