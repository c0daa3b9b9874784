//! The Midtrans Core API client: QRIS charge, status, expire, cancel. Basic auth with the server
//! key. An answer is an error when its HTTP status or its body's `status_code` is 400 or more,
//! except 407, which status and expire use to say "expired" (the official clients' rule,
//! docs/providers.md §M3).

use std::time::Duration;

use serde_json::{json, Value};

use std::sync::Arc;

use super::transaction::Transaction;
use crate::infra::counters::{bump, GatewayCounters};
use crate::infra::http_client;
use crate::settings::Secret;

/// How long one call to Midtrans may take before it counts as Midtrans being down.
const MIDTRANS_REQUEST_TIMEOUT_SECS: u64 = 10;

#[derive(Debug, PartialEq, thiserror::Error)]
pub enum MidtransError {
    /// A timeout, a connection error, a 5xx or a rate limit: Midtrans may be fine a bit later.
    #[error("Midtrans is unavailable: {0}")]
    Unavailable(String),
    /// No such transaction (404).
    #[error("Midtrans does not know this transaction")]
    NotFound,
    /// Midtrans refused the request (a 4xx `status_code`, in the body or the status line).
    #[error("Midtrans refused ({code}): {message}")]
    Refused { code: u16, message: String },
}

#[derive(Clone)]
pub struct MidtransClient {
    http: reqwest::Client,
    base: String,
    server_key: Secret,
    notification_url: Option<String>,
    counters: Arc<GatewayCounters>,
}

impl MidtransClient {
    pub fn new(
        base_url: &str,
        server_key: Secret,
        notification_url: Option<String>,
        counters: Arc<GatewayCounters>,
    ) -> MidtransClient {
        let http = http_client(Duration::from_secs(MIDTRANS_REQUEST_TIMEOUT_SECS));
        let base = base_url.trim_end_matches('/').to_string();
        MidtransClient { http, base, server_key, notification_url, counters }
    }

    /// `POST /v2/charge` with `payment_type: qris`, expiring `expiry_secs` from now.
    #[tracing::instrument(name = "midtrans.charge", skip_all, fields(order_id))]
    pub async fn charge_qris(
        &self,
        order_id: &str,
        gross_rupiah: i64,
        expiry_secs: u64,
    ) -> Result<Transaction, MidtransError> {
        let body = json!({
            "payment_type": "qris",
            "transaction_details": {"order_id": order_id, "gross_amount": gross_rupiah},
            "custom_expiry": {"expiry_duration": expiry_secs.max(1), "unit": "second"},
        });
        let mut request = self.http.post(format!("{}/v2/charge", self.base)).json(&body);
        if let Some(url) = &self.notification_url {
            request = request.header("X-Override-Notification", url);
        }
        self.call(request).await
    }

    #[tracing::instrument(name = "midtrans.status", skip_all, fields(order_id))]
    pub async fn status(&self, order_id: &str) -> Result<Transaction, MidtransError> {
        self.call(self.http.get(format!("{}/v2/{order_id}/status", self.base))).await
    }

    /// Forces a pending transaction to `expire`, so a late scan cannot pay for released stock.
    #[tracing::instrument(name = "midtrans.expire", skip_all, fields(order_id))]
    pub async fn expire(&self, order_id: &str) -> Result<Transaction, MidtransError> {
        self.call(self.http.post(format!("{}/v2/{order_id}/expire", self.base))).await
    }

    #[tracing::instrument(name = "midtrans.cancel", skip_all, fields(order_id))]
    pub async fn cancel(&self, order_id: &str) -> Result<Transaction, MidtransError> {
        self.call(self.http.post(format!("{}/v2/{order_id}/cancel", self.base))).await
    }

    async fn call(&self, request: reqwest::RequestBuilder) -> Result<Transaction, MidtransError> {
        let response = request
            .basic_auth(self.server_key.expose(), Some(""))
            .header("Accept", "application/json")
            .send()
            .await
            .map_err(|e| {
                bump(&self.counters.midtrans_calls.unavailable);
                self.counters.midtrans_calls.error("transient");
                MidtransError::Unavailable(format!("request failed: {e}"))
            })?;
        let http_status = response.status().as_u16();
        let body: Value = response.json().await.unwrap_or(Value::Null);
        let answer = read_answer(http_status, body);
        let calls = &self.counters.midtrans_calls;
        bump(match &answer {
            Ok(_) => &calls.ok,
            Err(MidtransError::Unavailable(_)) => &calls.unavailable,
            Err(MidtransError::NotFound | MidtransError::Refused { .. }) => &calls.refused,
        });
        match &answer {
            Ok(_) => {}
            Err(MidtransError::NotFound) => calls.error("404"),
            Err(MidtransError::Refused { code, .. }) => calls.error(&code.to_string()),
            // "503 ..." or "HTTP 502" or "unreadable answer: ...": the leading code if there is one.
            Err(MidtransError::Unavailable(why)) => calls.error(
                why.trim_start_matches("HTTP ")
                    .split(' ')
                    .next()
                    .filter(|c| c.len() == 3 && c.chars().all(|d| d.is_ascii_digit()))
                    .unwrap_or("transient"),
            ),
        }
        answer
    }
}

/// Sorts an answer by the official clients' rule.
pub(crate) fn read_answer(http_status: u16, body: Value) -> Result<Transaction, MidtransError> {
    let body_code: Option<u16> = body["status_code"].as_str().and_then(|c| c.parse().ok());
    let message = body["status_message"].as_str().or(body["message"].as_str()).unwrap_or("").to_string();
    let code = match body_code {
        Some(code) if code >= 400 => code,
        _ => http_status,
    };
    match code {
        407 => {}
        404 => return Err(MidtransError::NotFound),
        429 | 500..=599 => return Err(MidtransError::Unavailable(format!("{code} {message}"))),
        400..=499 => return Err(MidtransError::Refused { code, message }),
        _ if http_status >= 400 => return Err(MidtransError::Unavailable(format!("HTTP {http_status}"))),
        _ => {}
    }
    Transaction::from_value(body).map_err(|e| MidtransError::Unavailable(format!("unreadable answer: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::providers::midtrans::TxStatus;

    fn fixture(name: &str) -> Value {
        let path = format!("{}/tests/fixtures/midtrans/{name}", env!("CARGO_MANIFEST_DIR"));
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
    }

    #[test]
    fn errors_inside_an_http_200_are_errors() {
        let duplicate = read_answer(200, fixture("midtrans_error_duplicate_order_id_406.json"));
        assert!(matches!(duplicate, Err(MidtransError::Refused { code: 406, .. })));
        let invalid = read_answer(200, fixture("midtrans_error_validation_400.json"));
        assert!(matches!(invalid, Err(MidtransError::Refused { code: 400, .. })));
        let cannot = read_answer(200, fixture("midtrans_error_cannot_modify_412.json"));
        assert!(matches!(cannot, Err(MidtransError::Refused { code: 412, .. })));
        assert_eq!(read_answer(200, serde_json::json!({"status_code": "404"})), Err(MidtransError::NotFound));
    }

    #[test]
    fn status_407_is_an_expired_transaction_not_an_error() {
        let expired = read_answer(200, fixture("midtrans_expire_response_407.json")).unwrap();
        assert_eq!(expired.status(), TxStatus::Expire);
    }

    #[test]
    fn rate_limits_and_server_errors_mean_unavailable() {
        let limited = read_answer(429, fixture("midtrans_error_rate_limit_429.json"));
        assert!(matches!(limited, Err(MidtransError::Unavailable(_))));
        assert!(matches!(read_answer(502, Value::Null), Err(MidtransError::Unavailable(_))));
        assert!(matches!(
            read_answer(200, serde_json::json!({"status_code": "503"})),
            Err(MidtransError::Unavailable(_))
        ));
    }

    #[test]
    fn a_charge_answer_reads_as_a_transaction() {
        let charge = read_answer(200, fixture("midtrans_charge_qris_response.json")).unwrap();
        assert_eq!(charge.status(), TxStatus::Pending);
    }
}
