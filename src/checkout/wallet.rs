//! Money in and out of wallets outside a purchase: top ups (payments, see `payment`), refunds,
//! admin adjustments.

use rust_decimal::Decimal;
use warung_actors::domain::{ActorName, CustomerId, Money, OrderId, Reference};
use warung_actors::journal::LedgerKind;
use warung_actors::runtime::CallError;
use warung_actors::wallet::{Adjust, Credit, Refund, WalletBalance, WalletRequest};

use super::order::{Order, OrderCommand, OrderOutcome, PaymentMethod};
use super::owner::Placed;
use super::payment::{IncomingPayment, PaymentOutcome, Purpose};
use super::{Checkout, CheckoutError, CustomerFlow, ShopRecord};

impl Checkout {
    /// Credits a confirmed top-up payment, once per payment id (see `apply_payment`).
    pub async fn top_up(
        &self,
        customer: &CustomerId,
        payment: &Reference,
        amount: Money,
    ) -> Result<WalletBalance, CheckoutError> {
        self.top_up_as(customer, payment, amount, &format!("payment:{payment}")).await
    }

    /// As `top_up`, with the ledger naming `actor` (an admin recording a payment by hand).
    pub async fn top_up_as(
        &self,
        customer: &CustomerId,
        payment: &Reference,
        amount: Money,
        actor: &str,
    ) -> Result<WalletBalance, CheckoutError> {
        let incoming = IncomingPayment {
            id: payment.clone(),
            customer: customer.clone(),
            purpose: Purpose::TopUp,
            amount,
            actor: actor.into(),
        };
        match self.apply_payment(incoming).await?.outcome {
            PaymentOutcome::CreditedToWallet { balance, .. } => Ok(balance),
            PaymentOutcome::Delivered { .. } => {
                let reason = "a top-up was answered as an order's payment".to_string();
                Err(CheckoutError::Unavailable(CallError::Corrupt { reason }))
            }
        }
    }

    /// Refunds a paid order to the customer's wallet, with a reason. Once per order.
    #[tracing::instrument(name = "checkout.refund", skip_all, fields(%order))]
    pub async fn refund(&self, order: &OrderId, reason: &str, actor: &str) -> Result<WalletBalance, CheckoutError> {
        let found = self.inner.store.order(order).await?.ok_or(CheckoutError::OrderNotFound)?;
        let flow = || CustomerFlow::Refund { order: order.clone(), reason: reason.to_string(), actor: actor.into() };
        let _here = match self.on_owner(&found.customer, flow).await {
            Placed::There(outcome) => return outcome,
            Placed::Here(here) => here,
        };
        let _turn = self.customer_turn(&found.customer).await;
        let row = self.inner.store.order(order).await?.ok_or(CheckoutError::OrderNotFound)?;
        let mut refunded = Order::new(row.clone());
        let moved = refunded.apply(OrderCommand::Refund { reason: reason.to_string() }, self.inner.clock.now())?;
        // Refunded before: the wallet answers the first refund again (same reference), and the
        // order's row is already stored.
        let attach = match moved {
            OrderOutcome::Moved { .. } => vec![refunded.record()],
            _ => Vec::new(),
        };
        let reference = order.refund_reference();
        let actor = ActorName::from(actor);
        let balance = match row.method {
            PaymentMethod::Saldo => {
                let original = order.debit_reference();
                let refund = Refund { reference, original, reason: reason.to_string(), actor };
                self.wallet(&row.customer, refund, attach).await?.balance
            }
            PaymentMethod::External | PaymentMethod::Transfer => {
                let reason = format!("order {order}: {reason}");
                let credit = Credit { reference, amount: row.total, kind: LedgerKind::Refund, reason, actor };
                self.wallet(&row.customer, credit, attach).await?.balance
            }
        };
        Ok(balance)
    }

    /// An admin's correction of a balance, up or down, with a reason; never below zero.
    pub async fn adjust(
        &self,
        customer: &CustomerId,
        reference: &Reference,
        delta: Decimal,
        reason: &str,
        actor: &str,
    ) -> Result<WalletBalance, CheckoutError> {
        if super::payment::is_engine_reference(reference) {
            return Err(CheckoutError::ReferenceReserved { reference: reference.to_string() });
        }
        let command = Adjust { reference: reference.clone(), delta, reason: reason.to_string(), actor: actor.into() };
        Ok(self.wallet(customer, command, Vec::new()).await?.balance)
    }

    pub async fn balance(&self, customer: &CustomerId) -> Result<WalletBalance, CheckoutError> {
        Ok(self.inner.actors.wallet_balance(customer).await?)
    }

    /// A known customer's balance; `None` for an id the store has no wallet for, without
    /// activating an actor for it (so reading random ids costs no memory).
    pub async fn known_balance(&self, customer: &CustomerId) -> Result<Option<WalletBalance>, CallError> {
        if self.inner.actors.wallet_gauges(customer).is_none() {
            let known = self.inner.store.customer(customer).await;
            match known {
                Ok(Some(_)) => {}
                Ok(None) => return Ok(None),
                Err(error) => return Err(CallError::StoreUnavailable { reason: error.to_string() }),
            }
        }
        self.inner.actors.wallet_balance(customer).await.map(Some)
    }

    /// A wallet command, answered once durable with its own reply.
    async fn wallet<C: WalletRequest>(
        &self,
        customer: &CustomerId,
        command: C,
        attach: Vec<ShopRecord>,
    ) -> Result<C::Reply, CheckoutError> {
        self.inner.actors.wallet_with(customer, command, attach).await?.map_err(CheckoutError::Wallet)
    }
}
