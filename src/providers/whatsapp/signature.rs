//! `X-Hub-Signature-256`: HMAC-SHA256 of the raw request body, keyed with the app secret, as
//! `sha256=<hex>`. Checked over the exact bytes received, before any parsing.

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

use crate::settings::Secret;

pub const SIGNATURE_HEADER: &str = "X-Hub-Signature-256";

const SIGNATURE_PREFIX: &str = "sha256=";

#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("the X-Hub-Signature-256 header is missing")]
    Missing,
    #[error("the X-Hub-Signature-256 header is not sha256=<64 hex digits>")]
    Malformed,
    #[error("the signature does not match the body")]
    Mismatch,
}

/// Checks a webhook body against its `X-Hub-Signature-256` header value (constant time).
pub fn verify(app_secret: &Secret, header: Option<&str>, body: &[u8]) -> Result<(), SignatureError> {
    let header = header.ok_or(SignatureError::Missing)?;
    let hex = header.trim().strip_prefix(SIGNATURE_PREFIX).ok_or(SignatureError::Malformed)?;
    let expected = decode_hex(hex).ok_or(SignatureError::Malformed)?;
    mac(app_secret, body).verify_slice(&expected).map_err(|_| SignatureError::Mismatch)
}

/// The header value Meta would send for `body` (for the simulator and tests).
pub fn sign(app_secret: &Secret, body: &[u8]) -> String {
    let digest = mac(app_secret, body).finalize().into_bytes();
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    format!("{SIGNATURE_PREFIX}{hex}")
}

fn mac(app_secret: &Secret, body: &[u8]) -> Hmac<Sha256> {
    let mut mac =
        Hmac::<Sha256>::new_from_slice(app_secret.expose().as_bytes()).expect("HMAC takes a key of any length");
    mac.update(body);
    mac
}

/// 32 bytes from 64 hex digits (either case); anything else is malformed.
fn decode_hex(hex: &str) -> Option<Vec<u8>> {
    if hex.len() != 64 || !hex.is_ascii() {
        return None;
    }
    (0..hex.len()).step_by(2).map(|at| u8::from_str_radix(&hex[at..at + 2], 16).ok()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_documented_sanity_vector_holds() {
        let expected = "sha256=0329a06b62cd16b33eb6792be8c60b158d89a2ee3a876fce9a881ebb488c0914";
        assert_eq!(sign(&Secret::new("secret"), b"test"), expected);
        assert_eq!(verify(&Secret::new("secret"), Some(expected), b"test"), Ok(()));
        assert_eq!(
            verify(&Secret::new("secret"), Some(&expected.to_uppercase().replace("SHA256=", "sha256=")), b"test"),
            Ok(())
        );
    }

    #[test]
    fn a_forged_missing_or_malformed_signature_is_refused() {
        let secret = Secret::new("app-secret");
        let body = br#"{"object":"whatsapp_business_account","entry":[]}"#;
        let good = sign(&secret, body);
        assert_eq!(verify(&secret, Some(&good), body), Ok(()));
        assert_eq!(
            verify(&secret, Some(&good), b"{\"object\":\"whatsapp_business_account\",\"entry\":[ ]}"),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(verify(&Secret::new("other"), Some(&good), body), Err(SignatureError::Mismatch));
        assert_eq!(verify(&secret, None, body), Err(SignatureError::Missing));
        assert_eq!(verify(&secret, Some("sha1=abcd"), body), Err(SignatureError::Malformed));
        assert_eq!(verify(&secret, Some(&good[..good.len() - 1]), body), Err(SignatureError::Malformed));
        assert_eq!(
            verify(&secret, Some("sha256=zz29a06b62cd16b33eb6792be8c60b158d89a2ee3a876fce9a881ebb488c0914"), body),
            Err(SignatureError::Malformed)
        );
        assert_eq!(
            verify(&secret, Some("sha256=é329a06b62cd16b33eb6792be8c60b158d89a2ee3a876fce9a881ebb488c091"), body),
            Err(SignatureError::Malformed)
        );
    }

    #[test]
    fn a_provider_body_verifies_over_its_exact_bytes_and_any_change_breaks_it() {
        let path = format!("{}/tests/fixtures/whatsapp/wa_text_message_meta_docs.json", env!("CARGO_MANIFEST_DIR"));
        let mut body = std::fs::read(path).unwrap();
        let secret = Secret::new("test-app-secret");
        let header = sign(&secret, &body);
        assert_eq!(verify(&secret, Some(&header), &body), Ok(()));
        let reserialised = serde_json::to_vec(&serde_json::from_slice::<serde_json::Value>(&body).unwrap()).unwrap();
        assert_eq!(verify(&secret, Some(&header), &reserialised), Err(SignatureError::Mismatch), "never re-serialise");
        let last = body.len() - 2;
        body[last] ^= 1;
        assert_eq!(verify(&secret, Some(&header), &body), Err(SignatureError::Mismatch));
    }
}
