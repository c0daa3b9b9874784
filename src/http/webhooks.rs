//! Provider webhooks.
//!
//! WhatsApp: `GET /webhooks/whatsapp` answers Meta's subscription check; `POST
//! /webhooks/whatsapp` checks the body's signature over its raw bytes before reading it, records
//! every event once in the durable inbox (deduplicated by message id: Meta retries for days),
//! hands new messages to the inbox to be answered behind the acknowledgement, and acknowledges.
//! A forged or missing signature gets 401 and records nothing; a store that cannot record gets
//! 503, so Meta sends the batch again and nothing is lost.
//!
//! Midtrans: `POST /webhooks/midtrans` checks `signature_key`, records the notification, and acts
//! on it (`flows::qris`); 503 when it could not, so Midtrans sends it again.

use std::collections::HashMap;

use actix_web::http::StatusCode;
use actix_web::{get, post, web, HttpRequest, HttpResponse, Scope};
use serde_json::json;

use super::ApiError;
use crate::engine::Engine;
use crate::flows::inbox::{self, Queued, WHATSAPP};
use crate::flows::qris::{Handled, PaymentError};
use crate::flows::service::Gateway;
use crate::infra::counters::bump;
use crate::providers::midtrans::{signature_matches, Transaction};
use crate::providers::whatsapp::{self, WhatsAppEvent, WEBHOOK_BODY_MAX_BYTES};
use crate::store::InboxEntry;

/// The provider name under which Midtrans notifications are recorded in the inbox.
pub const MIDTRANS: &str = "midtrans";

/// Largest Midtrans notification read; they are about 1 KB.
const MIDTRANS_BODY_MAX_BYTES: usize = 64 * 1024;

pub fn scope() -> Scope {
    web::scope("/webhooks")
        .app_data(web::PayloadConfig::new(WEBHOOK_BODY_MAX_BYTES))
        .service(whatsapp_subscribe)
        .service(whatsapp_deliver)
        .service(midtrans_notify)
}

#[get("/whatsapp")]
async fn whatsapp_subscribe(
    gateway: web::Data<Gateway>,
    query: web::Query<HashMap<String, String>>,
) -> Result<HttpResponse, ApiError> {
    let param = |name: &str| query.get(name).map(String::as_str);
    let token_matches = match (&gateway.whatsapp.verify_token, param("hub.verify_token")) {
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
    gateway: web::Data<Gateway>,
    request: HttpRequest,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let counts = &gateway.counters.whatsapp_webhooks;
    bump(&counts.received);
    let header = request.headers().get(whatsapp::SIGNATURE_HEADER).map(|v| v.to_str().unwrap_or(""));
    whatsapp::verify(&gateway.whatsapp.app_secret, header, &body).map_err(|error| {
        bump(&counts.bad_signature);
        ApiError::new(StatusCode::UNAUTHORIZED, "bad_signature", error.to_string())
    })?;
    let webhook = whatsapp::parse(&body).map_err(|error| {
        bump(&counts.bad_payload);
        ApiError::bad_request("bad_payload", error.to_string())
    })?;
    for why in &webhook.skipped {
        tracing::warn!(why, "whatsapp webhook element skipped");
    }
    let now = engine.lanes.clock().now();
    let (mut new, mut duplicates) = (0, 0);
    for event in &webhook.events {
        let (id, payload) = inbox::record_of(event);
        let customer = match event {
            WhatsAppEvent::Message(message) => Some(message.customer.as_str()),
            _ => None,
        };
        let entry = InboxEntry {
            provider: WHATSAPP,
            event_id: &id,
            received_at: now,
            customer,
            payload: &payload,
            handled: customer.is_none(),
        };
        let recorded = engine.store.record_webhook(&entry).await.map_err(|error| {
            tracing::error!(%error, "could not record a whatsapp event; the provider will send it again");
            ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "store_unavailable", "try again later")
        })?;
        if !recorded {
            duplicates += 1;
            bump(&counts.duplicates);
            continue;
        }
        new += 1;
        if let WhatsAppEvent::Message(message) = event {
            gateway.inbox.deliver(Queued { event_id: id, received_at: now, message: message.clone() });
        }
    }
    Ok(HttpResponse::Ok().json(json!({"received": webhook.events.len(), "new": new, "duplicates": duplicates})))
}

#[post("/midtrans")]
async fn midtrans_notify(
    engine: web::Data<Engine>,
    gateway: web::Data<Gateway>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let counts = &gateway.counters.midtrans_webhooks;
    bump(&counts.received);
    if body.len() > MIDTRANS_BODY_MAX_BYTES {
        bump(&counts.bad_payload);
        return Err(ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "body_too_large", "a notification is a few KB"));
    }
    let bad_payload = |why: String| {
        bump(&counts.bad_payload);
        ApiError::bad_request("bad_payload", why)
    };
    let value: serde_json::Value = serde_json::from_slice(&body).map_err(|e| bad_payload(e.to_string()))?;
    let value_for_inbox = value.clone();
    let transaction = Transaction::from_value(value).map_err(bad_payload)?;
    let signed = transaction.signature_key.as_deref().is_some_and(|given| {
        signature_matches(
            &transaction.order_id,
            &transaction.status_code,
            &transaction.gross_amount,
            given,
            &gateway.midtrans.server_key,
        )
    });
    if !signed || transaction.order_id.is_empty() {
        bump(&counts.bad_signature);
        return Err(ApiError::new(StatusCode::UNAUTHORIZED, "bad_signature", "signature_key does not match"));
    }
    let event_id = format!(
        "{}:{}:{}",
        transaction.order_id,
        transaction.transaction_status.to_ascii_lowercase(),
        transaction.transaction_id.as_deref().unwrap_or("")
    );
    let now = engine.lanes.clock().now();
    let payload = unsigned(value_for_inbox);
    let entry = InboxEntry {
        provider: MIDTRANS,
        event_id: &event_id,
        received_at: now,
        customer: None,
        payload: &payload,
        handled: true,
    };
    let unavailable = |what: String| {
        tracing::error!(error = %what, "a Midtrans notification could not be handled; Midtrans will send it again");
        ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "unavailable", "try again later")
    };
    let first = engine.store.record_webhook(&entry).await.map_err(|e| unavailable(e.to_string()))?;
    if !first {
        bump(&counts.duplicates);
    }
    // A repeat is handled again all the same: handling is idempotent, and the first delivery may
    // have been cut short after it was recorded.
    match gateway.qris.notified(&transaction).await {
        Ok(Handled::Done) => Ok(HttpResponse::Ok().json(json!({"handled": true, "repeat": !first}))),
        Ok(Handled::Ignored(why)) => {
            tracing::info!(%why, order_id = %transaction.order_id, "Midtrans notification ignored");
            Ok(HttpResponse::Ok().json(json!({"handled": false, "why": why})))
        }
        Err(PaymentError::Store(error)) => Err(unavailable(error.to_string())),
        Err(PaymentError::Checkout(error)) => Err(unavailable(error.to_string())),
        Err(PaymentError::Provider(error)) => Err(unavailable(error)),
    }
}

/// A notification as the inbox keeps it: without its signature, so a database reader cannot
/// replay it (a replay then fails the signature check).
fn unsigned(mut notification: serde_json::Value) -> String {
    if let Some(fields) = notification.as_object_mut() {
        fields.remove("signature_key");
    }
    notification.to_string()
}
