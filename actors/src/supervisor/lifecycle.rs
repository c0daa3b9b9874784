//! Lifecycle sweeps: reloading actors whose changes failed to commit, passivating idle ones.

use std::sync::atomic::Ordering;

use super::Supervisor;
use crate::journal::{ActorKey, Record};
use crate::runtime::memory::{self, STOPS_BEFORE_MEMORY_RELEASE};

impl<R: Record> Supervisor<R> {
    /// After a failed commit: stop the actors whose memory held the lost changes; the next call
    /// loads them from the store.
    pub(super) fn reload(&self, keys: Vec<ActorKey>) {
        for key in keys {
            self.inner.counters.reloaded_after_failed_commit.fetch_add(1, Ordering::Relaxed);
            tracing::warn!(actor = %key, "reloading from the store after a failed commit");
            match key {
                ActorKey::Product(code) => self.inner.products.stop(&code),
                ActorKey::Wallet(customer) => self.inner.wallets.stop(&customer),
                // Never submits, so never in a failed batch.
                ActorKey::Conversation(_) | ActorKey::Service(_) => {}
            }
        }
    }

    /// Stops every product and wallet actor `which` selects (a cluster node handing shards off),
    /// each after the messages already sent to it; resolves once they have stopped, so a flush
    /// after it stores everything they changed. The next call to one activates it from the store,
    /// on whichever node may run it.
    pub async fn stop_actors(&self, which: impl Fn(&ActorKey) -> bool) -> usize {
        let mut stopped = 0;
        for code in self.inner.products.keys() {
            if which(&ActorKey::Product(code.clone())) {
                self.inner.products.stop_after_pending(&code).await;
                stopped += 1;
            }
        }
        for customer in self.inner.wallets.keys() {
            if which(&ActorKey::Wallet(customer.clone())) {
                self.inner.wallets.stop_after_pending(&customer).await;
                stopped += 1;
            }
        }
        self.release_memory_after(stopped).await;
        stopped
    }

    pub(super) async fn passivate_idle(&self) {
        let inner = &self.inner;
        let now = inner.clock.now();
        let idle_before = now - inner.settings.passivate_after.as_millis() as i64;
        let passivated = inner.products.passivate_idle(idle_before, now).await
            + inner.wallets.passivate_idle(idle_before, now).await;
        inner.counters.passivated.fetch_add(passivated as u64, Ordering::Relaxed);
        self.release_memory_after(passivated).await;
    }

    /// Counts `stopped` actors; once `STOPS_BEFORE_MEMORY_RELEASE` have stopped since the last
    /// time, gives back what they held: the registries shrink to the actors they still hold, and
    /// each of the supervisor's threads (where actors ran, were activated, and where the journal
    /// kept their changes) releases what its allocator kept. Resolves once every thread has.
    pub(super) async fn release_memory_after(&self, stopped: usize) {
        let inner = &self.inner;
        let since = inner.stopped_since_release.fetch_add(stopped as u64, Ordering::Relaxed) + stopped as u64;
        if since < STOPS_BEFORE_MEMORY_RELEASE {
            return;
        }
        inner.stopped_since_release.store(0, Ordering::Relaxed);
        inner.products.shrink();
        inner.wallets.shrink();
        let threads = inner.arbiters.iter().chain(&inner.journal_thread).chain(std::iter::once(&inner.home));
        for thread in threads {
            let (released, done) = tokio::sync::oneshot::channel();
            let spawned = thread.spawn(async move {
                memory::release_on_this_thread();
                let _ = released.send(());
            });
            if spawned {
                let _ = done.await;
            }
        }
    }
}
