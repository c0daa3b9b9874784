//! The shop as customers reach it: the real app on a random port, talking to local stand-ins for
//! the Graph API and Midtrans (wiremock), driven by signed webhooks and notifications.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{json, Value};
use warung::engine::Engine;
use warung::flows::service::Gateway;
use warung::providers::midtrans::signature_key;
use warung::providers::whatsapp::sign;
use warung::settings::Secret;
use warung::settings::Settings;
use warung::store::ChargeRow;
use wiremock::matchers::{method, path, path_regex};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

use crate::helpers::*;

pub const APP_SECRET: &str = "test-app-secret";
pub const MIDTRANS_KEY: &str = "SB-Mid-server-test-key";
pub const PHONE_NUMBER_ID: &str = "106540352242922";

/// How long a test waits for replies to reach the Graph stand-in.
const REPLY_WAIT_SECS: u64 = 20;

static MESSAGE_SEQ: AtomicU64 = AtomicU64::new(1);

pub struct Shop {
    pub address: String,
    /// The ops listener: `/ops`, `/metrics`, the detail of `/ready`.
    pub ops_address: String,
    pub engine: Engine,
    /// The shop's own database: `finish` drops it (a failed test drops it too).
    pub db: TestDb,
    pub gateway: Gateway,
    pub graph: MockServer,
    pub midtrans: MockServer,
    /// What the Midtrans stand-in's status API says of each transaction: the last notification
    /// sent for it (Midtrans' status answer has the notification's fields).
    pub statuses: MidtransStatuses,
    pub client: reqwest::Client,
}

/// The Midtrans stand-in's `GET /v2/{id}/status`: the transaction as last notified, or Midtrans'
/// 404 body for one it never heard of. Mounted below every test's own mocks (priority 10), so a
/// test that mounts its own status answer wins.
#[derive(Clone, Default)]
pub struct MidtransStatuses(Arc<Mutex<HashMap<String, Value>>>);

impl MidtransStatuses {
    pub fn set(&self, order_id: &str, body: Value) {
        self.0.lock().unwrap().insert(order_id.to_string(), body);
    }
}

impl Respond for MidtransStatuses {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let id = request.url.path().trim_start_matches("/v2/").trim_end_matches("/status");
        match self.0.lock().unwrap().get(id) {
            Some(body) => {
                let mut body = body.clone();
                body["status_message"] = json!("Success, transaction is found");
                if body["transaction_status"] == "expire" {
                    body["status_code"] = json!("407");
                }
                ResponseTemplate::new(200).set_body_json(body)
            }
            None => ResponseTemplate::new(200)
                .set_body_json(json!({"status_code": "404", "status_message": "Transaction doesn't exist."})),
        }
    }
}

/// What the stand-ins answer: everything accepted, or left to the test to mount.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum StandIns {
    Accepting,
    /// The Graph API accepts; Midtrans' charge answers are the test's.
    MidtransUnmounted,
    /// Midtrans accepts charges; the Graph API's answers are the test's.
    GraphUnmounted,
}

/// A shop on a fresh database, its stand-ins accepting everything.
pub async fn spawn_shop(backend: Backend) -> Shop {
    spawn_shop_with(backend, StandIns::Accepting, |_| {}).await
}

/// A shop on a fresh database, with the stand-ins as `stand_ins` says and the settings changed
/// by `tweak`.
pub async fn spawn_shop_with(backend: Backend, stand_ins: StandIns, tweak: impl FnOnce(&mut Settings)) -> Shop {
    let graph = MockServer::start().await;
    let midtrans = MockServer::start().await;
    if stand_ins != StandIns::MidtransUnmounted {
        accept_charges(&midtrans).await;
    }
    if stand_ins != StandIns::GraphUnmounted {
        graph_accepts(&graph).await;
    }
    let db = TestDb::new(backend).await;
    let mut settings = shop_settings(&db, &graph, &midtrans);
    tweak(&mut settings);
    start_shop(db, graph, midtrans, settings).await
}

/// A shop whose Graph API stand-in answers every send with 503 (Meta is down).
pub async fn spawn_shop_meta_down(backend: Backend) -> Shop {
    let shop = spawn_shop_with(backend, StandIns::GraphUnmounted, |_| {}).await;
    wiremock::Mock::given(wiremock::matchers::method("POST"))
        .respond_with(wiremock::ResponseTemplate::new(503))
        .mount(&shop.graph)
        .await;
    shop
}

/// The tests' settings on `db`, live WhatsApp and Midtrans on the stand-ins.
fn shop_settings(db: &TestDb, graph: &MockServer, midtrans: &MockServer) -> Settings {
    let mut s = settings(&db.url);
    s.database.journal = db.journal;
    s.whatsapp.app_secret = Some(Secret::new(APP_SECRET));
    s.whatsapp.access_token = Some(Secret::new("test-access-token"));
    s.whatsapp.phone_number_id = Some(PHONE_NUMBER_ID.into());
    s.whatsapp.api_base_url = graph.uri();
    s.whatsapp.messages_per_second = 2_000;
    s.midtrans.server_key = Some(Secret::new(MIDTRANS_KEY));
    s.midtrans.api_base_url = midtrans.uri();
    // Alert tests make their own watch look when they want it to.
    s.alerts.watch_every_secs = 0;
    s
}

/// Starts the app on `db` and on stand-ins already set up, as the binary builds it.
async fn start_shop(db: TestDb, graph: MockServer, midtrans: MockServer, settings: Settings) -> Shop {
    let engine = warung::startup::start_engine(settings).await.unwrap();
    let statuses = MidtransStatuses::default();
    Mock::given(method("GET"))
        .and(path_regex(r"^/v2/[^/]+/status$"))
        .respond_with(statuses.clone())
        .with_priority(10)
        .mount(&midtrans)
        .await;
    let Served { address, ops_address, engine, gateway } = spawn_app(&engine);
    Shop { address, ops_address, engine, db, gateway, graph, midtrans, statuses, client: reqwest::Client::new() }
}

/// A shop stopped as a process stops: its database and its Midtrans stand-in wait for `restart`.
pub struct StoppedShop {
    pub db: TestDb,
    midtrans: MockServer,
    settings: Settings,
}

impl StoppedShop {
    /// The shop again, on the same database, settings and Midtrans stand-in, with a new Graph
    /// stand-in that accepts every message (Meta is back, if it was down).
    pub async fn restart(self) -> Shop {
        let graph = MockServer::start().await;
        graph_accepts(&graph).await;
        let mut settings = self.settings;
        settings.whatsapp.api_base_url = graph.uri();
        start_shop(self.db, graph, self.midtrans, settings).await
    }
}

/// The Graph stand-in accepts every message.
pub async fn graph_accepts(graph: &MockServer) {
    Mock::given(method("POST"))
        .and(path_regex(r"^/v24\.0/\d+/messages$"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "messaging_product": "whatsapp", "messages": [{"id": "wamid.SENT"}]
        })))
        .mount(graph)
        .await;
}

pub async fn accept_charges(midtrans: &MockServer) {
    let mut answer: Value = fixture_json("midtrans/midtrans_charge_qris_response.json");
    answer["actions"][0]["url"] = json!("https://qr.test/qris/code.png");
    Mock::given(method("POST"))
        .and(path("/v2/charge"))
        .respond_with(ResponseTemplate::new(200).set_body_json(answer))
        .mount(midtrans)
        .await;
}

pub fn fixture_json(name: &str) -> Value {
    serde_json::from_slice(&std::fs::read(format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap())
        .unwrap()
}

/// A WhatsApp webhook body with one text message from `who`.
pub fn text_webhook(who: &str, text: &str) -> (String, Vec<u8>) {
    let id = format!("wamid.TEST{:010}", MESSAGE_SEQ.fetch_add(1, Ordering::Relaxed));
    let body = json!({"object": "whatsapp_business_account", "entry": [{"id": "1", "changes": [{"field": "messages",
        "value": {"messaging_product": "whatsapp", "metadata": {"phone_number_id": PHONE_NUMBER_ID},
                  "contacts": [{"profile": {"name": "Budi"}, "wa_id": who}],
                  "messages": [{"from": who, "id": id, "timestamp": "1700000000", "type": "text", "text": {"body": text}}]}}]}]});
    (id, serde_json::to_vec(&body).unwrap())
}

impl Shop {
    /// The end of a test: the store passes the audit, the engine stops, the database goes.
    pub async fn finish(self) {
        finish(self.engine, self.db).await;
    }

    /// Stops the engine, its journal flushed, keeping the database and the Midtrans stand-in
    /// for `StoppedShop::restart`.
    pub async fn stop(self) -> StoppedShop {
        self.engine.shutdown().await.unwrap();
        StoppedShop { db: self.db, midtrans: self.midtrans, settings: self.engine.settings.clone() }
    }

    /// Posts a webhook body signed with the app secret, as Meta does; the answer's status and body.
    pub async fn deliver(&self, body: &[u8]) -> (u16, Value) {
        let response = self
            .client
            .post(format!("{}/webhooks/whatsapp", self.address))
            .header("content-type", "application/json")
            .header("X-Hub-Signature-256", sign(&Secret::new(APP_SECRET), body))
            .body(body.to_vec())
            .send()
            .await
            .unwrap();
        (response.status().as_u16(), response.json().await.unwrap_or(Value::Null))
    }

    /// Waits until the shop answers nothing and holds nothing unsent: after it, nothing more is
    /// sent until something new arrives.
    pub async fn until_idle(&self) {
        let (store, clock) = (self.engine.store.as_ref(), self.engine.lanes.clock());
        let idle = self.gateway.wait_until_idle(store, clock, Duration::from_secs(REPLY_WAIT_SECS)).await;
        assert!(idle, "the shop was still answering or sending after {REPLY_WAIT_SECS} s");
    }

    /// `who` sends `text`; the webhook must take it.
    pub async fn say(&self, who: &str, text: &str) {
        let (_, body) = text_webhook(who, text);
        let (status, answer) = self.deliver(&body).await;
        assert_eq!(status, 200, "{answer}");
    }

    /// Everything sent to `who` through the Graph API, oldest first, as the body text a reader
    /// sees (the caption of an image, the body of a list).
    pub async fn sent_to(&self, who: &str) -> Vec<Value> {
        let to = format!("+{who}");
        let requests = self.graph.received_requests().await.unwrap_or_default();
        let mut seen = Vec::new();
        for request in requests {
            if let Ok(body) = serde_json::from_slice::<Value>(&request.body) {
                if body["to"] == to.as_str() {
                    seen.push(body);
                }
            }
        }
        seen
    }

    /// Waits until `who` has `count` messages, and returns their texts.
    pub async fn replies(&self, who: &str, count: usize) -> Vec<String> {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(REPLY_WAIT_SECS);
        loop {
            let sent = self.sent_to(who).await;
            if sent.len() >= count {
                return sent.iter().map(text_of).collect();
            }
            assert!(tokio::time::Instant::now() < deadline, "{who} got {} of {count} replies: {sent:?}", sent.len());
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// `who` says `text` and gets the next reply (of `total` so far).
    pub async fn ask(&self, who: &str, text: &str, total: usize) -> String {
        self.say(who, text).await;
        self.replies(who, total).await.pop().unwrap()
    }

    /// The QRIS charge of `who`'s latest order.
    pub async fn charge_of_latest_order(&self, who: &str) -> ChargeRow {
        let order = self.engine.store.orders_of(&customer(who), 1).await.unwrap().remove(0);
        self.engine.store.charge(order.id.as_str()).await.unwrap().expect("a charge for the order")
    }

    /// A Midtrans notification for `order_id`, signed with the server key (or `key`); the
    /// stand-in's status API says the same from now on.
    pub async fn notify_signed(&self, order_id: &str, status: &str, gross_amount: &str, key: &str) -> (u16, Value) {
        let status_code = match status {
            "settlement" | "capture" => "200",
            "pending" => "201",
            _ => "202",
        };
        self.notify_body(notification(order_id, status, status_code, gross_amount, key)).await
    }

    /// Posts a notification body as Midtrans does; the status API says the same from now on.
    pub async fn notify_body(&self, body: Value) -> (u16, Value) {
        if let Some(order_id) = body["order_id"].as_str() {
            self.statuses.set(order_id, body.clone());
        }
        let response =
            self.client.post(format!("{}/webhooks/midtrans", self.address)).json(&body).send().await.unwrap();
        (response.status().as_u16(), response.json().await.unwrap_or(Value::Null))
    }

    pub async fn notify(&self, charge: &ChargeRow, status: &str) -> (u16, Value) {
        let gross = format!("{}.00", charge.gross.amount());
        self.notify_signed(charge.id.as_str(), status, &gross, MIDTRANS_KEY).await
    }

    /// An admin API call with the test token; the answer's status and JSON body.
    pub async fn admin(&self, method: &str, path: impl AsRef<str>, body: Option<Value>) -> (u16, Value) {
        let method = reqwest::Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
        let url = format!("{}/admin/api{}", self.address, path.as_ref());
        let mut request = self.client.request(method, url).bearer_auth(ADMIN_TOKEN);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap();
        (response.status().as_u16(), response.json().await.unwrap_or(Value::Null))
    }
}

/// A Midtrans notification body, signed with `key` over the values as written.
pub fn notification(order_id: &str, status: &str, status_code: &str, gross_amount: &str, key: &str) -> Value {
    json!({
            "transaction_time": "2026-11-21 10:00:00", "transaction_status": status,
            "transaction_id": format!("tx-{order_id}"), "status_message": "midtrans payment notification",
            "status_code": status_code,
            "signature_key": signature_key(order_id, status_code, gross_amount, &Secret::new(key)),
            "payment_type": "qris", "order_id": order_id, "merchant_id": "M1", "gross_amount": gross_amount,
            "fraud_status": "accept", "currency": "IDR", "acquirer": "gopay"
    })
}

/// What a reader sees of a sent message.
pub fn text_of(body: &Value) -> String {
    match body["type"].as_str() {
        Some("text") => body["text"]["body"].as_str().unwrap_or("").to_string(),
        Some("image") => format!(
            "[image {}] {}",
            body["image"]["link"].as_str().unwrap_or(""),
            body["image"]["caption"].as_str().unwrap_or("")
        ),
        Some("interactive") => body["interactive"]["body"]["text"].as_str().unwrap_or("").to_string(),
        _ => body.to_string(),
    }
}
