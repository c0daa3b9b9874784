use std::sync::Mutex;

use tokio::sync::oneshot;

use super::*;
use crate::domain::{ProductCode, StockState};
use crate::journal::{Event, MovementRow};

/// An in-memory sink: records committed batches, fails on demand.
#[derive(Default)]
struct MemorySink {
    batches: Mutex<Vec<Vec<String>>>,
    fail_next: Mutex<Option<SinkError>>,
    refuse_reference: Mutex<Option<String>>,
    /// The next call waits for this before it writes anything.
    gate: Mutex<Option<oneshot::Receiver<()>>>,
    /// Every call as it starts: the references it was given.
    calls: Mutex<Vec<Vec<String>>>,
    /// Every call's thread, by name.
    threads: Mutex<Vec<Option<String>>>,
}

impl Sink<()> for MemorySink {
    fn commit<'a>(&'a self, events: &'a Entries<()>, earlier: Earlier) -> BoxFuture<'a, Result<(), SinkError>> {
        let references: Vec<String> = events.iter().map(reference_of).collect();
        self.calls.lock().unwrap().push(references.clone());
        self.threads.lock().unwrap().push(std::thread::current().name().map(str::to_string));
        let gate = self.gate.lock().unwrap().take();
        let fail = self.fail_next.lock().unwrap().take();
        async move {
            if let Some(gate) = gate {
                let _ = gate.await;
            }
            tokio::task::yield_now().await;
            if let Some(error) = fail {
                return Err(error);
            }
            after(earlier).await?;
            if let Some(bad) = self.refuse_reference.lock().unwrap().as_ref() {
                if references.contains(bad) {
                    return Err(SinkError::Refused(format!("duplicate {bad}")));
                }
            }
            self.batches.lock().unwrap().push(references);
            Ok(())
        }
        .boxed()
    }
}

fn reference_of(event: &Entry<()>) -> String {
    match event {
        Entry::Event(Event::Movement(row)) => row.reference.to_string(),
        other => format!("{other:?}"),
    }
}

fn movement(reference: &str) -> Entry<()> {
    Entry::Event(Event::Movement(MovementRow {
        product: ProductCode::parse("p").unwrap(),
        quantity: 1,
        from: StockState::Available,
        to: StockState::Reserved,
        reason: "test".into(),
        reference: reference.into(),
        actor: "test".into(),
        at: 0,
        content_hash: None,
    }))
}

fn key() -> ActorKey {
    ActorKey::Product(ProductCode::parse("p").unwrap())
}

#[tokio::test]
async fn tickets_resolve_after_their_batch_commits_in_submission_order() {
    let sink = Arc::new(MemorySink::default());
    let (journal, _fenced) = Journal::start(sink.clone(), JournalSettings::default());
    let mut tickets = Vec::new();
    for i in 0..100 {
        tickets.push(journal.try_slot().unwrap().submit(None, vec![movement(&i.to_string())]));
    }
    for ticket in tickets {
        ticket.await.unwrap();
    }
    let committed: Vec<String> = sink.batches.lock().unwrap().concat();
    assert_eq!(committed, (0..100).map(|i| i.to_string()).collect::<Vec<_>>());
    assert!(sink.batches.lock().unwrap().len() < 100, "submissions were grouped");
}

#[tokio::test]
async fn a_batch_as_large_as_the_writer_threads_minimum_is_written_there_and_settles_in_order() {
    let sink = Arc::new(MemorySink::default());
    let settings = JournalSettings { writer_thread_events_min: 3, ..JournalSettings::default() };
    let (journal, _fenced) = Journal::start(sink.clone(), settings);
    journal.try_slot().unwrap().submit(None, vec![movement("small")]).await.unwrap();
    let large = ["a", "b", "c"].map(movement).to_vec();
    journal.try_slot().unwrap().submit(None, large).await.unwrap();
    // Then batches of every size, gathered as they come, written from both threads at once.
    let mut tickets = Vec::new();
    let mut submitted = Vec::new();
    for i in 0..200 {
        let references: Vec<String> = (0..=i % 4).map(|j| format!("{i}.{j}")).collect();
        let entries = references.iter().map(|r| movement(r)).collect();
        submitted.extend(references);
        tickets.push(journal.try_slot().unwrap().submit(None, entries));
        if i % 7 == 0 {
            tokio::task::yield_now().await;
        }
    }
    for ticket in tickets {
        ticket.await.unwrap();
    }
    let committed: Vec<String> = sink.batches.lock().unwrap().concat();
    assert_eq!(committed[..4], ["small", "a", "b", "c"]);
    assert_eq!(committed[4..], submitted[..]);
    let here = std::thread::current().name().map(str::to_string);
    let calls = sink.calls.lock().unwrap();
    let threads = sink.threads.lock().unwrap();
    assert_eq!(threads[0], here, "a small batch is written where it was gathered");
    assert_eq!(threads[1].as_deref(), Some("warung-writer"), "a large one from the writer thread");
    for (call, thread) in calls.iter().zip(threads.iter()) {
        let expected = if call.len() >= 3 { Some("warung-writer") } else { here.as_deref() };
        assert_eq!(thread.as_deref(), expected, "a batch of {} events", call.len());
    }
}

#[tokio::test]
async fn a_failed_batch_fails_its_tickets_and_fences_its_actors() {
    let sink = Arc::new(MemorySink::default());
    let (journal, mut fenced) = Journal::start(sink.clone(), JournalSettings::default());
    *sink.fail_next.lock().unwrap() = Some(SinkError::Unavailable("connection reset".into()));
    let lost = journal.try_slot().unwrap().submit(Some((key(), 7)), vec![movement("lost")]);
    assert!(matches!(lost.await, Err(JournalError::CommitFailed(_))));
    assert_eq!(fenced.recv().await.unwrap(), vec![key()]);

    let stale = journal.try_slot().unwrap().submit(Some((key(), 7)), vec![movement("stale")]);
    assert_eq!(stale.await, Err(JournalError::Fenced));
    let reloaded = journal.try_slot().unwrap().submit(Some((key(), 8)), vec![movement("fresh")]);
    reloaded.await.unwrap();
    let straggler = journal.try_slot().unwrap().submit(Some((key(), 7)), vec![movement("straggler")]);
    assert_eq!(straggler.await, Err(JournalError::Fenced), "the old incarnation stays fenced after a new one wrote");
    assert_eq!(sink.batches.lock().unwrap().concat(), vec!["fresh".to_string()]);
}

#[tokio::test]
async fn a_refused_submission_does_not_fail_its_neighbours() {
    let sink = Arc::new(MemorySink::default());
    let settings = JournalSettings { batch_window: Duration::from_millis(50), ..JournalSettings::default() };
    let (journal, _fenced) = Journal::start(sink.clone(), settings);
    *sink.refuse_reference.lock().unwrap() = Some("bad".into());
    let good1 = journal.try_slot().unwrap().submit(None, vec![movement("good1")]);
    let bad = journal.try_slot().unwrap().submit(Some((key(), 1)), vec![movement("bad")]);
    let good2 = journal.try_slot().unwrap().submit(None, vec![movement("good2")]);
    good1.await.unwrap();
    good2.await.unwrap();
    assert!(matches!(bad.await, Err(JournalError::CommitFailed(_))));
    assert_eq!(sink.batches.lock().unwrap().concat(), vec!["good1".to_string(), "good2".to_string()]);
}

#[tokio::test]
async fn flush_waits_for_everything_before_it() {
    let sink = Arc::new(MemorySink::default());
    let (journal, _fenced) = Journal::start(sink.clone(), JournalSettings::default());
    let _pending = journal.try_slot().unwrap().submit(None, vec![movement("a")]);
    journal.flush().await.unwrap();
    assert_eq!(sink.batches.lock().unwrap().concat(), vec!["a".to_string()]);
}

#[tokio::test]
async fn a_submission_fails_when_a_change_it_depends_on_failed_and_fences_its_maker() {
    let sink = Arc::new(MemorySink::default());
    let (journal, mut fenced) = Journal::start(sink.clone(), JournalSettings::default());
    let wallet = ActorKey::Wallet(crate::domain::CustomerId::parse("budi").unwrap());
    *sink.fail_next.lock().unwrap() = Some(SinkError::Unavailable("connection reset".into()));
    let debit = journal.try_slot().unwrap().submit(Some((wallet.clone(), 3)), vec![movement("debit")]);
    assert!(debit.await.is_err());
    let commit =
        journal.try_slot().unwrap().submit_after(Some((key(), 1)), vec![(wallet.clone(), 3)], vec![movement("commit")]);
    assert_eq!(commit.await, Err(JournalError::Fenced), "a commit whose debit was lost is not stored");
    assert_eq!(fenced.recv().await.unwrap(), vec![wallet.clone()]);
    assert_eq!(fenced.recv().await.unwrap(), vec![key()], "the product applied the refused commit: it reloads");
    let stale = journal.try_slot().unwrap().submit(Some((key(), 1)), vec![movement("stale")]);
    assert_eq!(stale.await, Err(JournalError::Fenced), "its memory held the refused commit");
    let unrelated =
        journal.try_slot().unwrap().submit_after(Some((key(), 2)), vec![(wallet, 4)], vec![movement("later")]);
    unrelated.await.unwrap();
    assert_eq!(sink.batches.lock().unwrap().concat(), vec!["later".to_string()]);
}

/// Holds the sink's next call, fills a second batch behind it, and returns the tickets of both.
async fn two_batches_in_flight(sink: &Arc<MemorySink>) -> (Journal<()>, Vec<Ticket>, Vec<Ticket>, oneshot::Sender<()>) {
    let (open, gate) = oneshot::channel();
    *sink.gate.lock().unwrap() = Some(gate);
    let settings =
        JournalSettings { batch_events_max: 4, batch_window: Duration::from_millis(1), ..JournalSettings::default() };
    let (journal, _fenced) = Journal::start(sink.clone(), settings);
    let first: Vec<Ticket> = (0..2)
        .map(|i| journal.try_slot().unwrap().submit(Some((key(), 1)), vec![movement(&format!("a{i}"))]))
        .collect();
    while sink.calls.lock().unwrap().is_empty() {
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    let wallet = ActorKey::Wallet(crate::domain::CustomerId::parse("budi").unwrap());
    let second: Vec<Ticket> = (0..2)
        .map(|i| journal.try_slot().unwrap().submit(Some((wallet.clone(), 2)), vec![movement(&format!("b{i}"))]))
        .collect();
    while sink.calls.lock().unwrap().len() < 2 {
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    (journal, first, second, open)
}

#[tokio::test]
async fn a_second_batch_starts_while_the_first_is_in_the_store_and_commits_after_it() {
    let sink = Arc::new(MemorySink::default());
    let (_journal, first, second, open) = two_batches_in_flight(&sink).await;
    assert_eq!(sink.calls.lock().unwrap().len(), 2, "the second batch reached the store before the first finished");
    tokio::time::sleep(Duration::from_millis(20)).await;
    assert!(sink.batches.lock().unwrap().is_empty(), "nothing commits before the first batch");
    open.send(()).unwrap();
    for ticket in first.into_iter().chain(second) {
        ticket.await.unwrap();
    }
    let committed = sink.batches.lock().unwrap().clone();
    assert_eq!(committed, vec![vec!["a0".to_string(), "a1".into()], vec!["b0".to_string(), "b1".into()]]);
}

#[tokio::test]
async fn a_batch_behind_a_failed_one_is_rolled_back_and_runs_again() {
    let sink = Arc::new(MemorySink::default());
    *sink.fail_next.lock().unwrap() = Some(SinkError::Unavailable("connection reset".into()));
    let (_journal, first, second, open) = two_batches_in_flight(&sink).await;
    open.send(()).unwrap();
    for ticket in first {
        assert!(matches!(ticket.await, Err(JournalError::CommitFailed(_))));
    }
    for ticket in second {
        ticket.await.expect("an unrelated actor's change behind the failed batch is stored on its second run");
    }
    assert_eq!(sink.batches.lock().unwrap().concat(), vec!["b0".to_string(), "b1".into()]);
    assert_eq!(sink.calls.lock().unwrap().len(), 3, "the second batch was sent again");
}

#[tokio::test]
async fn a_fenced_writer_fails_every_change_and_sends_nothing_more() {
    let sink = Arc::new(MemorySink::default());
    *sink.fail_next.lock().unwrap() = Some(SinkError::Fenced("node a incarnation 1 has been fenced".into()));
    let (journal, first, second, open) = two_batches_in_flight(&sink).await;
    open.send(()).unwrap();
    for ticket in first.into_iter().chain(second) {
        assert!(matches!(ticket.await, Err(JournalError::CommitFailed(_))));
    }
    assert!(journal.stats().writer_fenced.load(Ordering::Relaxed));
    let later = journal.try_slot().unwrap().submit(None, vec![movement("later")]);
    assert!(matches!(later.await, Err(JournalError::CommitFailed(_))));
    assert_eq!(sink.calls.lock().unwrap().len(), 2, "neither the batch behind nor a later one was sent");
    assert!(sink.batches.lock().unwrap().is_empty());
}

#[tokio::test]
async fn the_journal_knows_whose_changes_it_still_holds_until_they_settle() {
    let sink = Arc::new(MemorySink::default());
    let (gate_tx, gate_rx) = oneshot::channel();
    *sink.gate.lock().unwrap() = Some(gate_rx);
    let (journal, _fenced) = Journal::start(sink.clone(), JournalSettings::default());
    let other = ActorKey::Product(ProductCode::parse("other").unwrap());
    assert!(!journal.holds_changes_of(&key()), "nothing submitted yet");

    let committed = journal.try_slot().unwrap().submit(Some((key(), 1)), vec![movement("a")]);
    assert!(journal.holds_changes_of(&key()), "submitted, not yet committed");
    assert!(!journal.holds_changes_of(&other) || InFlight::slot(&other) == InFlight::slot(&key()));
    gate_tx.send(()).unwrap();
    committed.await.unwrap();
    assert!(!journal.holds_changes_of(&key()), "committed");

    *sink.fail_next.lock().unwrap() = Some(SinkError::Unavailable("down".into()));
    let failed = journal.try_slot().unwrap().submit(Some((key(), 1)), vec![movement("b")]);
    assert!(failed.await.is_err());
    assert!(!journal.holds_changes_of(&key()), "failed: settled too, nothing of it will be stored");
}

#[tokio::test(start_paused = true)]
async fn a_change_answered_before_it_is_stored_rides_with_the_next_one_somebody_waits_for() {
    let sink = Arc::new(MemorySink::default());
    let (journal, _fenced) = Journal::start(sink.clone(), JournalSettings::default());
    let debit = journal.try_slot().unwrap().awaited(Awaited::No).submit(Some((key(), 1)), vec![movement("debit")]);
    for _ in 0..10 {
        tokio::task::yield_now().await;
    }
    assert!(sink.calls.lock().unwrap().is_empty(), "nobody waits for it: no batch of its own");
    let commit = journal.try_slot().unwrap().submit(Some((key(), 1)), vec![movement("commit")]);
    commit.await.unwrap();
    debit.await.unwrap();
    assert_eq!(
        *sink.batches.lock().unwrap(),
        vec![vec!["debit".to_string(), "commit".to_string()]],
        "one commit for both"
    );
}

#[tokio::test(start_paused = true)]
async fn a_change_nobody_waits_for_is_stored_within_the_gathering_time_all_the_same() {
    let sink = Arc::new(MemorySink::default());
    let (journal, _fenced) = Journal::start(sink.clone(), JournalSettings::default());
    let started = tokio::time::Instant::now();
    let debit = journal.try_slot().unwrap().awaited(Awaited::No).submit(Some((key(), 1)), vec![movement("debit")]);
    debit.await.unwrap();
    let waited = started.elapsed();
    assert!(waited <= Duration::from_micros(runner::BATCH_GATHER_MICROS_MAX) + Duration::from_millis(1), "{waited:?}");
    assert_eq!(sink.batches.lock().unwrap().len(), 1);
}
