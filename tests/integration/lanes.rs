//! What lanes (`engine.lanes`: several journals on one store) need of the store itself.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::oneshot;
use warung::records::ShopRecord;
use warung::store::{JournalMode, JournalOptions, Journals, Writers};
use warung_actors::domain::Money;
use warung_actors::journal::{Earlier, Entries, Entry, Event, WalletRow};

use crate::helpers::*;

/// How long the batches below may take in all: well past the writers' timeouts, so a batch
/// stuck behind another fails rather than the test hangs.
const BATCHES_WITHIN_SECS: u64 = 20;

fn wallet(who: &str, rupiah: u64) -> Entries<ShopRecord> {
    let row = WalletRow { customer: customer(who), balance: Money::rupiah(rupiah), updated_at: rupiah as i64 };
    Arc::new(vec![Entry::Event(Event::Wallet(row))])
}

/// An `Earlier` the test settles, and the sender that settles it.
fn gate() -> (oneshot::Sender<bool>, Earlier) {
    let (settle, settled) = oneshot::channel();
    (settle, Box::pin(async move { settled.await.unwrap_or(false) }))
}

/// Two journals commit through one Postgres store of the tables, as two lanes do: lane A's three
/// batches each write one customer's row, and lane B's one batch, handed to the store between
/// A's second and third, writes another's. A batch may write the rows the batch ahead of it does
/// not write while that one is still open, and the batch ahead is its own journal's: split
/// against B's, A's third wrote the customer's row before A's second, which then waited on it
/// while the third waited for the second to commit (checked before the fix: Postgres ended the
/// third's transaction, idle in it past the writers' timeout, and the batch failed).
#[actix_rt::test]
async fn on_postgres_tables_a_batch_waits_for_its_own_journals_batch_ahead_not_anothers() {
    let db = TestDb::new(Backend::Postgres).await;
    db.store().await.close().await;
    let options = JournalOptions { journals: Journals::Several, ..JournalOptions::from(JournalMode::Tables) };
    let store = warung::store::connect_with(&db.url, 4, options, Writers::ThisProcess).await.unwrap();

    let (open_first, first_earlier) = gate();
    let (first_done, second_earlier) = gate();
    let (second_done, third_earlier) = gate();
    let (first, second, third) = (wallet("a-lane", 10), wallet("a-lane", 20), wallet("a-lane", 30));
    let first_commit = store.commit(&first, first_earlier);
    let second_commit = store.commit(&second, second_earlier);
    let other_lane = wallet("b-lane", 5);
    store.commit(&other_lane, Box::pin(async { true })).await.expect("lane B's batch");
    let third_commit = store.commit(&third, third_earlier);

    let lane_a = async {
        let first = async {
            let result = first_commit.await;
            let _ = first_done.send(result.is_ok());
            result
        };
        let second = async {
            let result = second_commit.await;
            let _ = second_done.send(result.is_ok());
            result
        };
        // The batch ahead of the first stays open while the others are under way.
        let open = async {
            tokio::time::sleep(Duration::from_millis(300)).await;
            let _ = open_first.send(true);
        };
        let (first, second, third, ()) = futures::join!(first, second, third_commit, open);
        (first, second, third)
    };
    let (first, second, third) =
        tokio::time::timeout(Duration::from_secs(BATCHES_WITHIN_SECS), lane_a).await.expect("the batches end");
    assert!(first.is_ok(), "{first:?}");
    assert!(second.is_ok(), "{second:?}");
    assert!(third.is_ok(), "{third:?}");
    let stored = store.load_wallet(&customer("a-lane")).await.unwrap();
    assert_eq!(stored.balance, Money::rupiah(30), "the last batch's row is the one stored");
    store.close().await;
    db.remove().await;
}
