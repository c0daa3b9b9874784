//! Buy with saldo: reserve stock -> debit the wallet (storing the pending order with the debit)
//! -> commit the stock (storing the paid order with it). On a refusal or failure after the
//! reservation, the stock is released and any debit refunded (`recovery::settle_pending`).
//!
//! Only the last step waits for its commit. The reservation is held in memory and reaches the
//! store with its commit, as one sale (`StoreWhen::Committed`): the store writes each sale once.
//! The journal stores changes in the order they were made, fences an actor whose change failed,
//! and refuses a change whose `depends_on` is fenced; so when the commit is stored, the debit
//! before it is stored too, and a purchase costs one commit wait instead of three.
//!
//! The debit and the commit go as one chain (`Actors::wallet_then_product`): the wallet's actor
//! applies the debit and hands the commit to the product's actor, which answers. The flow is
//! woken once for the two steps instead of twice.

use std::sync::atomic::Ordering;

use warung_actors::domain::{CustomerId, OrderId, ProductCode, Quantity};
use warung_actors::product::{Commit, Committed, PriceTier, ProductRejection, ReleaseReason, Reserve, StoreWhen};
use warung_actors::runtime::CallError;
use warung_actors::supervisor::{Chained, Known};
use warung_actors::wallet::{Debit, WalletRejection};

use super::order::{Order, OrderCommand, OrderRow, OrderState, PaymentMethod};
use super::owner::{Buy, Placed};
use super::recovery::Settled;
use super::{actor_of, joined, Checkout, CheckoutError, CustomerFlow, Purchase, ShopRecord};

impl Checkout {
    /// Buys `quantity` of `product` for `customer` with their wallet. Returns only once the sale
    /// is durable; any error means nothing was taken (or it was given back).
    pub async fn buy_with_saldo(
        &self,
        customer: &CustomerId,
        product: &ProductCode,
        quantity: Quantity,
    ) -> Result<Purchase, CheckoutError> {
        self.buy_with_saldo_as(OrderId::generate(), customer, product, quantity).await
    }

    /// As `buy_with_saldo`, with the order id chosen by the caller (the chat derives it from the
    /// message, so a message handled twice cannot buy twice: its order exists already). Runs on
    /// the customer's owner.
    pub async fn buy_with_saldo_as(
        &self,
        order: OrderId,
        customer: &CustomerId,
        product: &ProductCode,
        quantity: Quantity,
    ) -> Result<Purchase, CheckoutError> {
        let flow = || CustomerFlow::BuyWithSaldo(Buy::of(&order, customer, product, quantity));
        let _here = match self.on_owner(customer, flow).await {
            Placed::There(outcome) => return outcome,
            Placed::Here(here) => here,
        };
        let outcome = self.buy_with_saldo_here(order, customer, product, quantity).await;
        self.count_refusal(&outcome);
        outcome
    }

    #[tracing::instrument(name = "checkout.saldo", skip_all, fields(%order, customer = %customer.masked(), %product, quantity))]
    async fn buy_with_saldo_here(
        &self,
        order: OrderId,
        customer: &CustomerId,
        product: &ProductCode,
        quantity: Quantity,
    ) -> Result<Purchase, CheckoutError> {
        let _claim = self.claim(customer, &order)?;
        // A purchase cut short while the store was down may still hold this customer's money.
        let unsettled = self.settle_earlier(customer).await;
        match (self.sell_with_saldo(order, customer, product, quantity).await, unsettled) {
            (Err(CheckoutError::InsufficientBalance { .. }), Some(order)) => {
                Err(CheckoutError::EarlierPurchaseUnsettled { order })
            }
            (result, _) => result,
        }
    }

    /// The sale itself, under the customer's claim.
    async fn sell_with_saldo(
        &self,
        order: OrderId,
        customer: &CustomerId,
        product: &ProductCode,
        quantity: Quantity,
    ) -> Result<Purchase, CheckoutError> {
        let tier = self.role_of(customer).tier();
        // With several lanes, the share of the product in the customer's lane sells: the
        // purchase then never leaves the lane. The order's row names the seller, whose actor
        // holds its stock; what the customer reads names the product.
        let seller = &self.inner.shares.seller_for(customer, product).await?;
        let known = self.inner.actors.known(customer, seller);
        self.refuse_early(customer, tier, seller, quantity, &known).await?;

        // The reservation lives in memory until its commit stores it. A restart forgets it: the
        // commit then finds no reservation, and the debit is refunded by `settle_pending`, as any
        // failure after the debit.
        let by = actor_of(customer);
        let reserve = Reserve {
            order: order.clone(),
            quantity,
            ttl_ms: self.inner.settings.saldo_ttl.as_millis() as i64,
            store: StoreWhen::Committed,
            tier,
            actor: by.clone(),
        };
        let reserved = self.reserve(seller, known.product.clone(), reserve).await?;
        let row = self.order_row(customer, seller, &reserved, PaymentMethod::Saldo, OrderState::Pending);

        let debit = Debit {
            reference: order.debit_reference(),
            amount: reserved.total,
            reason: joined("purchase ", order.as_str()),
            actor: by.clone(),
        };
        let commit = Commit { order: order.clone(), actor: by };
        let mut paid = Order::new(row.clone());
        paid.apply(OrderCommand::Complete { note: "" }, self.inner.clock.now())?;
        // The debit (stored with the pending order) is not waited for: the wallet's actor hands
        // the commit to the product's, which names the debit in `depends_on`, so the journal
        // stores the commit (and the paid order) only if the debit was stored.
        let (pending, paid) = (vec![ShopRecord::Order(row.clone())], vec![paid.record()]);
        let chained =
            self.inner.actors.wallet_then_product(customer, debit, pending, seller, commit, paid, known).await;
        // The paths after a failure are boxed, so the sale's future is the size of its own path
        // (see `cluster::route`: a future is as large as its largest path, and copied whole).
        match chained {
            Ok(Chained::Both(debited, Ok(Ok(Committed { items, quantity, total, .. })))) => {
                Ok(Purchase { order, product: product.clone(), quantity, total, items, balance: debited.balance })
            }
            Ok(Chained::WalletRefused(rejection)) => {
                Box::pin(self.release(&order, seller, ReleaseReason::Failed)).await.ok();
                Err(match rejection {
                    WalletRejection::InsufficientBalance { available, requested } => {
                        CheckoutError::InsufficientBalance { available, required: requested }
                    }
                    other => CheckoutError::Wallet(other),
                })
            }
            // The stock held for this purchase is gone: the product's actor restarted between the
            // steps (a crash, or its shard moved to another node). Nothing was bought, the debit
            // is refunded, and buying again may well succeed: "try again", not a refusal.
            Ok(Chained::Both(_, Ok(Err(ProductRejection::ReservationNotFound)))) => {
                self.settle_pending(&row).await;
                let reason = "the stock held for this purchase was released before it was paid; nothing was taken";
                Err(CheckoutError::Unavailable(CallError::NotStored { reason: reason.to_string() }))
            }
            Ok(Chained::Both(_, Ok(Err(rejection)))) => {
                self.settle_pending(&row).await;
                Err(CheckoutError::Product(rejection))
            }
            // The commit's result is unknown (its answer was lost, its batch reported failed), or
            // an actor stopped under the chain: what the reloaded actors find decides the answer,
            // not the error.
            Ok(Chained::Both(_, Err(error))) | Err(error @ CallError::OutcomeUnknown { .. }) => {
                match Box::pin(self.settle_after_unknown_result(&row)).await {
                    Settled::Completed | Settled::SaleStandsStateLater => Box::pin(self.stored_purchase(&row)).await,
                    _ => Err(CheckoutError::Unavailable(error)),
                }
            }
            // The debit was not applied: the stock is released (and a debit refunded, should the
            // reloaded wallet know of one).
            Err(error) => {
                self.settle_pending(&row).await;
                Err(CheckoutError::Unavailable(error))
            }
        }
    }

    /// A sale recovery found stored: answered as the purchase it is, its items read back.
    async fn stored_purchase(&self, row: &OrderRow) -> Result<Purchase, CheckoutError> {
        let items = self.inner.store.delivered_items(&row.id).await?;
        let balance = self.inner.actors.wallet_balance(&row.customer).await?;
        Ok(Purchase {
            order: row.id.clone(),
            product: row.product.home(),
            quantity: row.quantity,
            total: row.total,
            items,
            balance,
        })
    }

    /// Refuses at once, before any stock is held, a buyer of a product the actor has published
    /// as sold out, or a buyer whose balance cannot pay: in a flash sale this keeps stock for
    /// buyers who can pay and keeps the hot mailbox short. Advisory only: the actors decide.
    async fn refuse_early(
        &self,
        customer: &CustomerId,
        tier: PriceTier,
        product: &ProductCode,
        quantity: Quantity,
        known: &Known<ShopRecord>,
    ) -> Result<(), CheckoutError> {
        let price = match known.product_gauges() {
            Some(gauges) => {
                let available = match self.inner.shares.enabled() {
                    // Sold out only when the product and every share are: a seller short of
                    // stock takes it from the others. Unknown (one is not active): the actors
                    // decide.
                    true => self.inner.shares.available_anywhere(&product.home()).unwrap_or(i64::MAX),
                    false => gauges.available.load(Ordering::Relaxed),
                };
                if available < i64::from(quantity) {
                    return Err(CheckoutError::Product(ProductRejection::ExceedsAvailable {
                        available,
                        requested: quantity,
                    }));
                }
                gauges.price_for(tier)
            }
            None => match self.inner.actors.product_snapshot(product).await {
                Ok(snapshot) => tier.price(snapshot.price, snapshot.reseller_price),
                Err(CallError::NotFound) => return Err(CheckoutError::ProductNotFound),
                Err(error) => return Err(CheckoutError::Unavailable(error)),
            },
        };
        let Some(required) = price.checked_mul(quantity) else {
            return Err(CheckoutError::Product(ProductRejection::TotalExceedsMoneyLimit));
        };
        let available = match known.wallet_gauges() {
            Some(gauges) => *gauges.available.read().expect("gauge lock"),
            None => self.inner.actors.wallet_balance(customer).await?.available,
        };
        if available < required {
            return Err(CheckoutError::InsufficientBalance { available, required });
        }
        Ok(())
    }
}
