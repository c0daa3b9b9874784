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
//! A bank transfer is a charge too (`transfer`): its amount comes from the same pool, it is never
//! sent to Midtrans, and the shop owner's confirmation (`lunas`) is its payment.
//!
//! Here: starting a charge. `charge`: the charge's state machine. `settle`: acting on what
//! Midtrans says (a notification counts only once Midtrans' status API says the same). `sweep`:
//! expiry, late notifications and withdrawn orders. `transfer`: bank transfers.

pub mod charge;
mod settle;
mod sweep;
mod transfer;

pub use transfer::{TransferConfirmed, TransferError};

pub use sweep::{QrisSweeper, SweepReport, SweepStats, QRIS_SWEEPER, QRIS_SWEEPER_MAILBOX_MAX};

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rand::seq::SliceRandom;
use rust_decimal::prelude::ToPrimitive;
use warung_actors::domain::{Clock, CustomerId, Money, OrderId, Reference};

use crate::checkout::{Checkout, CheckoutError, PendingOrder};
use crate::flows::chat::payment_reply as words;
use crate::flows::chat::reply;
use crate::flows::chat::transfer_reply;
use crate::flows::chat::PaymentRequest;
use crate::flows::outbox::OutboxSignal;
use crate::providers::midtrans::{MidtransClient, MidtransError};
use crate::providers::whatsapp::{Choice, Outbound};
use crate::settings::BankAccount;
use crate::store::payments::UNIQUE_CODE_MAX;
use crate::store::Store;
use crate::store::{ChargeMethod, ChargeMove, ChargePurpose, ChargeRow, ChargeStatus, NewCharge, Opened, StoreError};
use charge::{Charge, ChargeCommand, ChargeOutcome};

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

/// The largest amount one QRIS payment may carry (Bank Indonesia's limit per QRIS transaction);
/// a larger order or top-up is refused before anything is charged.
pub const QRIS_CHARGE_RUPIAH_MAX: i64 = 10_000_000;

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
    #[error("Midtrans could not confirm: {0}")]
    Provider(String),
}

#[derive(Clone)]
pub struct Qris {
    inner: Arc<Inner>,
}

/// What the QRIS flow reads and acts through, besides Midtrans and the outbox.
pub struct QrisParts {
    /// Charges, orders and the replies the flow queues.
    pub store: Arc<dyn Store>,
    /// Orders made, cancelled and paid.
    pub checkout: Checkout,
    pub clock: Clock,
    /// How long a top-up's QR may be paid.
    pub payment_ttl: Duration,
    /// The shop's bank account; `None`: transfer is not offered.
    pub transfer: Option<BankAccount>,
}

struct Inner {
    parts: QrisParts,
    midtrans: MidtransClient,
    outbox: OutboxSignal,
    /// Per open charge: when the sweep first saw it, and when it last asked Midtrans about it.
    polled: Mutex<HashMap<String, (i64, Option<i64>)>>,
}

impl Qris {
    pub fn new(parts: QrisParts, midtrans: MidtransClient, outbox: OutboxSignal) -> Qris {
        Qris { inner: Arc::new(Inner { parts, midtrans, outbox, polled: Mutex::new(HashMap::new()) }) }
    }

    fn now(&self) -> i64 {
        self.inner.parts.clock.now()
    }

    /// Starts a QRIS payment for a chat request; the replies carry the code to scan, or why not.
    pub async fn start(&self, customer: &CustomerId, request: PaymentRequest) -> Vec<Outbound> {
        let checkout = &self.inner.parts.checkout;
        let new = match request {
            PaymentRequest::Purchase { order, product, quantity } => {
                match checkout.buy_with_external_as(order, customer, &product, quantity).await {
                    Ok(pending) => self.order_charge(customer, pending, ChargeMethod::Qris).await,
                    Err(error) => Err(vec![Outbound::text(reply::checkout_failed(&error))]),
                }
            }
            PaymentRequest::Transfer { order, product, quantity } => {
                if self.inner.parts.transfer.is_none() {
                    return vec![Outbound::text(transfer_reply::transfer_not_offered())];
                }
                match checkout.buy_with_transfer_as(order, customer, &product, quantity).await {
                    Ok(pending) => self.order_charge(customer, pending, ChargeMethod::Transfer).await,
                    Err(error) => Err(vec![Outbound::text(reply::checkout_failed(&error))]),
                }
            }
            // The same message again: its charge is found (or made) below.
            PaymentRequest::Resume(pending, method) => self.order_charge(customer, pending, method).await,
            PaymentRequest::TopUp { payment, amount } => self.top_up_charge(customer, payment, amount),
        };
        match new {
            Ok(new) => self.charge(new).await,
            Err(replies) => replies,
        }
    }

    /// The charge for an order waiting for payment, or what to tell the customer (the order
    /// given up) when QRIS cannot take its total.
    async fn order_charge(
        &self,
        customer: &CustomerId,
        pending: PendingOrder,
        method: ChargeMethod,
    ) -> Result<NewCharge, Vec<Outbound>> {
        let base_rupiah = match chargeable(pending.total, method) {
            Ok(base) => base,
            Err(why) => {
                self.abandon_order(&pending.order).await;
                return Err(vec![Outbound::text(why)]);
            }
        };
        Ok(NewCharge {
            id: reference(&pending.order),
            customer: customer.clone(),
            purpose: ChargePurpose::Order,
            order: Some(pending.order),
            method,
            base_rupiah,
            expires_at: pending.expires_at,
            created_at: self.now(),
        })
    }

    fn top_up_charge(
        &self,
        customer: &CustomerId,
        payment: OrderId,
        amount: Money,
    ) -> Result<NewCharge, Vec<Outbound>> {
        let base_rupiah = chargeable(amount, ChargeMethod::Qris).map_err(|why| vec![Outbound::text(why)])?;
        let now = self.now();
        Ok(NewCharge {
            id: reference(&payment),
            customer: customer.clone(),
            purpose: ChargePurpose::TopUp,
            order: None,
            method: ChargeMethod::Qris,
            base_rupiah,
            expires_at: now + self.inner.parts.payment_ttl.as_millis() as i64,
            created_at: now,
        })
    }

    async fn charge(&self, new: NewCharge) -> Vec<Outbound> {
        let store = &self.inner.parts.store;
        let mut codes: Vec<i64> = (1..=UNIQUE_CODE_MAX).collect();
        codes.shuffle(&mut rand::rng());
        let charge = match store.open_charge(&new, &codes).await {
            Ok(Opened::Charge(charge)) => charge,
            Ok(Opened::TopUpAlreadyOpen(open)) => {
                let mut replies = vec![Outbound::text(words::top_up_still_open(open.gross, open.expires_at))];
                if let Some(url) = &open.qr_url {
                    replies.extend(self.scan_replies(&open, url));
                }
                return replies;
            }
            Ok(Opened::AmountsTaken) => {
                tracing::warn!(base = new.base_rupiah, "every unique code of this amount is taken");
                self.abandon(&new).await;
                return vec![Outbound::text(match new.method {
                    ChargeMethod::Qris => words::qris_busy(),
                    ChargeMethod::Transfer => transfer_reply::transfer_unavailable(),
                })];
            }
            Err(error) => {
                tracing::error!(%error, "could not store a charge");
                self.abandon(&new).await;
                return vec![Outbound::text(match new.method {
                    ChargeMethod::Qris => words::qris_unavailable(),
                    ChargeMethod::Transfer => transfer_reply::transfer_unavailable(),
                })];
            }
        };
        if charge.method == ChargeMethod::Transfer {
            return self.transfer_opened(&charge).await;
        }
        if charge.status == ChargeStatus::Pending {
            if let Some(url) = &charge.qr_url {
                // Asked again (the same message handled twice): the same code again.
                return self.scan_replies(&charge, url);
            }
        }
        let expiry_secs = ((charge.expires_at - self.now()) / 1000).max(QRIS_EXPIRY_MIN_SECS) as u64;
        let Some(gross) = whole_rupiah(charge.gross) else {
            tracing::error!(charge = %charge.id, gross = %charge.gross, "a stored charge is not whole rupiah");
            self.decide(&charge, ChargeCommand::IssueFailed, None).await;
            self.abandon(&new).await;
            return vec![Outbound::text(words::qris_unavailable())];
        };
        match self.inner.midtrans.charge_qris(charge.id.as_str(), gross, expiry_secs).await {
            Ok(transaction) => {
                let Some(url) = transaction.qr_url().map(str::to_string) else {
                    self.decide(&charge, ChargeCommand::Issued, None).await;
                    let qr = transaction.qr_string.as_deref().unwrap_or("-");
                    return vec![Outbound::text(self.caption(&charge)), Outbound::text(words::qr_text(qr))];
                };
                self.decide(&charge, ChargeCommand::Issued, Some(&url)).await;
                self.scan_replies(&charge, &url)
            }
            Err(error) => {
                tracing::error!(%error, charge = %charge.id, "QRIS charge failed");
                if matches!(error, MidtransError::Unavailable(_)) {
                    // A timeout may hide a charge Midtrans made: make sure it can never be paid.
                    let _ = self.inner.midtrans.expire(charge.id.as_str()).await;
                }
                self.decide(&charge, ChargeCommand::IssueFailed, None).await;
                self.abandon(&new).await;
                vec![Outbound::text(self.qris_down(&new).await)]
            }
        }
    }

    /// What to tell a customer whose QRIS charge Midtrans did not make: for a purchase, the other
    /// ways to pay for the same thing, in one message.
    async fn qris_down(&self, new: &NewCharge) -> String {
        let Some(order) = &new.order else { return words::qris_unavailable() };
        match self.inner.parts.store.order(order).await {
            Ok(Some(row)) => {
                transfer_reply::qris_down_offer(&row.product, row.quantity, self.inner.parts.transfer.is_some())
            }
            _ => words::qris_unavailable(),
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

    /// Applies `command` to the charge as it was read, and stores the move (with the QR's URL)
    /// if it moves. A store that cannot record it is logged: the sweep finds the charge again.
    async fn decide(&self, charge: &ChargeRow, command: ChargeCommand, qr_url: Option<&str>) {
        let mut machine = Charge::new(charge.clone());
        match machine.apply(command) {
            Ok(ChargeOutcome::Moved { from, to }) => {
                let to = ChargeMove { status: to, qr_url, note: None };
                if let Err(error) = self.inner.parts.store.move_charge(charge.id.as_str(), from, to, self.now()).await {
                    tracing::error!(%error, charge = %charge.id, "could not record a charge's move; the sweep will");
                }
            }
            Ok(_) => {}
            Err(rejection) => tracing::warn!(%rejection, charge = %charge.id, "charge left as it is"),
        }
    }

    /// Gives back what a charge that will not happen held: its order's stock.
    async fn abandon(&self, new: &NewCharge) {
        if let Some(order) = &new.order {
            self.abandon_order(order).await;
        }
    }

    async fn abandon_order(&self, order: &OrderId) {
        match self.inner.parts.checkout.cancel(order).await {
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

/// The base of a charge for `amount`, or what to tell the customer when it cannot be charged:
/// whole rupiah (a unique code is added to it), and within the QRIS limit for QRIS.
fn chargeable(amount: Money, method: ChargeMethod) -> Result<i64, String> {
    match whole_rupiah(amount) {
        None => Err(words::whole_rupiah_only()),
        Some(base) if base > QRIS_CHARGE_RUPIAH_MAX && method == ChargeMethod::Qris => {
            Err(words::above_qris_limit(Money::rupiah(QRIS_CHARGE_RUPIAH_MAX as u64)))
        }
        Some(base) => Ok(base),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_whole_rupiah_amounts_within_the_qris_limit_can_be_charged() {
        let qris = ChargeMethod::Qris;
        assert_eq!(chargeable(Money::rupiah(15_000), qris), Ok(15_000));
        let cents: Money = "15000.50".parse().unwrap();
        assert!(chargeable(cents, qris).is_err());
        assert!(chargeable(cents, ChargeMethod::Transfer).is_err(), "a unique code needs whole rupiah");
        assert!(chargeable(Money::rupiah(999_999_999_999), qris).is_err());
        assert_eq!(chargeable(Money::rupiah(QRIS_CHARGE_RUPIAH_MAX as u64), qris), Ok(QRIS_CHARGE_RUPIAH_MAX));
        let large = Money::rupiah(QRIS_CHARGE_RUPIAH_MAX as u64 + 1);
        assert!(chargeable(large, ChargeMethod::Transfer).is_ok(), "a transfer has no QRIS limit");
    }
}
