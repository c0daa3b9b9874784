use super::*;

fn fixture(name: &str) -> Vec<u8> {
    let path = format!("{}/tests/fixtures/whatsapp/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn only_message(name: &str) -> InboundMessage {
    let webhook = parse(&fixture(name)).unwrap();
    assert!(webhook.skipped.is_empty(), "{name}: {:?}", webhook.skipped);
    match <[WhatsAppEvent; 1]>::try_from(webhook.events) {
        Ok([WhatsAppEvent::Message(message)]) => message,
        other => panic!("{name}: expected one message, got {other:?}"),
    }
}

#[test]
fn a_text_message_names_its_sender_and_text() {
    let message = only_message("wa_text_message_meta_docs.json");
    assert_eq!(message.id.as_str(), "wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQTRBNjU5OUFFRTAzODEwMTQ0RgA=");
    assert_eq!(message.customer, CustomerId::parse("16505551234").unwrap());
    assert_eq!(message.name.as_deref(), Some("Sheena Nelson"));
    assert_eq!(message.sent_at, Some(1_749_416_383_000));
    assert_eq!(message.content, Content::Text("Does it come in another color?".into()));
}

#[test]
fn list_and_button_replies_carry_our_choice_id() {
    let list = only_message("wa_interactive_list_reply.json");
    assert_eq!(list.content, Content::Choice { id: "priority_express".into(), title: "Priority Mail Express".into() });
    let button = only_message("wa_interactive_button_reply.json");
    assert!(matches!(button.content, Content::Choice { .. }), "{:?}", button.content);
    let template = only_message("wa_button_quick_reply.json");
    assert_eq!(template.content, Content::TemplateButton { payload: "Unsubscribe".into(), text: "Unsubscribe".into() });
}

#[test]
fn media_and_unsupported_messages_are_kept_by_kind() {
    let image = only_message("wa_image_message.json");
    assert_eq!(image.content, Content::Media { kind: "image".into(), caption: Some("Taj Mahal".into()) });
    let unsupported = only_message("wa_unsupported_message.json");
    assert_eq!(unsupported.content, Content::Unsupported { kind: "edit".into() });
}

#[test]
fn messages_from_ads_and_product_questions_are_plain_text() {
    for name in ["wa_text_from_ctwa_ad_referral.json", "wa_text_product_inquiry_context.json"] {
        assert!(matches!(only_message(name).content, Content::Text(_)), "{name}");
    }
}

#[test]
fn status_callbacks_and_error_webhooks_are_not_messages() {
    let sent = parse(&fixture("wa_status_sent_minimal.json")).unwrap();
    assert_eq!(sent.events.len(), 1);
    let WhatsAppEvent::Status(status) = &sent.events[0] else { panic!("{:?}", sent.events) };
    assert_eq!(status.status, DeliveryStatus::Sent);
    assert_eq!(status.recipient.as_deref(), Some("16505551234"));

    let failed = parse(&fixture("wa_status_failed.json")).unwrap();
    let WhatsAppEvent::Status(status) = &failed.events[0] else { panic!("{:?}", failed.events) };
    assert_eq!(status.status, DeliveryStatus::Failed);
    assert_eq!(status.errors[0].code, 131_049);

    let rate_limited = parse(&fixture("wa_error_webhook_rate_limit_130429.json")).unwrap();
    let WhatsAppEvent::Error(error) = &rate_limited.events[0] else { panic!("{:?}", rate_limited.events) };
    assert_eq!((error.code, error.title.as_str()), (130_429, "Rate limit hit"));
}

#[test]
fn every_inbound_fixture_parses_without_skipping_anything() {
    let dir = format!("{}/tests/fixtures/whatsapp", env!("CARGO_MANIFEST_DIR"));
    let mut read = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let body = std::fs::read(&path).unwrap();
        let json: serde_json::Value = serde_json::from_slice(&body).unwrap();
        if json["object"] != "whatsapp_business_account" {
            continue;
        }
        let webhook = parse(&body).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        assert!(!webhook.events.is_empty() && webhook.skipped.is_empty(), "{}: {webhook:?}", path.display());
        read += 1;
    }
    assert!(read >= 12, "only {read} inbound fixtures found in {dir}");
}

#[test]
fn a_batch_is_read_whole_and_a_message_without_a_sender_is_skipped_not_fatal() {
    let body = br#"{"object":"whatsapp_business_account","entry":[
        {"changes":[{"field":"messages","value":{"messages":[
            {"id":"wamid.A","from":"628111","timestamp":"1","type":"text","text":{"body":"menu"}},
            {"id":"wamid.B","timestamp":"2","type":"text","text":{"body":"saldo"}}]}}]},
        {"changes":[{"field":"messages","value":{"contacts":[{"user_id":"ID.99","profile":{"name":"Ani"}}],
            "messages":[{"id":"wamid.C","from_user_id":"ID.99","timestamp":"3","type":"text","text":{"body":"produk"}}]}},
            {"field":"account_update","value":{}}]}]}"#;
    let webhook = parse(body).unwrap();
    let ids: Vec<_> = webhook
        .events
        .iter()
        .map(|e| match e {
            WhatsAppEvent::Message(m) => (m.id.as_str().to_string(), m.customer.to_string()),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(ids, vec![("wamid.A".into(), "628111".into()), ("wamid.C".into(), "ID.99".into())]);
    assert_eq!(webhook.skipped.len(), 2, "{:?}", webhook.skipped);
}

#[test]
fn a_body_that_is_not_a_whatsapp_webhook_is_an_error() {
    assert!(matches!(parse(b"{not json"), Err(WebhookError::NotJson(_))));
    assert!(matches!(parse(br#"{"object":"page","entry":[]}"#), Err(WebhookError::NotWhatsApp(_))));
    assert!(parse(b"[]").is_err(), "an array is no webhook");
}

#[test]
fn an_interactive_message_without_its_object_is_unsupported_and_its_errors_are_kept() {
    let body = br#"{"object":"whatsapp_business_account","entry":[{"changes":[{"field":"messages","value":{
        "contacts":[{"wa_id":"628111","profile":{"name":"Budi"}}],
        "messages":[{"id":"wamid.I","from":"628111","timestamp":"1","type":"interactive"}],
        "errors":[{"code":131000,"title":"Something went wrong","error_data":{"details":"Unsupported webhook payload"}}]}}]}]}"#;
    let webhook = parse(body).unwrap();
    assert!(webhook.skipped.is_empty(), "{:?}", webhook.skipped);
    let message = webhook.events.iter().find_map(|e| match e {
        WhatsAppEvent::Message(m) => Some(m),
        _ => None,
    });
    assert_eq!(message.unwrap().content, Content::Unsupported { kind: "interactive".into() }, "answered politely");
    let error = webhook.events.iter().find_map(|e| match e {
        WhatsAppEvent::Error(e) => Some(e),
        _ => None,
    });
    assert_eq!(error.unwrap().code, 131_000);
}
