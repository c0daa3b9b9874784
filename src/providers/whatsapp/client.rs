//! The Graph API client that sends messages (`POST /{version}/{phone-number-id}/messages`), with
//! Meta's answers sorted into what the outbox does next: done, wait and retry, or give up.
//! Logic follows the error `code`, never the HTTP status alone (docs/providers.md §W6).

use std::time::Duration;

use serde_json::Value;

use super::outbound::{request_body, Outbound};
use crate::infra::http_client;
use crate::settings::Secret;

/// How long one send may take before it counts as a timeout (and is retried).
const GRAPH_REQUEST_TIMEOUT_SECS: u64 = 10;

/// How long every send pauses after Meta says the number's throughput is used up (130429).
const THROUGHPUT_PAUSE_SECS: u64 = 1;

#[derive(Debug, PartialEq, thiserror::Error)]
pub enum SendError {
    /// The business number's throughput is used up (130429, or 131057 during an upgrade, or the
    /// app's call limits 4 and 80007): every send waits.
    #[error("throughput limit (code {code})")]
    Throttled { code: i64, pause: Duration },
    /// Too many messages to this one customer (131056): only their queue waits.
    #[error("pair rate limit for this customer")]
    PairLimited,
    /// Worth trying again: a timeout, a connection error, a 5xx, or a temporary Meta error.
    #[error("temporary failure: {0}")]
    Transient(String),
    /// Meta will not take this message (bad request, undeliverable, outside the 24 hour window).
    #[error("refused (code {code}): {message}")]
    Refused { code: i64, message: String },
}

#[derive(Clone)]
pub struct GraphClient {
    http: reqwest::Client,
    messages_url: String,
    token: Secret,
}

impl GraphClient {
    /// `base_url` is Meta's (`https://graph.facebook.com`), a test stand-in, or the built-in
    /// simulator.
    pub fn new(base_url: &str, version: &str, phone_number_id: &str, token: Secret) -> GraphClient {
        let base = base_url.trim_end_matches('/');
        let messages_url = if version.is_empty() {
            format!("{base}/{phone_number_id}/messages")
        } else {
            format!("{base}/{version}/{phone_number_id}/messages")
        };
        let http = http_client(Duration::from_secs(GRAPH_REQUEST_TIMEOUT_SECS));
        GraphClient { http, messages_url, token }
    }

    /// Sends one message; `Ok` carries the id Meta gave it (`wamid.…`).
    #[tracing::instrument(name = "whatsapp.send", skip_all)]
    pub async fn send(&self, customer: &str, message: &Outbound) -> Result<String, SendError> {
        let response = self
            .http
            .post(&self.messages_url)
            .bearer_auth(self.token.expose())
            .json(&request_body(customer, message))
            .send()
            .await
            .map_err(|e| SendError::Transient(format!("request failed: {e}")))?;
        let status = response.status();
        let body: Value = response.json().await.unwrap_or(Value::Null);
        if let Some(error) = body.get("error") {
            return Err(classify(error, status.as_u16()));
        }
        if status.is_server_error() || status.as_u16() == 429 {
            return Err(SendError::Transient(format!("HTTP {status}")));
        }
        if !status.is_success() {
            return Err(SendError::Refused { code: 0, message: format!("HTTP {status}") });
        }
        body["messages"][0]["id"]
            .as_str()
            .map(str::to_string)
            .ok_or_else(|| SendError::Transient("an answer without a message id".into()))
    }
}

fn classify(error: &Value, http_status: u16) -> SendError {
    let code = error["code"].as_i64().unwrap_or(0);
    let message = error["message"].as_str().unwrap_or("").to_string();
    match code {
        130429 | 131057 | 4 | 80007 => SendError::Throttled { code, pause: Duration::from_secs(THROUGHPUT_PAUSE_SECS) },
        131056 => SendError::PairLimited,
        131000 | 131016 | 133004 | 1 | 2 => SendError::Transient(format!("code {code}: {message}")),
        _ if http_status >= 500 => SendError::Transient(format!("code {code}: {message}")),
        _ => SendError::Refused { code, message },
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn meta_errors_are_sorted_by_code_not_by_http_status() {
        let fixture: Value =
            serde_json::from_str(include_str!("../../../tests/fixtures/whatsapp/wa_api_error_rate_limit_130429.json"))
                .unwrap();
        assert!(matches!(classify(&fixture["error"], 400), SendError::Throttled { code: 130429, .. }));
        assert_eq!(classify(&json!({"code": 131056}), 400), SendError::PairLimited);
        assert!(matches!(classify(&json!({"code": 131000}), 500), SendError::Transient(_)));
        assert!(matches!(classify(&json!({"code": 131047}), 400), SendError::Refused { code: 131047, .. }));
        assert!(matches!(classify(&json!({"code": 100}), 400), SendError::Refused { code: 100, .. }));
        assert!(matches!(classify(&json!({"code": 999999}), 503), SendError::Transient(_)));
    }

    #[test]
    fn the_messages_url_carries_version_and_phone_number_id() {
        let client = GraphClient::new("https://graph.facebook.com/", "v24.0", "106540352242922", Secret::new("t"));
        assert_eq!(client.messages_url, "https://graph.facebook.com/v24.0/106540352242922/messages");
    }
}
