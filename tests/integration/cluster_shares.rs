//! A shop that ran several lanes in one process (so its products have shares) and now runs as a
//! cluster, whose nodes sell from the product: the node that acquires a product's shard finishes
//! what the lanes left, and the owner's view still counts what the shares sold.

use std::time::Duration;

use warung::cluster::membership;
use warung_actors::domain::{Reference, StockState};
use warung_actors::product::MoveOut;

use crate::cluster_routing::{node, until_shared};
use crate::helpers::*;
use crate::shares::buys_one_in_lane;

/// A move cut short (out of the product, never into its share) and a share holding stock: once
/// the node owns the product's shard, the move is finished and the share's stock is back in the
/// product, where the node sells it; the share's sale stays in the owner's counts.
#[actix_rt::test]
async fn a_node_finishes_the_moves_and_takes_back_the_shares_a_laned_run_left() {
    let engine = TestEngine::start_with(Backend::Postgres, |s| s.engine.lanes = 2).await;
    let kopi = product_with_items(&engine, "kopi", 5_000, 10).await;
    let share = engine.shares.of(&kopi).pop().expect("the restock made the other lane's share");
    let lane = usize::from(share.share_of().unwrap().1);
    buys_one_in_lane(&engine, &kopi, lane).await;
    let reference = Reference::parse(&format!("move:{share}:00000000000000aa")).unwrap();
    let out = MoveOut { reference, quantity: 2, to: share.clone(), actor: "test".into() };
    engine.lanes.product(&kopi, out).await.unwrap().unwrap();
    let db = engine.stop().await;
    let store = db.store().await;
    assert_eq!(store.unfinished_moves().await.unwrap().len(), 1);

    let (engine, first_node) = node(&db, "a").await;
    let actors = engine.checkout.actors().clone();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let acquired = membership::unowned(first_node.pool()).await.unwrap() == 0;
        let finished = store.unfinished_moves().await.unwrap().is_empty();
        let at_share = actors.product_snapshot(&share).await.unwrap();
        let at_home = actors.product_snapshot(&kopi).await.unwrap();
        // The give-back counts its units as moving until its task resumes after the move in.
        let moving = engine.shares.in_transit(&kopi);
        if acquired && finished && at_share.available == 0 && at_home.available == 9 && moving == 0 {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the node did not finish what the lanes left: the share and the moved units back in the product"
        );
        // Done by the node's recovery of the shards it acquires, which nothing announces: polled.
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let whole = engine.catalog.snapshot(&kopi).await.unwrap();
    assert_eq!((whole.received, whole.available, whole.sold, whole.removed), (10, 9, 1, 0), "the owner's view");
    engine.lanes.flush().await.unwrap();
    let sold = engine.store.movements_of(&kopi, 50).await.unwrap();
    assert_eq!(sold.iter().filter(|m| m.to == StockState::Sold).count(), 1, "the share's sale is the product's");

    // A second node: whichever of the two does not own the product asks the owner for the
    // product and its share, and sees the same.
    let (second, second_node) = node(&db, "b").await;
    until_shared(&first_node, &second_node).await;
    for engine in [&engine, &second] {
        let whole = engine.catalog.snapshot(&kopi).await.unwrap();
        assert_eq!((whole.received, whole.available, whole.sold, whole.removed), (10, 9, 1, 0), "on either node");
    }
    assert_audit_clean(store.as_ref()).await;
    second.shutdown().await.unwrap();
    engine.shutdown().await.unwrap();
    drop((first_node, second_node));
    db.remove().await;
}
