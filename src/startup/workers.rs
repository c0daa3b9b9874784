//! Every background worker the application runs, started from here and nowhere else: the
//! engine core's (order notices, the sweep of stale orders) and the gateway's (the outbox
//! sender, the QRIS sweep, the inbox's resumption of messages left unanswered).

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc::UnboundedReceiver;
use warung_actors::runtime::Notice;

use crate::checkout::Checkout;
use crate::flows::inbox::Inbox;
use crate::flows::outbox::OutboxSignal;
use crate::flows::qris::{Qris, QrisSweeper, SweepStats, QRIS_SWEEPER, QRIS_SWEEPER_MAILBOX_MAX};
use crate::records::Supervisor;

/// How often pending saldo orders whose flow died are looked for (and payment surpluses that
/// could not be credited are tried again).
const STALE_PENDING_SWEEP_SECS: u64 = 30;

/// The core's workers: actors' notices reach the checkout; stale pending orders are settled.
pub fn spawn_core(checkout: &Checkout, notices: UnboundedReceiver<Notice>, stale_after: Duration) {
    spawn_notice_handler(checkout.clone(), notices);
    spawn_stale_sweep(checkout.clone(), stale_after);
}

/// The gateway's workers, once its parts are built: the sweep of open QRIS charges (a service
/// the supervisor keeps running, as it does the outbox sender), the conversations put under
/// the supervisor's watch, the messages the last run left unanswered, and the replies it left
/// unsent.
pub fn spawn_gateway(supervisor: &Supervisor, qris: &Qris, inbox: &Inbox, outbox: &OutboxSignal) -> Arc<SweepStats> {
    let sweep = Arc::new(SweepStats::default());
    supervisor.keep_running(QRIS_SWEEPER, QRIS_SWEEPER_MAILBOX_MAX, QrisSweeper::recipe(qris.clone(), sweep.clone()));
    supervisor.watch(Arc::new(inbox.clone()));
    inbox.spawn_cluster_scans();
    let resuming = inbox.clone();
    actix::spawn(async move {
        match resuming.resume().await {
            Ok(0) => {}
            Ok(resumed) => tracing::info!(resumed, "answering messages left unanswered by the last run"),
            Err(error) => tracing::error!(%error, "could not read unanswered messages; the next start will"),
        }
    });
    outbox.wake();
    sweep
}

/// Each notice on a task of its own: in a cluster, expiring an order is a call to its customer's
/// node, which may be between owners for a while; the notices behind it do not wait for it.
fn spawn_notice_handler(checkout: Checkout, mut notices: UnboundedReceiver<Notice>) {
    actix::spawn(async move {
        while let Some(notice) = notices.recv().await {
            let checkout = checkout.clone();
            match notice {
                Notice::ReservationExpired { order, product } => {
                    actix::spawn(async move {
                        checkout.on_reservation_expired(&order).await;
                        checkout.on_units_released(&product).await;
                    });
                }
            }
        }
    });
}

fn spawn_stale_sweep(checkout: Checkout, older_than: Duration) {
    actix::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(STALE_PENDING_SWEEP_SECS));
        tick.tick().await;
        loop {
            tick.tick().await;
            match checkout.sweep_stale_pending(older_than.as_millis() as i64).await {
                Ok(0) => {}
                Ok(settled) => tracing::warn!(settled, "settled pending orders whose flow had stopped"),
                Err(error) => tracing::error!(%error, "stale order sweep failed"),
            }
            let owed = checkout.retry_owed_surpluses().await;
            if owed > 0 {
                tracing::warn!(owed, "payment surpluses still owed; trying again at the next sweep");
            }
        }
    });
}
