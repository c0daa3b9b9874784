//! What `/ready` and `/metrics` read from the store, kept for STORE_READS_CACHED_MS: a burst of
//! probes or scrapes costs the store one round of queries in that time, not one per request, and
//! concurrent callers wait for the one refresh in progress instead of starting their own.

use std::future::Future;
use std::time::Duration;

use tokio::sync::Mutex;
use tokio::time::Instant;

/// How long a store reading serves `/ready` and `/metrics` before it is read again.
pub const STORE_READS_CACHED_MS: u64 = 1_000;

pub struct Cached<T> {
    ttl: Duration,
    slot: Mutex<Option<(Instant, T)>>,
}

impl<T: Clone> Cached<T> {
    pub fn new(ttl: Duration) -> Cached<T> {
        Cached { ttl, slot: Mutex::new(None) }
    }

    /// The value read within the last `ttl`, or a fresh one from `read`.
    pub async fn get<F, Fut>(&self, read: F) -> T
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = T>,
    {
        let mut slot = self.slot.lock().await;
        if let Some((at, value)) = slot.as_ref() {
            if at.elapsed() < self.ttl {
                return value.clone();
            }
        }
        let value = read().await;
        *slot = Some((Instant::now(), value.clone()));
        value
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    #[tokio::test(start_paused = true)]
    async fn a_reading_serves_every_caller_for_its_time_then_is_read_again() {
        let cached = Cached::new(Duration::from_millis(STORE_READS_CACHED_MS));
        let reads = AtomicUsize::new(0);
        let read = || async { reads.fetch_add(1, Ordering::SeqCst) };
        for _ in 0..50 {
            assert_eq!(cached.get(read).await, 0);
        }
        tokio::time::advance(Duration::from_millis(STORE_READS_CACHED_MS - 1)).await;
        assert_eq!(cached.get(read).await, 0, "still fresh");
        tokio::time::advance(Duration::from_millis(1)).await;
        assert_eq!(cached.get(read).await, 1, "read again once its time is up");
        assert_eq!(reads.load(Ordering::SeqCst), 2);
    }
}
