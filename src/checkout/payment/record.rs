//! The rules that bind a payment's id to one payment, over its stored row (`records::payment`).

use warung_actors::domain::{Money, UnixMs};

use super::{IncomingPayment, Purpose};
use crate::records::{ChargePurpose, PaymentApplied, PaymentRow};

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
