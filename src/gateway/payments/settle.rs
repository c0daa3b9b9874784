//! Acting on what Midtrans says about a charge: paid, closed, or nothing to do.

use warung_actors::domain::{Money, Reference};

use super::{Handled, PaymentError, Qris};
use crate::checkout::PaymentOutcome;
use crate::gateway::chat::payment_reply as words;
use crate::gateway::midtrans::{Transaction, TxStatus, Verdict};
use crate::gateway::outbox::WHATSAPP_KIND;
use crate::gateway::whatsapp::Outbound;
use crate::store::{ChargePurpose, ChargeRow, ChargeStatus, NewOutbox, StoreError};

impl Qris {
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

    pub(super) async fn paid(&self, charge: &ChargeRow, transaction: &Transaction) -> Result<Handled, PaymentError> {
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

    pub(super) async fn closed(&self, charge: &ChargeRow, status: &TxStatus) -> Result<Handled, PaymentError> {
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
}
