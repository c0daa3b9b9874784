//! What the admin API answers with about orders: a line of the list, one order in detail, and
//! what a recorded payment did.

use serde::Serialize;
use utoipa::ToSchema;
use warung_actors::domain::{CustomerId, Money, OrderId, ProductCode, Quantity};

use super::schema;
use super::views::{Balance, LedgerEntry, Movement};
use crate::checkout::{Applied, OrderRow, OrderState, PaymentMethod, PaymentOutcome};
use crate::store::admin::PaymentLine;
use crate::store::payments::{ChargeRow, ChargeStatus};

/// An order as the list shows it.
#[derive(Serialize, ToSchema)]
#[schema(as = Order)]
pub struct Line {
    #[schema(value_type = schema::OrderId)]
    pub order: OrderId,
    #[schema(value_type = schema::CustomerId)]
    pub customer: CustomerId,
    #[schema(value_type = schema::ProductCode)]
    pub product: ProductCode,
    #[schema(value_type = u32)]
    pub quantity: Quantity,
    #[schema(value_type = schema::Money)]
    pub unit_price: Money,
    #[schema(value_type = schema::Money)]
    pub total: Money,
    pub method: PaymentMethod,
    pub state: OrderState,
    /// Unix ms: an order awaiting payment expires then.
    pub expires_at_ms: i64,
    pub note: String,
    pub created_at_ms: i64,
    pub updated_at_ms: i64,
}

impl From<&OrderRow> for Line {
    fn from(row: &OrderRow) -> Line {
        let OrderRow {
            id,
            customer,
            product,
            quantity,
            unit_price,
            total,
            method,
            state,
            expires_at,
            note,
            created_at,
            updated_at,
            creates: _,
            moved_from: _,
        } = row;
        Line {
            order: id.clone(),
            customer: customer.clone(),
            // A share's order is its product's (the movements below name the share).
            product: product.home(),
            quantity: *quantity,
            unit_price: *unit_price,
            total: *total,
            method: *method,
            state: *state,
            expires_at_ms: *expires_at,
            note: note.clone(),
            created_at_ms: *created_at,
            updated_at_ms: *updated_at,
        }
    }
}

/// One order with everything stored about it.
#[derive(Serialize, ToSchema)]
#[schema(as = OrderDetail)]
pub struct Detail {
    #[serde(flatten)]
    pub order: Line,
    pub payments: Vec<Payment>,
    /// The charge made for it (QRIS, or a bank transfer's amount with its unique code); `null`
    /// when none was.
    pub qris: Option<Qris>,
    pub stock_movements: Vec<Movement>,
    pub ledger: Vec<LedgerEntry>,
}

/// A payment recorded for an order.
#[derive(Serialize, ToSchema)]
#[schema(as = OrderPayment)]
pub struct Payment {
    pub id: String,
    /// `order` or `top_up`.
    pub purpose: String,
    #[schema(value_type = schema::Money)]
    pub amount: Money,
    /// What it did: `delivered` or `credited`.
    pub status: String,
    /// Unix ms.
    pub at: i64,
}

impl From<PaymentLine> for Payment {
    fn from(PaymentLine { id, purpose, amount, status, at }: PaymentLine) -> Payment {
        Payment { id, purpose, amount, status, at }
    }
}

/// A QRIS charge as the order shows it.
#[derive(Serialize, ToSchema)]
pub struct Qris {
    pub status: ChargeState,
    /// What the customer pays: the order's total plus a unique code.
    #[schema(value_type = schema::Money)]
    pub gross_amount: Money,
    pub expires_at_ms: i64,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ChargeState {
    Charging,
    Pending,
    Paid,
    Expired,
    Cancelled,
    Failed,
    Review,
}

impl From<ChargeRow> for Qris {
    fn from(charge: ChargeRow) -> Qris {
        let status = match charge.status {
            ChargeStatus::Charging => ChargeState::Charging,
            ChargeStatus::Pending => ChargeState::Pending,
            ChargeStatus::Paid => ChargeState::Paid,
            ChargeStatus::Expired => ChargeState::Expired,
            ChargeStatus::Cancelled => ChargeState::Cancelled,
            ChargeStatus::Failed => ChargeState::Failed,
            ChargeStatus::Review => ChargeState::Review,
        };
        Qris { status, gross_amount: charge.gross, expires_at_ms: charge.expires_at }
    }
}

/// What a recorded payment did; `repeat`: it was recorded before and moved nothing now.
#[derive(Serialize, ToSchema)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Paid {
    /// The order is paid and its items are the customer's.
    Delivered {
        #[schema(value_type = schema::OrderId)]
        order: OrderId,
        items: Vec<String>,
        /// What the payment brought beyond the order's total, credited to the wallet.
        #[schema(value_type = schema::Money)]
        surplus: Money,
        /// `null` when the wallet could not be read just then.
        balance: Option<Balance>,
        repeat: bool,
    },
    /// The order could no longer take the payment: it went to the wallet whole.
    CreditedToWallet {
        #[schema(value_type = Option<schema::OrderId>)]
        order: Option<OrderId>,
        #[schema(value_type = schema::Money)]
        amount: Money,
        balance: Balance,
        repeat: bool,
    },
}

impl From<Applied> for Paid {
    fn from(Applied { outcome, repeat }: Applied) -> Paid {
        match outcome {
            PaymentOutcome::Delivered { order, items, surplus, balance } => Paid::Delivered {
                order,
                items: items.iter().map(|i| i.expose().to_string()).collect(),
                surplus,
                balance: balance.map(Balance::from),
                repeat,
            },
            PaymentOutcome::CreditedToWallet { order, amount, balance } => {
                Paid::CreditedToWallet { order, amount, balance: balance.into(), repeat }
            }
        }
    }
}
