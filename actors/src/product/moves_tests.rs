//! Stock moved between a product and its share: conserved on each side and across both, each
//! move once per reference, items keeping their numbers and secrets.

use proptest::prelude::*;

use super::*;
use crate::domain::{Item, ItemSecret, Money, OrderId, ProductCode, Quantity, Reference, StockState};
use crate::journal::{Event, StockKind};

const NOW: i64 = 1_700_000_000_000;

fn home() -> ProductCode {
    ProductCode::parse("kopi").unwrap()
}

fn product(code: ProductCode, kind: StockKind) -> ProductState {
    ProductState::new(code, "Kopi".into(), Money::rupiah(5_000), kind)
}

fn secrets(n: usize) -> Vec<ItemSecret> {
    (0..n).map(|i| ItemSecret::parse(&format!("acc-{i}")).unwrap()).collect()
}

fn stocked(n: usize) -> ProductState {
    let mut p = product(home(), StockKind::Items);
    let restock = AddStock {
        reference: Reference::parse("r1").unwrap(),
        stock: Restock::Items(secrets(n)),
        actor: "admin".into(),
    };
    p.restock(restock, NOW).unwrap();
    p
}

fn move_out(reference: &str, quantity: u32, to: &ProductCode) -> MoveOut {
    MoveOut { reference: Reference::parse(reference).unwrap(), quantity, to: to.clone(), actor: "shares".into() }
}

fn move_in(reference: &str, moved: Moved, from: &ProductCode) -> MoveIn {
    MoveIn { reference: Reference::parse(reference).unwrap(), moved, from: from.clone(), actor: "shares".into() }
}

/// Moves `quantity` from one product to the other under `reference`; the units moved.
fn shift(from: &mut ProductState, to: &mut ProductState, reference: &str, quantity: u32) -> Quantity {
    let out = from.move_out(move_out(reference, quantity, &to.code), NOW).unwrap().outcome;
    if out.moved.quantity() > 0 {
        to.move_in(move_in(reference, out.moved.clone(), &from.code), NOW).unwrap();
    }
    out.moved.quantity()
}

fn sale(p: &mut ProductState, n: u64) -> Vec<ItemSecret> {
    let order = OrderId::parse(&format!("TRX-{n:010x}-1")).unwrap();
    let reserve = Reserve {
        order: order.clone(),
        quantity: 1,
        ttl_ms: 60_000,
        store: StoreWhen::Committed,
        tier: PriceTier::Member,
        actor: "test".into(),
    };
    p.reserve(reserve, NOW).unwrap();
    p.commit(Commit { order, actor: "test".into() }, NOW).unwrap().outcome.items
}

#[test]
fn a_move_takes_items_out_of_the_home_and_into_its_share_keeping_their_numbers() {
    let mut kopi = stocked(5);
    let mut share = product(home().share(1), StockKind::Items);
    let out = kopi.move_out(move_out("move:kopi~1:1", 3, &share.code), NOW).unwrap();
    let Moved::Items(items) = &out.outcome.moved else { panic!("items") };
    assert_eq!(items.iter().map(|i| i.no).collect::<Vec<_>>(), [1, 2, 3]);
    assert!(
        matches!(&out.events[0], Event::ItemsMovedOut { items, by, .. } if items == &[1, 2, 3] && by.as_str() == "move:kopi~1:1")
    );
    assert!(
        matches!(&out.events[1], Event::Movement(m) if m.reason == "move" && m.to == StockState::Removed && m.quantity == 3)
    );
    let s = kopi.snapshot();
    assert_eq!((s.received, s.available, s.removed), (5, 2, 3));

    let taken = share.move_in(move_in("move:kopi~1:1", out.outcome.moved, &kopi.code), NOW).unwrap();
    assert!(
        matches!(&taken.events[0], Event::ItemsAdded { items, .. } if items.iter().map(|(no, _)| *no).eq([1, 2, 3]))
    );
    let s = share.snapshot();
    assert_eq!((s.received, s.available, s.removed), (3, 3, 0));
    assert_eq!(sale(&mut share, 1), secrets(1), "the share sells the home's first item");
}

#[test]
fn a_repeated_move_answers_as_the_first_and_a_reused_reference_is_refused() {
    let mut kopi = stocked(5);
    let mut share = product(home().share(1), StockKind::Items);
    let first = kopi.move_out(move_out("m1", 2, &share.code), NOW).unwrap();
    let again = kopi.move_out(move_out("m1", 2, &share.code), NOW).unwrap();
    assert_eq!(first.outcome, again.outcome);
    assert!(again.events.is_empty());
    assert_eq!(
        kopi.move_out(move_out("m1", 3, &share.code), NOW).unwrap_err(),
        ProductRejection::ExistsWithDifferentContent
    );

    share.move_in(move_in("m1", first.outcome.moved.clone(), &kopi.code), NOW).unwrap();
    let repeat = share.move_in(move_in("m1", first.outcome.moved, &kopi.code), NOW).unwrap();
    assert!(repeat.events.is_empty());
    assert_eq!(share.available(), 2, "taken in once");
    let other = Moved::Items(vec![Item { no: 9, secret: ItemSecret::parse("x").unwrap() }]);
    assert_eq!(
        share.move_in(move_in("m1", other, &kopi.code), NOW).unwrap_err(),
        ProductRejection::ExistsWithDifferentContent
    );
}

#[test]
fn items_given_back_find_their_rows_and_may_move_again() {
    let mut kopi = stocked(4);
    let mut share = product(home().share(2), StockKind::Items);
    assert_eq!(shift(&mut kopi, &mut share, "m1", 3), 3);
    let back = share.move_out(move_out("m2", 2, &kopi.code), NOW).unwrap();
    let taken = kopi.move_in(move_in("m2", back.outcome.moved, &share.code), NOW).unwrap();
    assert!(
        matches!(&taken.events[0], Event::ItemsMoved { items, to: StockState::Available, order: None, .. } if items == &[1, 2]),
        "moved back, not inserted: {:?}",
        taken.events[0]
    );
    let s = kopi.snapshot();
    assert_eq!((s.received, s.available, s.removed), (4, 3, 1), "an item back undoes its removal");
    assert_eq!(shift(&mut kopi, &mut share, "m3", 3), 3);
    assert!(share.check_invariants().is_ok());
    let sold: Vec<_> = (0..4).flat_map(|n| sale(&mut share, n)).collect();
    assert_eq!(sold.len(), 4, "every item sold once, from the share");
}

#[test]
fn moves_are_refused_between_unrelated_products_empty_or_of_another_kind() {
    let mut kopi = stocked(2);
    let teh = ProductCode::parse("teh").unwrap();
    assert_eq!(
        kopi.move_out(move_out("m1", 1, &teh), NOW).unwrap_err(),
        ProductRejection::MoveBetweenUnrelatedProducts
    );
    assert_eq!(
        kopi.move_out(move_out("m1", 1, &teh.share(1)), NOW).unwrap_err(),
        ProductRejection::MoveBetweenUnrelatedProducts
    );
    assert_eq!(
        kopi.move_out(move_out("m1", 0, &home().share(1)), NOW).unwrap_err(),
        ProductRejection::MoveMustNotBeEmpty
    );
    let mut counted = product(home().share(1), StockKind::Counted);
    let items = Moved::Items(vec![Item { no: 1, secret: ItemSecret::parse("x").unwrap() }]);
    assert_eq!(
        counted.move_in(move_in("m1", items, &home()), NOW).unwrap_err(),
        ProductRejection::MoveKindMismatch { kind: StockKind::Counted }
    );
    let mut share = product(home().share(1), StockKind::Items);
    let twice = Moved::Items(vec![
        Item { no: 1, secret: secrets(1)[0].clone() },
        Item { no: 1, secret: secrets(1)[0].clone() },
    ]);
    assert_eq!(
        share.move_in(move_in("m2", twice, &home()), NOW).unwrap_err(),
        ProductRejection::DuplicateItem { index: 1 }
    );
    assert_eq!(kopi.snapshot().available, 2, "nothing moved");
}

#[test]
fn a_move_with_nothing_available_moves_nothing_and_is_not_remembered() {
    let mut kopi = product(home(), StockKind::Items);
    let out = kopi.move_out(move_out("m1", 5, &home().share(1)), NOW).unwrap();
    assert_eq!(out.outcome.moved, Moved::Items(Vec::new()));
    assert!(out.events.is_empty());
    let restock =
        AddStock { reference: Reference::parse("r1").unwrap(), stock: Restock::Items(secrets(2)), actor: "a".into() };
    kopi.restock(restock, NOW).unwrap();
    assert_eq!(kopi.move_out(move_out("m1", 5, &home().share(1)), NOW).unwrap().outcome.moved.quantity(), 2);
}

#[test]
fn counted_stock_moves_as_counts() {
    let mut kopi = product(home(), StockKind::Counted);
    let restock = AddStock { reference: Reference::parse("r1").unwrap(), stock: Restock::Count(10), actor: "a".into() };
    kopi.restock(restock, NOW).unwrap();
    let mut share = product(home().share(1), StockKind::Counted);
    assert_eq!(shift(&mut kopi, &mut share, "m1", 4), 4);
    assert_eq!((kopi.snapshot().available, kopi.snapshot().removed), (6, 4));
    assert_eq!((share.snapshot().available, share.snapshot().received), (4, 4));
}

#[test]
fn a_restored_product_remembers_its_moves_and_which_items_are_away() {
    let mut kopi = stocked(4);
    let mut share = product(home().share(1), StockKind::Items);
    let first = kopi.move_out(move_out("m1", 3, &share.code), NOW).unwrap().outcome;
    let Moved::Items(moved) = first.moved.clone() else { panic!("items") };
    let record = ProductRecord {
        row: kopi.row(NOW),
        available: vec![Item { no: 4, secret: secrets(4)[3].clone() }],
        reservations: Vec::new(),
        settled: Vec::new(),
        secrets: secrets(4),
        restocks: Vec::new(),
        moves: vec![StoredMove { reference: Reference::parse("m1").unwrap(), out: true, quantity: 3 }],
        away: moved.iter().map(|item| (Reference::parse("m1").unwrap(), item.clone())).collect(),
    };
    let mut restored = ProductState::restore(record).unwrap();
    let again = restored.move_out(move_out("m1", 3, &share.code), NOW).unwrap();
    assert_eq!(again.outcome.moved, first.moved, "the same items, so a move cut short is finished with them");
    assert!(again.events.is_empty());
    share.move_in(move_in("m1", first.moved, &kopi.code), NOW).unwrap();
    let back = share.move_out(move_out("m2", 3, &kopi.code), NOW).unwrap().outcome.moved;
    let taken = restored.move_in(move_in("m2", back, &share.code), NOW).unwrap();
    assert!(matches!(&taken.events[0], Event::ItemsMoved { to: StockState::Available, .. }), "its rows, moved back");
    assert_eq!(restored.available(), 4);
}

#[derive(Clone, Debug)]
enum Step {
    Sell(bool),
    Move(bool, u32),
    Restock(u8),
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        any::<bool>().prop_map(Step::Sell),
        (any::<bool>(), 1..6u32).prop_map(|(to_share, n)| Step::Move(to_share, n)),
        (1..4u8).prop_map(Step::Restock),
    ]
}

proptest! {
    /// Sales on either side and moves both ways: each side keeps its invariants, no item is
    /// sold twice, and the two together hold exactly what the home received from restocks.
    #[test]
    fn a_product_and_its_share_together_hold_what_was_restocked(steps in prop::collection::vec(step(), 1..80)) {
        let mut kopi = stocked(5);
        let mut share = product(home().share(1), StockKind::Items);
        let mut restocked = 5i64;
        let mut moved = 0i64;
        let mut sold = std::collections::HashSet::new();
        for (i, s) in steps.into_iter().enumerate() {
            match s {
                Step::Sell(on_share) => {
                    let p = if on_share { &mut share } else { &mut kopi };
                    if p.available() > 0 {
                        for item in sale(p, i as u64) {
                            prop_assert!(sold.insert(item.expose().to_string()), "item sold twice");
                        }
                    }
                }
                Step::Move(to_share, n) => {
                    let reference = format!("m{i}");
                    moved += i64::from(if to_share { shift(&mut kopi, &mut share, &reference, n) } else { shift(&mut share, &mut kopi, &reference, n) });
                }
                Step::Restock(n) => {
                    let fresh = (0..n).map(|k| ItemSecret::parse(&format!("new-{i}-{k}")).unwrap()).collect();
                    let restock = AddStock { reference: Reference::parse(&format!("restock-{i}")).unwrap(), stock: Restock::Items(fresh), actor: "a".into() };
                    kopi.restock(restock, NOW).unwrap();
                    restocked += i64::from(n);
                }
            }
            let (h, s) = (kopi.snapshot(), share.snapshot());
            prop_assert!(kopi.check_invariants().is_ok() && share.check_invariants().is_ok());
            prop_assert!(h.removed + s.removed <= moved, "removed only by moves");
            prop_assert_eq!(h.available + s.available + h.sold + s.sold, restocked);
            prop_assert_eq!(h.sold + s.sold, sold.len() as i64);
        }
    }
}
