//! What a checkout flow can fail with. Each variant is one thing a customer or admin is told.

use serde::{Deserialize, Serialize};
use warung_actors::domain::{Money, OrderId, Reference};
use warung_actors::product::ProductRejection;
use warung_actors::runtime::CallError;
use warung_actors::wallet::WalletRejection;

use super::OrderState;

#[derive(Clone, Debug, PartialEq, thiserror::Error, Serialize, Deserialize)]
#[serde(tag = "code", rename_all = "snake_case")]
pub enum CheckoutError {
    #[error("no such product")]
    ProductNotFound,
    #[error("{0}")]
    Product(ProductRejection),
    #[error("insufficient balance: {available} available, {required} required")]
    InsufficientBalance { available: Money, required: Money },
    #[error("{0}")]
    Wallet(WalletRejection),
    #[error("the customer's earlier purchase {order} still holds their money; it is being settled")]
    EarlierPurchaseUnsettled { order: OrderId },
    #[error("the customer already has an open order {order}")]
    OpenOrderExists { order: OrderId },
    #[error("no such order")]
    OrderNotFound,
    #[error("the order is {state:?}, not open")]
    OrderNotOpen { state: OrderState },
    #[error("the order is {state:?}, not paid")]
    OrderNotPaid { state: OrderState },
    #[error("the order is paid with saldo; it takes no external payment")]
    NotAnExternalOrder,
    #[error("the order is paid by bank transfer: its payment is the owner's confirmation (transfer-received)")]
    TransferTakesOnlyItsConfirmation,
    #[error("the order cannot take this step: {reason}")]
    OrderConflict { reason: String },
    #[error("payment {payment} is recorded as {recorded}; the same id cannot pay for anything else")]
    PaymentMismatch { payment: Reference, recorded: String },
    #[error("a payment id is at most {max} characters")]
    PaymentIdTooLong { max: usize },
    #[error("references starting with {reference:?} are the engine's own (purchases, refunds, payments)")]
    ReferenceReserved { reference: String },
    /// Nothing was done (try again), except for `CallError::OutcomeUnknown`, which says so.
    #[error("{0}")]
    Unavailable(CallError),
}

impl From<CallError> for CheckoutError {
    fn from(error: CallError) -> Self {
        CheckoutError::Unavailable(error)
    }
}

impl From<crate::shares::ShareError> for CheckoutError {
    fn from(error: crate::shares::ShareError) -> Self {
        use crate::shares::ShareError;
        match error {
            ShareError::Call(CallError::NotFound) => CheckoutError::ProductNotFound,
            ShareError::Call(error) => CheckoutError::Unavailable(error),
            ShareError::Refused(rejection) => CheckoutError::Product(rejection),
            ShareError::Store(error) => error.into(),
        }
    }
}

impl From<crate::store::StoreError> for CheckoutError {
    fn from(error: crate::store::StoreError) -> Self {
        CheckoutError::Unavailable(CallError::StoreUnavailable { reason: error.to_string() })
    }
}

impl From<super::order::OrderRejection> for CheckoutError {
    fn from(rejection: super::order::OrderRejection) -> Self {
        use super::order::OrderRejection as R;
        match rejection {
            R::PaidWithSaldoTakesNoPayment => CheckoutError::NotAnExternalOrder,
            R::OnlyAnOpenOrderCanBeCancelled { state } => CheckoutError::OrderNotOpen { state },
            R::OnlyAPaidOrderCanBeRefunded { state } => CheckoutError::OrderNotPaid { state },
            R::AwaitsPaymentHasNoSaldoSteps
            | R::SettledSaleCannotChange { .. }
            | R::StockAnswerWithoutPayment { .. } => CheckoutError::OrderConflict { reason: rejection.to_string() },
        }
    }
}

impl CheckoutError {
    /// The rule a refused purchase broke, as the `reason` of the refusals metric; `None` when
    /// nothing was refused (the engine could not answer, and the customer is asked to try again).
    pub fn refusal_reason(&self) -> Option<&'static str> {
        use CheckoutError as E;
        Some(match self {
            E::ProductNotFound => "product_not_found",
            E::Product(ProductRejection::ExceedsAvailable { .. }) => "sold_out",
            E::Product(ProductRejection::ProductInactive) => "product_inactive",
            E::Product(ProductRejection::QuantityExceedsOrderLimit { .. }) => "quantity_limit",
            E::Product(_) => "product_rule",
            E::InsufficientBalance { .. } | E::Wallet(WalletRejection::InsufficientBalance { .. }) => {
                "insufficient_balance"
            }
            E::Wallet(_) => "wallet_rule",
            E::EarlierPurchaseUnsettled { .. } => "earlier_purchase_unsettled",
            E::OpenOrderExists { .. } => "open_order_exists",
            E::OrderNotFound
            | E::OrderNotOpen { .. }
            | E::OrderNotPaid { .. }
            | E::NotAnExternalOrder
            | E::TransferTakesOnlyItsConfirmation
            | E::OrderConflict { .. } => "order_rule",
            E::PaymentMismatch { .. } | E::PaymentIdTooLong { .. } | E::ReferenceReserved { .. } => "payment_rule",
            E::Unavailable(_) => return None,
        })
    }
}
