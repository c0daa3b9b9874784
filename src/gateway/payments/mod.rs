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
//!
//! Here: starting a charge. `settle`: acting on what Midtrans says. `sweep`: expiry, late
//! notifications and withdrawn orders.

mod settle;
mod sweep;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use rand::seq::SliceRandom;
use rust_decimal::prelude::ToPrimitive;
use warung_actors::domain::{CustomerId, Money, OrderId, Reference};

use super::chat::payment_reply as words;
use super::chat::reply;
use super::chat::PaymentRequest;
use super::midtrans::{MidtransClient, MidtransError};
use super::outbox::OutboxSignal;
use super::whatsapp::{Choice, Outbound};
use crate::checkout::{CheckoutError, PendingOrder};
use crate::engine::Engine;
use crate::store::payments::UNIQUE_CODE_MAX;
use crate::store::{ChargePurpose, ChargeRow, ChargeStatus, NewCharge, StoreError};
use warung_actors::journal::OrderState;

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
                let pending = match engine.store.order(&order).await {
                    // The same message again (the last run stopped before its replies were
                    // stored): the order waits already; its charge is found or made below.
                    Ok(Some(row)) if row.state == OrderState::AwaitingPayment => {
                        PendingOrder { order, total: row.total, expires_at: row.expires_at }
                    }
                    Ok(_) => match engine.checkout.buy_with_external_as(order, customer, &product, quantity).await {
                        Ok(pending) => pending,
                        Err(error) => return vec![Outbound::text(reply::checkout_failed(&error))],
                    },
                    Err(error) => return vec![Outbound::text(reply::checkout_failed(&CheckoutError::from(error)))],
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
        let image = Outbound::Image { link: url.to_string(), caption: self.caption(charge) };
        let then = match charge.order {
            // One tap cancels the order (the button sends `batal`).
            Some(_) => Outbound::Buttons {
                body: words::pay_exact_amount(true),
                buttons: vec![Choice { id: "batal".into(), title: "Batalkan pesanan".into(), description: None }],
            },
            None => Outbound::text(words::pay_exact_amount(false)),
        };
        vec![image, then]
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
