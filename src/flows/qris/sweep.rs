//! The sweep of open charges: a charge whose time is up is expired at Midtrans (so a late scan
//! cannot pay for stock back on sale), a pending charge whose notification is late is asked
//! about, and a charge whose order was cancelled meanwhile is cancelled at Midtrans.

use std::time::Duration;

use super::{
    Handled, PaymentError, Qris, QRIS_POLL_AFTER_SECS, QRIS_POLL_SECS, QRIS_SWEEP_CHARGES_MAX, QRIS_SWEEP_SECS,
};
use crate::checkout::OrderState;
use crate::providers::midtrans::{MidtransError, TxStatus, Verdict};

use super::charge::ChargeCommand;
use crate::store::{ChargeRow, ChargeStatus};

impl Qris {
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

    /// Expires charges whose time is up (at Midtrans first), withdraws charges whose order was
    /// cancelled (by the customer or an admin), and asks about pending charges whose
    /// notification is late. Returns how many charges it settled.
    pub async fn sweep(&self) -> Result<usize, PaymentError> {
        let now = self.now();
        let mut settled = 0;
        for charge in self.inner.parts.store.open_charges(QRIS_SWEEP_CHARGES_MAX).await? {
            let outcome = if charge.expires_at <= now {
                self.expire(&charge).await
            } else if self.order_withdrawn(&charge).await? {
                self.withdraw(&charge).await
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
        match self.inner.parts.store.charge(id).await? {
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

    /// Whether the charge's order no longer waits for it (cancelled, expired, paid otherwise).
    async fn order_withdrawn(&self, charge: &ChargeRow) -> Result<bool, PaymentError> {
        let Some(order) = &charge.order else { return Ok(false) };
        let row = self.inner.parts.store.order(order).await?;
        Ok(row.is_some_and(|row| row.state != OrderState::AwaitingPayment))
    }

    /// Cancels at Midtrans a charge whose order was withdrawn, so it can no longer be paid; if it
    /// was paid at the last moment, the money goes to the wallet. The customer was told when the
    /// order was cancelled, so nothing more is said.
    async fn withdraw(&self, charge: &ChargeRow) -> Result<Handled, PaymentError> {
        let id = charge.id.as_str();
        match self.inner.midtrans.cancel(id).await {
            Ok(_) | Err(MidtransError::Refused { .. } | MidtransError::NotFound) => {}
            Err(error @ MidtransError::Unavailable(_)) => return Ok(Handled::Ignored(error.to_string())),
        }
        if let Ok(transaction) = self.inner.midtrans.status(id).await {
            if transaction.verdict() == Verdict::Paid {
                return self.paid(charge, &transaction).await;
            }
        }
        self.decide(charge, ChargeCommand::Withdrawn, None).await;
        self.inner.polled.lock().expect("poll lock").remove(id);
        Ok(Handled::Done)
    }
}
