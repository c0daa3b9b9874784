//! Orders caught between steps (a crash, a failed commit, a lost reply) are finished or
//! compensated here, by asking the actors what they know: every step is idempotent by order id.

use std::time::Duration;

use warung_actors::domain::{CustomerId, OrderId};
use warung_actors::journal::ReservationStatus;
use warung_actors::product::{ProductRejection, Release, ReleaseReason};
use warung_actors::runtime::CallError;
use warung_actors::wallet::{Refund, WalletRejection};

use super::order::{Order, OrderCommand, OrderOutcome, OrderRow, OrderState};
use super::{Checkout, OrderNotice};
use crate::cluster::Scope;

/// Attempts at settling an order whose last step's result is unknown, waiting from
/// SETTLE_RETRY_FIRST_MS and doubling (about 0.3 s in all); after them it is left to the sweep.
const SETTLE_ATTEMPTS_MAX: usize = 5;
const SETTLE_RETRY_FIRST_MS: u64 = 20;

/// What recovery did, for the startup log.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Recovered {
    pub completed: usize,
    pub compensated: usize,
    pub expired: usize,
    pub orphans_released: usize,
    pub left_for_later: usize,
    /// Delivered payments whose surplus had not reached the wallet.
    pub surpluses_credited: usize,
    /// Moves giving back to a product what an idle share held after the releases here
    /// (`Shares::return_idle`, a safeguard: none are expected).
    pub shares_returned: usize,
}

/// How settling one pending order ended.
pub(crate) enum Settled {
    Completed,
    Compensated,
    /// Not settled: its debit may still hold the customer's money.
    Later,
    /// Nothing is debited any more; only the order's final state (failed) could not be stored.
    StateLater,
    /// The sale stands (its stock was committed); only the order's final state (paid) could not
    /// be stored.
    SaleStandsStateLater,
}

impl Checkout {
    /// Runs at startup, before customers are served: every pending saldo order is finished or
    /// compensated, orders awaiting payment get their claims back, products with open
    /// reservations are activated so their timers run, and reservations without a live order are
    /// released.
    pub async fn recover(&self) -> Result<Recovered, crate::store::StoreError> {
        self.recover_in(&self.inner.actors.scope(), i64::MAX).await
    }

    /// Recovery of the customers and products in `scope`, settling only what was last changed
    /// before `changed_before` (this node's clock, ms). A cluster node recovers the shards it
    /// acquires while they already serve: a purchase it began since, or one the last owner is
    /// still finishing, is younger and left alone (the sweeps settle it if its flow dies).
    pub async fn recover_in(&self, scope: &Scope, changed_before: i64) -> Result<Recovered, crate::store::StoreError> {
        let store = self.inner.store.clone();
        let mut report = Recovered::default();
        for row in store.open_orders().await?.into_iter().filter(|row| scope.has_customer(&row.customer)) {
            match row.state {
                OrderState::Pending if row.updated_at < changed_before => match self.settle_pending(&row).await {
                    Settled::Completed => report.completed += 1,
                    Settled::Compensated => report.compensated += 1,
                    Settled::Later | Settled::StateLater | Settled::SaleStandsStateLater => report.left_for_later += 1,
                },
                OrderState::Pending => report.left_for_later += 1,
                // A claim this node holds already (its own order, or a purchase in flight) stays.
                OrderState::AwaitingPayment => {
                    self.inner.open.entry(row.customer.clone()).or_insert_with(|| row.id.clone());
                }
                _ => {}
            }
        }
        for code in store.products_with_open_reservations().await?.into_iter().filter(|code| scope.has_product(code)) {
            if let Err(error) = self.inner.actors.lanes().ensure_product(&code).await {
                tracing::error!(product = %code, %error, "could not activate a product with open reservations");
            }
        }
        let orphans = store.orphan_reservations(changed_before).await?;
        for (order, product) in orphans.into_iter().filter(|(_, p)| scope.has_product(p)) {
            if self.release(&order, &product, ReleaseReason::Failed).await.is_ok() {
                report.orphans_released += 1;
            }
        }
        report.expired += self.expire_orders_without_reservation(scope, changed_before).await?;
        report.surpluses_credited = self.credit_owed_surpluses(scope).await?;
        // A safeguard: a share's reservations live in memory (a saldo sale's, stored with its
        // commit), so none released above should have been an idle share's. Any units one got
        // back go to its product, where they are sold, with a warning: a path nobody expected.
        report.shares_returned = self.inner.shares.return_idle(scope).await;
        if report.shares_returned > 0 {
            tracing::warn!(
                moves = report.shares_returned,
                "units released into shares no lane sells from went back to their products"
            );
        }
        Ok(report)
    }

    /// Orders awaiting payment whose reservation is gone (released before a crash let the order
    /// be marked) are marked expired now.
    async fn expire_orders_without_reservation(
        &self,
        scope: &Scope,
        changed_before: i64,
    ) -> Result<usize, crate::store::StoreError> {
        let mut expired = 0;
        for row in self.inner.store.open_orders().await? {
            if row.state != OrderState::AwaitingPayment
                || !scope.has_customer(&row.customer)
                || row.updated_at >= changed_before
            {
                continue;
            }
            let status = self.inner.store.reservation_status(&row.id).await?;
            if status != Some(ReservationStatus::Reserved) && self.mark_expired(&row).await {
                expired += 1;
            }
        }
        Ok(expired)
    }

    /// Expires an order still awaiting payment (its reservation is gone), under its customer's
    /// turn and as it is stored now: a payment decided meanwhile wins.
    pub(super) async fn mark_expired(&self, row: &OrderRow) -> bool {
        let _turn = self.customer_turn(&row.customer).await;
        let stored = match self.inner.store.order(&row.id).await {
            Ok(Some(stored)) => stored,
            Ok(None) => return false,
            Err(error) => {
                tracing::warn!(order = %row.id, %error, "could not read an expiring order; recovery will");
                return false;
            }
        };
        match self.transition_stored(&stored, OrderCommand::Expire).await {
            Ok(OrderOutcome::Moved { .. }) => {}
            Ok(_) => return false,
            Err(error) => {
                tracing::warn!(order = %row.id, %error, "could not mark an expired order; recovery will");
                return false;
            }
        }
        self.inner.open.remove_if(&row.customer, |_, order| *order == row.id);
        self.notify(OrderNotice::Expired { order: row.id.clone(), customer: row.customer.clone() });
        true
    }

    /// Brings a pending saldo order to an end (see `try_settle`). One whose debit may still hold
    /// the customer's money is remembered, so their next purchase settles it first
    /// (`settle_earlier`); the sweep finishes the others.
    pub(super) async fn settle_pending(&self, row: &OrderRow) -> Settled {
        // Boxed: a purchase's future holds this one on its failure paths and in `settle_earlier`,
        // which every purchase makes; unboxed, this rare work sized every purchase's future (a
        // future is as large as its largest path, and copied whole: see `cluster::route`).
        let settled = Box::pin(self.try_settle(row)).await;
        let unsettled = &self.inner.unsettled;
        if matches!(settled, Settled::Later) {
            let mut rows = unsettled.entry(row.customer.clone()).or_default();
            if !rows.iter().any(|r| r.id == row.id) {
                rows.push(row.clone());
            }
        } else if let dashmap::Entry::Occupied(mut rows) = unsettled.entry(row.customer.clone()) {
            rows.get_mut().retain(|r| r.id != row.id);
            if rows.get().is_empty() {
                rows.remove();
            }
        }
        settled
    }

    /// Settles a pending order whose last step's result is unknown, trying again while the
    /// actors are still reloading after the failure (their first answers repeat it), so the caller
    /// learns what is stored rather than "try again".
    pub(super) async fn settle_after_unknown_result(&self, row: &OrderRow) -> Settled {
        let mut wait = Duration::from_millis(SETTLE_RETRY_FIRST_MS);
        for _ in 1..SETTLE_ATTEMPTS_MAX {
            let settled = self.settle_pending(row).await;
            if !matches!(settled, Settled::Later) {
                return settled;
            }
            tokio::time::sleep(wait).await;
            wait *= 2;
        }
        self.settle_pending(row).await
    }

    /// Settles the customer's pending orders that could not be settled before; answers the first
    /// one that still cannot be.
    pub(super) async fn settle_earlier(&self, customer: &CustomerId) -> Option<OrderId> {
        let rows = self.inner.unsettled.get(customer).map(|rows| rows.clone())?;
        let mut still_unsettled = None;
        for row in rows {
            if matches!(self.settle_pending(&row).await, Settled::Later) && still_unsettled.is_none() {
                still_unsettled = Some(row.id);
            }
        }
        still_unsettled
    }

    /// If the order's stock was committed the sale stands (it was paid before the commit);
    /// otherwise the stock is released and any debit refunded. The order's machine decides its
    /// final state either way.
    async fn try_settle(&self, row: &OrderRow) -> Settled {
        let release = Release { order: row.id.clone(), reason: ReleaseReason::Failed, actor: "recovery".into() };
        match self.inner.actors.product(&row.product, release).await {
            Ok(Ok(_))
            | Ok(Err(ProductRejection::ReservationNotFound))
            | Ok(Err(ProductRejection::ReservationReleased { .. })) => {}
            Ok(Err(ProductRejection::AlreadyCommitted)) => {
                let completed = OrderCommand::Complete { note: "completed by recovery" };
                return match self.transition_stored(row, completed).await {
                    Ok(_) => Settled::Completed,
                    Err(_) => Settled::SaleStandsStateLater,
                };
            }
            Ok(Err(rejection)) => {
                tracing::error!(order = %row.id, ?rejection, "unexpected answer while releasing a pending order");
                return Settled::Later;
            }
            Err(CallError::NotFound) => {}
            Err(error) => {
                tracing::warn!(order = %row.id, %error, "pending order left for the next recovery");
                return Settled::Later;
            }
        }
        let mut failed = Order::new(row.clone());
        if let Err(rejection) = failed.apply(OrderCommand::Fail, self.inner.clock.now()) {
            tracing::error!(order = %row.id, %rejection, "a pending order that cannot fail");
            return Settled::Later;
        }
        let refund = Refund {
            reference: row.id.refund_reference(),
            original: row.id.debit_reference(),
            reason: "purchase not completed".into(),
            actor: "recovery".into(),
        };
        match self.inner.actors.wallet_with(&row.customer, refund, vec![failed.record()]).await {
            Ok(Ok(_)) => Settled::Compensated,
            Ok(Err(WalletRejection::OriginalNotFound)) | Ok(Err(WalletRejection::AlreadyRefunded)) => {
                match self.store_records(&row.customer, vec![failed.record()]).await {
                    Ok(()) => Settled::Compensated,
                    Err(_) => Settled::StateLater,
                }
            }
            Ok(Err(rejection)) => {
                tracing::error!(order = %row.id, ?rejection, "unexpected answer while refunding a pending order");
                Settled::Later
            }
            Err(_) => Settled::Later,
        }
    }

    /// Settles pending orders older than `older_than_ms` (their flow died without settling), and
    /// expires orders as old still awaiting payment without a reservation.
    pub async fn sweep_stale_pending(&self, older_than_ms: i64) -> Result<usize, crate::store::StoreError> {
        let cutoff = self.inner.clock.now() - older_than_ms;
        let scope = self.inner.actors.scope();
        let mut settled = 0;
        for row in self.inner.store.open_orders().await? {
            if row.state == OrderState::Pending
                && scope.has_customer(&row.customer)
                && row.updated_at < cutoff
                && matches!(self.settle_pending(&row).await, Settled::Completed | Settled::Compensated)
            {
                settled += 1;
            }
        }
        // An order awaiting payment whose reservation went while its flow died (the acquisition
        // of a shard leaves young ones to this sweep).
        settled += self.expire_orders_without_reservation(&scope, cutoff).await?;
        Ok(settled)
    }
}
