//! A request id on every HTTP request: the caller's `X-Request-Id` when it is a short token, else
//! a new one. The request is handled inside a tracing span named by it, and the response carries
//! it back, so a customer's complaint, a log line and a proxy's record can be matched.

use actix_web::dev::ServiceRequest;
use actix_web::http::header::{HeaderName, HeaderValue};
use rand::Rng;

pub const REQUEST_ID_HEADER: &str = "x-request-id";

/// Longest request id taken from a caller; a longer or odd one is replaced.
const REQUEST_ID_LEN_MAX: usize = 64;

pub fn of(request: &ServiceRequest) -> String {
    let given = request.headers().get(REQUEST_ID_HEADER).and_then(|v| v.to_str().ok());
    match given {
        Some(id) if acceptable(id) => id.to_string(),
        _ => {
            let bytes: [u8; 8] = rand::rng().random();
            bytes.iter().map(|b| format!("{b:02x}")).collect()
        }
    }
}

fn acceptable(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= REQUEST_ID_LEN_MAX
        && id.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

pub fn header(id: &str) -> (HeaderName, HeaderValue) {
    (
        HeaderName::from_static(REQUEST_ID_HEADER),
        HeaderValue::from_str(id).unwrap_or_else(|_| HeaderValue::from_static("invalid")),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_short_plain_tokens_are_taken_from_callers() {
        assert!(acceptable("req-1.a_B"));
        assert!(!acceptable(""));
        assert!(!acceptable("has space"));
        assert!(!acceptable(&"x".repeat(65)));
    }
}
