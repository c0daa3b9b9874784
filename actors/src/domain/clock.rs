//! Wall-clock time in Unix milliseconds, driven by tokio's clock so tests can pause and advance it.

use std::time::{SystemTime, UNIX_EPOCH};

use tokio::time::Instant;

/// Milliseconds since the Unix epoch. Stored as BIGINT in both databases.
pub type UnixMs = i64;

/// The engine's clock: a wall-clock reading taken once, advanced by tokio's monotonic clock.
/// Under `tokio::time::pause()` it stands still and `advance` moves it, so expiry tests need no
/// sleeps; in production it follows real time without jumping backwards.
#[derive(Clone, Copy, Debug)]
pub struct Clock {
    base_unix_ms: UnixMs,
    base_instant: Instant,
}

impl Clock {
    pub fn system() -> Clock {
        let base_unix_ms = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as UnixMs).unwrap_or(0);
        Clock { base_unix_ms, base_instant: Instant::now() }
    }

    pub fn now(&self) -> UnixMs {
        self.at(Instant::now())
    }

    /// The time at `instant`, read from tokio's clock: a handler reads the clock once for both
    /// its timestamps and the timing of its own work (about 25 ns a reading, 20 readings a sale).
    pub fn at(&self, instant: Instant) -> UnixMs {
        self.base_unix_ms + instant.saturating_duration_since(self.base_instant).as_millis() as UnixMs
    }

    /// How long until `at`, for arming a timer; zero if it has passed.
    pub fn until(&self, at: UnixMs) -> std::time::Duration {
        std::time::Duration::from_millis((at - self.now()).max(0) as u64)
    }
}
