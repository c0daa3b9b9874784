//! The registry of active actors of one kind: activation on first use (once, however many
//! callers arrive together), eviction when an actor stops, and a restart budget for crashes.

use std::hash::Hash;
use std::sync::{Arc, OnceLock};

use actix::{Actor, Addr};
use dashmap::DashMap;

use crate::domain::{Clock, FastHasher, UnixMs};
use crate::runtime::{ActorStats, CallError, Lifecycle, Passivate, Stop};

use super::restarts::{RestartBudget, Restarts};

/// An active actor: its address, its stats, and what it publishes. It is the registry's slot for
/// the actor, taken once the actor is running: a sale finds a customer's wallet it has not seen for
/// a while, and each allocation between the map and the actor's parts is a line missed. Each clone
/// and drop is an atomic change of the slot's one count.
pub struct Handle<A: Actor, G>(Slot<A, G>);

/// What an activation makes: the actor's address, and its stats and gauges, shared with it.
pub struct HandleParts<A: Actor, G> {
    pub addr: Addr<A>,
    pub stats: Arc<ActorStats>,
    pub gauges: Arc<G>,
}

impl<A: Actor, G> HandleParts<A, G> {
    pub fn new(addr: Addr<A>, stats: Arc<ActorStats>, gauges: Arc<G>) -> Self {
        HandleParts { addr, stats, gauges }
    }
}

impl<A: Actor, G> Handle<A, G> {
    /// The slot's handle, if its actor has been activated.
    fn of(slot: &Slot<A, G>) -> Option<Self> {
        slot.parts.get().map(|_| Handle(slot.clone()))
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
        self.0.parts.get().expect("a handle is made only from an activated slot")
    }
}

impl<A: Actor, G> Clone for Handle<A, G> {
    fn clone(&self) -> Self {
        Handle(self.0.clone())
    }
}

/// One key's place in the registry. `parts` is set once, under `activation`; a slot removed from
/// the map is never set afterwards, so there is never an actor the registry does not know. The
/// parts come first (`repr(C)`), beside the `Arc`'s counts a handle's clone changes.
#[repr(C)]
struct SlotInner<A: Actor, G> {
    parts: OnceLock<HandleParts<A, G>>,
    activation: tokio::sync::Mutex<()>,
}

impl<A: Actor, G> Default for SlotInner<A, G> {
    fn default() -> Self {
        SlotInner { parts: OnceLock::new(), activation: tokio::sync::Mutex::new(()) }
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
        Fut: std::future::Future<Output = Result<HandleParts<A, G>, CallError>>,
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
        Fut: std::future::Future<Output = Result<HandleParts<A, G>, CallError>>,
    {
        loop {
            let slot = self.slots.entry(key.clone()).or_default().clone();
            if let Some(handle) = Handle::of(&slot) {
                return Ok(handle);
            }
            let _activating = slot.activation.lock().await;
            let registered = self.slots.get(key).is_some_and(|current| Arc::ptr_eq(&current, &slot));
            if !registered {
                continue; // removed while we waited (a failed activation): start over with a new slot
            }
            if let Some(handle) = Handle::of(&slot) {
                return Ok(handle);
            }
            self.restarts.check(key, clock.now())?;
            return match activate().await {
                Ok(parts) => {
                    if slot.parts.set(parts).is_err() {
                        unreachable!("a slot is activated once, under its lock");
                    }
                    Ok(Handle(slot.clone()))
                }
                Err(error) => {
                    self.slots.remove_if(key, |_, current| Arc::ptr_eq(current, &slot));
                    Err(error)
                }
            };
        }
    }

    pub fn active(&self, key: &K) -> Option<Handle<A, G>> {
        self.slots.get(key).and_then(|slot| Handle::of(&slot))
    }

    /// The gauges of the actor registered for `key` if it is active.
    pub fn gauges(&self, key: &K) -> Option<Arc<G>> {
        self.slots.get(key).and_then(|slot| slot.parts.get().map(|parts| parts.gauges.clone()))
    }

    /// Forgets `handle` if it is still the registered one. Returns whether it was a crash.
    pub fn evict(&self, key: &K, handle: &Handle<A, G>, now: UnixMs) -> bool {
        let removed = self.slots.remove_if(key, |_, slot| Arc::ptr_eq(slot, &handle.0)).is_some();
        let crashed = removed && handle.stats.lifecycle() == Lifecycle::Running;
        if crashed {
            self.restarts.crashed(key, now);
        }
        crashed
    }

    /// Removes the actor for `key` whatever its state, returning it so it can be stopped.
    pub fn remove(&self, key: &K) -> Option<Handle<A, G>> {
        self.slots.remove(key).and_then(|(_, slot)| Handle::of(&slot))
    }

    pub fn keys(&self) -> Vec<K> {
        self.slots.iter().map(|slot| slot.key().clone()).collect()
    }

    pub fn handles(&self) -> Vec<Handle<A, G>> {
        self.slots.iter().filter_map(|slot| Handle::of(slot.value())).collect()
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
        if let Some(parts) = slot.parts.get() {
            parts.stats.mark_stopped();
            let _ = parts.addr.send(Stop).await;
        }
    }

    /// Asks every actor idle since before `idle_before` to stop; returns how many did.
    pub async fn passivate_idle(&self, idle_before: UnixMs, now: UnixMs) -> usize {
        let idle: Vec<(K, Handle<A, G>)> = self
            .slots
            .iter()
            .filter_map(|slot| {
                let handle = Handle::of(slot.value())?;
                let idle = handle.stats.last_activity() < idle_before && handle.stats.depth() == 0;
                idle.then(|| (slot.key().clone(), handle))
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
