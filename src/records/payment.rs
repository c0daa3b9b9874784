//! A payment as the store keeps it: once, under its id, with what it did, and what it was for.
//! The rules that bind an id to one payment are the checkout's (`checkout::payment`).

use serde::{Deserialize, Serialize};
use warung_actors::domain::{CustomerId, Money, OrderId, Reference, UnixMs};

/// What a charge, and the payment that settles it, is for: an order, or the wallet. A payment
/// recorded without a charge (one an admin confirms) has one too (`PaymentRow`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum ChargePurpose {
    Order,
    TopUp,
}

impl ChargePurpose {
    pub fn as_str(self) -> &'static str {
        match self {
            ChargePurpose::Order => "order",
            ChargePurpose::TopUp => "top_up",
        }
    }

    pub fn parse(value: &str) -> Option<ChargePurpose> {
        match value {
            "order" => Some(ChargePurpose::Order),
            "top_up" => Some(ChargePurpose::TopUp),
            _ => None,
        }
    }
}

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
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
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
