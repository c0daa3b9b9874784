//! Buy for an external payment (QRIS, a bank transfer): the stock is reserved for the payment's
//! time to live and the order waits. A confirmed payment commits it (`payment`); a cancel or the
//! expiry releases it. A payment that arrives after the stock went back on sale never resurrects
//! the order: the money goes to the customer's wallet and the order is marked for review.

use warung_actors::domain::{ActorName, CustomerId, Money, OrderId, ProductCode, Quantity, UnixMs};
use warung_actors::product::{ProductRejection, Release, ReleaseReason, Reserve, StoreWhen};

use super::order::{Order, OrderCommand, OrderState, PaymentMethod};
use super::owner::{Buy, Placed};
use super::{actor_of, Checkout, CheckoutError, CustomerFlow, ShopRecord};

/// An order waiting for its payment.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct PendingOrder {
    pub order: OrderId,
    pub total: Money,
    pub expires_at: UnixMs,
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

    /// As `buy_with_external`, with the order id chosen by the caller. Runs on the customer's
    /// owner.
    pub async fn buy_with_external_as(
        &self,
        order: OrderId,
        customer: &CustomerId,
        product: &ProductCode,
        quantity: Quantity,
    ) -> Result<PendingOrder, CheckoutError> {
        let flow = || CustomerFlow::BuyWithExternal(Buy::of(&order, customer, product, quantity));
        let _here = match self.on_owner(customer, flow).await {
            Placed::There(outcome) => return outcome,
            Placed::Here(here) => here,
        };
        let outcome = self.buy_outside_here(PaymentMethod::External, order, customer, product, quantity).await;
        self.count_refusal(&outcome);
        outcome
    }

    /// As `buy_with_external_as`, for a bank transfer the shop owner confirms (`lunas`): the
    /// stock is reserved for the payment's time to live the same way.
    pub async fn buy_with_transfer_as(
        &self,
        order: OrderId,
        customer: &CustomerId,
        product: &ProductCode,
        quantity: Quantity,
    ) -> Result<PendingOrder, CheckoutError> {
        let flow = || CustomerFlow::BuyWithTransfer(Buy::of(&order, customer, product, quantity));
        let _here = match self.on_owner(customer, flow).await {
            Placed::There(outcome) => return outcome,
            Placed::Here(here) => here,
        };
        let outcome = self.buy_outside_here(PaymentMethod::Transfer, order, customer, product, quantity).await;
        self.count_refusal(&outcome);
        outcome
    }

    #[tracing::instrument(name = "checkout.external", skip_all, fields(%order, customer = %customer.masked(), %product, quantity, method = method.as_str()))]
    async fn buy_outside_here(
        &self,
        method: PaymentMethod,
        order: OrderId,
        customer: &CustomerId,
        product: &ProductCode,
        quantity: Quantity,
    ) -> Result<PendingOrder, CheckoutError> {
        let mut claim = self.claim(customer, &order)?;
        let reserve = Reserve {
            order: order.clone(),
            quantity,
            ttl_ms: match method {
                PaymentMethod::Transfer => self.inner.settings.transfer_ttl,
                _ => self.inner.settings.payment_ttl,
            }
            .as_millis() as i64,
            store: StoreWhen::Reserved,
            tier: self.role_of(customer).tier(),
            actor: actor_of(customer),
        };
        let reserved = self.reserve(product, None, reserve).await?;
        let row = self.order_row(customer, product, &reserved, method, OrderState::AwaitingPayment);
        if let Err(error) = self.store_records(customer, vec![ShopRecord::Order(row.clone())]).await {
            self.release(&order, product, ReleaseReason::Failed).await.ok();
            return Err(error);
        }
        claim.keep = true;
        Ok(PendingOrder { order, total: row.total, expires_at: row.expires_at })
    }

    /// Cancels an order still awaiting payment, at its customer's word: its stock goes back on
    /// sale.
    pub async fn cancel(&self, order: &OrderId) -> Result<(), CheckoutError> {
        self.cancel_as(order, None).await
    }

    /// As `cancel`, recorded in the stock movements as done by `actor` (an admin) when given.
    /// Runs on the customer's owner.
    #[tracing::instrument(name = "checkout.cancel", skip_all, fields(%order))]
    pub async fn cancel_as(&self, order: &OrderId, actor: Option<&str>) -> Result<(), CheckoutError> {
        let found = self.inner.store.order(order).await?.ok_or(CheckoutError::OrderNotFound)?;
        let flow = || CustomerFlow::Cancel { order: order.clone(), actor: actor.map(str::to_string) };
        let _here = match self.on_owner(&found.customer, flow).await {
            Placed::There(outcome) => return outcome,
            Placed::Here(here) => here,
        };
        let _turn = self.customer_turn(&found.customer).await;
        let row = self.inner.store.order(order).await?.ok_or(CheckoutError::OrderNotFound)?;
        let mut cancelled = Order::new(row.clone());
        cancelled.apply(OrderCommand::Cancel, self.inner.clock.now())?;
        let release = Release {
            order: order.clone(),
            reason: ReleaseReason::Cancelled,
            actor: actor.map(ActorName::from).unwrap_or_else(|| actor_of(&row.customer)),
        };
        match self.inner.actors.product_with(&row.product, release, vec![cancelled.record()]).await? {
            Ok(_) => {}
            Err(ProductRejection::AlreadyCommitted) => {
                return Err(CheckoutError::OrderNotOpen { state: OrderState::Paid })
            }
            Err(ProductRejection::ReservationReleased { .. } | ProductRejection::ReservationNotFound) => {
                self.store_records(&row.customer, vec![cancelled.record()]).await?
            }
            Err(rejection) => return Err(CheckoutError::Product(rejection)),
        }
        self.inner.open.remove_if(&row.customer, |_, open| open == order);
        Ok(())
    }

    /// A seller's timer released a reservation. A safeguard: a share no lane sells from (a
    /// process gone back to one lane, a cluster's node) has been restarted since it last sold,
    /// and so holds no reservation (a share's live in memory); if it got units back all the
    /// same, they go back to its product, where they are sold, with a warning. Logged when it
    /// cannot (the next start or acquisition gives them back).
    pub async fn on_units_released(&self, seller: &ProductCode) {
        // The shares move stock on this node's own actors: a cluster's node only for the shards
        // it still owns (a share is in its product's).
        if !self.inner.shares.is_idle(seller) || !self.inner.actors.scope().has_product(seller) {
            return;
        }
        match self.inner.shares.return_if_idle(seller).await {
            Ok(false) => {}
            Ok(true) => {
                tracing::warn!(%seller, "units released into a share no lane sells from went back to its product")
            }
            Err(error) => {
                tracing::error!(%seller, %error, "could not give an idle share's released units back to its product")
            }
        }
    }

    /// A product released an expired reservation: its order, if still waiting, is expired, on the
    /// customer's owner (whose claim it frees).
    pub async fn on_reservation_expired(&self, order: &OrderId) {
        match self.inner.store.order(order).await {
            Ok(Some(row)) if row.state == OrderState::AwaitingPayment => {
                let flow = || CustomerFlow::Expire { order: order.clone() };
                match self.on_owner::<()>(&row.customer, flow).await {
                    Placed::Here(_here) => {
                        self.mark_expired(&row).await;
                    }
                    Placed::There(Ok(())) => {}
                    Placed::There(Err(error)) => {
                        tracing::warn!(%order, %error, "the customer's node could not expire an order; its sweep will")
                    }
                }
            }
            Ok(_) => {}
            Err(error) => tracing::error!(%order, %error, "could not mark an expired order; recovery will"),
        }
    }
}
