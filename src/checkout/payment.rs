//! Payments as exactly-once records. A payment (a QRIS settlement, a transfer an admin records, a
//! top-up) is stored once under its id, bound to one customer, one purpose (this order, or a
//! top-up) and one amount, in the same transaction as what it did:
//!
//! - `delivered`: it bought its order (the order's stock was committed to it); what it paid beyond
//!   the order's total is credited to the wallet under `surplus:<id>`.
//! - `credited`: it went to the wallet whole: a top-up under `topup:<id>`, or a payment its order
//!   could not take (late, short, or the order already paid by another) under `payment:<id>`.
//!
//! The same id again with the same content returns the first outcome, read from the store, and
//! moves nothing: whatever happened to the order since (a refund, a product that forgot it, a
//! replay). With another customer, purpose or amount it is refused (`PaymentMismatch`). One
//! customer's payments and order transitions take turns (`Checkout::customer_turn`), so two
//! payments racing on one order are decided one after the other: one delivers, the other is
//! credited.

use warung_actors::domain::{ActorName, CustomerId, ItemSecret, Money, OrderId, Reference, REFERENCE_LEN_MAX};
use warung_actors::journal::LedgerKind;
use warung_actors::product::{Commit, Committed, ProductRejection};
use warung_actors::wallet::{Credit, WalletBalance};

use super::order::{Order, OrderCommand, OrderOutcome, PaymentDecision};
use super::owner::Placed;
use super::{Checkout, CheckoutError, CustomerFlow, ShopRecord};

mod record;

pub use crate::records::{PaymentApplied, PaymentRow};
use record::describe;
pub use record::{record_of, same_payment};

/// A payment as it reaches the shop.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct IncomingPayment {
    pub id: Reference,
    pub customer: CustomerId,
    pub purpose: Purpose,
    pub amount: Money,
    /// Who records it, for the ledger: `payment:<id>` for a provider's, `admin:<name>` for one an
    /// admin confirms.
    pub actor: ActorName,
}

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Purpose {
    Order(OrderId),
    TopUp,
}

/// What a payment did.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub enum PaymentOutcome {
    /// The order is paid and these items are the customer's; `surplus` (beyond the order's total)
    /// is in the wallet, whose balance is `balance` when it could be read.
    Delivered { order: OrderId, items: Vec<ItemSecret>, surplus: Money, balance: Option<WalletBalance> },
    /// The payment went to the wallet whole: a top-up (`order: None`), or a payment its order could
    /// not take.
    CreditedToWallet { order: Option<OrderId>, amount: Money, balance: WalletBalance },
}

/// A payment's outcome, and whether it was recorded before (a repeat moved nothing).
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Applied {
    pub outcome: PaymentOutcome,
    pub repeat: bool,
}

/// What a top-up did: the one thing it can do, its whole amount is in the wallet.
struct ToppedUp {
    pub balance: WalletBalance,
    /// Recorded before: this repeat moved nothing.
    pub repeat: bool,
}

/// The longest payment id: its credit references (`surplus:<id>`) must still fit a reference.
pub const PAYMENT_ID_LEN_MAX: usize = REFERENCE_LEN_MAX - "surplus:".len();

/// Ledger reference prefixes the engine writes itself (purchases, refunds, payments): an admin's
/// adjustment may not take one, or it could stand in for a payment's credit.
pub const ENGINE_REFERENCE_PREFIXES: [&str; 5] = ["order:", "refund:", "topup:", "payment:", "surplus:"];

/// Whether `reference` has a prefix only the engine writes.
pub fn is_engine_reference(reference: &Reference) -> bool {
    ENGINE_REFERENCE_PREFIXES.iter().any(|prefix| reference.as_str().starts_with(prefix))
}

/// The ledger references a payment's money is credited under.
pub fn top_up_reference(payment: &Reference) -> Reference {
    prefixed("topup", payment)
}

pub fn credit_reference(payment: &Reference) -> Reference {
    prefixed("payment", payment)
}

pub fn surplus_reference(payment: &Reference) -> Reference {
    prefixed("surplus", payment)
}

fn prefixed(prefix: &str, payment: &Reference) -> Reference {
    Reference::parse(&format!("{prefix}:{payment}")).expect("a payment id is at most PAYMENT_ID_LEN_MAX")
}

impl Checkout {
    /// Applies a confirmed payment once. A repeat returns the first outcome and moves nothing; a
    /// payment id recorded with another customer, purpose or amount is refused.
    #[tracing::instrument(name = "checkout.payment", skip_all, fields(payment = %incoming.id, customer = %incoming.customer.masked()))]
    pub async fn apply_payment(&self, incoming: IncomingPayment) -> Result<Applied, CheckoutError> {
        let customer = incoming.customer.clone();
        let _here = match self.on_owner(&customer, || CustomerFlow::ApplyPayment(incoming.clone())).await {
            Placed::There(outcome) => return outcome,
            Placed::Here(here) => here,
        };
        let order = match &incoming.purpose {
            Purpose::Order(order) => order.clone(),
            Purpose::TopUp => {
                let amount = incoming.amount;
                let ToppedUp { balance, repeat } = self.top_up_once(&incoming).await?;
                return Ok(Applied {
                    outcome: PaymentOutcome::CreditedToWallet { order: None, amount, balance },
                    repeat,
                });
            }
        };
        check_id(&incoming)?;
        let _turn = self.customer_turn(&incoming.customer).await;
        if let Some(recorded) = self.recorded(&incoming).await? {
            let outcome = self.recorded_outcome(&recorded).await?;
            return Ok(Applied { outcome, repeat: true });
        }
        let outcome = self.pay_order(&order, &incoming).await?;
        Ok(Applied { outcome, repeat: false })
    }

    async fn top_up_once(&self, incoming: &IncomingPayment) -> Result<ToppedUp, CheckoutError> {
        check_id(incoming)?;
        let _turn = self.customer_turn(&incoming.customer).await;
        if self.recorded(incoming).await?.is_some() {
            let balance = self.inner.actors.wallet_balance(&incoming.customer).await?;
            return Ok(ToppedUp { balance, repeat: true });
        }
        Ok(ToppedUp { balance: self.credit_top_up(incoming).await?, repeat: false })
    }

    /// The payment recorded under the incoming one's id, if any; refused if it is another one.
    async fn recorded(&self, incoming: &IncomingPayment) -> Result<Option<PaymentRow>, CheckoutError> {
        let Some(recorded) = self.inner.store.payment(&incoming.id).await? else { return Ok(None) };
        if !same_payment(&recorded, incoming) {
            return Err(CheckoutError::PaymentMismatch { payment: incoming.id.clone(), recorded: describe(&recorded) });
        }
        Ok(Some(recorded))
    }

    /// A payment for `order` confirmed by someone who names only the order (an admin recording a
    /// transfer): bound to the order's customer.
    pub async fn confirm_payment(
        &self,
        order: &OrderId,
        payment: &Reference,
        amount: Money,
        actor: &str,
    ) -> Result<Applied, CheckoutError> {
        let row = self.inner.store.order(order).await?.ok_or(CheckoutError::OrderNotFound)?;
        // A transfer has one payment, its confirmation's (`transfer-<order>`): another id would be
        // a second payment for the same money, delivered and credited both.
        if row.method == super::order::PaymentMethod::Transfer {
            return Err(CheckoutError::TransferTakesOnlyItsConfirmation);
        }
        let incoming = IncomingPayment {
            id: payment.clone(),
            customer: row.customer,
            purpose: Purpose::Order(order.clone()),
            amount,
            actor: actor.into(),
        };
        self.apply_payment(incoming).await
    }

    async fn pay_order(&self, id: &OrderId, incoming: &IncomingPayment) -> Result<PaymentOutcome, CheckoutError> {
        let row = self.inner.store.order(id).await?.ok_or(CheckoutError::OrderNotFound)?;
        if row.customer != incoming.customer {
            return Err(CheckoutError::PaymentMismatch {
                payment: incoming.id.clone(),
                recorded: format!("order {id} is another customer's"),
            });
        }
        let now = self.inner.clock.now();
        let mut order = Order::new(row);
        let to_review = match order.pay(&incoming.id, incoming.amount, now)? {
            PaymentDecision::CommitStock => match self.deliver(&order, incoming).await? {
                Some(delivered) => return Ok(delivered),
                None => {
                    let gone = OrderCommand::StockGone { payment: incoming.id.clone(), amount: incoming.amount };
                    matches!(order.apply(gone, now)?, OrderOutcome::CreditPayment { to_review: true })
                }
            },
            PaymentDecision::CreditPayment { to_review } => to_review,
        };
        self.credit_payment(&order, incoming, to_review).await
    }

    /// Commits the order's stock to the payment, storing the paid order and the payment with it;
    /// `None` when the stock had gone.
    async fn deliver(
        &self,
        order: &Order,
        incoming: &IncomingPayment,
    ) -> Result<Option<PaymentOutcome>, CheckoutError> {
        let row = order.row();
        let mut paid = order.clone();
        paid.apply(OrderCommand::StockCommitted, self.inner.clock.now())?;
        let surplus =
            incoming.amount.checked_sub(row.total).expect("a payment commits stock only when it covers the total");
        let record = record_of(incoming, PaymentApplied::Delivered, surplus, self.inner.clock.now());
        let commit = Commit { order: row.id.clone(), actor: incoming.actor.clone() };
        let attach = vec![paid.record(), ShopRecord::Payment(record.clone())];
        match self.inner.actors.product_with(&row.product, commit, attach).await? {
            Ok(Committed { items, .. }) => {
                self.inner.open.remove_if(&row.customer, |_, open| *open == row.id);
                // Just delivered under the customer's turn: no surplus credit can exist yet.
                let balance = self.credit_surplus_from(&record, Ledger::HasNoSurplusYet).await;
                Ok(Some(PaymentOutcome::Delivered { order: row.id.clone(), items, surplus, balance }))
            }
            Err(
                ProductRejection::ReservationExpired
                | ProductRejection::ReservationReleased { .. }
                | ProductRejection::ReservationNotFound,
            ) => Ok(None),
            Err(rejection) => Err(CheckoutError::Product(rejection)),
        }
    }

    /// The payment goes whole to the wallet; the order, if it moved to review, is stored with it.
    async fn credit_payment(
        &self,
        order: &Order,
        incoming: &IncomingPayment,
        to_review: bool,
    ) -> Result<PaymentOutcome, CheckoutError> {
        let row = order.row();
        let mut attach = Vec::new();
        if to_review {
            attach.push(order.record());
        }
        let reason = format!("payment for order {} that could not be delivered", row.id);
        let balance = self.credit_whole(incoming, credit_reference(&incoming.id), reason, attach).await?;
        self.inner.open.remove_if(&row.customer, |_, open| *open == row.id);
        Ok(PaymentOutcome::CreditedToWallet { order: Some(row.id.clone()), amount: incoming.amount, balance })
    }

    async fn credit_top_up(&self, incoming: &IncomingPayment) -> Result<WalletBalance, CheckoutError> {
        let reason = format!("top up {}", incoming.id);
        self.credit_whole(incoming, top_up_reference(&incoming.id), reason, Vec::new()).await
    }

    /// Credits the whole payment to its customer's wallet under `reference`, storing the payment's
    /// record (and `attach`) in the same transaction.
    async fn credit_whole(
        &self,
        incoming: &IncomingPayment,
        reference: Reference,
        reason: String,
        mut attach: Vec<ShopRecord>,
    ) -> Result<WalletBalance, CheckoutError> {
        let record = record_of(incoming, PaymentApplied::Credited, Money::ZERO, self.inner.clock.now());
        attach.insert(0, ShopRecord::Payment(record));
        let credit = Credit {
            reference,
            amount: incoming.amount,
            kind: LedgerKind::TopUp,
            reason,
            actor: incoming.actor.clone(),
        };
        let credited =
            self.inner.actors.wallet_with(&incoming.customer, credit, attach).await?.map_err(CheckoutError::Wallet)?;
        Ok(credited.balance)
    }

    /// What a recorded payment did, as it stands in the store. A delivered payment whose surplus
    /// did not reach the wallet yet (a stop between the two steps) gets it now.
    async fn recorded_outcome(&self, recorded: &PaymentRow) -> Result<PaymentOutcome, CheckoutError> {
        match (recorded.applied, &recorded.order) {
            (PaymentApplied::Delivered, Some(order)) => {
                let items = self.inner.store.delivered_items(order).await?;
                let balance = self.credit_surplus(recorded).await;
                Ok(PaymentOutcome::Delivered { order: order.clone(), items, surplus: recorded.surplus, balance })
            }
            _ => Ok(PaymentOutcome::CreditedToWallet {
                order: recorded.order.clone(),
                amount: recorded.amount,
                balance: self.inner.actors.wallet_balance(&recorded.customer).await?,
            }),
        }
    }

    /// Credits a delivered payment's surplus unless the ledger has it: checked against the store,
    /// not the wallet's bounded memory of references. Answers the balance after, or `None` when
    /// the credit could not be made now (it stays owed: the sweep, the next start, or a repeat
    /// makes it).
    async fn credit_surplus(&self, record: &PaymentRow) -> Option<WalletBalance> {
        self.credit_surplus_from(record, Ledger::AskTheStore).await
    }

    async fn credit_surplus_from(&self, record: &PaymentRow, ledger: Ledger) -> Option<WalletBalance> {
        let reference = surplus_reference(&record.id);
        let owed = !record.surplus.is_zero();
        let result = async {
            let credited = match ledger {
                Ledger::HasNoSurplusYet => false,
                Ledger::AskTheStore => owed && self.inner.store.ledger_has(&record.customer, &reference).await?,
            };
            if owed && !credited {
                let credit = Credit {
                    reference,
                    amount: record.surplus,
                    kind: LedgerKind::TopUp,
                    reason: format!("unique code of payment {}", record.id),
                    actor: ActorName::of("payment", record.id.as_str()),
                };
                let credited = self
                    .inner
                    .actors
                    .wallet_with(&record.customer, credit, Vec::new())
                    .await?
                    .map_err(CheckoutError::Wallet)?;
                return Ok(credited.balance);
            }
            Ok::<_, CheckoutError>(self.inner.actors.wallet_balance(&record.customer).await?)
        }
        .await;
        match result {
            Ok(balance) => {
                self.inner.owed_surpluses.remove(&record.id);
                Some(balance)
            }
            Err(error) => {
                tracing::error!(%error, payment = %record.id, "a payment's surplus is owed; the sweep credits it");
                self.inner.owed_surpluses.insert(record.id.clone(), record.clone());
                None
            }
        }
    }

    /// Credits the surpluses that could not be credited when their payment delivered (the
    /// periodic sweep). Answers how many are still owed.
    pub async fn retry_owed_surpluses(&self) -> usize {
        let owed: Vec<PaymentRow> = self.inner.owed_surpluses.iter().map(|entry| entry.value().clone()).collect();
        for record in owed {
            let _turn = self.customer_turn(&record.customer).await;
            self.credit_surplus(&record).await;
        }
        self.inner.owed_surpluses.len()
    }

    /// Credits the surplus of every delivered payment that stopped before it (at startup).
    pub(super) async fn credit_owed_surpluses(
        &self,
        scope: &crate::cluster::Scope,
    ) -> Result<usize, crate::store::StoreError> {
        let owed = self.inner.store.payments_owing_surplus().await?;
        let mut credited = 0;
        for record in owed.into_iter().filter(|record| scope.has_customer(&record.customer)) {
            let _turn = self.customer_turn(&record.customer).await;
            if self.credit_surplus(&record).await.is_some() {
                credited += 1;
            }
        }
        Ok(credited)
    }
}

/// Refuses a payment id too long for its credit references.
fn check_id(incoming: &IncomingPayment) -> Result<(), CheckoutError> {
    if incoming.id.as_str().len() > PAYMENT_ID_LEN_MAX {
        return Err(CheckoutError::PaymentIdTooLong { max: PAYMENT_ID_LEN_MAX });
    }
    Ok(())
}

/// What is known of a delivered payment's surplus credit before it is made.
enum Ledger {
    /// The payment was delivered just now, under its customer's turn: nothing is credited yet.
    HasNoSurplusYet,
    /// A repeat, a retry or a start: the store says whether it was credited.
    AskTheStore,
}

#[cfg(test)]
mod tests;
