use std::time::Duration;

use proptest::prelude::*;
use tokio::time::Instant;

use super::super::{ticket, Awaited, Done};
use super::*;

fn submission(awaited: Awaited) -> Submission<()> {
    Submission {
        awaited,
        origin: None,
        depends_on: Vec::new(),
        entries: Vec::new(),
        done: Done { resolver: Some(ticket::ticket().1), counted: None },
    }
}

fn filling(submissions: usize, events: usize, deadline: Instant) -> Filling<()> {
    let submissions = (0..submissions).map(|_| submission(Awaited::Yes)).collect::<Vec<_>>();
    let awaited = submissions.len();
    Filling {
        submissions,
        events,
        awaited,
        deadline: Some(deadline),
        gathered_by: Some(deadline + Duration::from_micros(BATCH_GATHER_MICROS_MAX)),
    }
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
        deadline_after_now_ns in -2_000_000i64..2_000,
        previous_awaited in 0usize..300,
    ) {
        let now = Instant::now();
        let deadline = if deadline_after_now_ns >= 0 {
            now + Duration::from_nanos(deadline_after_now_ns as u64)
        } else {
            now - Duration::from_nanos(deadline_after_now_ns.unsigned_abs())
        };
        let filling = filling(submissions, events, deadline);
        let launches = should_launch(&filling, in_flight, open, Sizes { max: 4_096, previous_awaited }, now);
        prop_assert!(launches || in_flight > 0 || wait_until(&filling, now).is_some());
    }
}

/// Events a saldo sale's commit brings to a batch, about (its debit brings the rest of its eight).
const EVENTS_PER_CALLER: usize = 5;

/// A filling batch of `callers` awaited submissions whose window has passed and whose wait for
/// its group ends `gather_left` from `now` (negative: already ended).
fn gathering(callers: usize, now: Instant, gather_left_us: i64) -> Filling<()> {
    let mut filling = filling(callers, callers * EVENTS_PER_CALLER, now);
    filling.gathered_by = Some(match gather_left_us >= 0 {
        true => now + Duration::from_micros(gather_left_us as u64),
        false => now - Duration::from_micros(gather_left_us.unsigned_abs()),
    });
    filling
}

#[test]
fn after_a_group_rode_one_batch_the_next_waits_for_half_of_it_while_the_store_is_idle() {
    let now = Instant::now();
    let sizes = Sizes { max: 4_096, previous_awaited: 64 };
    assert!(!should_launch(&gathering(3, now, 900), 0, true, sizes, now), "the first caller back waits");
    assert_eq!(wait_until(&gathering(3, now, 900), now), Some(now + Duration::from_micros(900)));
    assert!(should_launch(&gathering(32, now, 900), 0, true, sizes, now), "half the group is in");
    assert!(should_launch(&gathering(3, now, -1), 0, true, sizes, now), "the wait is over");
    let mut full = gathering(3, now, 900);
    full.events = 4_096;
    assert!(should_launch(&full, 1, true, sizes, now), "a full batch goes behind one in the store");
    assert!(
        !should_launch(&gathering(32, now, 900), 1, true, sizes, now),
        "behind one in the store, half a batch's room"
    );
}

#[test]
fn a_groups_debits_answered_at_once_do_not_count_as_its_callers() {
    // At 64 in flight, the batch filling behind a commit held the next group's 42 debits and 9
    // of its commits: counted by events (171 of the previous batch's 341) it launched with the 9,
    // and the 55 behind them rode the next batch, for as long as the sale lasted.
    let now = Instant::now();
    let sizes = Sizes { max: 4_096, previous_awaited: 55 };
    let mut debits_first = gathering(9, now, 900);
    for _ in 0..42 {
        debits_first.submissions.push(submission(Awaited::No));
        debits_first.events += 3;
    }
    assert!(debits_first.events >= 341 / 2, "half the events of the batch before");
    assert!(!should_launch(&debits_first, 0, true, sizes, now), "but 9 callers of 55");
    assert!(should_launch(&gathering(28, now, 900), 0, true, sizes, now), "half the callers");
}

#[test]
fn after_a_small_batch_the_next_launches_at_once() {
    let now = Instant::now();
    let sizes = Sizes { max: 4_096, previous_awaited: BATCH_GATHER_CALLERS_MIN - 1 };
    assert!(should_launch(&gathering(1, now, 900), 0, true, sizes, now));
    let first = Sizes { max: 4_096, previous_awaited: 0 };
    assert!(should_launch(&gathering(1, now, 900), 0, true, first, now), "the first batch of all");
}

#[test]
fn with_the_store_idle_a_batch_nobody_waits_for_waits_for_one_somebody_does() {
    let now = Instant::now();
    let sizes = Sizes { max: 4_096, previous_awaited: 0 };
    let mut answered_already = gathering(3, now, 900);
    answered_already.awaited = 0;
    assert!(!should_launch(&answered_already, 0, true, sizes, now), "a debit answered at once rides later");
    assert!(wait_until(&answered_already, now).is_some(), "but not for ever");
    answered_already.gathered_by = Some(now);
    assert!(should_launch(&answered_already, 0, true, sizes, now), "its wait is over");
    let mut full = gathering(3, now, 900);
    full.events = 4_096;
    full.awaited = 0;
    assert!(should_launch(&full, 0, true, sizes, now), "a full batch goes whoever waits");
}
