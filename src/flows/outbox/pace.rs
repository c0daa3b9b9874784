//! The pace of sends: spaced to the number's throughput, pushed back by Meta's throughput limit.

use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

/// Spaces sends to the number's throughput; a 130429 pushes every later send back.
pub(super) struct Pace {
    interval: Duration,
    next: Mutex<Instant>,
}

impl Pace {
    pub(super) fn new(per_second: u32) -> Pace {
        Pace { interval: Duration::from_secs(1) / per_second.max(1), next: Mutex::new(Instant::now()) }
    }

    pub(super) async fn wait_turn(&self) {
        let slot = {
            let mut next = self.next.lock().expect("pace lock");
            let slot = (*next).max(Instant::now());
            *next = slot + self.interval;
            slot
        };
        tokio::time::sleep_until(slot).await;
    }

    pub(super) fn pause(&self, pause: Duration) {
        let mut next = self.next.lock().expect("pace lock");
        *next = (*next).max(Instant::now() + pause);
    }
}
