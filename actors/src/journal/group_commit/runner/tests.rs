use std::time::Duration;

use proptest::prelude::*;
use tokio::time::Instant;

use super::super::Done;
use super::*;

fn filling(submissions: usize, events: usize, deadline: Instant) -> Filling<()> {
    let submissions = (0..submissions)
        .map(|_| Submission {
            origin: None,
            depends_on: Vec::new(),
            entries: Vec::new(),
            done: Done { tx: Some(oneshot::channel().0), counted: None },
        })
        .collect();
    Filling { submissions, events, deadline: Some(deadline) }
}

#[test]
fn a_failed_batch_comes_back_whole_whether_or_not_a_sink_kept_it() {
    let entries: Vec<Entry<()>> = vec![Entry::Attached(()), Entry::Attached(())];
    let alone = Arc::new(entries.clone());
    let buffer = alone.as_ptr();
    let back = unshared(alone);
    assert_eq!(back, entries);
    assert_eq!(back.as_ptr(), buffer, "the journal's own entries, not a copy");

    let shared = Arc::new(entries.clone());
    let kept = Arc::clone(&shared);
    assert_eq!(unshared(shared), entries, "a copy, never a loss");
    assert_eq!(*kept, entries);
}

proptest! {
    /// The loop never waits for nothing: with a batch filling, it launches it, or a batch in
    /// the store will settle and wake it, or a timer is set for the window's end. (Deciding
    /// with two readings of the clock broke this once a window closed between them.)
    #[test]
    fn a_filling_batch_always_has_a_wakeup(
        submissions in 1usize..300,
        events in 0usize..5_000,
        in_flight in 0usize..=PIPELINE_BATCHES_MAX,
        open in any::<bool>(),
        deadline_after_now_ns in -2_000i64..2_000,
    ) {
        let now = Instant::now();
        let deadline = if deadline_after_now_ns >= 0 {
            now + Duration::from_nanos(deadline_after_now_ns as u64)
        } else {
            now - Duration::from_nanos(deadline_after_now_ns.unsigned_abs())
        };
        let filling = filling(submissions, events, deadline);
        let launches = should_launch(&filling, in_flight, open, 4_096, now);
        prop_assert!(launches || in_flight > 0 || wait_until(&filling, now).is_some());
    }
}
