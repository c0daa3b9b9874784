//! The checkout flows one by one, on both backends.

use std::time::Duration;

use warung::checkout::OrderState;
use warung::checkout::{CheckoutError, PaymentOutcome};
use warung_actors::domain::Money;
use warung_actors::product::ProductRejection;
use warung_actors::wallet::WalletRejection;

use crate::helpers::*;

async fn a_saldo_purchase_delivers_items_and_a_refused_one_takes_nothing(backend: Backend) {
    let engine = TestEngine::start(backend).await;
    let product = product_with_items(&engine, "viu1b", 15_000, 3).await;
    fund(&engine, "budi", 20_000).await;
    let budi = customer("budi");

    let bought = engine.checkout.buy_with_saldo(&budi, &product, 1).await.unwrap();
    assert_eq!(bought.items[0].expose(), "viu1b-item-0");
    assert_eq!(bought.balance.balance, Money::rupiah(5_000));

    let refused = engine.checkout.buy_with_saldo(&budi, &product, 1).await.unwrap_err();
    assert_eq!(
        refused,
        CheckoutError::InsufficientBalance { available: Money::rupiah(5_000), required: Money::rupiah(15_000) }
    );
    let snapshot = engine.lanes.product_snapshot(&product).await.unwrap();
    assert_eq!((snapshot.available, snapshot.reserved, snapshot.sold), (2, 0, 1));

    let order = engine.store.order(&bought.order).await.unwrap().unwrap();
    assert_eq!(order.state, OrderState::Paid);
    assert_eq!(engine.store.delivered_items(&bought.order).await.unwrap(), bought.items);
    engine.finish().await;
}

async fn an_external_payment_delivers_once_however_often_it_is_confirmed(backend: Backend) {
    let engine = TestEngine::start(backend).await;
    let product = product_with_items(&engine, "ml86", 21_500, 2).await;
    let siti = customer("siti");

    let pending = engine.checkout.buy_with_external(&siti, &product, 1).await.unwrap();
    assert_eq!(pending.total, Money::rupiah(21_500));
    let second = engine.checkout.buy_with_external(&siti, &product, 1).await.unwrap_err();
    assert_eq!(second, CheckoutError::OpenOrderExists { order: pending.order.clone() });

    let paid = engine
        .checkout
        .confirm_payment(&pending.order, &reference("qris-1"), Money::rupiah(21_500), "test")
        .await
        .unwrap()
        .outcome;
    let again = engine
        .checkout
        .confirm_payment(&pending.order, &reference("qris-1"), Money::rupiah(21_500), "test")
        .await
        .unwrap()
        .outcome;
    assert_eq!(paid, again, "a repeat is the first outcome");
    let PaymentOutcome::Delivered { items, .. } = paid else { panic!("{paid:?}") };
    assert_eq!(items.len(), 1);

    // A different payment for an order already paid is extra money: it goes to the wallet.
    let extra = engine
        .checkout
        .confirm_payment(&pending.order, &reference("qris-2"), Money::rupiah(21_500), "test")
        .await
        .unwrap()
        .outcome;
    assert!(matches!(extra, PaymentOutcome::CreditedToWallet { amount, .. } if amount == Money::rupiah(21_500)));
    assert_eq!(engine.checkout.balance(&siti).await.unwrap().balance, Money::rupiah(21_500));
    assert_eq!(engine.lanes.product_snapshot(&product).await.unwrap().sold, 1);
    assert!(engine.checkout.open_order(&siti).is_none(), "a paid order frees the customer's slot");
    engine.finish().await;
}

async fn a_payment_after_cancel_or_expiry_credits_the_wallet_and_never_resurrects_the_order(backend: Backend) {
    let engine = TestEngine::start_with(backend, |s| s.engine.payment_ttl_secs = 1).await;
    let product = product_with_items(&engine, "nf1b", 35_000, 1).await;
    let (ani, eko) = (customer("ani"), customer("eko"));

    let cancelled = engine.checkout.buy_with_external(&ani, &product, 1).await.unwrap();
    engine.checkout.cancel(&cancelled.order).await.unwrap();
    assert_eq!(engine.lanes.product_snapshot(&product).await.unwrap().available, 1);
    let late = engine
        .checkout
        .confirm_payment(&cancelled.order, &reference("late-1"), Money::rupiah(35_000), "test")
        .await
        .unwrap()
        .outcome;
    assert!(matches!(late, PaymentOutcome::CreditedToWallet { .. }));
    assert_eq!(engine.store.order(&cancelled.order).await.unwrap().unwrap().state, OrderState::Review);
    assert_eq!(engine.checkout.balance(&ani).await.unwrap().balance, Money::rupiah(35_000));

    let expiring = engine.checkout.buy_with_external(&eko, &product, 1).await.unwrap();
    let mut notices = engine.checkout.subscribe();
    let expired =
        tokio::time::timeout(Duration::from_secs(10), notices.recv()).await.expect("the expiry is announced").unwrap();
    assert_eq!(
        expired,
        warung::checkout::OrderNotice::Expired { order: expiring.order.clone(), customer: eko.clone() }
    );
    assert_eq!(engine.store.order(&expiring.order).await.unwrap().unwrap().state, OrderState::Expired);
    assert_eq!(engine.lanes.product_snapshot(&product).await.unwrap().available, 1);
    assert!(engine.checkout.open_order(&eko).is_none());

    let late = engine
        .checkout
        .confirm_payment(&expiring.order, &reference("late-2"), Money::rupiah(35_000), "test")
        .await
        .unwrap()
        .outcome;
    assert!(matches!(late, PaymentOutcome::CreditedToWallet { .. }));
    assert_eq!(engine.lanes.product_snapshot(&product).await.unwrap().sold, 0, "a late payment buys nothing");
    engine.finish().await;
}

async fn a_refund_returns_the_money_once(backend: Backend) {
    let engine = TestEngine::start(backend).await;
    let product = product_with_items(&engine, "viu1b", 15_000, 2).await;
    fund(&engine, "dewi", 15_000).await;
    let dewi = customer("dewi");
    let bought = engine.checkout.buy_with_saldo(&dewi, &product, 1).await.unwrap();

    let refunded = engine.checkout.refund(&bought.order, "account did not work", "admin:tono").await.unwrap();
    assert_eq!(refunded.balance, Money::rupiah(15_000));
    let again = engine.checkout.refund(&bought.order, "account did not work", "admin:tono").await.unwrap();
    assert_eq!(again.balance, Money::rupiah(15_000), "a repeated refund changes nothing");
    assert_eq!(engine.store.order(&bought.order).await.unwrap().unwrap().state, OrderState::Refunded);
    engine.finish().await;
}

async fn state_and_idempotency_survive_a_restart(backend: Backend) {
    let first = TestEngine::start(backend).await;
    let product = product_with_items(&first, "viu1b", 15_000, 2).await;
    fund(&first, "rina", 50_000).await;
    let bought = first.checkout.buy_with_saldo(&customer("rina"), &product, 1).await.unwrap();

    let second = first.restart().await;
    let balance = second.checkout.balance(&customer("rina")).await.unwrap();
    assert_eq!(balance.balance, Money::rupiah(35_000));
    fund(&second, "rina", 50_000).await;
    assert_eq!(
        second.checkout.balance(&customer("rina")).await.unwrap().balance,
        Money::rupiah(35_000),
        "a repeated top up is credited once"
    );
    let snapshot = second.lanes.product_snapshot(&product).await.unwrap();
    assert_eq!((snapshot.available, snapshot.sold), (1, 1));
    let next = second.checkout.buy_with_saldo(&customer("rina"), &product, 1).await.unwrap();
    assert_ne!(next.items, bought.items);
    second.finish().await;
}

async fn a_crashed_actor_is_restarted_from_the_store(backend: Backend) {
    let engine = TestEngine::start(backend).await;
    let product = product_with_items(&engine, "viu1b", 15_000, 3).await;
    fund(&engine, "joko", 45_000).await;
    engine.checkout.buy_with_saldo(&customer("joko"), &product, 1).await.unwrap();

    engine.lanes.crash_product_for_test(&product);
    let joko = customer("joko");
    let bought = retry_busy(|| engine.checkout.buy_with_saldo(&joko, &product, 1)).await.unwrap();
    assert_eq!(bought.items[0].expose(), "viu1b-item-1");
    assert_eq!(engine.lanes.restarts(), 1);
    assert_eq!(engine.lanes.product_snapshot(&product).await.unwrap().sold, 2);
    engine.finish().await;
}

async fn bad_commands_are_refused_by_name(backend: Backend) {
    let engine = TestEngine::start(backend).await;
    let product = product_with_items(&engine, "viu1b", 15_000, 1).await;
    fund(&engine, "wati", 100_000).await;
    let wati = customer("wati");
    assert_eq!(
        engine.checkout.buy_with_saldo(&wati, &code("nosuch"), 1).await.unwrap_err(),
        CheckoutError::ProductNotFound
    );
    assert_eq!(
        engine.checkout.buy_with_saldo(&wati, &product, 0).await.unwrap_err(),
        CheckoutError::Product(ProductRejection::QuantityMustNotBeZero)
    );
    assert!(matches!(
        engine.checkout.buy_with_saldo(&wati, &product, 2).await.unwrap_err(),
        CheckoutError::Product(ProductRejection::ExceedsAvailable { .. })
    ));
    let overdraw =
        engine.checkout.adjust(&wati, &reference("adj-1"), (-200_000).into(), "correction", "admin").await.unwrap_err();
    assert!(matches!(overdraw, CheckoutError::Wallet(WalletRejection::InsufficientBalance { .. })));
    assert_eq!(
        engine.checkout.cancel(&warung_actors::domain::OrderId::generate()).await.unwrap_err(),
        CheckoutError::OrderNotFound
    );
    engine.finish().await;
}

/// A wallet stopped and activated again reads its balance and its latest ledger entries back from
/// the store (one statement since issue 19): a repeated debit is recognised and takes nothing
/// twice, a new one is checked against the stored balance, and a customer never seen is empty.
async fn a_wallet_activated_again_remembers_its_balance_and_its_latest_debits(backend: Backend) {
    use warung_actors::wallet::Debit;
    let engine = TestEngine::start(backend).await;
    fund(&engine, "again", 25_000).await;
    let again = customer("again");
    let debit = |id: &str| Debit {
        reference: reference(id),
        amount: Money::rupiah(10_000),
        reason: "test".into(),
        actor: "test".into(),
    };
    engine.lanes.wallet(&again, debit("again-1")).await.unwrap().unwrap();
    assert_eq!(engine.lanes.stop_actors(|_| true).await, 1);

    let repeated = engine.lanes.wallet(&again, debit("again-1")).await.unwrap().unwrap();
    assert_eq!(repeated.balance.balance, Money::rupiah(15_000), "the first debit's answer, not a second debit");
    engine.lanes.wallet(&again, debit("again-2")).await.unwrap().unwrap();
    assert_eq!(
        engine.lanes.wallet(&again, debit("again-3")).await.unwrap().unwrap_err(),
        WalletRejection::InsufficientBalance { available: Money::rupiah(5_000), requested: Money::rupiah(10_000) },
    );
    assert_eq!(engine.checkout.balance(&again).await.unwrap().balance, Money::rupiah(5_000));
    assert!(engine.checkout.balance(&customer("neverseen")).await.unwrap().balance.is_zero());
    engine.finish().await;
}

on_both_backends!(
    a_wallet_activated_again_remembers_its_balance_and_its_latest_debits,
    a_saldo_purchase_delivers_items_and_a_refused_one_takes_nothing,
    an_external_payment_delivers_once_however_often_it_is_confirmed,
    a_payment_after_cancel_or_expiry_credits_the_wallet_and_never_resurrects_the_order,
    a_refund_returns_the_money_once,
    state_and_idempotency_survive_a_restart,
    a_crashed_actor_is_restarted_from_the_store,
    bad_commands_are_refused_by_name,
);
