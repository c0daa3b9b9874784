//! Lanes over the in-memory store: each wallet runs in its lane, what the process shows adds the
//! lanes up, and a stopping engine's lane threads stop.

use std::sync::Arc;
use std::time::Duration;

use super::tests::{settings, MemoryStore};
use super::Lanes;
use crate::domain::{Clock, CustomerId, Money, Reference};
use crate::journal::LedgerKind;
use crate::runtime::CallError;
use crate::wallet::WalletCommand;

fn top_up(reference: &str) -> WalletCommand {
    WalletCommand::Credit {
        reference: Reference::parse(reference).unwrap(),
        amount: Money::rupiah(10_000),
        kind: LedgerKind::TopUp,
        reason: "top up".into(),
        actor: "test".into(),
    }
}

#[actix_rt::test]
async fn each_wallet_runs_in_its_lane_and_the_lanes_add_up() {
    let (lanes, _notices) = Lanes::start(Arc::new(MemoryStore::default()), Clock::system(), settings(), 2).await;
    let customers: Vec<CustomerId> = (0..16).map(|i| CustomerId::parse(&format!("6281{i:04}")).unwrap()).collect();
    for (i, customer) in customers.iter().enumerate() {
        lanes.wallet(customer, top_up(&format!("topup-{i}"))).await.unwrap().unwrap();
    }
    let mut in_lane = [0; 2];
    for customer in &customers {
        let lane = lanes.lane_of_customer(customer);
        in_lane[lane] += 1;
        assert!(lanes.all()[lane].wallet_gauges(customer).is_some(), "{customer:?} runs in lane {lane}");
        assert!(lanes.all()[1 - lane].wallet_gauges(customer).is_none(), "{customer:?} runs in one lane only");
    }
    assert!(in_lane.iter().all(|wallets| *wallets > 0), "the wallets are spread: {in_lane:?}");
    assert_eq!(lanes.active_wallets(), customers.len());
    assert_eq!(lanes.actors().len(), customers.len());
    lanes.flush().await.unwrap();
    let stats = lanes.journal_stats();
    let events = stats.events_committed.load(std::sync::atomic::Ordering::Relaxed);
    let by_lane: u64 = lanes
        .all()
        .iter()
        .map(|lane| lane.journal().stats().events_committed.load(std::sync::atomic::Ordering::Relaxed))
        .sum();
    assert!(events > 0 && events == by_lane, "{events} against {by_lane}");
    assert_eq!(lanes.counters().wallets.handled(), customers.len() as u64, "one top-up each");
}

/// A stopping engine stops its lanes' threads: a flow handed to a stopped lane is refused, not
/// left waiting.
#[actix_rt::test]
async fn a_stopped_lanes_thread_takes_no_more_work() {
    let (lanes, _notices) = Lanes::start(Arc::new(MemoryStore::default()), Clock::system(), settings(), 2).await;
    let other = (0..100)
        .map(|i| CustomerId::parse(&format!("6282{i:04}")).unwrap())
        .find(|customer| lanes.lane_of_customer(customer) == 1)
        .expect("a customer of the second lane");
    assert_eq!(lanes.on_customer_lane(&other, async { 7 }).await.unwrap(), 7, "the lane runs work");
    lanes.flush().await.unwrap();
    lanes.stop_threads();
    // The thread ends soon after it is told to; polled, as it says nothing when it has.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    loop {
        match lanes.on_customer_lane(&other, async { 7 }).await {
            Err(CallError::Stopped | CallError::OutcomeUnknown { .. }) => break,
            Ok(_) => assert!(tokio::time::Instant::now() < deadline, "the lane still runs work"),
            Err(other) => panic!("{other:?}"),
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}
