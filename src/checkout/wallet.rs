//! Money in and out of wallets outside a purchase: top ups, refunds, admin adjustments.

use rust_decimal::Decimal;
use warung_actors::domain::{CustomerId, Money, OrderId, Reference};
use warung_actors::journal::{Event, LedgerKind, OrderState, PaymentMethod, PaymentPurpose, PaymentRow};
use warung_actors::wallet::{WalletBalance, WalletCommand, WalletOutcome};

use super::{Checkout, CheckoutError};

impl Checkout {
    /// Credits a confirmed top-up payment, once per payment id.
    #[tracing::instrument(name = "checkout.top_up", skip_all, fields(customer = %customer.masked(), %payment))]
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
        let row = PaymentRow {
            id: payment.clone(),
            customer: customer.clone(),
            order: None,
            purpose: PaymentPurpose::TopUp,
            amount,
            status: "settled".into(),
            at: self.inner.clock.now(),
        };
        let credit = WalletCommand::Credit {
            reference: Reference::parse(&format!("topup:{payment}")).unwrap_or_else(|_| payment.clone()),
            amount,
            kind: LedgerKind::TopUp,
            reason: format!("top up {payment}"),
            actor: actor.to_string(),
        };
        self.wallet(customer, credit, vec![Event::Payment(row)]).await
    }

    /// Credits the part of a payment beyond what it paid for (the unique code added to a QRIS
    /// amount), once per payment: the shop keeps no rupiah it did not sell something for.
    #[tracing::instrument(name = "checkout.credit_surplus", skip_all, fields(customer = %customer.masked(), %payment))]
    pub async fn credit_surplus(
        &self,
        customer: &CustomerId,
        payment: &Reference,
        amount: Money,
    ) -> Result<WalletBalance, CheckoutError> {
        let credit = WalletCommand::Credit {
            reference: Reference::parse(&format!("surplus:{payment}")).unwrap_or_else(|_| payment.clone()),
            amount,
            kind: LedgerKind::TopUp,
            reason: format!("unique code of payment {payment}"),
            actor: format!("payment:{payment}"),
        };
        self.wallet(customer, credit, Vec::new()).await
    }

    /// Refunds a paid order to the customer's wallet, with a reason. Once per order.
    #[tracing::instrument(name = "checkout.refund", skip_all, fields(%order))]
    pub async fn refund(&self, order: &OrderId, reason: &str, actor: &str) -> Result<WalletBalance, CheckoutError> {
        let row = self.inner.store.order(order).await?.ok_or(CheckoutError::OrderNotFound)?;
        if !matches!(row.state, OrderState::Paid | OrderState::Refunded) {
            return Err(CheckoutError::OrderNotPaid { state: row.state });
        }
        let refunded = self.with_state(&row, OrderState::Refunded, reason);
        let command = match row.method {
            PaymentMethod::Saldo => WalletCommand::Refund {
                reference: order.refund_reference(),
                original: order.debit_reference(),
                reason: reason.to_string(),
                actor: actor.to_string(),
            },
            PaymentMethod::External => WalletCommand::Credit {
                reference: order.refund_reference(),
                amount: row.total,
                kind: LedgerKind::Refund,
                reason: format!("order {order}: {reason}"),
                actor: actor.to_string(),
            },
        };
        self.wallet(&row.customer, command, vec![refunded]).await
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
        let command = WalletCommand::Adjust {
            reference: reference.clone(),
            delta,
            reason: reason.to_string(),
            actor: actor.to_string(),
        };
        self.wallet(customer, command, Vec::new()).await
    }

    pub async fn balance(&self, customer: &CustomerId) -> Result<WalletBalance, CheckoutError> {
        Ok(self.inner.supervisor.wallet_balance(customer).await?)
    }

    async fn wallet(
        &self,
        customer: &CustomerId,
        command: WalletCommand,
        attach: Vec<Event>,
    ) -> Result<WalletBalance, CheckoutError> {
        let outcome: WalletOutcome =
            self.inner.supervisor.wallet_with(customer, command, attach).await?.map_err(CheckoutError::Wallet)?;
        Ok(outcome.balance())
    }
}
