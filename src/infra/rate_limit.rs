//! How many purchases (and top ups) one customer may start per minute. With a Redis URL the
//! count is kept in Redis, shared by every instance (a fixed one-minute window per customer);
//! without one it is kept in this process (a sliding minute). Redis unreachable: the limit fails
//! open, says so in the log and counts it; purchases never depend on Redis for correctness.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;
use warung_actors::domain::CustomerId;

/// The window the limit counts over.
const WINDOW_SECS: u64 = 60;

/// Longest a Redis check may take before the limit fails open for that purchase.
const REDIS_CHECK_TIMEOUT_MS: u64 = 250;

/// After Redis fails, how long before it is tried again (purchases meanwhile fail open at once).
const REDIS_RETRY_AFTER_SECS: u64 = 5;

/// Customers tracked in process before idle ones are forgotten.
const IN_PROCESS_CUSTOMERS_MAX: usize = 100_000;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    Allowed,
    /// Over the limit; the next purchase is allowed in about this many seconds.
    Limited {
        retry_after_secs: u64,
    },
}

/// What the limiter has done, for the ops view.
#[derive(Debug, Default)]
pub struct LimiterCounters {
    pub allowed: AtomicU64,
    pub limited: AtomicU64,
    /// Purchases let through because Redis could not be asked.
    pub failed_open: AtomicU64,
}

pub struct PurchaseLimiter {
    /// An admin may change it while the shop runs (`set_per_minute`).
    per_minute: std::sync::atomic::AtomicU32,
    redis: Option<RedisWindow>,
    local: Mutex<HashMap<CustomerId, VecDeque<Instant>>>,
    pub counters: LimiterCounters,
}

struct RedisWindow {
    client: redis::Client,
    connection: tokio::sync::Mutex<Option<redis::aio::ConnectionManager>>,
    /// Until when Redis is left alone after a failure.
    resting_until: Mutex<Option<Instant>>,
}

impl PurchaseLimiter {
    /// Without a Redis client: in process.
    pub fn new(per_minute: u32, redis: Option<redis::Client>) -> PurchaseLimiter {
        let redis = redis.map(|client| RedisWindow {
            client,
            connection: tokio::sync::Mutex::new(None),
            resting_until: Mutex::new(None),
        });
        PurchaseLimiter {
            per_minute: std::sync::atomic::AtomicU32::new(per_minute),
            redis,
            local: Mutex::new(HashMap::new()),
            counters: LimiterCounters::default(),
        }
    }

    pub fn set_per_minute(&self, per_minute: u32) {
        self.per_minute.store(per_minute, Ordering::Relaxed);
    }

    fn per_minute(&self) -> u32 {
        self.per_minute.load(Ordering::Relaxed)
    }

    pub fn shared(&self) -> bool {
        self.redis.is_some()
    }

    /// `None` without Redis; else whether its last check worked (it rests after a failure).
    pub fn redis_up(&self) -> Option<bool> {
        let redis = self.redis.as_ref()?;
        let resting = *redis.resting_until.lock().expect("rest lock");
        Some(resting.is_none_or(|until| Instant::now() >= until))
    }

    /// Counts one purchase by `customer` and says whether it may go ahead.
    pub async fn check(&self, customer: &CustomerId) -> Verdict {
        let verdict = match &self.redis {
            Some(redis) => match redis.count(customer).await {
                Ok((count, ttl)) if count > i64::from(self.per_minute()) => {
                    Verdict::Limited { retry_after_secs: ttl.max(1) as u64 }
                }
                Ok(_) => Verdict::Allowed,
                Err(error) => {
                    self.counters.failed_open.fetch_add(1, Ordering::Relaxed);
                    tracing::warn!(%error, "purchase rate limit failed open: Redis could not be asked");
                    Verdict::Allowed
                }
            },
            None => self.check_local(customer),
        };
        let counter = match verdict {
            Verdict::Allowed => &self.counters.allowed,
            Verdict::Limited { .. } => &self.counters.limited,
        };
        counter.fetch_add(1, Ordering::Relaxed);
        verdict
    }

    fn check_local(&self, customer: &CustomerId) -> Verdict {
        let now = Instant::now();
        let window = Duration::from_secs(WINDOW_SECS);
        let mut local = self.local.lock().expect("limiter lock");
        if local.len() >= IN_PROCESS_CUSTOMERS_MAX {
            local.retain(|_, times| times.back().is_some_and(|t| now.duration_since(*t) < window));
        }
        let times = local.entry(customer.clone()).or_default();
        while times.front().is_some_and(|t| now.duration_since(*t) >= window) {
            times.pop_front();
        }
        if times.len() >= self.per_minute() as usize {
            let oldest = *times.front().expect("a full window has entries");
            let retry_after = window.saturating_sub(now.duration_since(oldest)).as_secs().max(1);
            return Verdict::Limited { retry_after_secs: retry_after };
        }
        times.push_back(now);
        Verdict::Allowed
    }
}

impl RedisWindow {
    /// Counts one purchase in the customer's current minute; returns the count and the seconds
    /// left in the minute.
    async fn count(&self, customer: &CustomerId) -> Result<(i64, i64), String> {
        if let Some(until) = *self.resting_until.lock().expect("rest lock") {
            if Instant::now() < until {
                return Err("resting after a failure".into());
            }
        }
        let result =
            tokio::time::timeout(Duration::from_millis(REDIS_CHECK_TIMEOUT_MS), self.count_now(customer)).await;
        let result = match result {
            Ok(Ok(counted)) => return Ok(counted),
            Ok(Err(error)) => error.to_string(),
            Err(_) => "timed out".to_string(),
        };
        *self.resting_until.lock().expect("rest lock") =
            Some(Instant::now() + Duration::from_secs(REDIS_RETRY_AFTER_SECS));
        *self.connection.lock().await = None;
        Err(result)
    }

    async fn count_now(&self, customer: &CustomerId) -> Result<(i64, i64), redis::RedisError> {
        let mut slot = self.connection.lock().await;
        if slot.is_none() {
            *slot = Some(self.client.get_connection_manager().await?);
        }
        let mut connection = slot.clone().expect("connected above");
        drop(slot);
        let key = format!("warung:purchases:{}", customer.as_str());
        let (count, ttl): (i64, i64) = redis::pipe()
            .atomic()
            .cmd("INCR")
            .arg(&key)
            .cmd("EXPIRE")
            .arg(&key)
            .arg(WINDOW_SECS)
            .arg("NX")
            .ignore()
            .cmd("TTL")
            .arg(&key)
            .query_async(&mut connection)
            .await?;
        Ok((count, ttl))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn budi() -> CustomerId {
        CustomerId::parse("6281").unwrap()
    }

    #[tokio::test(start_paused = true)]
    async fn in_process_the_fourth_purchase_in_a_minute_waits() {
        let limiter = PurchaseLimiter::new(3, None);
        for _ in 0..3 {
            assert_eq!(limiter.check(&budi()).await, Verdict::Allowed);
        }
        assert_eq!(limiter.check(&budi()).await, Verdict::Limited { retry_after_secs: 60 });
        let other = CustomerId::parse("6282").unwrap();
        assert_eq!(limiter.check(&other).await, Verdict::Allowed, "limits are per customer");
        tokio::time::advance(Duration::from_secs(45)).await;
        assert_eq!(limiter.check(&budi()).await, Verdict::Limited { retry_after_secs: 15 });
        tokio::time::advance(Duration::from_secs(15)).await;
        assert_eq!(limiter.check(&budi()).await, Verdict::Allowed, "the first purchase left the window");
        assert_eq!(limiter.counters.limited.load(Ordering::Relaxed), 2);
    }
}
