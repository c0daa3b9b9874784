//! Provider webhooks. WhatsApp: `GET /webhooks/whatsapp` answers Meta's subscription check;
//! `POST /webhooks/whatsapp` checks the body's signature over its raw bytes before reading it,
//! records every event once in the durable inbox (deduplicated by message id: Meta retries for
//! days), and acknowledges. A forged or missing signature gets 401 and records nothing; a store
//! that cannot record gets 503, so Meta sends the batch again and nothing is lost.

use std::collections::HashMap;

use actix_web::http::StatusCode;
use actix_web::{get, post, web, HttpRequest, HttpResponse, Scope};
use serde_json::json;

use super::ApiError;
use crate::engine::Engine;
use crate::gateway::whatsapp::{self, WhatsAppEvent, WEBHOOK_BODY_MAX_BYTES};

/// The provider name under which WhatsApp events are recorded in the inbox.
pub const WHATSAPP: &str = "whatsapp";

pub fn scope() -> Scope {
    web::scope("/webhooks")
        .app_data(web::PayloadConfig::new(WEBHOOK_BODY_MAX_BYTES))
        .service(whatsapp_subscribe)
        .service(whatsapp_deliver)
}

#[get("/whatsapp")]
async fn whatsapp_subscribe(
    engine: web::Data<Engine>,
    query: web::Query<HashMap<String, String>>,
) -> Result<HttpResponse, ApiError> {
    let param = |name: &str| query.get(name).map(String::as_str);
    let token_matches = match (&engine.whatsapp.verify_token, param("hub.verify_token")) {
        (Some(token), Some(given)) => token.matches(given),
        _ => false,
    };
    match (param("hub.mode"), param("hub.challenge")) {
        (Some("subscribe"), Some(challenge)) if token_matches => {
            Ok(HttpResponse::Ok().content_type("text/plain").body(challenge.to_string()))
        }
        _ => Err(ApiError::new(StatusCode::FORBIDDEN, "verification_failed", "the verify token does not match")),
    }
}

#[post("/whatsapp")]
async fn whatsapp_deliver(
    engine: web::Data<Engine>,
    request: HttpRequest,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let header = request.headers().get(whatsapp::SIGNATURE_HEADER).map(|v| v.to_str().unwrap_or(""));
    whatsapp::verify(&engine.whatsapp.app_secret, header, &body)
        .map_err(|error| ApiError::new(StatusCode::UNAUTHORIZED, "bad_signature", error.to_string()))?;
    let webhook = whatsapp::parse(&body).map_err(|error| ApiError::bad_request("bad_payload", error.to_string()))?;
    for why in &webhook.skipped {
        tracing::warn!(why, "whatsapp webhook element skipped");
    }
    let now = engine.supervisor.clock().now();
    let (mut new, mut duplicates) = (0, 0);
    for event in &webhook.events {
        let (id, payload) = inbox_entry(event);
        let recorded =
            engine.store.record_webhook(WHATSAPP, &id, now, &payload.to_string()).await.map_err(|error| {
                tracing::error!(%error, "could not record a whatsapp event; the provider will send it again");
                ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "store_unavailable", "try again later")
            })?;
        if recorded {
            new += 1;
        } else {
            duplicates += 1;
        }
    }
    Ok(HttpResponse::Ok().json(json!({"received": webhook.events.len(), "new": new, "duplicates": duplicates})))
}

/// The inbox key and what is kept of an event. Messages are keyed by their id, statuses by
/// message and status (each step is delivered once), errors by their content.
fn inbox_entry(event: &WhatsAppEvent) -> (String, serde_json::Value) {
    match event {
        WhatsAppEvent::Message(m) => (
            format!("message:{}", m.id.as_str()),
            json!({"kind": "message", "customer": m.customer.to_string(), "name": m.name, "sent_at": m.sent_at,
                   "content": format!("{:?}", m.content)}),
        ),
        WhatsAppEvent::Status(s) => (
            format!("status:{}:{}", s.message.as_str(), s.status.as_str()),
            json!({"kind": "status", "message": s.message.as_str(), "status": s.status.as_str(), "at": s.at,
                   "errors": s.errors.iter().map(|e| json!({"code": e.code, "title": e.title})).collect::<Vec<_>>()}),
        ),
        WhatsAppEvent::Error(e) => {
            let payload = json!({"kind": "error", "code": e.code, "title": e.title, "details": e.details});
            (format!("error:{}:{}", e.code, short_hash(&payload.to_string())), payload)
        }
    }
}

fn short_hash(text: &str) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(text.as_bytes()).iter().take(8).map(|b| format!("{b:02x}")).collect()
}
