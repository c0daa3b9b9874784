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
//! The three steps go as one chain, actor to actor (`Actors::product_then_wallet_then_product`):
//! the product's actor reserves and makes the debit and the commit from the reservation
//! (`SaldoSteps`), the wallet's actor applies the debit and hands the commit back to the product's,
//! which answers. The flow is woken once for the three steps instead of three times.

use std::sync::atomic::Ordering;
use std::sync::{Arc, OnceLock};

use warung_actors::domain::{Clock, CustomerId, OrderId, ProductCode, Quantity};
use warung_actors::product::{
    Commit, Committed, PriceTier, ProductRejection, ReleaseReason, Reserve, Reserved, StoreWhen,
};
use warung_actors::runtime::CallError;
use warung_actors::supervisor::{Begun, Chained, Then};
use warung_actors::wallet::{Debit, Debited, WalletRejection};

use super::order::{Order, OrderCommand, OrderRow, OrderState, PaymentMethod};
use super::owner::{Buy, Placed};
use super::recovery::Settled;
use super::{actor_of, new_order_row, Checkout, CheckoutError, CustomerFlow, Purchase, ShopRecord};

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
        self.refuse_early(customer, tier, product, quantity).await?;

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
        let steps = SaldoSteps {
            order: order.clone(),
            customer: customer.clone(),
            product: product.clone(),
            by,
            clock: self.inner.clock,
            made: Arc::new(OnceLock::new()),
        };
        let made = steps.made.clone();
        let next = Box::new(move |reserved: &Reserved| steps.make(reserved));
        let begun = self.inner.actors.product_then_wallet_then_product(product, reserve, customer, next).await;
        let row = || made.get().expect("the order's row is made before its debit is sent").clone();
        match begun {
            Ok(Begun::Went(_, chained)) => self.after_debit(order, product, row(), chained).await,
            Ok(Begun::Refused(rejection)) => Err(CheckoutError::Product(rejection)),
            Ok(Begun::NotContinued(_, error)) => {
                self.release(&order, product, ReleaseReason::Failed).await.ok();
                Err(error)
            }
            // The debit was not applied: the stock is released (and a debit refunded, should the
            // reloaded wallet know of one).
            Ok(Begun::WalletNotApplied(_, error)) => {
                self.settle_pending(&row()).await;
                Err(CheckoutError::Unavailable(error))
            }
            Err(CallError::NotFound) => Err(CheckoutError::ProductNotFound),
            // An actor stopped under the chain: what the reloaded actors find decides the answer.
            Err(error @ CallError::OutcomeUnknown { .. }) => match made.get() {
                Some(row) => self.answer_unknown_result(row, error).await,
                None => {
                    self.release(&order, product, ReleaseReason::Failed).await.ok();
                    Err(CheckoutError::Unavailable(error))
                }
            },
            Err(error) => Err(CheckoutError::Unavailable(error)),
        }
    }

    /// The sale once the debit was applied: answered when the commit is stored, else settled.
    async fn after_debit(
        &self,
        order: OrderId,
        product: &ProductCode,
        row: OrderRow,
        chained: Chained<Debited, Committed>,
    ) -> Result<Purchase, CheckoutError> {
        match chained {
            Chained::Both(debited, Ok(Ok(Committed { items, quantity, total, .. }))) => {
                Ok(Purchase { order, product: product.clone(), quantity, total, items, balance: debited.balance })
            }
            Chained::WalletRefused(rejection) => {
                self.release(&order, product, ReleaseReason::Failed).await.ok();
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
            Chained::Both(_, Ok(Err(ProductRejection::ReservationNotFound))) => {
                self.settle_pending(&row).await;
                let reason = "the stock held for this purchase was released before it was paid; nothing was taken";
                Err(CheckoutError::Unavailable(CallError::NotStored { reason: reason.to_string() }))
            }
            Chained::Both(_, Ok(Err(rejection))) => {
                self.settle_pending(&row).await;
                Err(CheckoutError::Product(rejection))
            }
            // The commit's result is unknown (its answer was lost, its batch reported failed).
            Chained::Both(_, Err(error)) => self.answer_unknown_result(&row, error).await,
        }
    }

    /// What the reloaded actors find decides the answer, not the error.
    async fn answer_unknown_result(&self, row: &OrderRow, error: CallError) -> Result<Purchase, CheckoutError> {
        match self.settle_after_unknown_result(row).await {
            Settled::Completed | Settled::SaleStandsStateLater => self.stored_purchase(row).await,
            _ => Err(CheckoutError::Unavailable(error)),
        }
    }

    /// A sale recovery found stored: answered as the purchase it is, its items read back.
    async fn stored_purchase(&self, row: &OrderRow) -> Result<Purchase, CheckoutError> {
        let items = self.inner.store.delivered_items(&row.id).await?;
        let balance = self.inner.actors.wallet_balance(&row.customer).await?;
        Ok(Purchase {
            order: row.id.clone(),
            product: row.product.clone(),
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
    ) -> Result<(), CheckoutError> {
        let price = match self.inner.actors.product_gauges(product) {
            Some(gauges) => {
                let available = gauges.available.load(Ordering::Relaxed);
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
        let available = match self.inner.actors.wallet_gauges(customer) {
            Some(gauges) => *gauges.available.read().expect("gauge lock"),
            None => self.inner.actors.wallet_balance(customer).await?.available,
        };
        if available < required {
            return Err(CheckoutError::InsufficientBalance { available, required });
        }
        Ok(())
    }
}

/// What a saldo purchase sends after its reservation, made from it on the product's actor: the
/// debit (stored with the pending order) and the commit (stored with the paid order). Given only
/// what it uses; the pending order's row is kept in `made` for settling should the chain fail.
struct SaldoSteps {
    order: OrderId,
    customer: CustomerId,
    product: ProductCode,
    by: String,
    clock: Clock,
    made: Arc<OnceLock<OrderRow>>,
}

impl SaldoSteps {
    fn make(self, reserved: &Reserved) -> Result<Then<Debit, Commit, ShopRecord>, CheckoutError> {
        let now = self.clock.now();
        let row =
            new_order_row(now, &self.customer, &self.product, reserved, PaymentMethod::Saldo, OrderState::Pending);
        let mut paid = Order::new(row.clone());
        paid.apply(OrderCommand::Complete { note: "" }, now)?;
        let debit = Debit {
            reference: self.order.debit_reference(),
            amount: reserved.total,
            reason: format!("purchase {}", self.order),
            actor: self.by.clone(),
        };
        let pending = vec![ShopRecord::Order(row.clone())];
        let _ = self.made.set(row);
        Ok(Then {
            wallet: debit,
            attach: pending,
            then: Commit { order: self.order, actor: self.by },
            then_attach: vec![paid.record()],
        })
    }
}
