//! Buy for an external payment (QRIS): the stock is reserved for the payment's time to live and
//! the order waits. A confirmed payment commits it; a cancel or the expiry releases it. A payment
//! that arrives after the stock went back on sale never resurrects the order: the money goes to
//! the customer's wallet and the order is marked for review.

use warung_actors::domain::{CustomerId, ItemSecret, Money, OrderId, ProductCode, Quantity, Reference, UnixMs};
use warung_actors::journal::{Event, LedgerKind, OrderRow, OrderState, PaymentMethod, PaymentPurpose, PaymentRow};
use warung_actors::product::{ProductCommand, ProductOutcome, ProductRejection, ReleaseReason, StoreWhen};
use warung_actors::wallet::{WalletBalance, WalletCommand};

use super::{payment_credit_reference, Checkout, CheckoutError};

/// An order waiting for its payment.
#[derive(Clone, Debug)]
pub struct PendingOrder {
    pub order: OrderId,
    pub total: Money,
    pub expires_at: UnixMs,
}

/// What a confirmed payment did.
#[derive(Clone, Debug, PartialEq)]
pub enum PaymentOutcome {
    /// The order is paid and these items are the customer's.
    Delivered { order: OrderId, items: Vec<ItemSecret> },
    /// The order could not take the payment (expired, cancelled, underpaid): the money is in the
    /// customer's wallet.
    CreditedToWallet { order: OrderId, amount: Money, balance: WalletBalance },
}

impl Checkout {
    pub async fn buy_with_external(
        &self,
        customer: &CustomerId,
        product: &ProductCode,
        quantity: Quantity,
    ) -> Result<PendingOrder, CheckoutError> {
        self.buy_with_external_as(OrderId::generate(), customer, product, quantity).await
    }

    /// As `buy_with_external`, with the order id chosen by the caller.
    #[tracing::instrument(name = "checkout.external", skip_all, fields(%order, customer = %customer.masked(), %product, quantity))]
    pub async fn buy_with_external_as(
        &self,
        order: OrderId,
        customer: &CustomerId,
        product: &ProductCode,
        quantity: Quantity,
    ) -> Result<PendingOrder, CheckoutError> {
        let mut claim = self.claim(customer, &order)?;
        let reserved = self
            .reserve(
                &order,
                customer,
                self.role_of(customer).tier(),
                product,
                quantity,
                self.inner.settings.payment_ttl,
                StoreWhen::Reserved,
            )
            .await?;
        let row =
            self.order_row(&order, customer, product, &reserved, PaymentMethod::External, OrderState::AwaitingPayment);
        if let Err(error) = self.store_rows(vec![Event::Order(row.clone())]).await {
            self.release(&order, product, ReleaseReason::Failed).await.ok();
            return Err(error);
        }
        claim.keep = true;
        Ok(PendingOrder { order, total: row.total, expires_at: row.expires_at })
    }

    /// Records a confirmed payment of `amount` for `order`. Safe to call again with the same
    /// payment id (providers repeat their notifications).
    #[tracing::instrument(name = "checkout.confirm_payment", skip_all, fields(%order, %payment))]
    pub async fn confirm_payment(
        &self,
        order: &OrderId,
        payment: &Reference,
        amount: Money,
    ) -> Result<PaymentOutcome, CheckoutError> {
        let row = self.inner.store.order(order).await?.ok_or(CheckoutError::OrderNotFound)?;
        if row.method != PaymentMethod::External {
            return Err(CheckoutError::NotAnExternalOrder);
        }
        let payment_row = PaymentRow {
            id: payment.clone(),
            customer: row.customer.clone(),
            order: Some(order.clone()),
            purpose: PaymentPurpose::Order,
            amount,
            status: "settled".into(),
            at: self.inner.clock.now(),
        };
        // A paid order takes only a repeat of the payment that paid it; any other payment is extra
        // money for the wallet.
        let can_buy = match row.state {
            OrderState::AwaitingPayment => amount >= row.total,
            OrderState::Paid => self.inner.store.payment_exists(payment).await?,
            _ => false,
        };
        if can_buy {
            let commit = ProductCommand::Commit { order: order.clone(), actor: format!("payment:{payment}") };
            let paid = self.with_state(&row, OrderState::Paid, "");
            match self
                .inner
                .supervisor
                .product_with(&row.product, commit, vec![paid, Event::Payment(payment_row.clone())])
                .await?
            {
                Ok(ProductOutcome::Committed { items, .. }) => {
                    self.inner.open.remove_if(&row.customer, |_, open| open == order);
                    return Ok(PaymentOutcome::Delivered { order: order.clone(), items });
                }
                Ok(other) => unreachable!("commit answered {other:?}"),
                Err(
                    ProductRejection::ReservationExpired
                    | ProductRejection::ReservationReleased { .. }
                    | ProductRejection::ReservationNotFound,
                ) => {}
                Err(rejection) => return Err(CheckoutError::Product(rejection)),
            }
        }
        self.credit_payment(&row, payment_row).await
    }

    /// A payment that cannot buy its order goes to the customer's wallet, and the order is marked
    /// for review (unless it was already paid by an earlier payment).
    async fn credit_payment(&self, row: &OrderRow, payment: PaymentRow) -> Result<PaymentOutcome, CheckoutError> {
        let note = format!("payment {} of {} credited to the wallet", payment.id, payment.amount);
        let mut attach = vec![Event::Payment(payment.clone())];
        if row.state != OrderState::Paid {
            attach.push(self.with_state(row, OrderState::Review, &note));
        }
        let credit = WalletCommand::Credit {
            reference: payment_credit_reference(&payment.id),
            amount: payment.amount,
            kind: LedgerKind::TopUp,
            reason: format!("payment for order {} that could not be delivered", row.id),
            actor: format!("payment:{}", payment.id),
        };
        let outcome =
            self.inner.supervisor.wallet_with(&row.customer, credit, attach).await?.map_err(CheckoutError::Wallet)?;
        self.inner.open.remove_if(&row.customer, |_, open| *open == row.id);
        Ok(PaymentOutcome::CreditedToWallet {
            order: row.id.clone(),
            amount: payment.amount,
            balance: outcome.balance(),
        })
    }

    /// Cancels an order still awaiting payment, at its customer's word: its stock goes back on
    /// sale.
    pub async fn cancel(&self, order: &OrderId) -> Result<(), CheckoutError> {
        self.cancel_as(order, None).await
    }

    /// As `cancel`, recorded in the stock movements as done by `actor` (an admin) when given.
    #[tracing::instrument(name = "checkout.cancel", skip_all, fields(%order))]
    pub async fn cancel_as(&self, order: &OrderId, actor: Option<&str>) -> Result<(), CheckoutError> {
        let row = self.inner.store.order(order).await?.ok_or(CheckoutError::OrderNotFound)?;
        if row.state != OrderState::AwaitingPayment {
            return Err(CheckoutError::OrderNotOpen { state: row.state });
        }
        let release = ProductCommand::Release {
            order: order.clone(),
            reason: ReleaseReason::Cancelled,
            actor: actor.map(str::to_string).unwrap_or_else(|| format!("customer:{}", row.customer)),
        };
        let cancelled = self.with_state(&row, OrderState::Cancelled, "cancelled");
        match self.inner.supervisor.product_with(&row.product, release, vec![cancelled.clone()]).await? {
            Ok(_) => {}
            Err(ProductRejection::AlreadyCommitted) => {
                return Err(CheckoutError::OrderNotOpen { state: OrderState::Paid })
            }
            Err(ProductRejection::ReservationReleased { .. } | ProductRejection::ReservationNotFound) => {
                self.store_rows(vec![cancelled]).await?
            }
            Err(rejection) => return Err(CheckoutError::Product(rejection)),
        }
        self.inner.open.remove_if(&row.customer, |_, open| open == order);
        Ok(())
    }

    /// A product released an expired reservation: its order, if still waiting, is expired.
    pub async fn on_reservation_expired(&self, order: &OrderId) {
        match self.inner.store.order(order).await {
            Ok(Some(row)) if row.state == OrderState::AwaitingPayment => {
                self.mark_expired(&row).await;
            }
            Ok(_) => {}
            Err(error) => tracing::error!(%order, %error, "could not mark an expired order; recovery will"),
        }
    }
}
