use std::sync::Arc;

use super::*;
use crate::store::log::limits::PROJECTION_QUIET_MS;

#[tokio::test(start_paused = true)]
async fn a_read_waits_for_what_was_acknowledged_before_it_and_no_more() {
    let projection = std::sync::Arc::new(Projection::default());
    projection.fresh().await.expect("nothing acknowledged: no wait");
    projection.appended(1, Entries::default());
    projection.appended(2, Entries::default());
    let reader = {
        let projection = projection.clone();
        tokio::spawn(async move { projection.fresh().await })
    };
    tokio::task::yield_now().await;
    projection.projected(1);
    tokio::task::yield_now().await;
    assert!(!reader.is_finished(), "the second batch is not in the tables yet");
    let taken = projection.take(PROJECTION_TRANSACTION_EVENTS_MAX).await;
    assert_eq!(taken.iter().map(|t| t.0).collect::<Vec<_>>(), vec![2]);
    projection.appended(3, Entries::default());
    projection.projected(2);
    reader.await.unwrap().expect("caught up with what was acknowledged before the read");
    assert_eq!(projection.lag().batches, 1);
}

fn wallet_change(customer: &str) -> Entry<ShopRecord> {
    use warung_actors::domain::{CustomerId, Money};
    use warung_actors::journal::{Event, WalletRow};
    let customer = CustomerId::parse(customer).unwrap();
    Entry::Event(Event::Wallet(WalletRow { customer, balance: Money::rupiah(1_000), updated_at: 1 }))
}

#[tokio::test(start_paused = true)]
async fn an_activation_waits_for_its_own_actors_changes_only() {
    use warung_actors::domain::CustomerId;
    let projection = std::sync::Arc::new(Projection::default());
    projection.appended(1, std::sync::Arc::new(vec![wallet_change("6281100")]));
    projection.appended(2, std::sync::Arc::new(vec![wallet_change("6281200")]));
    let first = ActorKey::Wallet(CustomerId::parse("6281100").unwrap());
    let second = ActorKey::Wallet(CustomerId::parse("6281200").unwrap());
    let stranger = ActorKey::Wallet(CustomerId::parse("6281300").unwrap());
    projection.fresh_for(std::slice::from_ref(&stranger)).await.expect("a customer never written waits for nothing");

    let activation = {
        let projection = projection.clone();
        tokio::spawn(async move { projection.fresh_for(std::slice::from_ref(&second)).await })
    };
    projection.projected(1);
    projection.fresh_for(std::slice::from_ref(&first)).await.expect("the first customer's change is in the tables");
    tokio::task::yield_now().await;
    assert!(!activation.is_finished(), "the second customer's change is not in the tables yet");
    projection.projected(2);
    activation.await.unwrap().expect("projected");
    assert!(projection.pending.lock().unwrap().last_batch_of.is_empty(), "forgotten once projected");
}

#[tokio::test(start_paused = true)]
async fn a_read_that_the_projection_never_reaches_fails_rather_than_answer_stale() {
    let projection = Projection::default();
    projection.appended(1, Entries::default());
    let behind = projection.fresh().await.unwrap_err();
    assert_eq!(behind.0.batches, 1);
}

/// Appends a batch as the journal does: counted as under way from `room` until counted.
async fn append(projection: &Projection, position: i64) {
    let _appending = projection.room().await.expect("room");
    projection.appended(position, Entries::default());
}

#[tokio::test(start_paused = true)]
async fn the_projector_takes_nothing_while_batches_keep_coming_and_all_of_them_once_they_pause() {
    let projection = Arc::new(Projection::default());
    let taker = {
        let projection = projection.clone();
        tokio::spawn(async move { projection.take(PROJECTION_TRANSACTION_EVENTS_MAX).await })
    };
    for position in 1..=50 {
        append(&projection, position).await;
        tokio::time::sleep(Duration::from_millis(2)).await;
        assert!(!taker.is_finished(), "batch {position}: the appends have not paused");
    }
    tokio::time::sleep(Duration::from_millis(PROJECTION_QUIET_MS + 1)).await;
    let taken = taker.await.unwrap();
    assert_eq!(taken.len(), 50, "every batch, in one projection");
}

#[tokio::test(start_paused = true)]
async fn a_read_waiting_for_the_tables_ends_the_deferral_at_once() {
    let projection = Arc::new(Projection::default());
    let started = Instant::now();
    append(&projection, 1).await;
    // An append under way: the journal is not idle, so only the read can end the deferral.
    let _appending = projection.room().await.unwrap();
    let taker = {
        let projection = projection.clone();
        tokio::spawn(async move { projection.take(PROJECTION_TRANSACTION_EVENTS_MAX).await })
    };
    tokio::task::yield_now().await;
    assert!(!taker.is_finished(), "deferred");
    let reader = {
        let projection = projection.clone();
        tokio::spawn(async move { projection.fresh().await })
    };
    let taken = taker.await.unwrap();
    assert_eq!(started.elapsed(), Duration::ZERO, "taken when the read began to wait, not after a pause");
    projection.projected(taken.last().unwrap().0);
    reader.await.unwrap().expect("the read sees the batch");
}

/// The projector's first two takes, with the default limits, while `appends` runs on a task of its
/// own: how long after the start the first came, and how long after it the second.
async fn first_two_takes<F>(appends: impl FnOnce(Arc<Projection>) -> F) -> (Duration, Duration)
where
    F: std::future::Future<Output = ()> + Send + 'static,
{
    let projection = Arc::new(Projection::new(ProjectionLimits::default()));
    let started = Instant::now();
    let appender = tokio::spawn(appends(projection.clone()));
    let first = projection.take(PROJECTION_TRANSACTION_EVENTS_MAX).await;
    let waited = started.elapsed();
    projection.projected(first.last().unwrap().0);
    let second = projection.take(PROJECTION_TRANSACTION_EVENTS_MAX).await;
    let gap = started.elapsed() - waited;
    projection.projected(second.last().unwrap().0);
    appender.abort();
    (waited, gap)
}

#[tokio::test(start_paused = true)]
async fn under_a_load_that_never_pauses_the_projector_starts_after_the_deferral_and_keeps_up() {
    let limits = ProjectionLimits::default();
    let (waited, gap) = first_two_takes(|projection| async move {
        for position in 1..=2_000 {
            append(&projection, position).await;
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    })
    .await;
    assert!(
        waited >= Duration::from_millis(limits.defer_ms) && waited < Duration::from_millis(limits.defer_ms + 5),
        "began after the deferral: {waited:?}"
    );
    assert!(gap <= Duration::from_millis(1), "once begun, no second deferral");
}

#[tokio::test(start_paused = true)]
async fn appends_whose_commits_are_slow_make_no_pause_and_never_restart_the_deferral() {
    let limits = ProjectionLimits::default();
    let (waited, gap) = first_two_takes(|projection| async move {
        for position in 1..=500 {
            // Each commit takes twice the quiet time; the next append begins as it ends.
            let appending = projection.room().await.expect("room");
            tokio::time::sleep(Duration::from_millis(2 * PROJECTION_QUIET_MS)).await;
            projection.appended(position, Entries::default());
            drop(appending);
        }
    })
    .await;
    assert!(waited >= Duration::from_millis(limits.defer_ms), "began after the deferral: {waited:?}");
    assert!(
        gap <= Duration::from_millis(2 * PROJECTION_QUIET_MS),
        "the next batch at once, not a second deferral: {gap:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn a_projection_transaction_takes_more_once_the_appends_have_paused_and_no_reply_waits() {
    let projection = Projection::new(ProjectionLimits { defer_ms: 0, ..ProjectionLimits::default() });
    let two_events = || Arc::new(vec![wallet_change("6281100"), wallet_change("6281200")]);
    let seqs = |taken: Vec<(u64, i64, Entries<ShopRecord>)>| taken.iter().map(|t| t.0).collect::<Vec<_>>();
    let appending = projection.room().await.expect("room");
    for position in 1..=6 {
        projection.appended(position, two_events());
    }
    assert_eq!(seqs(projection.take_more_once_paused(2, 6).await), vec![1], "an append under way: the smaller bound");
    drop(appending);
    tokio::time::advance(Duration::from_millis(PROJECTION_QUIET_MS)).await;
    assert_eq!(seqs(projection.take_more_once_paused(2, 6).await), vec![2, 3, 4], "paused: the larger bound");
    let _appending = projection.room().await.expect("room");
    assert_eq!(seqs(projection.take_more_once_paused(2, 6).await), vec![5], "appending again: the smaller");
}

#[tokio::test(start_paused = true)]
async fn a_projection_transaction_takes_batches_up_to_its_events_bound_and_at_least_one() {
    let projection = Projection::new(ProjectionLimits { defer_ms: 0, ..ProjectionLimits::default() });
    let two_events = || Arc::new(vec![wallet_change("6281100"), wallet_change("6281200")]);
    for position in 1..=3 {
        projection.appended(position, two_events());
    }
    let seqs = |taken: Vec<(u64, i64, Entries<ShopRecord>)>| taken.iter().map(|t| t.0).collect::<Vec<_>>();

    assert_eq!(seqs(projection.take(4).await), vec![1, 2], "two batches of two events fit four");
    assert_eq!(seqs(projection.take(1).await), vec![3], "a batch larger than the bound is taken alone");
}
