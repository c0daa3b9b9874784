//! `/health`: the process is up. `/ready`: the store answers and the journal commits.

use actix_web::{get, web, HttpResponse};
use serde_json::json;

use crate::engine::Engine;

pub fn routes(config: &mut web::ServiceConfig) {
    config.service(health).service(ready);
}

#[get("/health")]
async fn health() -> HttpResponse {
    HttpResponse::Ok().json(json!({"status": "up"}))
}

#[get("/ready")]
async fn ready(engine: web::Data<Engine>) -> HttpResponse {
    let store = engine.store.ping().await;
    let journal = engine.supervisor.flush().await;
    let body = json!({
        "store": store.as_ref().map(|_| "ok".to_string()).unwrap_or_else(|e| e.to_string()),
        "journal": journal.as_ref().map(|_| "ok".to_string()).unwrap_or_else(|e| e.to_string()),
        "backend": engine.store.backend(),
    });
    if store.is_ok() && journal.is_ok() {
        HttpResponse::Ok().json(body)
    } else {
        HttpResponse::ServiceUnavailable().json(body)
    }
}
