//! `/health`: the process is up. `/ready`: the store answers, its migrations are applied and the
//! journal commits (503 otherwise, so a load balancer stops sending traffic); Redis and the
//! providers' modes are reported but never make it unready (the shop works without them).

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
    let pending = match &store {
        Ok(()) => engine.store.migrations_pending().await.map_err(|e| e.to_string()),
        Err(_) => Err("store unreachable".to_string()),
    };
    let journal = engine.supervisor.flush().await;
    let migrations = match &pending {
        Ok(0) => "applied".to_string(),
        Ok(n) => format!("{n} pending: run `warung migrate`"),
        Err(e) => e.clone(),
    };
    let redis = match engine.limiter.redis_up() {
        None => "not configured",
        Some(true) => "up",
        Some(false) => "down (the purchase rate limit fails open)",
    };
    let body = json!({
        "store": store.as_ref().map(|_| "ok".to_string()).unwrap_or_else(|e| e.to_string()),
        "migrations": migrations,
        "journal": journal.as_ref().map(|_| "ok".to_string()).unwrap_or_else(|e| e.to_string()),
        "backend": engine.store.backend(),
        "redis": redis,
        "whatsapp": format!("{:?}", engine.whatsapp.mode).to_lowercase(),
        "midtrans": format!("{:?}", engine.midtrans.mode).to_lowercase(),
    });
    if store.is_ok() && matches!(pending, Ok(0)) && journal.is_ok() {
        HttpResponse::Ok().json(body)
    } else {
        HttpResponse::ServiceUnavailable().json(body)
    }
}
