//! `/health`: the process is up. `/ready`: the store answers, its migrations are applied and the
//! journal commits (503 otherwise, so a load balancer stops sending traffic). The detail (the
//! store, Redis and the providers' modes, never a reason to be unready) is shown on the ops
//! listener only; the store is asked at most once a second however often `/ready` is called.

use actix_web::{get, web, HttpMessage, HttpRequest, HttpResponse};
use serde_json::json;

use super::{OpsView, StoreReads};
use crate::engine::Engine;
use crate::flows::service::Gateway;

pub fn routes(config: &mut web::ServiceConfig) {
    config.service(health).service(ready);
}

#[get("/health")]
async fn health() -> HttpResponse {
    HttpResponse::Ok().json(json!({"status": "up"}))
}

#[get("/ready")]
async fn ready(
    engine: web::Data<Engine>,
    gateway: web::Data<Gateway>,
    reads: web::Data<StoreReads>,
    request: HttpRequest,
) -> HttpResponse {
    let (is_ready, detail) = reads.ready.get(|| readiness(&engine, &gateway)).await;
    let mut response = if is_ready { HttpResponse::Ok() } else { HttpResponse::ServiceUnavailable() };
    if request.extensions().get::<OpsView>().is_some() {
        response.json(detail)
    } else {
        // The public answer says ready or not: what the store and the providers are is for
        // operators, on the ops listener.
        response.json(json!({"status": if is_ready { "ready" } else { "unready" }}))
    }
}

/// Whether the engine can take traffic, and why not: read at most once a second (`StoreReads`).
async fn readiness(engine: &Engine, gateway: &Gateway) -> (bool, serde_json::Value) {
    let store = engine.store.ping().await;
    let pending = match &store {
        Ok(()) => engine.store.migrations_pending().await.map_err(|e| e.to_string()),
        Err(_) => Err("store unreachable".to_string()),
    };
    let journal = engine.lanes.flush().await;
    let migrations = match &pending {
        Ok(0) => "applied".to_string(),
        Ok(n) => format!("{n} pending: run `warung migrate`"),
        Err(e) => e.clone(),
    };
    let redis = match gateway.limiter.redis_up() {
        None => "not configured",
        Some(true) => "up",
        Some(false) => "down (the purchase rate limit fails open)",
    };
    let detail = json!({
        "store": store.as_ref().map(|_| "ok".to_string()).unwrap_or_else(|e| e.to_string()),
        "migrations": migrations,
        "journal": journal.as_ref().map(|_| "ok".to_string()).unwrap_or_else(|e| e.to_string()),
        "backend": engine.store.backend(),
        "redis": redis,
        "whatsapp": format!("{:?}", gateway.whatsapp.mode).to_lowercase(),
        "midtrans": format!("{:?}", gateway.midtrans.mode).to_lowercase(),
    });
    (store.is_ok() && matches!(pending, Ok(0)) && journal.is_ok(), detail)
}
