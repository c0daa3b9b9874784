use proptest::prelude::*;

use super::*;
use crate::domain::{ItemNo, StockState};
use crate::domain::{ItemSecret, Money, OrderId, ProductCode, Reference};
use crate::journal::{Event, StockKind};
use crate::product::StoreWhen;
use crate::runtime::Transition;

const NOW: i64 = 1_700_000_000_000;
const TTL: i64 = 60_000;

fn order(n: u64) -> OrderId {
    OrderId::parse(&format!("TRX-{n:010x}-1")).unwrap()
}

fn items(prefix: &str, n: usize) -> Vec<ItemSecret> {
    (0..n).map(|i| ItemSecret::parse(&format!("{prefix}-{i}")).unwrap()).collect()
}

fn product_with(n: usize) -> ProductState {
    let mut p = ProductState::new(
        ProductCode::parse("viu1b").unwrap(),
        "Viu 1 bulan".into(),
        Money::rupiah(15_000),
        StockKind::Items,
    );
    if n > 0 {
        p.apply(restock("r1", Restock::Items(items("acc", n))), NOW).unwrap();
    }
    p
}

fn restock(reference: &str, stock: Restock) -> ProductCommand {
    ProductCommand::Restock { reference: Reference::parse(reference).unwrap(), stock, actor: "admin".into() }
}

fn reserve(o: u64, quantity: u32) -> ProductCommand {
    ProductCommand::Reserve {
        tier: PriceTier::Member,
        order: order(o),
        quantity,
        ttl_ms: TTL,
        store: StoreWhen::Reserved,
        actor: "test".into(),
    }
}

fn commit(o: u64) -> ProductCommand {
    ProductCommand::Commit { order: order(o), actor: "test".into() }
}

fn release(o: u64) -> ProductCommand {
    ProductCommand::Release { order: order(o), reason: ReleaseReason::Cancelled, actor: "test".into() }
}

#[test]
fn reserve_then_commit_delivers_the_reserved_items() {
    let mut p = product_with(3);
    p.apply(reserve(1, 2), NOW).unwrap();
    let t = p.apply(commit(1), NOW + 1).unwrap();
    match t.outcome {
        ProductOutcome::Committed { items, quantity, total, .. } => {
            assert_eq!(quantity, 2);
            assert_eq!(total, Money::rupiah(30_000));
            assert_eq!(items.iter().map(|i| i.expose().to_string()).collect::<Vec<_>>(), ["acc-0", "acc-1"]);
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(p.snapshot().sold, 2);
    assert_eq!(p.available(), 1);
}

#[test]
fn a_zero_quantity_is_refused_first() {
    let mut p = product_with(0);
    assert_eq!(p.apply(reserve(1, 0), NOW).unwrap_err(), ProductRejection::QuantityMustNotBeZero);
}

#[test]
fn reserving_more_than_available_is_refused_and_changes_nothing() {
    let mut p = product_with(2);
    let before = p.snapshot();
    assert_eq!(
        p.apply(reserve(1, 3), NOW).unwrap_err(),
        ProductRejection::ExceedsAvailable { available: 2, requested: 3 }
    );
    assert_eq!(p.snapshot(), before);
}

#[test]
fn a_duplicate_reserve_returns_the_first_outcome_without_events() {
    let mut p = product_with(2);
    let first = p.apply(reserve(1, 1), NOW).unwrap();
    let again = p.apply(reserve(1, 1), NOW + 5).unwrap();
    assert_eq!(first.outcome, again.outcome);
    assert!(again.events.is_empty());
    assert_eq!(p.available(), 1);
}

#[test]
fn the_same_order_with_a_different_quantity_is_refused() {
    let mut p = product_with(3);
    p.apply(reserve(1, 1), NOW).unwrap();
    assert_eq!(
        p.apply(reserve(1, 2), NOW).unwrap_err(),
        ProductRejection::ExistsWithDifferentQuantity { reserved: 1, requested: 2 }
    );
}

#[test]
fn a_duplicate_commit_returns_the_same_items() {
    let mut p = product_with(1);
    p.apply(reserve(1, 1), NOW).unwrap();
    let first = p.apply(commit(1), NOW).unwrap();
    let again = p.apply(commit(1), NOW).unwrap();
    assert_eq!(first.outcome, again.outcome);
    assert!(again.events.is_empty());
}

#[test]
fn released_items_return_to_the_front_of_the_queue() {
    let mut p = product_with(2);
    p.apply(reserve(1, 1), NOW).unwrap();
    p.apply(release(1), NOW).unwrap();
    p.apply(reserve(2, 1), NOW).unwrap();
    match p.apply(commit(2), NOW).unwrap().outcome {
        ProductOutcome::Committed { items, .. } => assert_eq!(items[0].expose(), "acc-0"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_committed_order_cannot_be_released_and_a_released_one_cannot_be_committed() {
    let mut p = product_with(2);
    p.apply(reserve(1, 1), NOW).unwrap();
    p.apply(commit(1), NOW).unwrap();
    assert_eq!(p.apply(release(1), NOW).unwrap_err(), ProductRejection::AlreadyCommitted);
    p.apply(reserve(2, 1), NOW).unwrap();
    p.apply(release(2), NOW).unwrap();
    assert_eq!(
        p.apply(commit(2), NOW).unwrap_err(),
        ProductRejection::ReservationReleased { reason: ReleaseReason::Cancelled }
    );
}

#[test]
fn an_expired_reservation_cannot_be_committed_and_is_released_when_due() {
    let mut p = product_with(1);
    p.apply(reserve(1, 1), NOW).unwrap();
    assert_eq!(p.apply(commit(1), NOW + TTL).unwrap_err(), ProductRejection::ReservationExpired);
    let t = p.apply(ProductCommand::ExpireDue, NOW + TTL).unwrap();
    assert_eq!(t.outcome, ProductOutcome::Expired { orders: vec![order(1)] });
    assert_eq!(p.available(), 1);
    assert_eq!(
        p.apply(commit(1), NOW + TTL).unwrap_err(),
        ProductRejection::ReservationReleased { reason: ReleaseReason::Expired }
    );
}

#[test]
fn expire_due_leaves_reservations_that_are_not_due() {
    let mut p = product_with(2);
    p.apply(reserve(1, 1), NOW).unwrap();
    p.apply(reserve(2, 1), NOW + 10).unwrap();
    let t = p.apply(ProductCommand::ExpireDue, NOW + TTL).unwrap();
    assert_eq!(t.outcome, ProductOutcome::Expired { orders: vec![order(1)] });
    assert_eq!(p.next_expiry(), Some(NOW + 10 + TTL));
}

#[test]
fn a_restock_with_an_item_already_in_stock_is_refused_whole() {
    let mut p = product_with(2);
    let upload = vec![ItemSecret::parse("new").unwrap(), ItemSecret::parse("acc-1").unwrap()];
    assert_eq!(
        p.apply(restock("r2", Restock::Items(upload)), NOW).unwrap_err(),
        ProductRejection::DuplicateItem { index: 1 }
    );
    assert_eq!(p.available(), 2);
}

#[test]
fn a_restock_repeating_an_item_is_refused() {
    let mut p = product_with(0);
    let upload = vec![ItemSecret::parse("x").unwrap(), ItemSecret::parse("x").unwrap()];
    assert_eq!(
        p.apply(restock("r2", Restock::Items(upload)), NOW).unwrap_err(),
        ProductRejection::DuplicateItem { index: 1 }
    );
}

#[test]
fn a_re_sent_restock_is_applied_once() {
    let mut p = product_with(0);
    let first = p.apply(restock("r1", Restock::Items(items("a", 3))), NOW).unwrap();
    let again = p.apply(restock("r1", Restock::Items(items("a", 3))), NOW).unwrap();
    assert_eq!(first.outcome, again.outcome);
    assert_eq!(p.available(), 3);
    assert_eq!(
        p.apply(restock("r1", Restock::Items(items("b", 1))), NOW).unwrap_err(),
        ProductRejection::ExistsWithDifferentContent
    );
}

#[test]
fn a_restock_restored_from_the_store_keeps_its_content_fingerprint() {
    let mut p = product_with(0);
    let stock = Restock::Items(items("a", 2));
    p.apply(restock("r1", stock.clone()), NOW).unwrap();
    let record = |fingerprint| ProductRecord {
        row: p.row(NOW),
        available: items("a", 2).into_iter().zip(1..).map(|(secret, no)| crate::domain::Item { no, secret }).collect(),
        reservations: Vec::new(),
        settled: Vec::new(),
        secrets: items("a", 2),
        restocks: vec![(Reference::parse("r1").unwrap(), 2, fingerprint)],
        moves: Vec::new(),
        away: Vec::new(),
    };
    let mut known = ProductState::restore(record(Some(stock.fingerprint()))).unwrap();
    assert!(known.apply(restock("r1", stock.clone()), NOW).is_ok(), "the same content again is its first outcome");
    assert_eq!(
        known.apply(restock("r1", Restock::Items(items("b", 1))), NOW).unwrap_err(),
        ProductRejection::ExistsWithDifferentContent
    );
    let mut legacy = ProductState::restore(record(None)).unwrap();
    assert!(legacy.apply(restock("r1", Restock::Items(items("b", 1))), NOW).is_ok(), "stored before fingerprints");
    assert_eq!(legacy.available(), 2, "and nothing added");
}

#[test]
fn a_restock_fingerprint_is_stable_and_tells_contents_apart() {
    let two = Restock::Items(items("a", 2));
    assert_eq!(two.fingerprint(), Restock::Items(items("a", 2)).fingerprint());
    assert_ne!(two.fingerprint(), Restock::Items(items("a", 3)).fingerprint());
    assert_ne!(Restock::Count(5).fingerprint(), Restock::Count(7).fingerprint());
    // The same on every build and machine: it is stored and compared across versions.
    assert_eq!(Restock::Count(5).fingerprint(), 0xf655_d626_b394_fe01);
}

#[test]
fn counted_stock_reserves_and_sells_counts() {
    let mut p = ProductState::new(
        ProductCode::parse("pulsa10").unwrap(),
        "Pulsa".into(),
        Money::rupiah(10_500),
        StockKind::Counted,
    );
    p.apply(restock("r1", Restock::Count(5)), NOW).unwrap();
    assert_eq!(
        p.apply(restock("r2", Restock::Items(items("a", 1))), NOW).unwrap_err(),
        ProductRejection::RestockKindMismatch { kind: StockKind::Counted }
    );
    p.apply(reserve(1, 2), NOW).unwrap();
    match p.apply(commit(1), NOW).unwrap().outcome {
        ProductOutcome::Committed { items, quantity, .. } => {
            assert!(items.is_empty());
            assert_eq!(quantity, 2);
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(p.available(), 3);
}

#[test]
fn an_inactive_product_refuses_new_reservations() {
    let mut p = product_with(1);
    p.apply(ProductCommand::SetActive { active: false, actor: "admin".into() }, NOW).unwrap();
    assert_eq!(p.apply(reserve(1, 1), NOW).unwrap_err(), ProductRejection::ProductInactive);
}

#[test]
fn a_price_change_applies_to_new_reservations_only() {
    let mut p = product_with(2);
    p.apply(reserve(1, 1), NOW).unwrap();
    let set = ProductCommand::SetPrice {
        tier: PriceTier::Member,
        reference: Reference::parse("p1").unwrap(),
        price: Money::rupiah(20_000),
        actor: "admin".into(),
    };
    p.apply(set, NOW).unwrap();
    match p.apply(commit(1), NOW).unwrap().outcome {
        ProductOutcome::Committed { total, .. } => assert_eq!(total, Money::rupiah(15_000)),
        other => panic!("{other:?}"),
    }
    let zero = ProductCommand::SetPrice {
        tier: PriceTier::Member,
        reference: Reference::parse("p2").unwrap(),
        price: Money::ZERO,
        actor: "admin".into(),
    };
    assert_eq!(p.apply(zero, NOW).unwrap_err(), ProductRejection::PriceMustNotBeZero);
}

#[test]
fn a_reseller_pays_the_reseller_price_and_a_member_the_member_price() {
    let mut p = product_with(3);
    let reseller = |o: u64| ProductCommand::Reserve {
        tier: PriceTier::Reseller,
        order: order(o),
        quantity: 2,
        ttl_ms: TTL,
        store: StoreWhen::Reserved,
        actor: "test".into(),
    };
    let total_of = |t: Transition<ProductOutcome>| match t.outcome {
        ProductOutcome::Reserved { total, .. } => total,
        other => panic!("{other:?}"),
    };
    assert_eq!(total_of(p.apply(reseller(1), NOW).unwrap()), Money::rupiah(30_000), "no reseller price: member price");
    let set = ProductCommand::SetPrice {
        tier: PriceTier::Reseller,
        reference: Reference::parse("rp1").unwrap(),
        price: Money::rupiah(12_000),
        actor: "admin".into(),
    };
    let t = p.apply(set.clone(), NOW).unwrap();
    assert!(matches!(t.events[..], [Event::Product(ref row)] if row.reseller_price == Some(Money::rupiah(12_000))));
    assert_eq!(p.price, Money::rupiah(15_000), "the member price is untouched");
    p.apply(release(1), NOW).unwrap();
    assert_eq!(total_of(p.apply(reseller(2), NOW).unwrap()), Money::rupiah(24_000));
    assert_eq!(total_of(p.apply(reserve(3, 1), NOW).unwrap()), Money::rupiah(15_000));
    assert!(p.apply(set, NOW).unwrap().events.is_empty(), "the same reference again changes nothing");
}

#[test]
fn a_rename_needs_a_short_name_and_stores_the_row_once() {
    let mut p = product_with(0);
    let rename = |name: &str| ProductCommand::Rename { name: name.into(), actor: "admin".into() };
    assert_eq!(
        p.apply(rename("  "), NOW).unwrap_err(),
        ProductRejection::NameMustBeShort { limit: PRODUCT_NAME_CHARS_MAX }
    );
    let long = "x".repeat(PRODUCT_NAME_CHARS_MAX + 1);
    assert!(p.apply(rename(&long), NOW).is_err());
    let t = p.apply(rename(" Viu 3 bulan "), NOW).unwrap();
    assert_eq!(t.outcome, ProductOutcome::Renamed { name: "Viu 3 bulan".into() });
    assert_eq!(t.events.len(), 1);
    assert!(p.apply(rename("Viu 3 bulan"), NOW).unwrap().events.is_empty(), "no change, nothing stored");
}

#[test]
fn a_reservation_stored_with_its_commit_writes_nothing_until_then() {
    let mut p = product_with(3);
    let reserve = ProductCommand::Reserve {
        tier: PriceTier::Member,
        order: order(1),
        quantity: 2,
        ttl_ms: TTL,
        store: StoreWhen::Committed,
        actor: "test".into(),
    };
    let reserved = p.apply(reserve, NOW).unwrap();
    assert!(reserved.events.is_empty(), "nothing is stored at reserve");
    assert_eq!((p.snapshot().available, p.snapshot().reserved), (1, 2), "held in memory");
    let row = p.row(NOW);
    assert_eq!((row.available, row.reserved), (3, 0), "the store still sees the units available");

    let committed = p.apply(commit(1), NOW + 1).unwrap();
    let movements: Vec<_> = committed
        .events
        .iter()
        .filter_map(|e| match e {
            Event::Movement(m) => Some((m.from, m.to, m.quantity)),
            _ => None,
        })
        .collect();
    assert_eq!(movements, vec![(StockState::Available, StockState::Sold, 2)], "one sale, straight from available");
    let product = committed.events.iter().find_map(|e| match e {
        Event::Product(row) => Some((row.available, row.reserved, row.sold)),
        _ => None,
    });
    assert_eq!(product, Some((1, 0, 2)));
}

#[test]
fn releasing_a_reservation_the_store_never_saw_writes_nothing() {
    let mut p = product_with(2);
    for (o, store) in [(1, StoreWhen::Committed), (2, StoreWhen::Committed)] {
        let reserve = ProductCommand::Reserve {
            tier: PriceTier::Member,
            order: order(o),
            quantity: 1,
            ttl_ms: TTL,
            store,
            actor: "t".into(),
        };
        p.apply(reserve, NOW).unwrap();
    }
    assert!(p.apply(release(1), NOW).unwrap().events.is_empty());
    let expired = p.apply(ProductCommand::ExpireDue, NOW + TTL).unwrap();
    assert_eq!(expired.outcome, ProductOutcome::Expired { orders: vec![order(2)] });
    assert!(expired.events.is_empty());
    assert_eq!(p.snapshot().available, 2);
    assert_eq!(
        p.apply(commit(2), NOW + TTL).unwrap_err(),
        ProductRejection::ReservationReleased { reason: ReleaseReason::Expired }
    );
}

#[test]
fn each_command_answers_with_its_own_reply_and_a_repeat_with_the_first() {
    let mut p = product_with(2);
    let reserve = Reserve {
        tier: PriceTier::Member,
        order: order(1),
        quantity: 1,
        ttl_ms: TTL,
        store: StoreWhen::Reserved,
        actor: "test".into(),
    };
    let reserved = p.reserve(reserve.clone(), NOW).unwrap();
    assert_eq!((reserved.outcome.quantity, reserved.outcome.total), (1, Money::rupiah(15_000)));
    let again = p.reserve(reserve, NOW + 5).unwrap();
    assert_eq!(again.outcome, reserved.outcome);
    assert!(again.events.is_empty());
    let commit = Commit { order: order(1), actor: "test".into() };
    let committed = p.commit(commit.clone(), NOW).unwrap();
    assert_eq!(committed.outcome.items.len(), 1);
    assert_eq!(p.commit(commit, NOW).unwrap().outcome, committed.outcome);
    assert_eq!(p.expire_due(NOW + TTL).outcome, Expired { orders: vec![] });
}

#[test]
fn a_restock_reference_reused_for_a_price_is_refused() {
    let mut p = product_with(0);
    let reference = Reference::parse("ref-1").unwrap();
    let restock =
        AddStock { reference: reference.clone(), stock: Restock::Items(items("a", 1)), actor: "admin".into() };
    p.restock(restock, NOW).unwrap();
    let price = SetPrice { reference, tier: PriceTier::Member, price: Money::rupiah(1), actor: "admin".into() };
    assert_eq!(p.set_price(price, NOW).unwrap_err(), ProductRejection::ExistsWithDifferentContent);
}

/// What the store holds of a product, built only from the events a product emits.
#[derive(Default)]
struct StoreView {
    items: std::collections::HashMap<ItemNo, StockState>,
    reservations: std::collections::HashMap<String, (crate::journal::ReservationStatus, u32)>,
    row: Option<crate::journal::ProductRow>,
}

impl StoreView {
    fn take(&mut self, events: &[Event]) {
        for event in events {
            match event {
                Event::ItemsAdded { items, .. } => {
                    for (no, _) in items {
                        self.items.insert(*no, StockState::Available);
                    }
                }
                Event::ItemsMoved { items, to, .. } => {
                    for no in items {
                        self.items.insert(*no, *to);
                    }
                }
                Event::Reservation(r) => {
                    self.reservations.insert(r.order.to_string(), (r.status, r.quantity));
                }
                Event::Product(row) => self.row = Some(row.clone()),
                _ => {}
            }
        }
    }

    /// The stored counts agree with the stored items and reservations, as `warung audit` and a
    /// restore expect, whatever was held in memory only.
    fn check(&self) -> Result<(), String> {
        let Some(row) = &self.row else { return Ok(()) };
        let count = |state| self.items.values().filter(|s| **s == state).count() as i64;
        let open: i64 = self
            .reservations
            .values()
            .filter(|(status, _)| *status == crate::journal::ReservationStatus::Reserved)
            .map(|(_, q)| i64::from(*q))
            .sum();
        let seen = (count(StockState::Available), count(StockState::Reserved), count(StockState::Sold), open);
        let want = (row.available, row.reserved, row.sold, row.reserved);
        if seen == want {
            Ok(())
        } else {
            Err(format!("stored items and reservations {seen:?}, stored row {want:?}"))
        }
    }
}

#[derive(Clone, Debug)]
enum Step {
    Reserve(u64, u32, bool),
    Commit(u64),
    Release(u64),
    Expire(i64),
    Restock(u8),
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        (0..20u64, 0..4u32, any::<bool>()).prop_map(|(o, q, stored)| Step::Reserve(o, q, stored)),
        (0..20u64).prop_map(Step::Commit),
        (0..20u64).prop_map(Step::Release),
        (0..(2 * TTL)).prop_map(Step::Expire),
        (0..4u8).prop_map(Step::Restock),
    ]
}

proptest! {
    /// Random command sequences keep every invariant, never sell an item twice, a repeated
    /// command changes nothing, and what reaches the store always agrees with itself.
    #[test]
    fn random_commands_keep_every_invariant(steps in prop::collection::vec(step(), 1..120)) {
        let mut p = ProductState::new(ProductCode::parse("viu1b").unwrap(), "Viu".into(), Money::rupiah(15_000), StockKind::Items);
        let mut store = StoreView::default();
        store.take(&p.apply(restock("r1", Restock::Items(items("acc", 5))), NOW).unwrap().events);
        let mut now = NOW;
        let mut delivered = std::collections::HashSet::new();
        for (i, s) in steps.into_iter().enumerate() {
            now += 100;
            let command = match s {
                Step::Reserve(o, q, stored) => {
                    let store = if stored { StoreWhen::Reserved } else { StoreWhen::Committed };
                    ProductCommand::Reserve { tier: PriceTier::Member, order: order(o), quantity: q, ttl_ms: TTL, store, actor: "test".into() }
                }
                Step::Commit(o) => commit(o),
                Step::Release(o) => release(o),
                Step::Expire(dt) => { now += dt; ProductCommand::ExpireDue }
                Step::Restock(n) => restock(&format!("r{}", i % 7), Restock::Items(items(&format!("s{i}"), n as usize))),
            };
            let first = p.apply(command.clone(), now);
            let before = p.snapshot();
            let again = p.apply(command, now);
            if let Ok(t) = &first {
                store.take(&t.events);
                prop_assert_eq!(store.check(), Ok(()));
                if let ProductOutcome::Committed { items, .. } = &t.outcome {
                    if !t.events.is_empty() {
                        for item in items {
                            prop_assert!(delivered.insert(item.expose().to_string()), "item sold twice");
                        }
                    }
                }
            }
            if let (Ok(a), Ok(b)) = (&first, &again) {
                if !matches!(a.outcome, ProductOutcome::Expired { .. }) {
                    prop_assert_eq!(&a.outcome, &b.outcome);
                    prop_assert!(b.events.is_empty());
                }
            }
            prop_assert_eq!(before.available + before.reserved + before.sold + before.removed, before.received);
            prop_assert!(p.check_invariants().is_ok());
        }
    }
}
