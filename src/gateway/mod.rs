//! The gateway between the engine and its providers, and the shop's conversation.
//!
//! - `whatsapp`: the Cloud API: webhook signatures and payloads, outbound messages, the Graph
//!   API client.
//! - `chat`: commands, replies in Bahasa Indonesia, and the conversation that ties them to the
//!   engine.
//! - `inbox`: inbound messages answered once each, in order per customer, many customers at once.
//! - `outbox`: the sender that delivers queued replies, paced and retried.
//! - `midtrans`: the Core API (QRIS): client, answers, notification signatures.
//! - `payments`: QRIS charges from request to paid or closed, with unique amounts.
//! - `rate_limit`: purchases per customer per minute (Redis, or in process).
//! - `service`: the running gateway, started with the HTTP server.
//! - `counters`: webhooks and provider calls counted, for `/metrics`.
//! - `secret`: credentials that never print.

pub mod chat;
pub mod counters;
pub mod inbox;
pub mod midtrans;
pub mod outbox;
pub mod payments;
pub mod rate_limit;
pub mod secret;
pub mod service;
pub mod whatsapp;

use std::time::Duration;

pub use secret::Secret;
pub use service::Gateway;

/// Installs rustls's ring provider for the process (no C build, no system OpenSSL). reqwest is
/// built without a provider of its own, so every client needs this first; calling it again is
/// harmless.
pub fn install_tls_provider() {
    // Fails only when a provider is installed already, which is what we want.
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// An HTTP client for calling providers, over rustls with the ring provider.
pub fn http_client(timeout: Duration) -> reqwest::Client {
    install_tls_provider();
    reqwest::Client::builder().timeout(timeout).build().expect("an HTTP client with the ring TLS provider")
}
