//! QRIS payments through Midtrans: a purchase or top up becomes a charge with an amount no other
//! open charge has; Midtrans' answer, notifications and our own polling move it on.
//!
//! - A charge is stored (`charging`) before Midtrans is asked, so its amount is taken and a
//!   crash leaves a trace the sweep finishes.
//! - Midtrans down (timeout, 5xx): the order is cancelled, its stock released, the charge
//!   expired at Midtrans if it was made after all, and the customer told to try again or pay
//!   with saldo. Nothing hangs.
//! - Paid (settlement, or capture with fraud accepted): the order is confirmed and its items
//!   delivered, or, if its reservation had gone, the money goes to the wallet; a top up is
//!   credited. The unique code is credited back as saldo. Repeats change nothing.
//! - Closed (expire, cancel, deny, failure): the order is cancelled and the customer told.
//! - The sweep expires a charge at Midtrans when its reservation expires, so a late scan cannot
//!   pay for stock already back on sale, and polls charges whose notification is late.
//!
//! Each customer message these produce goes to the outbox under a key naming the charge and
//! the outcome, so a repeated notification tells the customer once.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rand::seq::SliceRandom;
use rust_decimal::prelude::ToPrimitive;
use warung_actors::domain::{CustomerId, Money, OrderId, Reference};

use super::chat::payment_reply as words;
use super::chat::reply;
use super::chat::PaymentRequest;
use super::midtrans::{MidtransClient, MidtransError, Transaction, TxStatus, Verdict};
use super::outbox::{OutboxSignal, WHATSAPP_KIND};
use super::whatsapp::Outbound;
use crate::checkout::{CheckoutError, PaymentOutcome};
use crate::engine::Engine;
use crate::store::payments::UNIQUE_CODE_MAX;
use crate::store::{ChargePurpose, ChargeRow, ChargeStatus, NewCharge, NewOutbox, StoreError};

/// How often open charges are looked at (expiry, late notifications). Midtrans asks not to be
/// polled more often than about every 10 s per transaction.
const QRIS_SWEEP_SECS: u64 = 10;

/// A pending charge with no notification this long after it was made is asked about, and again
/// every QRIS_POLL_SECS after that.
const QRIS_POLL_AFTER_SECS: i64 = 60;
const QRIS_POLL_SECS: i64 = 30;

/// Open charges one sweep looks at.
const QRIS_SWEEP_CHARGES_MAX: i64 = 1_000;

/// The shortest life a QR is given, even for an order about to expire.
const QRIS_EXPIRY_MIN_SECS: i64 = 60;

/// What handling a notification (or a poll) came to.
#[derive(Debug, PartialEq)]
pub enum Handled {
    /// Acted on, or already acted on before (a repeat).
    Done,
    /// Not ours to act on: an unknown order id, a pending after the fact, a refund for a person.
    Ignored(String),
}

#[derive(Debug, thiserror::Error)]
pub enum PaymentError {
    #[error("store unavailable: {0}")]
    Store(#[from] StoreError),
    #[error("checkout failed: {0}")]
    Checkout(#[from] CheckoutError),
}

#[derive(Clone)]
pub struct Qris {
    inner: Arc<Inner>,
}

struct Inner {
    engine: Engine,
    midtrans: MidtransClient,
    outbox: OutboxSignal,
    /// Per open charge: when the sweep first saw it, and when it last asked Midtrans about it.
    polled: Mutex<HashMap<String, (i64, Option<i64>)>>,
}

impl Qris {
    pub fn new(engine: Engine, midtrans: MidtransClient, outbox: OutboxSignal) -> Qris {
        Qris { inner: Arc::new(Inner { engine, midtrans, outbox, polled: Mutex::new(HashMap::new()) }) }
    }

    fn now(&self) -> i64 {
        self.inner.engine.supervisor.clock().now()
    }

    /// Starts a QRIS payment for a chat request; the replies carry the code to scan, or why not.
    pub async fn start(&self, customer: &CustomerId, request: PaymentRequest) -> Vec<Outbound> {
        let engine = &self.inner.engine;
        let now = self.now();
        let new = match request {
            PaymentRequest::Purchase { order, product, quantity } => {
                let pending = match engine.checkout.buy_with_external_as(order, customer, &product, quantity).await {
                    Ok(pending) => pending,
                    Err(error) => return vec![Outbound::text(reply::checkout_failed(&error))],
                };
                let Some(base_rupiah) = whole_rupiah(pending.total) else {
                    self.abandon_order(&pending.order).await;
                    return vec![Outbound::text(words::whole_rupiah_only())];
                };
                NewCharge {
                    id: reference(&pending.order),
                    customer: customer.clone(),
                    purpose: ChargePurpose::Order,
                    order: Some(pending.order),
                    base_rupiah,
                    expires_at: pending.expires_at,
                    created_at: now,
                }
            }
            PaymentRequest::TopUp { payment, amount } => {
                let Some(base_rupiah) = whole_rupiah(amount) else {
                    return vec![Outbound::text(words::whole_rupiah_only())];
                };
                let ttl = engine.settings.checkout().payment_ttl.as_millis() as i64;
                NewCharge {
                    id: reference(&payment),
                    customer: customer.clone(),
                    purpose: ChargePurpose::TopUp,
                    order: None,
                    base_rupiah,
                    expires_at: now + ttl,
                    created_at: now,
                }
            }
        };
        self.charge(new).await
    }

    async fn charge(&self, new: NewCharge) -> Vec<Outbound> {
        let store = &self.inner.engine.store;
        let mut codes: Vec<i64> = (1..=UNIQUE_CODE_MAX).collect();
        codes.shuffle(&mut rand::rng());
        let charge = match store.open_charge(&new, &codes).await {
            Ok(Some(charge)) => charge,
            Ok(None) => {
                tracing::warn!(base = new.base_rupiah, "every unique code of this amount is taken");
                self.abandon(&new).await;
                return vec![Outbound::text(words::qris_busy())];
            }
            Err(error) => {
                tracing::error!(%error, "could not store a QRIS charge");
                self.abandon(&new).await;
                return vec![Outbound::text(words::qris_unavailable())];
            }
        };
        if charge.status == ChargeStatus::Pending {
            if let Some(url) = &charge.qr_url {
                // Asked again (the same message handled twice): the same code again.
                return self.scan_replies(&charge, url);
            }
        }
        let expiry_secs = ((charge.expires_at - self.now()) / 1000).max(QRIS_EXPIRY_MIN_SECS) as u64;
        let gross = charge.gross.amount().to_i64().expect("a charge amount is whole rupiah");
        match self.inner.midtrans.charge_qris(charge.id.as_str(), gross, expiry_secs).await {
            Ok(transaction) => {
                let Some(url) = transaction.qr_url().map(str::to_string) else {
                    self.set_status(&charge, ChargeStatus::Pending, None).await;
                    let qr = transaction.qr_string.as_deref().unwrap_or("-");
                    return vec![Outbound::text(self.caption(&charge)), Outbound::text(words::qr_text(qr))];
                };
                self.set_status(&charge, ChargeStatus::Pending, Some(&url)).await;
                self.scan_replies(&charge, &url)
            }
            Err(error) => {
                tracing::error!(%error, charge = %charge.id, "QRIS charge failed");
                if matches!(error, MidtransError::Unavailable(_)) {
                    // A timeout may hide a charge Midtrans made: make sure it can never be paid.
                    let _ = self.inner.midtrans.expire(charge.id.as_str()).await;
                }
                self.set_status(&charge, ChargeStatus::Failed, None).await;
                self.abandon(&new).await;
                vec![Outbound::text(words::qris_unavailable())]
            }
        }
    }

    fn caption(&self, charge: &ChargeRow) -> String {
        let what = match &charge.order {
            Some(order) => words::for_order(order),
            None => words::for_top_up(charge.base),
        };
        words::scan_to_pay(&what, charge.gross, charge.unique_code, charge.expires_at)
    }

    fn scan_replies(&self, charge: &ChargeRow, url: &str) -> Vec<Outbound> {
        vec![
            Outbound::Image { link: url.to_string(), caption: self.caption(charge) },
            Outbound::text(words::pay_exact_amount(charge.order.is_some())),
        ]
    }

    async fn set_status(&self, charge: &ChargeRow, to: ChargeStatus, qr_url: Option<&str>) {
        let from = [ChargeStatus::Charging, ChargeStatus::Pending];
        if let Err(error) =
            self.inner.engine.store.set_charge_status(charge.id.as_str(), &from, to, qr_url, self.now()).await
        {
            tracing::error!(%error, charge = %charge.id, "could not record a charge's status; the sweep will");
        }
    }

    /// Gives back what a charge that will not happen held: its order's stock.
    async fn abandon(&self, new: &NewCharge) {
        if let Some(order) = &new.order {
            self.abandon_order(order).await;
        }
    }

    async fn abandon_order(&self, order: &OrderId) {
        match self.inner.engine.checkout.cancel(order).await {
            Ok(()) | Err(CheckoutError::OrderNotOpen { .. }) => {}
            Err(error) => tracing::error!(%error, %order, "could not release an unpaid order; its expiry will"),
        }
    }

    /// Acts on what Midtrans says about a charge (a verified notification, or a status poll).
    #[tracing::instrument(name = "qris.settle", skip_all, fields(order_id = %transaction.order_id))]
    pub async fn settle(&self, transaction: &Transaction) -> Result<Handled, PaymentError> {
        let Some(charge) = self.inner.engine.store.charge(&transaction.order_id).await? else {
            return Ok(Handled::Ignored(format!("no charge {:?}", transaction.order_id)));
        };
        match transaction.verdict() {
            Verdict::Paid => self.paid(&charge, transaction).await,
            Verdict::Waiting => Ok(Handled::Ignored("pending".into())),
            Verdict::Closed(status) => self.closed(&charge, &status).await,
            Verdict::Unexpected(status) => {
                tracing::error!(?status, charge = %charge.id, "a transaction status for a person to look at");
                Ok(Handled::Ignored(format!("status {status:?} is left to a person")))
            }
        }
    }

    async fn paid(&self, charge: &ChargeRow, transaction: &Transaction) -> Result<Handled, PaymentError> {
        let engine = &self.inner.engine;
        let Some(amount) = transaction.gross_rupiah().and_then(|r| u64::try_from(r).ok()).map(Money::rupiah) else {
            tracing::error!(amount = %transaction.gross_amount, charge = %charge.id, "a payment of an amount we cannot read");
            return Ok(Handled::Ignored("unreadable amount".into()));
        };
        if amount != charge.gross {
            tracing::warn!(paid = %amount, expected = %charge.gross, charge = %charge.id, "paid a different amount");
        }
        // One payment per charge: a repeated notification is the same payment.
        let payment = Reference::parse(&format!("midtrans-{}", charge.id)).expect("a charge id makes a reference");
        let text = match (&charge.purpose, &charge.order) {
            (ChargePurpose::Order, Some(order)) => {
                match engine.checkout.confirm_payment(order, &payment, amount).await? {
                    PaymentOutcome::Delivered { order, items } => {
                        let total = engine.store.order(&order).await?.map(|row| row.total).unwrap_or(amount);
                        let surplus = amount.checked_sub(total).filter(|s| !s.is_zero());
                        let credited = match surplus {
                            Some(surplus) => {
                                let balance =
                                    engine.checkout.credit_surplus(&charge.customer, &payment, surplus).await?;
                                Some((surplus, balance))
                            }
                            None => None,
                        };
                        words::order_paid(&order, &items, credited.as_ref().map(|(s, b)| (*s, b)))
                    }
                    PaymentOutcome::CreditedToWallet { order, amount, balance } => {
                        words::paid_too_late(&order, amount, &balance)
                    }
                }
            }
            _ => {
                let balance = engine.checkout.top_up(&charge.customer, &payment, amount).await?;
                words::top_up_paid(amount, &balance)
            }
        };
        let from = [
            ChargeStatus::Charging,
            ChargeStatus::Pending,
            ChargeStatus::Expired,
            ChargeStatus::Cancelled,
            ChargeStatus::Failed,
        ];
        engine.store.set_charge_status(charge.id.as_str(), &from, ChargeStatus::Paid, None, self.now()).await?;
        self.tell(charge, "paid", text).await?;
        Ok(Handled::Done)
    }

    async fn closed(&self, charge: &ChargeRow, status: &TxStatus) -> Result<Handled, PaymentError> {
        if !charge.status.is_open() {
            if charge.status == ChargeStatus::Paid {
                tracing::error!(?status, charge = %charge.id, "a paid charge reported closed (a reversal?): for a person");
            }
            return Ok(Handled::Ignored(format!("charge already {:?}", charge.status)));
        }
        let expired = *status == TxStatus::Expire;
        let to = match status {
            TxStatus::Expire => ChargeStatus::Expired,
            TxStatus::Cancel => ChargeStatus::Cancelled,
            _ => ChargeStatus::Failed,
        };
        if let Some(order) = &charge.order {
            self.abandon_order(order).await;
        }
        let from = [ChargeStatus::Charging, ChargeStatus::Pending];
        self.inner.engine.store.set_charge_status(charge.id.as_str(), &from, to, None, self.now()).await?;
        let text = match &charge.order {
            Some(order) => words::order_payment_closed(order, expired),
            None => words::top_up_closed(charge.base, expired),
        };
        self.tell(charge, "closed", text).await?;
        Ok(Handled::Done)
    }

    /// Queues a message about a charge, once per charge and outcome.
    async fn tell(&self, charge: &ChargeRow, outcome: &str, text: String) -> Result<(), StoreError> {
        let entry = NewOutbox {
            dedup_key: format!("qris:{}:{outcome}", charge.id),
            kind: WHATSAPP_KIND.to_string(),
            destination: charge.customer.as_str().to_string(),
            payload: serde_json::to_string(&Outbound::text(text)).expect("a reply serializes"),
        };
        self.inner.engine.store.enqueue(self.now(), &[entry]).await?;
        self.inner.polled.lock().expect("poll lock").remove(charge.id.as_str());
        self.inner.outbox.wake();
        Ok(())
    }

    /// Starts the sweep of open charges on the current actix System.
    pub fn spawn_sweep(&self) {
        let qris = self.clone();
        actix::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_secs(QRIS_SWEEP_SECS));
            loop {
                tick.tick().await;
                if let Err(error) = qris.sweep().await {
                    tracing::error!(%error, "QRIS sweep failed");
                }
            }
        });
    }

    /// Expires charges whose time is up (at Midtrans first), and asks about pending charges
    /// whose notification is late. Returns how many charges it settled.
    pub async fn sweep(&self) -> Result<usize, PaymentError> {
        let now = self.now();
        let mut settled = 0;
        for charge in self.inner.engine.store.open_charges(QRIS_SWEEP_CHARGES_MAX).await? {
            let outcome = if charge.expires_at <= now {
                self.expire(&charge).await
            } else if self.due_for_poll(&charge, now) {
                self.poll(&charge).await
            } else {
                continue;
            };
            match outcome {
                Ok(Handled::Done) => settled += 1,
                Ok(Handled::Ignored(_)) => {}
                Err(error) => tracing::warn!(%error, charge = %charge.id, "open charge not settled yet"),
            }
        }
        Ok(settled)
    }

    fn due_for_poll(&self, charge: &ChargeRow, now: i64) -> bool {
        let mut polled = self.inner.polled.lock().expect("poll lock");
        let (first_seen, last) = polled.entry(charge.id.as_str().to_string()).or_insert((now, None));
        let due = match last {
            None => now - *first_seen >= QRIS_POLL_AFTER_SECS * 1000,
            Some(at) => now - *at >= QRIS_POLL_SECS * 1000,
        };
        if due {
            *last = Some(now);
        }
        due
    }

    /// Asks Midtrans about one open charge now and acts on the answer (what the sweep does when
    /// a notification is late; also for support).
    pub async fn check(&self, id: &str) -> Result<Handled, PaymentError> {
        match self.inner.engine.store.charge(id).await? {
            Some(charge) if charge.status.is_open() => self.poll(&charge).await,
            Some(charge) => Ok(Handled::Ignored(format!("charge already {:?}", charge.status))),
            None => Ok(Handled::Ignored(format!("no charge {id:?}"))),
        }
    }

    async fn poll(&self, charge: &ChargeRow) -> Result<Handled, PaymentError> {
        match self.inner.midtrans.status(charge.id.as_str()).await {
            Ok(transaction) => self.settle(&transaction).await,
            // Still `charging` a minute on (a charge call gives up after seconds): the process
            // stopped between storing the charge and hearing back, and Midtrans never made it.
            Err(MidtransError::NotFound) if charge.status == ChargeStatus::Charging => {
                self.closed(charge, &TxStatus::Failure).await
            }
            Err(error) => Ok(Handled::Ignored(error.to_string())),
        }
    }

    /// The charge's time is up: expire it at Midtrans so nobody can pay it any more, then act on
    /// what Midtrans says it is now (it may have been paid at the last moment).
    async fn expire(&self, charge: &ChargeRow) -> Result<Handled, PaymentError> {
        let id = charge.id.as_str();
        match self.inner.midtrans.expire(id).await {
            Ok(_) | Err(MidtransError::Refused { .. }) => {}
            Err(MidtransError::NotFound) => return self.closed(charge, &TxStatus::Expire).await,
            Err(error @ MidtransError::Unavailable(_)) => return Ok(Handled::Ignored(error.to_string())),
        }
        match self.inner.midtrans.status(id).await {
            Ok(transaction) if transaction.verdict() == Verdict::Paid => self.paid(charge, &transaction).await,
            Ok(_) | Err(MidtransError::NotFound) => self.closed(charge, &TxStatus::Expire).await,
            Err(error) => Ok(Handled::Ignored(error.to_string())),
        }
    }
}

fn reference(order: &OrderId) -> Reference {
    Reference::parse(order.as_str()).expect("an order id is a valid reference")
}

/// A whole number of rupiah, as Midtrans takes amounts.
fn whole_rupiah(amount: Money) -> Option<i64> {
    let value = amount.amount();
    (value.fract().is_zero()).then(|| value.to_i64()).flatten()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_whole_rupiah_amounts_can_be_charged() {
        assert_eq!(whole_rupiah(Money::rupiah(15_000)), Some(15_000));
        let cents: Money = "15000.50".parse().unwrap();
        assert_eq!(whole_rupiah(cents), None);
    }
}
