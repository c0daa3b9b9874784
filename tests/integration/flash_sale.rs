//! A flash sale: 20,000 buyers at once for one product with 100 items, one in five unable to pay.

use std::collections::HashSet;

use futures::future::join_all;
use rust_decimal::Decimal;
use warung::checkout::CheckoutError;
use warung::checkout::OrderState;
use warung_actors::domain::Money;
use warung_actors::product::ProductRejection;

use crate::helpers::*;

const BUYERS: usize = 20_000;
const ITEMS: usize = 100;
const PRICE: u64 = 10_000;

fn funds_of(buyer: usize) -> u64 {
    // Every fifth buyer has half the price: they must be refused without touching stock.
    if buyer.is_multiple_of(5) {
        PRICE / 2
    } else {
        PRICE
    }
}

async fn twenty_thousand_buyers_for_one_hundred_items_sell_exactly_one_hundred(backend: Backend) {
    let engine = TestEngine::start(backend).await;
    sell_to_twenty_thousand(&engine).await;
    engine.finish().await;
}

/// In two lanes (`engine.lanes`), each with its actors and its journal on a thread of its own,
/// the wallets are spread over both and the product is in one: the other lane's buyers buy from
/// the product's share in their lane, which takes stock from the product in blocks and gives
/// back what it holds when the product runs short. The sale is the same (no buyer refused while
/// stock is left anywhere), both the product and its share sold, and each lane's journal stored
/// its own changes.
async fn the_flash_sale_in_two_lanes_sells_exactly_one_hundred(backend: Backend) {
    let engine = TestEngine::start_with(backend, |s| s.engine.lanes = 2).await;
    sell_to_twenty_thousand(&engine).await;
    let orders = engine.store.audit_data().await.unwrap().orders;
    let paid = orders.iter().filter(|o| o.state == OrderState::Paid);
    let by_share = paid.clone().filter(|o| o.product.is_share()).count();
    assert!(by_share > 0 && by_share < ITEMS, "the product sold {} and its share {by_share}", ITEMS - by_share);
    let buyers_by_lane = (0..BUYERS).fold([0; 2], |mut lanes, b| {
        lanes[engine.lanes.lane_of_customer(&customer(&format!("buyer{b}")))] += 1;
        lanes
    });
    assert!(buyers_by_lane.iter().all(|buyers| *buyers > BUYERS / 3), "the wallets are spread: {buyers_by_lane:?}");
    for (lane, supervisor) in engine.lanes.all().iter().enumerate() {
        let events = supervisor.journal().stats().events_committed.load(std::sync::atomic::Ordering::Relaxed);
        assert!(events > 0, "lane {lane} stored its own changes");
    }
    engine.finish().await;
}

/// The actors are on the engine's own thread by default; spread over threads of their own (and
/// the journal on another), every message to them crosses threads, and the sale is the same.
#[actix_rt::test]
async fn the_flash_sale_with_the_actors_on_threads_of_their_own_sells_exactly_one_hundred() {
    let engine = TestEngine::start_with(Backend::PostgresLog, |s| s.engine.actor_threads = 2).await;
    sell_to_twenty_thousand(&engine).await;
    engine.finish().await;
}

async fn sell_to_twenty_thousand(engine: &TestEngine) {
    let product = product_with_items(engine, "flash", PRICE, ITEMS).await;

    let funding = (0..BUYERS).map(|b| async move { fund(engine, &format!("buyer{b}"), funds_of(b)).await });
    join_all(funding).await;
    let funds_in: u64 = (0..BUYERS).map(funds_of).sum();

    let purchases = (0..BUYERS).map(|b| {
        let product = product.clone();
        async move {
            let who = customer(&format!("buyer{b}"));
            (b, retry_busy(|| engine.checkout.buy_with_saldo(&who, &product, 1)).await)
        }
    });
    let results = join_all(purchases).await;

    let mut delivered = HashSet::new();
    let mut sold = 0;
    for (buyer, result) in &results {
        match result {
            Ok(purchase) => {
                sold += 1;
                assert_eq!(funds_of(*buyer), PRICE, "a buyer who could not pay was sold to");
                assert_eq!(purchase.items.len(), 1);
                assert_eq!(purchase.product, product, "the buyer reads the product, whoever sold it");
                assert!(delivered.insert(purchase.items[0].expose().to_string()), "an item was delivered twice");
                assert_eq!(purchase.balance.balance, Money::ZERO);
            }
            Err(CheckoutError::Product(ProductRejection::ExceedsAvailable { .. })) => {}
            Err(CheckoutError::InsufficientBalance { .. }) => assert_eq!(funds_of(*buyer), PRICE / 2),
            Err(other) => panic!("buyer {buyer}: unexpected {other:?}"),
        }
    }
    assert_eq!(sold, ITEMS, "exactly the stock is sold");

    engine.lanes.flush().await.unwrap();
    let data = engine.store.audit_data().await.unwrap();
    let balances: Decimal = data.customers.iter().map(|(_, b)| b.parse::<Decimal>().unwrap()).sum();
    assert!(data.customers.iter().all(|(_, b)| !b.starts_with('-')), "no negative wallet");
    let revenue: Decimal = data.orders.iter().filter(|o| o.state == OrderState::Paid).map(|o| o.total.amount()).sum();
    assert_eq!(balances + revenue, Decimal::from(funds_in), "money is conserved");
    assert_eq!(data.orders.iter().filter(|o| o.state == OrderState::Paid).count(), ITEMS);
}

on_both_backends!(
    twenty_thousand_buyers_for_one_hundred_items_sell_exactly_one_hundred,
    the_flash_sale_in_two_lanes_sells_exactly_one_hundred
);
