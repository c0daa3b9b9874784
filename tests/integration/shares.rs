//! A product's shares (products of their own that sell part of its stock in another lane): stock
//! moved to one and back is stored on both sides, survives a restart, and a move a stop cut
//! short is finished by the next start, with the audit clean throughout.

use warung_actors::domain::{Item, ItemSecret, Reference};
use warung_actors::journal::StockKind;
use warung_actors::product::{MoveOut, Moved, ProductCommand};

use crate::helpers::*;

fn secrets(name: &str, range: std::ops::Range<usize>) -> Vec<ItemSecret> {
    range.map(|i| ItemSecret::parse(&format!("{name}-item-{i}")).unwrap()).collect()
}

async fn counts(engine: &TestEngine, product: &warung_actors::domain::ProductCode) -> (i64, i64, i64) {
    let s = engine.lanes.product_snapshot(product).await.unwrap();
    (s.received, s.available, s.removed)
}

async fn stock_moves_to_a_share_and_back_and_survives_a_restart(backend: Backend) {
    let engine = TestEngine::start_with(backend, |s| s.engine.lanes = 2).await;
    let kopi = product_with_items(&engine, "kopi", 5_000, 6).await;
    let share = engine.shares.ensure(&kopi, 1).await.unwrap();
    assert_eq!(share, kopi.share(1));
    assert_eq!(engine.shares.ensure(&kopi, 1).await.unwrap(), share, "a second ensure finds it");
    assert!(!engine.catalog.contains(&share), "a share is never in the catalogue");

    assert_eq!(engine.shares.shift(&kopi, &share, 4).await.unwrap(), 4);
    assert_eq!(engine.shares.shift(&share, &kopi, 1).await.unwrap(), 1);
    assert_eq!(counts(&engine, &kopi).await, (6, 3, 3), "6 restocked, 4 moved out, 1 back");
    assert_eq!(counts(&engine, &share).await, (4, 3, 1));
    assert_audit_clean(engine.store.as_ref()).await;

    let engine = engine.restart().await;
    assert_eq!(counts(&engine, &kopi).await, (6, 3, 3));
    assert_eq!(counts(&engine, &share).await, (4, 3, 1));
    assert!(engine.catalog.codes().iter().all(|code| !code.is_share()), "{:?}", engine.catalog.codes());
    // Everything can move back, and the items are the ones restocked, each once.
    assert_eq!(engine.shares.shift(&share, &kopi, 10).await.unwrap(), 3);
    let command = ProductCommand::Restock {
        reference: reference("stock-more"),
        stock: warung_actors::product::Restock::Items(secrets("kopi", 0..1)),
        actor: "test".into(),
    };
    let refused = engine.lanes.product(&kopi, command).await.unwrap();
    assert!(refused.is_err(), "an item that came back is still known to its product: {refused:?}");
    assert_eq!(counts(&engine, &kopi).await, (6, 6, 0));
    assert_eq!(counts(&engine, &share).await, (4, 0, 4));
    engine.finish().await;
}

/// A move out of the product is stored, and the process stops before the move into the share:
/// the next start finishes it with the same items, and nothing is lost or doubled.
async fn a_move_cut_short_is_finished_by_the_next_start(backend: Backend) {
    let engine = TestEngine::start_with(backend, |s| s.engine.lanes = 2).await;
    let kopi = product_with_items(&engine, "kopi", 5_000, 5).await;
    let share = engine.shares.ensure(&kopi, 1).await.unwrap();
    let reference = Reference::parse(&format!("move:{share}:00000000000000aa")).unwrap();
    let out = MoveOut { reference, quantity: 2, to: share.clone(), actor: "test".into() };
    let moved = engine.lanes.product(&kopi, out).await.unwrap().unwrap().moved;
    let expected: Vec<Item> =
        secrets("kopi", 0..2).into_iter().zip(1..).map(|(secret, no)| Item { no, secret }).collect();
    assert_eq!(moved, Moved::Items(expected));
    assert_eq!(counts(&engine, &share).await, (0, 0, 0), "not in the share yet");

    let engine = engine.restart().await;
    assert_eq!(counts(&engine, &kopi).await, (5, 3, 2));
    assert_eq!(counts(&engine, &share).await, (2, 2, 0), "the start finished the move");
    assert!(engine.store.unfinished_moves().await.unwrap().is_empty());
    let engine = engine.restart().await;
    assert_eq!(counts(&engine, &share).await, (2, 2, 0), "nothing moved twice");
    assert_eq!(counts(&engine, &kopi).await, (5, 3, 2));
    engine.finish().await;
}

#[actix_rt::test]
async fn a_share_of_a_counted_product_moves_counts() {
    let engine = TestEngine::start_with(Backend::Sqlite, |s| s.engine.lanes = 2).await;
    let tea = code("teh");
    engine.catalog.create(&tea, "Teh", warung_actors::domain::Money::rupiah(3_000), StockKind::Counted).await.unwrap();
    let command = ProductCommand::Restock {
        reference: reference("stock-teh"),
        stock: warung_actors::product::Restock::Count(9),
        actor: "test".into(),
    };
    engine.lanes.product(&tea, command).await.unwrap().unwrap();
    let share = engine.shares.ensure(&tea, 1).await.unwrap();
    assert_eq!(engine.shares.shift(&tea, &share, 5).await.unwrap(), 5);
    let engine = engine.restart().await;
    assert_eq!(counts(&engine, &tea).await, (9, 4, 5));
    assert_eq!(counts(&engine, &share).await, (5, 5, 0));
    engine.finish().await;
}

/// The audit finds a move that left a product long ago and never arrived, and an item sold both
/// by a product and by its share (the rows changed by hand, as a bug would leave them).
async fn the_audit_finds_a_lost_move_and_an_item_sold_by_a_product_and_its_share(backend: Backend) {
    let engine = TestEngine::start_with(backend, |s| s.engine.lanes = 2).await;
    let kopi = product_with_items(&engine, "kopi", 5_000, 3).await;
    let share = engine.shares.ensure(&kopi, 1).await.unwrap();
    assert_eq!(engine.shares.shift(&kopi, &share, 1).await.unwrap(), 1);
    let reference = Reference::parse(&format!("move:{share}:00000000000000bb")).unwrap();
    let out = MoveOut { reference, quantity: 1, to: share.clone(), actor: "test".into() };
    engine.lanes.product(&kopi, out).await.unwrap().unwrap();
    let db = engine.stop().await;

    let store = db.store().await;
    assert_audit_clean(store.as_ref()).await;
    for sql in [
        "UPDATE inventory_movements SET at = at - 120000 WHERE reason = 'move' AND reference LIKE '%bb'",
        "UPDATE items SET status = 'sold', order_id = 'TRX-00000000ff-1' WHERE secret = 'kopi-item-0'",
    ] {
        if db.is_postgres() {
            sqlx::query(sql).execute(&sqlx::PgPool::connect(&db.url).await.unwrap()).await.unwrap();
        } else {
            sqlx::query(sql).execute(&sqlx::SqlitePool::connect(&db.url).await.unwrap()).await.unwrap();
        }
    }
    let report = warung::audit::audit(store.as_ref()).await.unwrap().to_string();
    assert!(report.contains("move:kopi~1:00000000000000bb left 120s ago and never arrived"), "{report}");
    assert!(report.contains("kopi: an item sold 2 times (by the product and its shares)"), "{report}");
    store.close().await;
    db.remove().await;
}

on_both_backends!(
    stock_moves_to_a_share_and_back_and_survives_a_restart,
    a_move_cut_short_is_finished_by_the_next_start,
    the_audit_finds_a_lost_move_and_an_item_sold_by_a_product_and_its_share,
);
