//! Activation: an actor's state is loaded from the store once everything an earlier incarnation
//! submitted is stored, and the actor starts on one of the actor threads.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use actix::{Actor, Addr, ArbiterHandle};
use futures::future::BoxFuture;

use super::{HandleParts, LoadError, Loader, Persistence, Supervisor};
use crate::domain::{CustomerId, ProductCode};
use crate::journal::{ActorKey, Record};
use crate::product::{ProductActor, ProductGauges, ProductRecord, ProductState};
use crate::runtime::{ActorStats, CallError};
use crate::wallet::{WalletActor, WalletGauges, WalletRecord, WalletState};

impl<R: Record> Supervisor<R> {
    /// The arbiter a new actor starts on: the next actor thread, or without any, the home
    /// arbiter. Started through the arbiter even from its own thread: an activation may be asked
    /// for from another thread (an HTTP worker's, which may stop and take its actors with it) or
    /// from a task outside the arbiter's local set (the cluster's intake), where an actor cannot
    /// be created in place.
    pub(super) fn arbiter(&self) -> &ArbiterHandle {
        let arbiters = &self.inner.arbiters;
        if arbiters.is_empty() {
            return &self.inner.home;
        }
        &arbiters[self.inner.next_arbiter.fetch_add(1, Ordering::Relaxed) % arbiters.len()]
    }

    pub(super) async fn activate_product(
        &self,
        code: &ProductCode,
    ) -> Result<HandleParts<ProductActor<R>, ProductGauges>, CallError> {
        self.may_activate(&ActorKey::Product(code.clone()))?;
        let inner = &self.inner;
        self.flush_earlier_incarnation(&ActorKey::Product(code.clone())).await?;
        let record = self.load(inner.loader.load_product(code)).await?;
        let state = ProductState::restore(record.ok_or(CallError::NotFound)?)
            .map_err(|reason| CallError::Corrupt { reason })?;
        let incarnation = inner.journal.next_incarnation();
        let stats = Arc::new(ActorStats::new(
            ActorKey::Product(code.clone()),
            incarnation,
            inner.settings.mailbox_capacity,
            inner.clock.now(),
            inner.counters.products.clone(),
        ));
        let gauges = Arc::new(ProductGauges::new(&state));
        let actor = ProductActor::new(
            state,
            incarnation,
            inner.journal.clone(),
            stats.clone(),
            gauges.clone(),
            inner.clock,
            inner.notices.clone(),
        );
        let addr = self.spawn(actor);
        inner.counters.activated.fetch_add(1, Ordering::Relaxed);
        Ok(HandleParts::new(addr, stats, gauges))
    }

    pub(super) async fn activate_wallet(
        &self,
        customer: &CustomerId,
    ) -> Result<HandleParts<WalletActor<R>, WalletGauges>, CallError> {
        self.may_activate(&ActorKey::Wallet(customer.clone()))?;
        let inner = &self.inner;
        self.flush_earlier_incarnation(&ActorKey::Wallet(customer.clone())).await?;
        let record = self.load_wallet(customer).await?;
        let state = WalletState::restore(customer.clone(), record).map_err(|reason| CallError::Corrupt { reason })?;
        let incarnation = inner.journal.next_incarnation();
        let stats = Arc::new(ActorStats::new(
            ActorKey::Wallet(customer.clone()),
            incarnation,
            inner.settings.mailbox_capacity,
            inner.clock.now(),
            inner.counters.wallets.clone(),
        ));
        let gauges = Arc::new(WalletGauges::new(&state));
        let actor =
            WalletActor::new(state, incarnation, inner.journal.clone(), stats.clone(), gauges.clone(), inner.clock);
        let addr = self.spawn(actor);
        inner.counters.activated.fetch_add(1, Ordering::Relaxed);
        Ok(HandleParts::new(addr, stats, gauges))
    }

    /// Changes of an earlier incarnation still in the journal must be in the store before the
    /// state is read; an actor the journal holds nothing of (a new customer) does not wait for
    /// everyone else's batch.
    async fn flush_earlier_incarnation(&self, key: &ActorKey) -> Result<(), CallError> {
        if self.inner.journal.holds_changes_of(key) {
            self.inner.journal.flush().await.map_err(CallError::from)?;
        }
        Ok(())
    }

    /// Reads an actor's state from the store, among at most `ACTIVATION_LOADS_AT_ONCE_MAX`.
    async fn load<T>(&self, load: BoxFuture<'_, Result<T, LoadError>>) -> Result<T, CallError> {
        let _permit = self.inner.loads.acquire().await.expect("the load permits are never closed");
        load.await.map_err(|e| CallError::StoreUnavailable { reason: e.0 })
    }

    pub(super) fn spawn<A: Actor<Context = actix::Context<A>> + Send>(&self, actor: A) -> Addr<A> {
        // The actix mailbox is larger than ours: our own count refuses first, with a clear "busy".
        let capacity = self.inner.settings.mailbox_capacity + 64;
        A::start_in_arbiter(self.arbiter(), move |ctx| {
            ctx.set_mailbox_capacity(capacity);
            actor
        })
    }
}

pub(super) fn store_as_loader<R: Record>(store: Arc<dyn Persistence<R>>) -> Arc<dyn Loader> {
    struct AsLoader<R>(Arc<dyn Persistence<R>>);
    impl<R: Record> Loader for AsLoader<R> {
        fn load_product<'a>(
            &'a self,
            code: &'a ProductCode,
        ) -> BoxFuture<'a, Result<Option<ProductRecord>, LoadError>> {
            self.0.load_product(code)
        }
        fn load_wallet<'a>(&'a self, customer: &'a CustomerId) -> BoxFuture<'a, Result<WalletRecord, LoadError>> {
            self.0.load_wallet(customer)
        }
        fn load_wallets<'a>(
            &'a self,
            customers: &'a [CustomerId],
        ) -> BoxFuture<'a, Vec<Result<WalletRecord, LoadError>>> {
            self.0.load_wallets(customers)
        }
    }
    Arc::new(AsLoader(store))
}
