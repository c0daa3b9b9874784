//! The stand-in for Midtrans: QRIS charges kept in memory, answered in Midtrans' shapes (errors
//! in an HTTP 200 body, 407 for expired), and notifications signed with the server key, sent
//! when a simulated customer pays or lets a code expire.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use serde_json::{json, Value};

use crate::providers::midtrans::signature_key;
use crate::settings::Secret;

/// Charges the stand-in remembers; past this the oldest settled ones are forgotten.
const TRANSACTIONS_MAX: usize = 100_000;

#[derive(Clone, Debug)]
struct SimTransaction {
    transaction_id: String,
    gross: i64,
    status: &'static str,
}

pub struct MidtransSim {
    pub server_key: Secret,
    transactions: Mutex<HashMap<String, SimTransaction>>,
    seq: AtomicU64,
}

impl MidtransSim {
    pub fn new(server_key: Secret) -> MidtransSim {
        MidtransSim { server_key, transactions: Mutex::new(HashMap::new()), seq: AtomicU64::new(1) }
    }

    /// `POST /v2/charge`: the answer's body (Midtrans answers errors with HTTP 200 too).
    pub fn charge(&self, body: &Value, qr_base: &str) -> Value {
        let order_id = body["transaction_details"]["order_id"].as_str().unwrap_or("");
        let gross = body["transaction_details"]["gross_amount"].as_i64();
        let (Some(gross), false, "qris") = (gross, order_id.is_empty(), body["payment_type"].as_str().unwrap_or(""))
        else {
            return json!({"status_code": "400", "status_message": "One or more parameters in the payload is invalid.",
                          "validation_messages": ["transaction_details.order_id, gross_amount (integer) and payment_type qris are required"]});
        };
        let mut transactions = self.transactions.lock().expect("transactions lock");
        if let Some(existing) = transactions.get(order_id) {
            if !matches!(existing.status, "expire" | "cancel") {
                return json!({"status_code": "406", "status_message": "The request could not be completed due to a conflict with the current state of the target resource, please try again"});
            }
        }
        if transactions.len() >= TRANSACTIONS_MAX {
            transactions.retain(|_, t| t.status == "pending");
        }
        let seq = self.seq.fetch_add(1, Ordering::Relaxed);
        let transaction = SimTransaction { transaction_id: format!("sim-{seq:08}"), gross, status: "pending" };
        transactions.insert(order_id.to_string(), transaction.clone());
        let mut answer = self.describe(order_id, &transaction);
        answer["status_code"] = json!("201");
        answer["status_message"] = json!("QRIS transaction is created");
        answer["actions"] = json!([{"name": "generate-qr-code", "method": "GET",
                                     "url": format!("{qr_base}/qris/{order_id}/qr-code")}]);
        answer["qr_string"] = json!(format!("00020101021226SIMULATOR{order_id}5303360540{gross}6304SIM0"));
        answer
    }

    pub fn status(&self, order_id: &str) -> Value {
        match self.transactions.lock().expect("transactions lock").get(order_id) {
            Some(t) => self.describe(order_id, t),
            None => json!({"status_code": "404", "status_message": "Transaction doesn't exist."}),
        }
    }

    /// `POST /v2/{id}/expire` or `/cancel` on a pending charge: the answer, and the notification
    /// Midtrans would send.
    pub fn close(&self, order_id: &str, status: &'static str) -> (Value, Option<Value>) {
        let mut transactions = self.transactions.lock().expect("transactions lock");
        let Some(t) = transactions.get_mut(order_id) else {
            return (json!({"status_code": "404", "status_message": "Transaction doesn't exist."}), None);
        };
        if t.status != "pending" {
            return (
                json!({"status_code": "412", "status_message": "Merchant cannot modify the status of the transaction"}),
                None,
            );
        }
        t.status = status;
        let t = t.clone();
        drop(transactions);
        let mut answer = self.describe(order_id, &t);
        answer["status_message"] = json!(if status == "expire" {
            "Success, transaction has expired"
        } else {
            "Success, transaction is canceled"
        });
        (answer, Some(self.notification(order_id, &t)))
    }

    /// A simulated customer pays a pending charge: the settlement notification, or why not.
    pub fn pay(&self, order_id: &str) -> Result<Value, String> {
        let mut transactions = self.transactions.lock().expect("transactions lock");
        let t = transactions.get_mut(order_id).ok_or("no such charge")?;
        if t.status != "pending" {
            return Err(format!("the charge is {}, not payable", t.status));
        }
        t.status = "settlement";
        let t = t.clone();
        drop(transactions);
        Ok(self.notification(order_id, &t))
    }

    fn status_code(status: &str) -> &'static str {
        match status {
            "settlement" | "capture" => "200",
            "pending" => "201",
            "expire" => "407",
            _ => "202",
        }
    }

    fn describe(&self, order_id: &str, t: &SimTransaction) -> Value {
        let mut body = self.notification(order_id, t);
        body["status_code"] = json!(Self::status_code(t.status));
        body["status_message"] = json!("Success, transaction is found");
        body
    }

    /// A notification body as Midtrans sends it, signed over the values as written.
    fn notification(&self, order_id: &str, t: &SimTransaction) -> Value {
        let status_code = match t.status {
            "settlement" => "200",
            "pending" => "201",
            _ => "202",
        };
        let gross_amount = format!("{}.00", t.gross);
        json!({
            "transaction_time": "2026-01-01 00:00:00",
            "transaction_status": t.status,
            "transaction_id": t.transaction_id,
            "status_message": "midtrans payment notification",
            "status_code": status_code,
            "signature_key": signature_key(order_id, status_code, &gross_amount, &self.server_key),
            "payment_type": "qris",
            "order_id": order_id,
            "merchant_id": "SIMULATOR",
            "gross_amount": gross_amount,
            "fraud_status": "accept",
            "currency": "IDR",
            "acquirer": "gopay",
        })
    }
}
