//! The notification's `signature_key`: lowercase hex SHA-512 of order_id + status_code +
//! gross_amount + server key, each exactly as sent (docs/providers.md §M5). Compared in
//! constant time.

use sha2::{Digest, Sha512};

use crate::settings::secret::constant_time_eq;
use crate::settings::Secret;

pub fn signature_key(order_id: &str, status_code: &str, gross_amount: &str, server_key: &Secret) -> String {
    let mut hasher = Sha512::new();
    for part in [order_id, status_code, gross_amount, server_key.expose()] {
        hasher.update(part.as_bytes());
    }
    hasher.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

pub fn signature_matches(
    order_id: &str,
    status_code: &str,
    gross_amount: &str,
    given: &str,
    server_key: &Secret,
) -> bool {
    let expected = signature_key(order_id, status_code, gross_amount, server_key);
    constant_time_eq(expected.as_bytes(), given.to_ascii_lowercase().as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_signature_is_over_the_values_as_sent() {
        let key = Secret::new("SB-Mid-server-test");
        let made = signature_key("order03", "200", "275000.00", &key);
        assert_eq!(made.len(), 128);
        assert!(signature_matches("order03", "200", "275000.00", &made, &key));
        assert!(!signature_matches("order03", "200", "275000", &made, &key), "the amount is not reformatted");
        assert!(!signature_matches("order03", "201", "275000.00", &made, &key));
        assert!(!signature_matches("order03", "200", "275000.00", &made, &Secret::new("another")));
    }

    #[test]
    fn the_documentation_signatures_are_refused() {
        let fixture = include_str!("../../../tests/fixtures/midtrans/midtrans_notification_qris_settlement.json");
        let t: serde_json::Value = serde_json::from_str(fixture).unwrap();
        let given = t["signature_key"].as_str().unwrap();
        assert!(!signature_matches("order03", "200", "275000.00", given, &Secret::new("SB-Mid-server-test")));
    }
}
