//! Crashes counted against a restart budget, per actor: a bug that crashes an actor on every
//! message must not spin the machine, so past its budget an actor is quarantined for the rest of
//! the window (calls to it are refused with `CallError::Quarantined`). Products, wallets, the
//! services and the conversations are all held to the same budget.

use std::hash::Hash;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use dashmap::DashMap;

use crate::domain::UnixMs;
use crate::runtime::CallError;

/// Crashes allowed per actor within `window` before it is quarantined for the rest of the window.
#[derive(Clone, Copy, Debug)]
pub struct RestartBudget {
    pub restarts_max: u32,
    pub window: Duration,
}

pub struct Restarts<K> {
    /// Per key: the window's start and the crashes counted in it.
    crashes: DashMap<K, (UnixMs, u32)>,
    total: AtomicU64,
    budget: RestartBudget,
}

impl<K: Clone + Eq + Hash> Restarts<K> {
    pub fn new(budget: RestartBudget) -> Restarts<K> {
        Restarts { crashes: DashMap::new(), total: AtomicU64::new(0), budget }
    }

    /// Counts a crash of `key`'s actor.
    pub fn crashed(&self, key: &K, now: UnixMs) {
        self.total.fetch_add(1, Ordering::Relaxed);
        let window_ms = self.budget.window.as_millis() as UnixMs;
        let mut entry = self.crashes.entry(key.clone()).or_insert((now, 0));
        if now - entry.0 > window_ms {
            *entry = (now, 0);
        }
        entry.1 += 1;
    }

    /// Whether `key`'s actor may be started (again) now.
    pub fn check(&self, key: &K, now: UnixMs) -> Result<(), CallError> {
        if let Some(entry) = self.crashes.get(key) {
            let (since, count) = *entry;
            let until_ms = since + self.budget.window.as_millis() as UnixMs;
            if count > self.budget.restarts_max && now < until_ms {
                return Err(CallError::Quarantined { until_ms });
            }
        }
        Ok(())
    }

    /// Crashes seen since start (each one restarts its actor, unless it is quarantined).
    pub fn total(&self) -> u64 {
        self.total.load(Ordering::Relaxed)
    }
}
