//! The registry of active actors of one kind: activation on first use (once, however many
//! callers arrive together), eviction when an actor stops, and a restart budget for crashes.

use std::hash::Hash;
use std::sync::{Arc, OnceLock};

use actix::{Actor, Addr};
use dashmap::DashMap;

use crate::domain::{Clock, FastHasher, UnixMs};
use crate::runtime::{ActorStats, CallError, Lifecycle, Passivate, Stop};

use super::restarts::{RestartBudget, Restarts};

/// An active actor: its address, its stats, and what it publishes, behind one shared count. A
/// sale takes several handles out of the registries, and each clone and drop is an atomic
/// change of a count on a line of its own: one count, not one per part.
pub struct Handle<A: Actor, G>(Arc<HandleParts<A, G>>);

pub struct HandleParts<A: Actor, G> {
    pub addr: Addr<A>,
    pub stats: Arc<ActorStats>,
    pub gauges: Arc<G>,
}

impl<A: Actor, G> Handle<A, G> {
    pub fn new(addr: Addr<A>, stats: Arc<ActorStats>, gauges: Arc<G>) -> Self {
        Handle(Arc::new(HandleParts { addr, stats, gauges }))
    }

    /// This handle if its actor has not been stopped since it was taken (a kept handle, `Known`):
    /// a stopped one is looked up again rather than sent to.
    pub(super) fn if_running(self) -> Option<Self> {
        (self.stats.lifecycle() == Lifecycle::Running).then_some(self)
    }
}

impl<A: Actor, G> std::ops::Deref for Handle<A, G> {
    type Target = HandleParts<A, G>;

    fn deref(&self) -> &HandleParts<A, G> {
        &self.0
    }
}

impl<A: Actor, G> Clone for Handle<A, G> {
    fn clone(&self) -> Self {
        Handle(self.0.clone())
    }
}

/// One key's place in the registry. `handle` is set once, under `activation`; a slot removed from
/// the map is never set afterwards, so there is never an actor the registry does not know.
struct SlotInner<A: Actor, G> {
    handle: OnceLock<Handle<A, G>>,
    activation: tokio::sync::Mutex<()>,
}

impl<A: Actor, G> Default for SlotInner<A, G> {
    fn default() -> Self {
        SlotInner { handle: OnceLock::new(), activation: tokio::sync::Mutex::new(()) }
    }
}

impl<A: Actor, G> SlotInner<A, G> {
    fn get(&self) -> Option<&Handle<A, G>> {
        self.handle.get()
    }
}

type Slot<A, G> = Arc<SlotInner<A, G>>;

pub struct Registry<K, A: Actor, G> {
    slots: DashMap<K, Slot<A, G>, FastHasher>,
    restarts: Restarts<K>,
}

impl<K: Clone + Eq + Hash, A: Actor, G> Registry<K, A, G> {
    pub fn new(budget: RestartBudget) -> Registry<K, A, G> {
        Registry { slots: DashMap::with_hasher(FastHasher::default()), restarts: Restarts::new(budget) }
    }

    /// The active actor for `key`, activating it with `activate` if there is none.
    pub async fn get<F, Fut>(&self, key: &K, clock: Clock, activate: &F) -> Result<Handle<A, G>, CallError>
    where
        F: Fn() -> Fut,
        Fut: std::future::Future<Output = Result<Handle<A, G>, CallError>>,
    {
        match self.active(key) {
            Some(handle) => Ok(handle), // the hot path: a shard read lock, no allocation
            // Boxed: a future is as large as its largest path and is copied whole where it is
            // made, and every call to an actor makes this one; an activation loads from the store.
            None => Box::pin(self.activate(key, clock, activate)).await,
        }
    }

    /// Activates the actor for `key`, or waits for the activation under way.
    async fn activate<F, Fut>(&self, key: &K, clock: Clock, activate: &F) -> Result<Handle<A, G>, CallError>
    where
        F: Fn() -> Fut,
        Fut: std::future::Future<Output = Result<Handle<A, G>, CallError>>,
    {
        loop {
            let slot = self.slots.entry(key.clone()).or_default().clone();
            if let Some(handle) = slot.get() {
                return Ok(handle.clone());
            }
            let _activating = slot.activation.lock().await;
            let registered = self.slots.get(key).is_some_and(|current| Arc::ptr_eq(&current, &slot));
            if !registered {
                continue; // removed while we waited (a failed activation): start over with a new slot
            }
            if let Some(handle) = slot.get() {
                return Ok(handle.clone());
            }
            self.restarts.check(key, clock.now())?;
            return match activate().await {
                Ok(handle) => {
                    let _ = slot.handle.set(handle.clone());
                    Ok(handle)
                }
                Err(error) => {
                    self.slots.remove_if(key, |_, current| Arc::ptr_eq(current, &slot));
                    Err(error)
                }
            };
        }
    }

    pub fn active(&self, key: &K) -> Option<Handle<A, G>> {
        self.slots.get(key).and_then(|slot| slot.get().cloned())
    }

    /// The gauges of the actor registered for `key` if it is active.
    pub fn gauges(&self, key: &K) -> Option<Arc<G>> {
        self.slots.get(key).and_then(|slot| slot.get().map(|handle| handle.gauges.clone()))
    }

    /// Forgets `handle` if it is still the registered one. Returns whether it was a crash.
    pub fn evict(&self, key: &K, handle: &Handle<A, G>, now: UnixMs) -> bool {
        let removed = self
            .slots
            .remove_if(key, |_, slot| slot.get().is_some_and(|h| Arc::ptr_eq(&h.stats, &handle.stats)))
            .is_some();
        let crashed = removed && handle.stats.lifecycle() == Lifecycle::Running;
        if crashed {
            self.restarts.crashed(key, now);
        }
        crashed
    }

    /// Removes the actor for `key` whatever its state, returning it so it can be stopped.
    pub fn remove(&self, key: &K) -> Option<Handle<A, G>> {
        self.slots.remove(key).and_then(|(_, slot)| slot.get().cloned())
    }

    pub fn keys(&self) -> Vec<K> {
        self.slots.iter().map(|slot| slot.key().clone()).collect()
    }

    pub fn handles(&self) -> Vec<Handle<A, G>> {
        self.slots.iter().filter_map(|slot| slot.value().get().cloned()).collect()
    }

    /// Crashes seen since start (each one restarts the actor on its next call).
    pub fn crashes_total(&self) -> u64 {
        self.restarts.total()
    }

    /// Gives back the room of actors gone (a map keeps its largest size otherwise).
    pub fn shrink(&self) {
        self.slots.shrink_to_fit();
    }

    pub fn len(&self) -> usize {
        self.slots.len()
    }

    pub fn is_empty(&self) -> bool {
        self.slots.is_empty()
    }
}

impl<K, A, G> Registry<K, A, G>
where
    K: Clone + Eq + Hash,
    A: Actor<Context = actix::Context<A>> + actix::Handler<Passivate> + actix::Handler<Stop>,
{
    /// Removes the actor for `key` and stops it now (its memory is no longer trusted).
    pub fn stop(&self, key: &K) {
        if let Some(handle) = self.remove(key) {
            handle.stats.mark_stopped();
            handle.addr.do_send(Stop);
        }
    }

    /// Removes the actor for `key` and stops it once it has handled every message sent to it
    /// before; resolves then, so what those messages changed has reached the journal. An
    /// activation in progress finishes first (under the slot's lock), so no actor it starts is
    /// left running unknown to the registry.
    pub async fn stop_after_pending(&self, key: &K) {
        let Some(slot) = self.slots.get(key).map(|slot| slot.clone()) else { return };
        let _activating = slot.activation.lock().await;
        self.slots.remove_if(key, |_, current| Arc::ptr_eq(current, &slot));
        if let Some(handle) = slot.get() {
            handle.stats.mark_stopped();
            let _ = handle.addr.send(Stop).await;
        }
    }

    /// Asks every actor idle since before `idle_before` to stop; returns how many did.
    pub async fn passivate_idle(&self, idle_before: UnixMs, now: UnixMs) -> usize {
        let idle: Vec<(K, Handle<A, G>)> = self
            .slots
            .iter()
            .filter_map(|slot| {
                let handle = slot.value().get()?;
                let idle = handle.stats.last_activity() < idle_before && handle.stats.depth() == 0;
                idle.then(|| (slot.key().clone(), handle.clone()))
            })
            .collect();
        let mut passivated = 0;
        for (key, handle) in idle {
            if handle.addr.send(Passivate).await == Ok(true) {
                self.evict(&key, &handle, now);
                passivated += 1;
            }
        }
        passivated
    }
}
