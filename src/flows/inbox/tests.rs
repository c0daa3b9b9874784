use super::*;
use crate::providers::whatsapp::Content;
use crate::providers::whatsapp::{InboundMessage, WaMessageId, WhatsAppEvent};
use crate::store::InboxRow;

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
