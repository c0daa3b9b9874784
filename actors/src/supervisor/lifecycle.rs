//! Lifecycle sweeps: reloading actors whose changes failed to commit, passivating idle ones.

use std::sync::atomic::Ordering;

use super::{Passivate, Stop, Supervisor};
use crate::journal::ActorKey;

impl Supervisor {
    /// After a failed commit: stop the actors whose memory held the lost changes; the next call
    /// loads them from the store.
    pub(super) fn reload(&self, keys: Vec<ActorKey>) {
        for key in keys {
            self.inner.counters.reloaded_after_failed_commit.fetch_add(1, Ordering::Relaxed);
            tracing::warn!(actor = %key, "reloading from the store after a failed commit");
            match key {
                ActorKey::Product(code) => {
                    if let Some(handle) = self.inner.products.remove(&code) {
                        handle.stats.mark_stopped();
                        handle.addr.do_send(Stop);
                    }
                }
                ActorKey::Wallet(customer) => {
                    if let Some(handle) = self.inner.wallets.remove(&customer) {
                        handle.stats.mark_stopped();
                        handle.addr.do_send(Stop);
                    }
                }
            }
        }
    }

    pub(super) async fn passivate_idle(&self) {
        let inner = &self.inner;
        let idle_before = inner.clock.now() - inner.settings.passivate_after.as_millis() as i64;
        for handle in inner.products.handles() {
            if handle.stats.last_activity() < idle_before
                && handle.stats.depth() == 0
                && handle.addr.send(Passivate).await == Ok(true)
            {
                if let ActorKey::Product(code) = &handle.stats.key {
                    inner.products.evict(code, &handle, inner.clock.now());
                }
                inner.counters.passivated.fetch_add(1, Ordering::Relaxed);
            }
        }
        for handle in inner.wallets.handles() {
            if handle.stats.last_activity() < idle_before
                && handle.stats.depth() == 0
                && handle.addr.send(Passivate).await == Ok(true)
            {
                if let ActorKey::Wallet(customer) = &handle.stats.key {
                    inner.wallets.evict(customer, &handle, inner.clock.now());
                }
                inner.counters.passivated.fetch_add(1, Ordering::Relaxed);
            }
        }
    }
}
