//! The sweep of open charges: a charge whose time is up is expired at Midtrans (so a late scan
//! cannot pay for stock back on sale), a pending charge whose notification is late is asked
//! about, and a charge whose order was cancelled meanwhile is cancelled at Midtrans.

use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use actix::{Actor, ActorFutureExt, AsyncContext, AtomicResponse, Context, Handler, Message, WrapFuture};
use futures::FutureExt;
use serde::Serialize;
use warung_actors::runtime::ActorStats;

use super::{
    Handled, PaymentError, Qris, QRIS_POLL_AFTER_SECS, QRIS_POLL_SECS, QRIS_SWEEP_CHARGES_MAX, QRIS_SWEEP_SECS,
};
use crate::checkout::OrderState;
use crate::providers::midtrans::{MidtransError, TxStatus, Verdict};

use super::charge::ChargeCommand;
use crate::store::{ChargeMethod, ChargeRow, ChargeStatus};

/// The sweep as an actor, kept running by the supervisor: it sweeps at start and then every
/// `QRIS_SWEEP_SECS`, one sweep at a time (a tick that comes while one runs waits for it; one
/// that comes while another already waits is dropped, see `QRIS_SWEEPER_MAILBOX_MAX`).
pub struct QrisSweeper {
    qris: Qris,
    stats: Arc<SweepStats>,
    actor: Arc<ActorStats>,
}

/// The sweep's name among the supervisor's services.
pub const QRIS_SWEEPER: &str = "qris-sweep";

/// Sweeps waiting in the sweeper's mailbox, the running one included: a tick past this is
/// dropped, as the waiting sweep will do its work.
pub const QRIS_SWEEPER_MAILBOX_MAX: usize = 2;

/// What ops can see of the sweep.
#[derive(Debug, Default, Serialize)]
pub struct SweepReport {
    pub sweeps: u64,
    pub charges_settled: u64,
    pub last_sweep_micros: u64,
}

#[derive(Default)]
pub struct SweepStats {
    sweeps: AtomicU64,
    settled: AtomicU64,
    last_micros: AtomicU64,
}

impl SweepStats {
    pub fn report(&self) -> SweepReport {
        SweepReport {
            sweeps: self.sweeps.load(Ordering::Relaxed),
            charges_settled: self.settled.load(Ordering::Relaxed),
            last_sweep_micros: self.last_micros.load(Ordering::Relaxed),
        }
    }
}

impl QrisSweeper {
    /// The recipe of the sweep's actors (the first, and any started after a crash), all
    /// reporting to one `SweepStats`.
    pub fn recipe(qris: Qris, stats: Arc<SweepStats>) -> impl Fn(Arc<ActorStats>) -> QrisSweeper + Send + Sync {
        move |actor| QrisSweeper { qris: qris.clone(), stats: stats.clone(), actor }
    }

    fn tick(&self, ctx: &mut Context<Self>) {
        if self.actor.try_enqueue() {
            ctx.notify(Sweep);
        }
    }
}

impl Actor for QrisSweeper {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Context<Self>) {
        self.tick(ctx);
        ctx.run_interval(Duration::from_secs(QRIS_SWEEP_SECS), |sweeper, ctx| sweeper.tick(ctx));
    }
}

#[derive(Message)]
#[rtype(result = "()")]
struct Sweep;

impl Handler<Sweep> for QrisSweeper {
    type Result = AtomicResponse<Self, ()>;

    fn handle(&mut self, _: Sweep, _: &mut Context<Self>) -> Self::Result {
        let (qris, stats) = (self.qris.clone(), self.stats.clone());
        let started = std::time::Instant::now();
        let sweeping = async move {
            // A sweep that panics is a bug: logged, and the next tick sweeps again.
            match AssertUnwindSafe(qris.sweep()).catch_unwind().await {
                Ok(Ok(settled)) => {
                    stats.settled.fetch_add(settled as u64, Ordering::Relaxed);
                }
                Ok(Err(error)) => tracing::error!(%error, "QRIS sweep failed"),
                Err(_) => tracing::error!("a QRIS sweep panicked; the next tick sweeps again"),
            }
            stats.sweeps.fetch_add(1, Ordering::Relaxed);
            stats.last_micros.store(started.elapsed().as_micros() as u64, Ordering::Relaxed);
        };
        AtomicResponse::new(Box::pin(sweeping.into_actor(self).map(move |_, sweeper, _| {
            sweeper.actor.handled(started.elapsed(), sweeper.qris.now());
        })))
    }
}

impl Qris {
    /// Expires charges whose time is up (at Midtrans first), withdraws charges whose order was
    /// cancelled (by the customer or an admin), and asks about pending charges whose
    /// notification is late. Returns how many charges it settled.
    pub async fn sweep(&self) -> Result<usize, PaymentError> {
        let now = self.now();
        let mut settled = 0;
        // In a cluster each node sweeps the charges of its own customers' shards.
        let scope = self.inner.parts.checkout.actors().scope();
        let charges = self.inner.parts.store.open_charges(QRIS_SWEEP_CHARGES_MAX).await?;
        for charge in charges.into_iter().filter(|charge| scope.has_customer(&charge.customer)) {
            let outcome = if charge.method == ChargeMethod::Transfer {
                // Midtrans knows nothing of a transfer: it only closes, with its order.
                if charge.expires_at <= now {
                    self.closed(&charge, &TxStatus::Expire).await
                } else if self.order_withdrawn(&charge).await? {
                    self.decide(&charge, ChargeCommand::Withdrawn, None).await;
                    Ok(Handled::Done)
                } else {
                    continue;
                }
            } else if charge.expires_at <= now {
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
            Some(charge) if charge.method == ChargeMethod::Transfer => {
                Ok(Handled::Ignored("a bank transfer: the shop owner confirms it".into()))
            }
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
