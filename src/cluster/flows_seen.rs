//! The customers' flows an owner has run lately, by the id their caller gave them. A caller asks
//! again when its answer was "not owner": a node giving the shard up may answer that in the
//! instant it and the new owner are both subscribed, while the new owner runs the flow. Asked
//! again, the new owner answers with the run it has (finished or not) instead of a second run,
//! which would answer "order not open" to a cancel that succeeded.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use futures::future::{BoxFuture, FutureExt, Shared};
use tokio::time::Instant;

use super::wire::Answer;

/// How long an outcome is kept: longer than a caller keeps asking (a few route deadlines).
const FLOWS_REMEMBERED_SECS: u64 = 120;

/// Past this many remembered flows, the old ones are forgotten before the next is added.
const FLOWS_PRUNE_AT: usize = 4_096;

pub type FlowOutcome = Shared<BoxFuture<'static, Answer>>;

#[derive(Default)]
pub struct FlowsSeen {
    runs: Mutex<HashMap<u64, (Instant, FlowOutcome)>>,
}

impl FlowsSeen {
    /// The run of flow `id`: the one under way or finished, else `run()` started now.
    pub fn once(&self, id: u64, run: impl FnOnce() -> BoxFuture<'static, Answer>) -> FlowOutcome {
        let mut runs = self.runs.lock().expect("the flows' lock is never poisoned");
        let now = Instant::now();
        if runs.len() >= FLOWS_PRUNE_AT {
            runs.retain(|_, (at, _)| now.duration_since(*at) < Duration::from_secs(FLOWS_REMEMBERED_SECS));
        }
        runs.entry(id).or_insert_with(|| (now, run().shared())).1.clone()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;

    use super::*;

    #[tokio::test]
    async fn a_flow_asked_for_twice_runs_once_and_both_get_its_outcome() {
        let seen = FlowsSeen::default();
        let runs = Arc::new(AtomicUsize::new(0));
        let run = |runs: Arc<AtomicUsize>| {
            move || {
                async move {
                    runs.fetch_add(1, Ordering::SeqCst);
                    tokio::task::yield_now().await;
                    Answer::Done(serde_json::json!("bought"))
                }
                .boxed()
            }
        };
        let first = seen.once(7, run(runs.clone()));
        let again = seen.once(7, run(runs.clone()));
        let (first, again) = futures::join!(first, again);
        assert_eq!(runs.load(Ordering::SeqCst), 1);
        assert!(matches!((&first, &again), (Answer::Done(a), Answer::Done(b)) if a == b));
        assert!(matches!(seen.once(7, run(runs.clone())).await, Answer::Done(_)));
        assert_eq!(runs.load(Ordering::SeqCst), 1, "a finished run is remembered");
        seen.once(8, run(runs.clone())).await;
        assert_eq!(runs.load(Ordering::SeqCst), 2, "another id runs");
    }
}
