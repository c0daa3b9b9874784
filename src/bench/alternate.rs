//! `--fence alternate`: the engine's fence turned on and off in turns within one run, so its cost
//! is measured under the same conditions, instead of across runs whose throughput drifts with the
//! host by more than the cost (docs/benchmarks.md). From the first attempt, windows of
//! `FENCE_ALTERNATE_MS` alternate: fenced in even ones, not in odd ones. Each sale counts in the
//! window it completed in; a sale whose batch straddles a switch counts on the side it finished,
//! which dilutes the difference by about the latency over the window (1 to 2% of it).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock, Weak};
use std::time::Duration;

use tokio::time::Instant;

use crate::store::WriterFence;

/// How long the fence stays on, then off.
pub const FENCE_ALTERNATE_MS: u64 = 500;

/// Windows counted: longer runs count only their first this many (about 17 minutes).
const WINDOWS_MAX: usize = 2_048;

pub struct Alternation {
    fence: Arc<WriterFence>,
    started: OnceLock<Instant>,
    sold: Vec<AtomicU64>,
}

impl Alternation {
    pub fn new(fence: Arc<WriterFence>) -> Arc<Alternation> {
        Arc::new(Alternation {
            fence,
            started: OnceLock::new(),
            sold: (0..WINDOWS_MAX).map(|_| AtomicU64::new(0)).collect(),
        })
    }

    /// Starts the windows at the first attempt (the fence is on in the first).
    pub fn begin(self: &Arc<Self>) {
        let mut first = false;
        let started = *self.started.get_or_init(|| {
            first = true;
            Instant::now()
        });
        if first {
            self.fence.set_checking(true);
            tokio::spawn(switch(Arc::downgrade(self), started));
        }
    }

    /// One sale completed now.
    pub fn sold(&self) {
        if let Some(window) = self.window_now() {
            self.sold[window].fetch_add(1, Ordering::Relaxed);
        }
    }

    fn window_now(&self) -> Option<usize> {
        let elapsed = self.started.get()?.elapsed();
        let window = (elapsed.as_millis() / u128::from(FENCE_ALTERNATE_MS)) as usize;
        (window < WINDOWS_MAX).then_some(window)
    }

    /// Sales per second with the fence and without, over the whole pairs of windows after the
    /// first two pairs (warming up) and before the last window (cut short by the run's end).
    pub fn note(&self) -> Option<String> {
        let last = self.window_now()?;
        let sold: Vec<u64> = self.sold.iter().map(|s| s.load(Ordering::Relaxed)).collect();
        let ended = sold.iter().rposition(|n| *n > 0).unwrap_or(0).min(last);
        let pairs = (2..ended / 2).collect::<Vec<_>>();
        if pairs.is_empty() {
            return Some("fence alternated: the run was too short to compare".to_string());
        }
        let fenced: u64 = pairs.iter().map(|p| sold[2 * p]).sum();
        let plain: u64 = pairs.iter().map(|p| sold[2 * p + 1]).sum();
        let seconds = pairs.len() as f64 * FENCE_ALTERNATE_MS as f64 / 1000.0;
        Some(format!(
            "fence alternated every {FENCE_ALTERNATE_MS} ms over {} pairs of windows: {:.0}/s fenced, {:.0}/s not; fenced/not {:+.1}%",
            pairs.len(),
            fenced as f64 / seconds,
            plain as f64 / seconds,
            (fenced as f64 / plain.max(1) as f64 - 1.0) * 100.0
        ))
    }
}

/// Switches the fence at each window's start until the alternation is dropped.
async fn switch(alternation: Weak<Alternation>, started: Instant) {
    for window in 1.. {
        tokio::time::sleep_until(started + Duration::from_millis(FENCE_ALTERNATE_MS * window)).await;
        let Some(alternation) = alternation.upgrade() else { return };
        alternation.fence.set_checking(window % 2 == 0);
    }
}
