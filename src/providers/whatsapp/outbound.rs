//! What we send a customer, as kept in the outbox, and the Graph API body it becomes
//! (docs/providers.md §W5). Texts and titles are cut to Meta's limits here, so a long
//! product name never makes a reply fail.

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

/// Longest text body Meta accepts.
pub const TEXT_BODY_CHARS_MAX: usize = 4_096;
/// Longest body of a reply-button message.
const BUTTONS_BODY_CHARS_MAX: usize = 1_024;
/// Longest image caption.
const CAPTION_CHARS_MAX: usize = 1_024;
/// Reply buttons per message.
pub const BUTTONS_MAX: usize = 3;
const BUTTON_TITLE_CHARS_MAX: usize = 20;
/// Rows in a list message, over all its sections.
pub const LIST_ROWS_MAX: usize = 10;
const LIST_BUTTON_CHARS_MAX: usize = 20;
const ROW_TITLE_CHARS_MAX: usize = 24;
const ROW_DESCRIPTION_CHARS_MAX: usize = 72;
/// Longest id of a button or row (Meta allows 256 and 200).
const CHOICE_ID_CHARS_MAX: usize = 200;

/// A choice offered in a message: `id` comes back in the customer's reply (a chat command).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Choice {
    pub id: String,
    pub title: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Outbound {
    Text {
        body: String,
    },
    /// An image by link (the QRIS code Midtrans renders), with a caption.
    Image {
        link: String,
        caption: String,
    },
    /// Up to three reply buttons under a text.
    Buttons {
        body: String,
        buttons: Vec<Choice>,
    },
    /// A list behind a button, up to ten rows.
    List {
        body: String,
        button: String,
        rows: Vec<Choice>,
    },
}

impl Outbound {
    pub fn text(body: impl Into<String>) -> Outbound {
        Outbound::Text { body: body.into() }
    }

    /// The text a reader sees first; what a plain-text client would show.
    pub fn body(&self) -> &str {
        match self {
            Outbound::Text { body } | Outbound::Buttons { body, .. } | Outbound::List { body, .. } => body,
            Outbound::Image { caption, .. } => caption,
        }
    }
}

/// How the Graph API names a recipient: a phone number (`wa_id`, digits) goes in `to` with its
/// `+`, so Meta does not prefix the business number's country code; a business-scoped user id
/// (a customer with a username and no visible number) goes in `recipient`.
fn recipient(customer: &str) -> (&'static str, String) {
    if !customer.is_empty() && customer.chars().all(|c| c.is_ascii_digit()) {
        ("to", format!("+{customer}"))
    } else {
        ("recipient", customer.to_string())
    }
}

/// The `POST /{phone-number-id}/messages` body for `message` to `customer`.
pub fn request_body(customer: &str, message: &Outbound) -> Value {
    let (field, address) = recipient(customer);
    let mut body = json!({"messaging_product": "whatsapp", "recipient_type": "individual"});
    body[field] = Value::String(address);
    match message {
        Outbound::Text { body: text } => {
            body["type"] = json!("text");
            body["text"] = json!({"preview_url": false, "body": cut(text, TEXT_BODY_CHARS_MAX)});
        }
        Outbound::Image { link, caption } => {
            body["type"] = json!("image");
            body["image"] = json!({"link": link, "caption": cut(caption, CAPTION_CHARS_MAX)});
        }
        Outbound::Buttons { body: text, buttons } => {
            let buttons: Vec<Value> = buttons
                .iter()
                .take(BUTTONS_MAX)
                .map(|b| {
                    json!({"type": "reply", "reply": {"id": cut(&b.id, CHOICE_ID_CHARS_MAX),
                           "title": cut(&b.title, BUTTON_TITLE_CHARS_MAX)}})
                })
                .collect();
            body["type"] = json!("interactive");
            body["interactive"] = json!({"type": "button", "body": {"text": cut(text, BUTTONS_BODY_CHARS_MAX)},
                                         "action": {"buttons": buttons}});
        }
        Outbound::List { body: text, button, rows } => {
            let rows: Vec<Value> = rows
                .iter()
                .take(LIST_ROWS_MAX)
                .map(|r| {
                    let mut row =
                        json!({"id": cut(&r.id, CHOICE_ID_CHARS_MAX), "title": cut(&r.title, ROW_TITLE_CHARS_MAX)});
                    if let Some(description) = &r.description {
                        row["description"] = json!(cut(description, ROW_DESCRIPTION_CHARS_MAX));
                    }
                    row
                })
                .collect();
            body["type"] = json!("interactive");
            body["interactive"] = json!({"type": "list", "body": {"text": cut(text, TEXT_BODY_CHARS_MAX)},
                                         "action": {"button": cut(button, LIST_BUTTON_CHARS_MAX),
                                                    "sections": [{"rows": rows}]}});
        }
    }
    body
}

/// At most `max` characters (not bytes: Rupiah amounts and names may be any script).
fn cut(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((at, _)) => text[..at].to_string(),
        None => text.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_text_to_a_phone_number_goes_to_plus_and_digits() {
        let body = request_body("6281234567890", &Outbound::text("Halo"));
        assert_eq!(body["to"], "+6281234567890");
        assert_eq!(body["type"], "text");
        assert_eq!(body["text"]["body"], "Halo");
        assert_eq!(body["messaging_product"], "whatsapp");
    }

    #[test]
    fn a_customer_without_a_phone_number_is_addressed_by_user_id() {
        let body = request_body("US.13491208655302741918", &Outbound::text("Halo"));
        assert_eq!(body["recipient"], "US.13491208655302741918");
        assert!(body.get("to").is_none());
    }

    #[test]
    fn buttons_and_rows_are_cut_to_meta_limits() {
        let long = "x".repeat(300);
        let choice =
            |i: usize| Choice { id: format!("beli p{i}"), title: long.clone(), description: Some(long.clone()) };
        let buttons = Outbound::Buttons { body: long.repeat(10), buttons: (0..5).map(choice).collect() };
        let body = request_body("62811", &buttons);
        let sent = body["interactive"]["action"]["buttons"].as_array().unwrap();
        assert_eq!(sent.len(), BUTTONS_MAX);
        assert_eq!(sent[0]["reply"]["title"].as_str().unwrap().chars().count(), BUTTON_TITLE_CHARS_MAX);
        assert_eq!(body["interactive"]["body"]["text"].as_str().unwrap().len(), BUTTONS_BODY_CHARS_MAX);

        let list = Outbound::List { body: "Produk".into(), button: long.clone(), rows: (0..12).map(choice).collect() };
        let body = request_body("62811", &list);
        let rows = body["interactive"]["action"]["sections"][0]["rows"].as_array().unwrap();
        assert_eq!(rows.len(), LIST_ROWS_MAX);
        assert_eq!(rows[0]["title"].as_str().unwrap().len(), ROW_TITLE_CHARS_MAX);
        assert_eq!(rows[0]["description"].as_str().unwrap().len(), ROW_DESCRIPTION_CHARS_MAX);
        assert_eq!(body["interactive"]["action"]["button"].as_str().unwrap().len(), LIST_BUTTON_CHARS_MAX);
    }

    #[test]
    fn an_image_goes_by_link_with_its_caption() {
        let body =
            request_body("62811", &Outbound::Image { link: "https://qr/x.png".into(), caption: "Rp15.001".into() });
        assert_eq!(body["image"]["link"], "https://qr/x.png");
        assert_eq!(body["image"]["caption"], "Rp15.001");
    }

    #[test]
    fn cutting_counts_characters_not_bytes() {
        assert_eq!(cut("éééé", 2), "éé");
        assert_eq!(cut("ab", 5), "ab");
    }

    #[test]
    fn outbound_messages_round_trip_through_the_outbox_json() {
        let message = Outbound::List {
            body: "b".into(),
            button: "Pilih".into(),
            rows: vec![Choice { id: "beli a".into(), title: "A".into(), description: None }],
        };
        let text = serde_json::to_string(&message).unwrap();
        assert_eq!(serde_json::from_str::<Outbound>(&text).unwrap(), message);
    }
}
