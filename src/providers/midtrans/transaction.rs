//! A Midtrans transaction as its answers and notifications describe it, read leniently: unknown
//! fields ignored, statuses compared case-insensitively, `expire_time` or `expiry_time`
//! (docs/providers.md §M2, §M3, §M6).

use serde::Deserialize;
use serde_json::Value;
use warung_actors::domain::Money;

/// `transaction_status`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TxStatus {
    Pending,
    Settlement,
    Capture,
    Deny,
    Cancel,
    Expire,
    Failure,
    /// refund, chargeback, authorize, ...: kept by name, left to a person.
    Other(String),
}

impl TxStatus {
    pub fn parse(text: &str) -> TxStatus {
        match text.to_ascii_lowercase().as_str() {
            "pending" => TxStatus::Pending,
            "settlement" => TxStatus::Settlement,
            "capture" => TxStatus::Capture,
            "deny" => TxStatus::Deny,
            "cancel" => TxStatus::Cancel,
            "expire" => TxStatus::Expire,
            "failure" => TxStatus::Failure,
            other => TxStatus::Other(other.to_string()),
        }
    }
}

/// What a transaction's status means for the shop.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Money received: settlement, or capture with the fraud check passed.
    Paid,
    /// The QR is live; nothing to do.
    Waiting,
    /// Closed without money: expire, cancel, deny, failure.
    Closed(TxStatus),
    /// Anything else (refunds, chargebacks, a challenged capture): logged for a person.
    Unexpected(TxStatus),
    /// `status_code` says something else than `transaction_status` (a paid status with a
    /// pending's code): acted on by nobody.
    Inconsistent { status_code: String },
}

#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct Transaction {
    #[serde(default)]
    pub order_id: String,
    #[serde(default)]
    pub transaction_id: Option<String>,
    #[serde(default)]
    pub status_code: String,
    #[serde(default)]
    pub status_message: String,
    #[serde(default)]
    pub transaction_status: String,
    /// As sent (`"275000.00"`): the signature is over this exact text.
    #[serde(default)]
    pub gross_amount: String,
    #[serde(default)]
    pub fraud_status: Option<String>,
    #[serde(default)]
    pub signature_key: Option<String>,
    #[serde(default)]
    pub actions: Vec<Action>,
    #[serde(default)]
    pub qr_string: Option<String>,
    #[serde(default, alias = "expire_time")]
    pub expiry_time: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct Action {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub url: String,
}

impl Transaction {
    pub fn from_value(value: Value) -> Result<Transaction, String> {
        serde_json::from_value(value).map_err(|e| e.to_string())
    }

    pub fn status(&self) -> TxStatus {
        TxStatus::parse(&self.transaction_status)
    }

    pub fn verdict(&self) -> Verdict {
        if !self.status_code_agrees() {
            return Verdict::Inconsistent { status_code: self.status_code.clone() };
        }
        let fraud_accepted = self.fraud_status.as_deref().is_none_or(|f| f.eq_ignore_ascii_case("accept"));
        match self.status() {
            TxStatus::Settlement | TxStatus::Capture if fraud_accepted => Verdict::Paid,
            TxStatus::Pending => Verdict::Waiting,
            status @ (TxStatus::Expire | TxStatus::Cancel | TxStatus::Deny | TxStatus::Failure) => {
                Verdict::Closed(status)
            }
            other => Verdict::Unexpected(other),
        }
    }

    /// The QR image to show: `generate-qr-code` (no frame), else the framed one.
    pub fn qr_url(&self) -> Option<&str> {
        ["generate-qr-code", "generate-qr-code-v2"]
            .iter()
            .find_map(|name| self.actions.iter().find(|a| a.name == *name && !a.url.is_empty()))
            .map(|a| a.url.as_str())
    }

    /// Whether `status_code` is the one Midtrans gives `transaction_status`: 200 paid, 201
    /// pending, 202 closed (407 for an expired one, as the status API answers).
    pub fn status_code_agrees(&self) -> bool {
        let code = self.status_code.as_str();
        match self.status() {
            TxStatus::Settlement | TxStatus::Capture => code == "200",
            TxStatus::Pending => code == "201",
            TxStatus::Deny | TxStatus::Cancel | TxStatus::Failure => code == "202",
            TxStatus::Expire => code == "202" || code == "407",
            TxStatus::Other(_) => true,
        }
    }

    /// The amount, read exactly from `gross_amount` (`"275000.00"`); `None` when it is not a plain
    /// amount within the money limit. Never panics, whatever a signed body holds.
    pub fn gross(&self) -> Option<Money> {
        Money::parse_plain(&self.gross_amount).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> Transaction {
        let path = format!("{}/tests/fixtures/midtrans/{name}", env!("CARGO_MANIFEST_DIR"));
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
    }

    #[test]
    fn a_charge_answer_gives_the_qr_and_either_expiry_field() {
        let charge = fixture("midtrans_charge_qris_response.json");
        assert_eq!(
            charge.qr_url(),
            Some("https://api.midtrans.com/v2/qris/0d8178e1-c6c7-4ab4-81a6-893be9d924ab/qr-code")
        );
        assert_eq!(charge.gross(), Some(Money::rupiah(275_000)));
        let sandbox = fixture("midtrans_charge_qris_response_sandbox_expire_time.json");
        assert_eq!(sandbox.expiry_time.as_deref(), Some("2023-01-05 11:01:39"));
        assert!(sandbox.qr_string.as_deref().unwrap().starts_with("000201"));
    }

    #[test]
    fn settlement_and_accepted_capture_are_paid_the_rest_is_not() {
        assert_eq!(fixture("midtrans_notification_qris_settlement.json").verdict(), Verdict::Paid);
        assert_eq!(fixture("midtrans_notification_capture_card.json").verdict(), Verdict::Paid);
        assert_eq!(fixture("midtrans_notification_qris_expire.json").verdict(), Verdict::Closed(TxStatus::Expire));
        assert_eq!(fixture("midtrans_notification_deny.json").verdict(), Verdict::Closed(TxStatus::Deny));
        assert_eq!(fixture("midtrans_notification_cancel.json").verdict(), Verdict::Closed(TxStatus::Cancel));
        assert_eq!(fixture("midtrans_notification_qris_pending.json").verdict(), Verdict::Waiting);
        let mut challenged = fixture("midtrans_notification_capture_card.json");
        challenged.fraud_status = Some("challenge".into());
        assert_eq!(challenged.verdict(), Verdict::Unexpected(TxStatus::Capture));
    }

    #[test]
    fn statuses_are_read_in_any_case() {
        assert_eq!(TxStatus::parse("PENDING"), TxStatus::Pending);
        assert_eq!(TxStatus::parse("partial_refund"), TxStatus::Other("partial_refund".into()));
    }

    #[test]
    fn amounts_are_read_exactly_or_not_at_all() {
        let mut t = fixture("midtrans_notification_qris_settlement.json");
        t.gross_amount = "15001.50".into();
        assert_eq!(t.gross(), Some("15001.5".parse().unwrap()));
        for unreadable in ["2000000000000.00", "1e9", "-5.00", "12.345", "", "99999999999999999999999999999.00"] {
            t.gross_amount = unreadable.into();
            assert_eq!(t.gross(), None, "{unreadable:?}");
        }
    }

    #[test]
    fn a_status_code_that_disagrees_with_the_status_is_acted_on_by_nobody() {
        let mut t = fixture("midtrans_notification_qris_settlement.json");
        t.status_code = "201".into();
        assert_eq!(t.verdict(), Verdict::Inconsistent { status_code: "201".into() });
        let mut expired = fixture("midtrans_notification_qris_expire.json");
        expired.status_code = "407".into();
        assert_eq!(expired.verdict(), Verdict::Closed(TxStatus::Expire));
        expired.status_code = "200".into();
        assert!(matches!(expired.verdict(), Verdict::Inconsistent { .. }));
    }
}
