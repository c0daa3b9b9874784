//! What the gateway counts for `/metrics`: webhooks by provider and outcome, and calls to the
//! providers by outcome and by error code. Counters only go up.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

/// Distinct error codes counted per provider; codes beyond it are counted as `other`, so a
/// provider inventing codes cannot grow the metrics without bound.
pub const PROVIDER_ERROR_CODES_MAX: usize = 32;

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
    /// Failed calls by the provider's error code (`transient` for a timeout or a connection
    /// error with none).
    errors: Mutex<BTreeMap<String, u64>>,
}

impl CallCounts {
    pub fn error(&self, code: &str) {
        let mut errors = self.errors.lock().expect("error counts lock");
        let key = if errors.contains_key(code) || errors.len() < PROVIDER_ERROR_CODES_MAX { code } else { "other" };
        *errors.entry(key.to_string()).or_default() += 1;
    }

    pub fn errors(&self) -> Vec<(String, u64)> {
        self.errors.lock().expect("error counts lock").iter().map(|(k, v)| (k.clone(), *v)).collect()
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_codes_are_counted_each_and_bounded() {
        let calls = CallCounts::default();
        calls.error("131047");
        calls.error("131047");
        for code in 0..PROVIDER_ERROR_CODES_MAX + 5 {
            calls.error(&format!("9{code}"));
        }
        let errors = calls.errors();
        assert_eq!(errors.len(), PROVIDER_ERROR_CODES_MAX + 1, "the bound, and `other`");
        assert!(errors.contains(&("131047".to_string(), 2)));
        assert!(errors.contains(&("other".to_string(), 6)), "{errors:?}");
    }
}
