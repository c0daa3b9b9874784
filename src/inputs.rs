//! Every parser of outside input, driven as its handler drives it, one call each: a WhatsApp
//! webhook body, a Midtrans notification, a chat command line, an admin's amounts and ids. The
//! fuzz targets (`fuzz/`) and the property tests below call these; none may panic, whatever the
//! input. Each returns a short summary so a caller (and the optimiser) cannot skip the work.

use warung_actors::domain::{parse_plain_delta, CustomerId, ItemSecret, Money, OrderId, ProductCode, Reference};

use crate::flows::chat::Command;
use crate::flows::inbox::{self, Queued};
use crate::providers::midtrans::{signature_matches, Transaction};
use crate::providers::whatsapp::{self, Content, WhatsAppEvent};
use crate::settings::Secret;
use crate::store::InboxRow;

/// A webhook body as `POST /webhooks/whatsapp` reads it after its signature: parsed, each
/// message stored as the inbox keeps it and read back, each text read as a command.
pub fn whatsapp_webhook(body: &[u8]) -> usize {
    let Ok(webhook) = whatsapp::parse(body) else { return 0 };
    let mut seen = webhook.skipped.len();
    for event in &webhook.events {
        let WhatsAppEvent::Message(message) = event else {
            seen += 1;
            continue;
        };
        let (event_id, payload) = inbox::record_of(event);
        let row = InboxRow { event_id, received_at: 0, customer: Some(message.customer.as_str().to_string()), payload };
        let queued = Queued::from_row(&row).expect("what the inbox stores reads back");
        let _ = queued.order_id();
        let text = match &queued.message.content {
            Content::Text(text) => Some(text.as_str()),
            Content::Choice { id, .. } => Some(id.as_str()),
            Content::TemplateButton { payload, .. } => Some(payload.as_str()),
            Content::Media { .. } | Content::Unsupported { .. } => None,
        };
        seen += text.map_or(0, |text| usize::from(Command::parse(text).is_ok()));
    }
    seen
}

/// A notification as `POST /webhooks/midtrans` reads it: JSON, then the transaction, its
/// signature, what it says and its amount, read exactly or not at all.
pub fn midtrans_notification(body: &[u8]) -> usize {
    let Ok(value) = serde_json::from_slice::<serde_json::Value>(body) else { return 0 };
    let Ok(transaction) = Transaction::from_value(value) else { return 1 };
    let key = Secret::new("SB-Mid-server-fuzz");
    let signed = transaction.signature_key.as_deref().is_some_and(|given| {
        signature_matches(&transaction.order_id, &transaction.status_code, &transaction.gross_amount, given, &key)
    });
    let _ = transaction.verdict();
    let _ = transaction.qr_url();
    usize::from(signed) + usize::from(transaction.gross().is_some()) + usize::from(transaction.status_code_agrees())
}

/// A chat message's text, as the conversation reads it.
pub fn chat_command(text: &str) -> usize {
    usize::from(Command::parse(text).is_ok())
}

/// What an admin types into the admin API: amounts, deltas and every kind of id.
pub fn admin_fields(text: &str) -> usize {
    [
        Money::parse_plain(text).is_ok(),
        parse_plain_delta(text).is_ok(),
        OrderId::parse(text).is_ok(),
        CustomerId::parse(text).is_ok(),
        ProductCode::parse(text).is_ok(),
        Reference::parse(text).is_ok(),
        ItemSecret::parse(text).is_ok(),
    ]
    .into_iter()
    .filter(|ok| *ok)
    .count()
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    /// Bodies close to real ones, with their fields replaced by anything: what reaches past
    /// `serde_json` into the parsers.
    fn whatsapp_body() -> impl Strategy<Value = Vec<u8>> {
        (any::<String>(), any::<String>(), any::<String>(), any::<i64>(), "[a-z_]{0,12}").prop_map(
            |(from, id, text, timestamp, kind)| {
                serde_json::json!({"object": "whatsapp_business_account", "entry": [{"changes": [{"field": "messages",
                    "value": {"contacts": [{"wa_id": from, "profile": {"name": text}}],
                              "messages": [{"from": from, "id": id, "timestamp": timestamp.to_string(), "type": kind,
                                            "text": {"body": text}, "interactive": {"type": kind, "list_reply": {"id": text, "title": id}}}],
                              "statuses": [{"id": id, "status": kind, "timestamp": text, "errors": [{"code": timestamp, "title": text}]}]}}]}]})
                .to_string()
                .into_bytes()
            },
        )
    }

    fn midtrans_body() -> impl Strategy<Value = Vec<u8>> {
        (any::<String>(), "[0-9]{0,4}", any::<String>(), "[a-zA-Z_]{0,12}", any::<String>()).prop_map(
            |(order, code, amount, status, other)| {
                serde_json::json!({"order_id": order, "status_code": code, "gross_amount": amount,
                    "transaction_status": status, "signature_key": other, "fraud_status": status,
                    "actions": [{"name": "generate-qr-code", "url": other}]})
                .to_string()
                .into_bytes()
            },
        )
    }

    proptest! {
        #[test]
        fn no_whatsapp_body_panics(body in prop_oneof![whatsapp_body(), any::<Vec<u8>>()]) {
            whatsapp_webhook(&body);
        }

        #[test]
        fn no_midtrans_notification_panics(body in prop_oneof![midtrans_body(), any::<Vec<u8>>()]) {
            midtrans_notification(&body);
        }

        #[test]
        fn no_chat_line_panics(text in prop_oneof![any::<String>(), "(beli|topup|status|batal|/cek) [0-9.,a-zA-Z -]{0,40}"]) {
            chat_command(&text);
        }

        #[test]
        fn no_admin_field_panics(text in prop_oneof![any::<String>(), "-?[0-9eE.+_x]{0,40}", "TRX-[0-9a-f]{0,12}-[0-9]{0,20}"]) {
            admin_fields(&text);
        }
    }

    #[test]
    fn the_poison_inputs_found_so_far_are_read_without_a_panic() {
        assert_eq!(chat_command("topup 1.000.000.000.000"), 0, "beyond a top-up's limit");
        assert_eq!(chat_command("topup 10.000.000"), 1);
        for amount in ["2000000000000.00", "99999999999999999999999999999.00", "1e3"] {
            let body = serde_json::json!({"order_id": "TRX-1", "status_code": "200", "gross_amount": amount,
                                          "transaction_status": "settlement"});
            midtrans_notification(body.to_string().as_bytes());
        }
        assert!(Money::parse_plain("1e3").is_err() && parse_plain_delta("1e3").is_err(), "never an amount");
        assert_eq!(admin_fields("1e3"), 4, "a customer id, a code, a reference, an item");
    }
}
