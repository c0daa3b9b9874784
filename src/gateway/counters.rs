//! What the gateway counts for `/metrics`: webhooks by provider and outcome, and calls to the
//! providers by outcome. Counters only go up.

use std::sync::atomic::{AtomicU64, Ordering};

#[derive(Debug, Default)]
pub struct WebhookCounts {
    pub received: AtomicU64,
    /// Refused for a forged or missing signature.
    pub bad_signature: AtomicU64,
    /// Signed, but not a payload we can read.
    pub bad_payload: AtomicU64,
    /// Events delivered again (already recorded).
    pub duplicates: AtomicU64,
}

#[derive(Debug, Default)]
pub struct CallCounts {
    pub ok: AtomicU64,
    /// Timeouts, connection errors, 5xx: worth trying again.
    pub unavailable: AtomicU64,
    /// Rate limits (WhatsApp 130429, 131056).
    pub throttled: AtomicU64,
    /// Refused for good (a 4xx error code, or not found).
    pub refused: AtomicU64,
}

#[derive(Debug, Default)]
pub struct GatewayCounters {
    pub whatsapp_webhooks: WebhookCounts,
    pub midtrans_webhooks: WebhookCounts,
    pub whatsapp_sends: CallCounts,
    pub midtrans_calls: CallCounts,
}

pub fn bump(counter: &AtomicU64) {
    counter.fetch_add(1, Ordering::Relaxed);
}

pub fn read(counter: &AtomicU64) -> u64 {
    counter.load(Ordering::Relaxed)
}
