//! Acting on what Midtrans says about a charge: paid, closed, or nothing to do. A notification
//! is only a hint: a payment is acted on once Midtrans' status API confirms it, as Midtrans
//! recommends, and only for the exact amount the charge asked for.

use warung_actors::domain::{ActorName, CustomerId, Reference};

use super::charge::{Charge, ChargeCommand, ChargeOutcome, ChargeRejection, ClosedBy};
use super::{Handled, PaymentError, Qris};
use crate::checkout::{CheckoutError, IncomingPayment, PaymentOutcome, Purpose};
use crate::flows::chat::payment_reply as words;
use crate::flows::outbox::WHATSAPP_KIND;
use crate::providers::midtrans::{Transaction, TxStatus, Verdict};
use crate::providers::whatsapp::Outbound;
use crate::store::{ChargeMethod, ChargeMove, ChargePurpose, ChargeRow, ChargeStatus, NewOutbox, StoreError};

impl Qris {
    /// A verified notification. A paid one counts only when Midtrans' status API says the same
    /// (paid, the same amount); anything else is acted on as it says.
    #[tracing::instrument(name = "qris.notified", skip_all, fields(order_id = %transaction.order_id))]
    pub async fn notified(&self, transaction: &Transaction) -> Result<Handled, PaymentError> {
        if transaction.verdict() != Verdict::Paid {
            return self.settle(transaction).await;
        }
        // Not confirmed (yet): answered with an error, so Midtrans sends the notification again
        // later; the payment is neither lost nor acted on before Midtrans' own answer says so.
        let confirmed = match self.inner.midtrans.status(&transaction.order_id).await {
            Ok(confirmed) => confirmed,
            Err(error) => return Err(PaymentError::Provider(format!("the status API does not answer: {error}"))),
        };
        let same_amount = match (confirmed.gross(), transaction.gross()) {
            (Some(confirmed), Some(notified)) => confirmed == notified,
            _ => confirmed.gross_amount == transaction.gross_amount,
        };
        if confirmed.verdict() != Verdict::Paid || !same_amount {
            tracing::warn!(
                notified = %transaction.transaction_status, confirmed = %confirmed.transaction_status,
                "a paid notification the status API does not confirm (yet); nothing done, Midtrans sends it again"
            );
            return Err(PaymentError::Provider("the status API does not confirm the payment".into()));
        }
        self.settle(&confirmed).await
    }

    /// Acts on what Midtrans says about a charge (a confirmed notification, or a status poll).
    #[tracing::instrument(name = "qris.settle", skip_all, fields(order_id = %transaction.order_id))]
    pub async fn settle(&self, transaction: &Transaction) -> Result<Handled, PaymentError> {
        let Some(charge) = self.inner.parts.store.charge(&transaction.order_id).await? else {
            return Ok(Handled::Ignored(format!("no charge {:?}", transaction.order_id)));
        };
        if charge.method == ChargeMethod::Transfer {
            // Midtrans never made this charge: only the shop owner's confirmation pays it.
            tracing::error!(charge = %charge.id, "Midtrans reports on a bank transfer's id; ignored");
            return Ok(Handled::Ignored("a bank transfer, not a Midtrans charge".into()));
        }
        match transaction.verdict() {
            Verdict::Paid => self.paid(&charge, transaction).await,
            Verdict::Waiting => Ok(Handled::Ignored("pending".into())),
            Verdict::Closed(status) => self.closed(&charge, &status).await,
            Verdict::Unexpected(status) => {
                tracing::error!(?status, charge = %charge.id, "a transaction status for a person to look at");
                Ok(Handled::Ignored(format!("status {status:?} is left to a person")))
            }
            Verdict::Inconsistent { status_code } => Ok(Handled::Ignored(format!(
                "status_code {status_code} does not go with transaction_status {:?}",
                transaction.transaction_status
            ))),
        }
    }

    pub(super) async fn paid(&self, row: &ChargeRow, transaction: &Transaction) -> Result<Handled, PaymentError> {
        let mut charge = Charge::new(row.clone());
        let (from, amount) = match transaction.gross() {
            Some(amount) => match charge.apply(ChargeCommand::Paid { amount }) {
                Ok(ChargeOutcome::ApplyPayment { from }) => (from, amount),
                Ok(ChargeOutcome::ToReview { from, note }) => return self.to_review(row, from, &note).await,
                Ok(_) => return Ok(Handled::Done),
                Err(rejection) => return Ok(Handled::Ignored(rejection.to_string())),
            },
            None => {
                let note = format!("paid an amount that cannot be read: {:?}", transaction.gross_amount);
                return self.to_review(row, row.status, &note).await;
            }
        };
        let incoming = IncomingPayment {
            id: payment_id(row),
            customer: row.customer.clone(),
            purpose: match (&row.purpose, &row.order) {
                (ChargePurpose::Order, Some(order)) => Purpose::Order(order.clone()),
                _ => Purpose::TopUp,
            },
            amount,
            actor: ActorName::of("payment", payment_id(row).as_str()),
        };
        let applied = match self.inner.parts.checkout.apply_payment(incoming).await {
            Ok(applied) => applied,
            Err(CheckoutError::PaymentMismatch { payment, recorded }) => {
                tracing::error!(%payment, recorded, "a charge's payment is recorded otherwise: for a person");
                return Ok(Handled::Ignored(format!("payment {payment} is recorded as {recorded}")));
            }
            Err(error) => return Err(error.into()),
        };
        let text = match applied.outcome {
            PaymentOutcome::Delivered { order, items, surplus, balance } => {
                let credited = balance.as_ref().filter(|_| !surplus.is_zero()).map(|b| (surplus, b));
                words::order_paid(&order, &items, credited)
            }
            PaymentOutcome::CreditedToWallet { order: Some(order), amount, balance } => {
                words::paid_too_late(&order, amount, &balance)
            }
            PaymentOutcome::CreditedToWallet { order: None, amount, balance } => words::top_up_paid(amount, &balance),
        };
        let store = &self.inner.parts.store;
        store.move_charge(row.id.as_str(), from, ChargeMove::to(ChargeStatus::Paid), self.now()).await?;
        self.tell(row, "paid", text).await?;
        Ok(Handled::Done)
    }

    /// A payment of another amount than the charge asked for: nothing is credited, and the
    /// charge waits for a person.
    async fn to_review(&self, row: &ChargeRow, from: ChargeStatus, note: &str) -> Result<Handled, PaymentError> {
        tracing::error!(charge = %row.id, note, "a QRIS payment for a person to look at; nothing credited");
        let review = ChargeMove { status: ChargeStatus::Review, qr_url: None, note: Some(note) };
        self.inner.parts.store.move_charge(row.id.as_str(), from, review, self.now()).await?;
        self.inner.polled.lock().expect("poll lock").remove(row.id.as_str());
        Ok(Handled::Ignored(format!("to review: {note}")))
    }

    pub(super) async fn closed(&self, row: &ChargeRow, status: &TxStatus) -> Result<Handled, PaymentError> {
        let by = match status {
            TxStatus::Expire => ClosedBy::Expire,
            TxStatus::Cancel => ClosedBy::Cancel,
            TxStatus::Deny => ClosedBy::Deny,
            _ => ClosedBy::Failure,
        };
        let (from, to) = match Charge::new(row.clone()).apply(ChargeCommand::Closed(by)) {
            Ok(ChargeOutcome::Moved { from, to }) => (from, to),
            Ok(_) => return Ok(Handled::Ignored(format!("charge already {:?}", row.status))),
            Err(rejection @ ChargeRejection::PaidChargeCannotClose { .. }) => {
                tracing::error!(%rejection, charge = %row.id, "a paid charge reported closed");
                return Ok(Handled::Ignored(rejection.to_string()));
            }
            Err(rejection) => return Ok(Handled::Ignored(rejection.to_string())),
        };
        if let Some(order) = &row.order {
            self.abandon_order(order).await;
        }
        self.inner.parts.store.move_charge(row.id.as_str(), from, ChargeMove::to(to), self.now()).await?;
        let expired = by == ClosedBy::Expire;
        let text = match &row.order {
            Some(order) => words::order_payment_closed(order, expired),
            None => words::top_up_closed(row.base, expired),
        };
        self.tell(row, "closed", text).await?;
        Ok(Handled::Done)
    }

    /// Tells the customer what a payment confirmed by the shop owner did (an admin recording a
    /// transfer), once per payment.
    pub async fn tell_confirmed(&self, customer: &CustomerId, payment: &Reference, outcome: &PaymentOutcome) {
        let text = words::confirmed(outcome);
        let entry = NewOutbox {
            dedup_key: format!("payment:{payment}"),
            kind: WHATSAPP_KIND.to_string(),
            destination: customer.as_str().to_string(),
            payload: serde_json::to_string(&Outbound::text(text)).expect("a reply serializes"),
        };
        match self.inner.parts.store.enqueue(self.now(), &[entry]).await {
            Ok(()) => self.inner.outbox.wake(),
            Err(error) => tracing::error!(%error, %payment, "the customer could not be told of a confirmed payment"),
        }
    }

    /// Queues a message about a charge, once per charge and outcome.
    pub(super) async fn tell(&self, charge: &ChargeRow, outcome: &str, text: String) -> Result<(), StoreError> {
        let entry = NewOutbox {
            dedup_key: format!("qris:{}:{outcome}", charge.id),
            kind: WHATSAPP_KIND.to_string(),
            destination: charge.customer.as_str().to_string(),
            payload: serde_json::to_string(&Outbound::text(text)).expect("a reply serializes"),
        };
        self.inner.parts.store.enqueue(self.now(), &[entry]).await?;
        self.inner.polled.lock().expect("poll lock").remove(charge.id.as_str());
        self.inner.outbox.wake();
        Ok(())
    }
}

/// One payment per charge: every notification and poll of a charge is the same payment.
fn payment_id(charge: &ChargeRow) -> Reference {
    Reference::parse(&format!("midtrans-{}", charge.id)).unwrap_or_else(|_| charge.id.clone())
}
