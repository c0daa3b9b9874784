//! The HTTP surface: health, readiness, the admin API's auth and its answers to bad input.

use serde_json::{json, Value};

use crate::helpers::*;

struct TestApp {
    address: String,
    client: reqwest::Client,
    /// The engine behind the app, and its database: both go with the app.
    _engine: TestEngine,
}

/// The application on a fresh database, its admin API behind `token` (off without one), request
/// bodies limited to 4 KiB.
async fn spawn_api(backend: Backend, token: Option<&str>) -> TestApp {
    let token = token.map(warung::settings::Secret::from);
    let engine = TestEngine::start_with(backend, |s| {
        s.admin.token = token;
        s.http.body_limit_bytes = 4096;
    })
    .await;
    TestApp { address: spawn_app(&engine).address, client: reqwest::Client::new(), _engine: engine }
}

impl TestApp {
    async fn post(&self, path: &str, token: &str, body: Value) -> (u16, Value) {
        let response =
            self.client.post(format!("{}{path}", self.address)).bearer_auth(token).json(&body).send().await.unwrap();
        (response.status().as_u16(), response.json().await.unwrap_or(Value::Null))
    }

    async fn get(&self, path: &str, token: &str) -> (u16, Value) {
        let response = self.client.get(format!("{}{path}", self.address)).bearer_auth(token).send().await.unwrap();
        (response.status().as_u16(), response.json().await.unwrap_or(Value::Null))
    }
}

#[actix_rt::test]
async fn health_and_readiness_answer() {
    let app = spawn_api(Backend::Sqlite, Some(ADMIN_TOKEN)).await;
    assert_eq!(app.get("/health", "").await, (200, json!({"status": "up"})));
    let (status, body) = app.get("/ready", "").await;
    assert_eq!((status, body["status"].as_str()), (200, Some("ready")), "{body}");
}

#[actix_rt::test]
async fn the_index_page_links_every_page_and_each_link_answers() {
    let app = spawn_api(Backend::Sqlite, Some(ADMIN_TOKEN)).await;
    let response = app.client.get(format!("{}/", app.address)).send().await.unwrap();
    assert_eq!(response.status().as_u16(), 200);
    assert!(response.headers()["content-security-policy"].to_str().unwrap().contains("script-src 'none'"));
    let page = response.text().await.unwrap();
    for href in ["/admin", "/simulator", "/admin/api/openapi.json", "/health", "/ready"] {
        assert!(page.contains(&format!("href=\"{href}\"")), "{href} is not linked:\n{page}");
        let answer = app.client.get(format!("{}{href}", app.address)).send().await.unwrap();
        assert_eq!(answer.status().as_u16(), 200, "{href}");
    }
    assert!(page.contains("/ops\""), "the ops page is linked: {page}");
}

#[actix_rt::test]
async fn the_admin_api_refuses_a_missing_or_wrong_token_and_is_off_without_one() {
    let app = spawn_api(Backend::Sqlite, Some(ADMIN_TOKEN)).await;
    assert_eq!(app.get("/admin/api/wallets/budi", "").await.0, 401);
    assert_eq!(app.get("/admin/api/wallets/budi", "wrong-token-0123456789").await.0, 401);
    assert_eq!(app.get("/admin/api/wallets/budi", ADMIN_TOKEN).await.0, 200);

    let off = spawn_api(Backend::Sqlite, None).await;
    let (status, body) = off.get("/admin/api/wallets/budi", ADMIN_TOKEN).await;
    assert_eq!((status, body["code"].as_str()), (403, Some("admin_disabled")));
}

#[actix_rt::test]
async fn bad_input_gets_a_coded_error_and_changes_nothing() {
    let app = spawn_api(Backend::Sqlite, Some(ADMIN_TOKEN)).await;
    let (status, body) =
        app.post("/admin/api/purchases", ADMIN_TOKEN, json!({"customer": "has space", "product": "viu1b"})).await;
    assert_eq!((status, body["code"].as_str()), (400, Some("bad_customer")));
    let (status, body) =
        app.post("/admin/api/wallets/budi/top-ups", ADMIN_TOKEN, json!({"payment_id": "p1", "amount": "-5"})).await;
    assert_eq!((status, body["code"].as_str()), (400, Some("bad_amount")));
    let (status, body) =
        app.post("/admin/api/wallets/budi/top-ups", ADMIN_TOKEN, json!({"payment_id": "p1", "amount": "1.2345"})).await;
    assert_eq!((status, body["code"].as_str()), (400, Some("bad_amount")));
    let huge = json!({"customer": "x".repeat(10_000), "product": "viu1b"});
    let (status, body) = app.post("/admin/api/purchases", ADMIN_TOKEN, huge).await;
    assert_eq!((status, body["code"].as_str()), (413, Some("body_too_large")));
    let raw = app
        .client
        .post(format!("{}/admin/api/purchases", app.address))
        .bearer_auth(ADMIN_TOKEN)
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(raw.status().as_u16(), 400);
    let (status, body) =
        app.post("/admin/api/purchases", ADMIN_TOKEN, json!({"customer": "budi", "product": "nosuch"})).await;
    assert_eq!((status, body["code"].as_str()), (404, Some("product_not_found")));
    let (_, wallet) = app.get("/admin/api/wallets/budi", ADMIN_TOKEN).await;
    assert_eq!(wallet["balance"]["balance"], json!("0"));
}

#[actix_rt::test]
async fn a_purchase_through_the_api_returns_its_items() {
    let app = spawn_api(Backend::Sqlite, Some(ADMIN_TOKEN)).await;
    assert_eq!(
        app.post("/admin/api/products", ADMIN_TOKEN, json!({"code": "viu1b", "name": "Viu", "price": "15000"})).await.0,
        201
    );
    assert_eq!(
        app.post("/admin/api/products", ADMIN_TOKEN, json!({"code": "viu1b", "name": "Viu", "price": "15000"})).await.0,
        409
    );
    let (status, _) = app
        .post("/admin/api/products/viu1b/stock", ADMIN_TOKEN, json!({"reference": "s1", "items": ["acc-1", "acc-2"]}))
        .await;
    assert_eq!(status, 200);
    let (status, body) =
        app.post("/admin/api/products/viu1b/stock", ADMIN_TOKEN, json!({"reference": "s2", "items": ["acc-2"]})).await;
    assert_eq!((status, body["code"].as_str()), (409, Some("duplicate_item")));
    app.post("/admin/api/wallets/budi/top-ups", ADMIN_TOKEN, json!({"payment_id": "p1", "amount": "20000"})).await;
    let (status, body) =
        app.post("/admin/api/purchases", ADMIN_TOKEN, json!({"customer": "budi", "product": "viu1b"})).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["items"], json!(["acc-1"]));
    assert_eq!(body["balance"]["balance"], json!("5000"));
    let (status, body) =
        app.post("/admin/api/purchases", ADMIN_TOKEN, json!({"customer": "budi", "product": "viu1b"})).await;
    assert_eq!((status, body["code"].as_str()), (402, Some("insufficient_balance")));
}

#[actix_rt::test]
async fn every_response_carries_a_request_id_and_a_callers_id_is_kept() {
    let app = spawn_api(Backend::Sqlite, Some(ADMIN_TOKEN)).await;
    let response = app.client.get(format!("{}/health", app.address)).send().await.unwrap();
    let made = response.headers()["x-request-id"].to_str().unwrap().to_string();
    assert_eq!(made.len(), 16, "{made}");
    let given =
        app.client.get(format!("{}/health", app.address)).header("X-Request-Id", "lb-42.a").send().await.unwrap();
    assert_eq!(given.headers()["x-request-id"], "lb-42.a");
    let odd = app
        .client
        .get(format!("{}/nowhere", app.address))
        .header("X-Request-Id", "no spaces please")
        .send()
        .await
        .unwrap();
    assert_eq!(odd.status().as_u16(), 404);
    assert_ne!(odd.headers()["x-request-id"], "no spaces please", "replaced, even on an error");
}
