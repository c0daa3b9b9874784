//! A payment as the store keeps it: once, under its id, with what it did. Also the rules that
//! bind an id to one payment.

use serde::{Deserialize, Serialize};
use warung_actors::domain::{CustomerId, Money, OrderId, Reference, UnixMs};

use super::{IncomingPayment, Purpose};
use crate::store::ChargePurpose;

/// What a payment did, once and for good.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PaymentApplied {
    /// It bought its order: the order's stock was committed to it. What it paid beyond the
    /// order's total (a QRIS unique code) is credited to the wallet under `surplus:<id>`.
    Delivered,
    /// It went to the customer's wallet whole: a top-up (`topup:<id>`), or a payment its order
    /// could not take (`payment:<id>`: late, short, or the order already paid).
    Credited,
}

impl PaymentApplied {
    pub fn as_str(self) -> &'static str {
        match self {
            PaymentApplied::Delivered => "delivered",
            PaymentApplied::Credited => "credited",
        }
    }

    pub fn parse(value: &str) -> Option<PaymentApplied> {
        match value {
            "delivered" => Some(PaymentApplied::Delivered),
            "credited" => Some(PaymentApplied::Credited),
            _ => None,
        }
    }
}

/// A confirmed payment (a QRIS settlement, a transfer an admin records, a top-up), stored once
/// under its id, in the same transaction as what it did. The id is bound to one customer, one
/// purpose and one amount: the store refuses a second row with the same id.
#[derive(Clone, Debug, PartialEq)]
pub struct PaymentRow {
    pub id: Reference,
    pub customer: CustomerId,
    /// The order it pays for; `None` for a top-up.
    pub order: Option<OrderId>,
    pub purpose: ChargePurpose,
    pub amount: Money,
    pub applied: PaymentApplied,
    /// A delivered payment's amount beyond its order's total (a QRIS unique code), owed to the
    /// wallet under `surplus:<id>`; zero for a credited one, whose whole amount is credited.
    pub surplus: Money,
    pub at: UnixMs,
}

/// Whether a recorded payment is the incoming one: the same customer, purpose and amount.
pub fn same_payment(recorded: &PaymentRow, incoming: &IncomingPayment) -> bool {
    let purpose_matches = match &incoming.purpose {
        Purpose::Order(order) => recorded.purpose == ChargePurpose::Order && recorded.order.as_ref() == Some(order),
        Purpose::TopUp => recorded.purpose == ChargePurpose::TopUp && recorded.order.is_none(),
    };
    recorded.customer == incoming.customer && purpose_matches && recorded.amount == incoming.amount
}

/// How a recorded payment is described when a mismatch is refused.
pub(super) fn describe(recorded: &PaymentRow) -> String {
    let purpose = match &recorded.order {
        Some(order) => format!("order {order}"),
        None => "a top-up".to_string(),
    };
    format!("{} for {purpose}, {}", recorded.amount, recorded.applied.as_str())
}

/// The record a payment leaves: what it is bound to, and what it did.
pub fn record_of(incoming: &IncomingPayment, applied: PaymentApplied, surplus: Money, at: UnixMs) -> PaymentRow {
    let (purpose, order) = match &incoming.purpose {
        Purpose::Order(order) => (ChargePurpose::Order, Some(order.clone())),
        Purpose::TopUp => (ChargePurpose::TopUp, None),
    };
    PaymentRow {
        id: incoming.id.clone(),
        customer: incoming.customer.clone(),
        order,
        purpose,
        amount: incoming.amount,
        applied,
        surplus,
        at,
    }
}
