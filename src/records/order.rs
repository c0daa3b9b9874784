//! An order as the store keeps it: its row, its state and how it is paid. `checkout::order` is
//! the machine that moves it from state to state.

use serde::{Deserialize, Serialize};
use warung_actors::domain::{CustomerId, Money, OrderId, ProductCode, Quantity, UnixMs};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum OrderState {
    /// A saldo purchase between its steps.
    Pending,
    /// Stock reserved, waiting for an external payment.
    AwaitingPayment,
    Paid,
    /// A saldo purchase that did not complete (insufficient balance, a failed step); nothing taken.
    Failed,
    Cancelled,
    Expired,
    /// Paid after its reservation had gone: the money went to the wallet; a person should look.
    Review,
    Refunded,
}

impl OrderState {
    pub fn as_str(self) -> &'static str {
        match self {
            OrderState::Pending => "pending",
            OrderState::AwaitingPayment => "awaiting_payment",
            OrderState::Paid => "paid",
            OrderState::Failed => "failed",
            OrderState::Cancelled => "cancelled",
            OrderState::Expired => "expired",
            OrderState::Review => "review",
            OrderState::Refunded => "refunded",
        }
    }

    pub fn parse(value: &str) -> Option<OrderState> {
        Some(match value {
            "pending" => OrderState::Pending,
            "awaiting_payment" => OrderState::AwaitingPayment,
            "paid" => OrderState::Paid,
            "failed" => OrderState::Failed,
            "cancelled" => OrderState::Cancelled,
            "expired" => OrderState::Expired,
            "review" => OrderState::Review,
            "refunded" => OrderState::Refunded,
            _ => return None,
        })
    }

    /// An order in an open state still holds stock or awaits a step.
    pub fn is_open(self) -> bool {
        matches!(self, OrderState::Pending | OrderState::AwaitingPayment)
    }

    /// How far along an order is. Every move of an order goes to a state further along (an
    /// invariant of `checkout::order`), so of two rows of one order, the one further along is the
    /// later. The log's projection relies on it: in a cluster one order's rows come from two
    /// nodes' records (the wallet's batch creates a saldo order pending, the product's commits
    /// it paid), each projected by its own node, and the earlier may reach the table last.
    pub fn progress(self) -> u8 {
        match self {
            OrderState::Pending | OrderState::AwaitingPayment => 0,
            OrderState::Paid | OrderState::Failed | OrderState::Cancelled | OrderState::Expired => 1,
            OrderState::Review => 2,
            OrderState::Refunded => 3,
        }
    }

    /// Every state (the SQL that mirrors `progress` and the metrics list them in this order).
    pub const ALL: [OrderState; 8] = [
        OrderState::Pending,
        OrderState::AwaitingPayment,
        OrderState::Paid,
        OrderState::Failed,
        OrderState::Cancelled,
        OrderState::Expired,
        OrderState::Review,
        OrderState::Refunded,
    ];
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PaymentMethod {
    Saldo,
    /// Paid from outside through a provider (QRIS).
    External,
    /// Paid by a bank transfer the shop owner confirms. Behaves as `External` in every rule.
    Transfer,
}

impl PaymentMethod {
    pub fn as_str(self) -> &'static str {
        match self {
            PaymentMethod::Saldo => "saldo",
            PaymentMethod::External => "external",
            PaymentMethod::Transfer => "transfer",
        }
    }

    /// Paid from outside the wallet (QRIS or a transfer): the order waits for its payment.
    pub fn is_outside(self) -> bool {
        matches!(self, PaymentMethod::External | PaymentMethod::Transfer)
    }

    pub fn parse(value: &str) -> Option<PaymentMethod> {
        match value {
            "saldo" => Some(PaymentMethod::Saldo),
            "external" => Some(PaymentMethod::External),
            "transfer" => Some(PaymentMethod::Transfer),
            _ => None,
        }
    }
}

#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct OrderRow {
    pub id: OrderId,
    pub customer: CustomerId,
    pub product: ProductCode,
    pub quantity: Quantity,
    pub unit_price: Money,
    pub total: Money,
    pub method: PaymentMethod,
    pub state: OrderState,
    pub expires_at: UnixMs,
    pub note: String,
    pub created_at: UnixMs,
    pub updated_at: UnixMs,
    /// This write creates the row (the order's first); later writes update it. Lets the store
    /// insert without first looking for a conflict.
    pub creates: bool,
    /// The state this write moves the order out of, when it is a transition; not stored. Lets
    /// the store count transitions (sales, expiries) once, when they are committed.
    #[serde(default)]
    pub moved_from: Option<OrderState>,
}

impl OrderRow {
    /// A new order's first row, for what its reservation holds, made at `now`.
    pub fn of_reservation(
        customer: &CustomerId,
        product: &ProductCode,
        reserved: &warung_actors::product::Reserved,
        method: PaymentMethod,
        state: OrderState,
        now: UnixMs,
    ) -> OrderRow {
        OrderRow {
            id: reserved.order.clone(),
            customer: customer.clone(),
            product: product.clone(),
            quantity: reserved.quantity,
            unit_price: reserved.unit_price,
            total: reserved.total,
            method,
            state,
            expires_at: reserved.expires_at,
            note: String::new(),
            created_at: now,
            updated_at: now,
            creates: true,
            moved_from: None,
        }
    }
}
