//! The WhatsApp webhook: Meta's subscription check, signatures over the raw body, and every
//! event recorded exactly once however often it is delivered.

use serde_json::Value;
use warung::providers::whatsapp::sign;
use warung::settings::Secret;

use crate::helpers::*;

const APP_SECRET: &str = "test-app-secret";
const VERIFY_TOKEN: &str = "test-verify-token";

struct Hook {
    address: String,
    client: reqwest::Client,
    /// The engine behind the webhook, and its database: both go with the hook.
    _engine: TestEngine,
}

/// The application on a fresh database, with a live WhatsApp whose replies go nowhere; the
/// WhatsApp webhook's address.
async fn spawn_hook(backend: Backend) -> Hook {
    let engine = TestEngine::start_with(backend, |s| {
        s.whatsapp.app_secret = Some(Secret::new(APP_SECRET));
        s.whatsapp.verify_token = Some(Secret::new(VERIFY_TOKEN));
        s.whatsapp.access_token = Some(Secret::new("test-access-token"));
        s.whatsapp.phone_number_id = Some("106540352242922".into());
        // Nothing listens there: replies stay in the outbox, which these tests do not look at.
        s.whatsapp.api_base_url = "http://127.0.0.1:9".into();
    })
    .await;
    let address = format!("{}/webhooks/whatsapp", spawn_app(&engine).address);
    Hook { address, client: reqwest::Client::new(), _engine: engine }
}

impl Hook {
    async fn deliver(&self, body: &[u8], signature: Option<String>) -> (u16, Value) {
        let mut request =
            self.client.post(&self.address).header("content-type", "application/json").body(body.to_vec());
        if let Some(signature) = signature {
            request = request.header("X-Hub-Signature-256", signature);
        }
        let response = request.send().await.unwrap();
        (response.status().as_u16(), response.json().await.unwrap_or(Value::Null))
    }

    async fn deliver_signed(&self, body: &[u8]) -> (u16, Value) {
        self.deliver(body, Some(sign(&Secret::new(APP_SECRET), body))).await
    }
}

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!("{}/tests/fixtures/whatsapp/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

#[actix_rt::test]
async fn the_subscription_check_echoes_the_challenge_only_for_the_right_token() {
    let hook = spawn_hook(Backend::Sqlite).await;
    let check = |token: &str| {
        let url = format!("{}?hub.mode=subscribe&hub.challenge=1158201444&hub.verify_token={token}", hook.address);
        let client = hook.client.clone();
        async move {
            let response = client.get(url).send().await.unwrap();
            (response.status().as_u16(), response.text().await.unwrap())
        }
    };
    assert_eq!(check(VERIFY_TOKEN).await, (200, "1158201444".to_string()));
    assert_eq!(check("vibecoding").await.0, 403);
    let no_mode = hook.client.get(format!("{}?hub.challenge=1&hub.verify_token={VERIFY_TOKEN}", hook.address));
    assert_eq!(no_mode.send().await.unwrap().status().as_u16(), 403);
}

async fn a_delivery_is_recorded_once_however_often_it_comes(backend: Backend) {
    let hook = spawn_hook(backend).await;
    let body = fixture("wa_text_message_meta_docs.json");
    let (status, first) = hook.deliver_signed(&body).await;
    assert_eq!(status, 200, "{first}");
    assert_eq!((first["new"].as_u64(), first["duplicates"].as_u64()), (Some(1), Some(0)));
    for _ in 0..3 {
        let (status, again) = hook.deliver_signed(&body).await;
        assert_eq!(status, 200);
        assert_eq!((again["new"].as_u64(), again["duplicates"].as_u64()), (Some(0), Some(1)), "Meta's retry");
    }
    let (_, statuses) = hook.deliver_signed(&fixture("wa_status_sent_minimal.json")).await;
    assert_eq!(statuses["new"].as_u64(), Some(1), "a status callback is recorded, apart from messages");
}

on_both_backends!(a_delivery_is_recorded_once_however_often_it_comes);

#[actix_rt::test]
async fn a_forged_or_missing_signature_gets_401_and_records_nothing() {
    let hook = spawn_hook(Backend::Sqlite).await;
    let body = fixture("wa_interactive_list_reply.json");
    let forged = sign(&Secret::new("not-the-app-secret"), &body);
    let (status, error) = hook.deliver(&body, Some(forged)).await;
    assert_eq!((status, error["code"].as_str()), (401, Some("bad_signature")));
    assert_eq!(hook.deliver(&body, None).await.0, 401);
    assert_eq!(hook.deliver(&body, Some("sha256=nothex".into())).await.0, 401);
    let mut tampered = body.clone();
    let signature = sign(&Secret::new(APP_SECRET), &body);
    tampered.extend_from_slice(b" ");
    assert_eq!(hook.deliver(&tampered, Some(signature)).await.0, 401, "the signature covers the exact bytes");

    let (status, genuine) = hook.deliver_signed(&body).await;
    assert_eq!(status, 200);
    assert_eq!(genuine["new"].as_u64(), Some(1), "nothing was recorded by the refused deliveries");
}

#[actix_rt::test]
async fn a_signed_body_that_is_not_a_webhook_gets_400_and_a_batch_is_read_whole() {
    let hook = spawn_hook(Backend::Sqlite).await;
    let (status, error) = hook.deliver_signed(b"{not json").await;
    assert_eq!((status, error["code"].as_str()), (400, Some("bad_payload")));

    let batch = br#"{"object":"whatsapp_business_account","entry":[
        {"changes":[{"field":"messages","value":{"messages":[
            {"id":"wamid.A","from":"628111","timestamp":"1","type":"text","text":{"body":"menu"}},
            {"id":"wamid.B","from":"628222","timestamp":"2","type":"text","text":{"body":"saldo"}}]}}]},
        {"changes":[{"field":"messages","value":{"statuses":[
            {"id":"wamid.OUT","status":"delivered","timestamp":"3","recipient_id":"628111"}],
            "errors":[{"code":130429,"title":"Rate limit hit"}]}}]}]}"#;
    let (status, counts) = hook.deliver_signed(batch).await;
    assert_eq!(status, 200, "{counts}");
    assert_eq!((counts["received"].as_u64(), counts["new"].as_u64()), (Some(4), Some(4)));
}

#[actix_rt::test]
async fn a_body_over_the_limit_is_refused_before_anything_else() {
    let hook = spawn_hook(Backend::Sqlite).await;
    let huge = vec![b' '; warung::providers::whatsapp::WEBHOOK_BODY_MAX_BYTES + 1];
    let (status, _) = hook.deliver_signed(&huge).await;
    assert_eq!(status, 413);
}
