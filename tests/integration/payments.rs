//! Payments are exactly-once records: a payment id is bound to one customer, one purpose and one
//! amount. A repeat returns the first outcome and moves nothing, whatever happened to the order
//! since (a refund, a product that forgot it, a replay from the inbox); a mismatch is refused; two
//! payments for one order deliver once and credit the other.

use serde_json::{json, Value};
use warung::checkout::OrderState;
use warung::store::ChargeStatus;
use warung_actors::domain::Money;

use crate::helpers::*;
use crate::shop::*;

async fn balance_of(shop: &Shop, who: &str) -> Money {
    shop.engine.checkout.balance(&customer(who)).await.unwrap().balance
}

/// `who` buys `product` by QRIS and Midtrans settles it; returns the charge.
async fn bought_by_qris(shop: &Shop, who: &str, product: &str) -> warung::store::ChargeRow {
    let before = shop.sent_to(who).await.len();
    shop.say(who, &format!("beli {product} qris")).await;
    shop.replies(who, before + 2).await;
    let charge = shop.charge_of_latest_order(who).await;
    assert_eq!(shop.notify(&charge, "settlement").await.0, 200);
    let replies = shop.replies(who, before + 3).await;
    assert!(replies[before + 2].contains("Pembayaran QRIS diterima"), "{replies:?}");
    charge
}

async fn a_settlement_repeated_after_a_refund_credits_nothing(backend: Backend) {
    let shop = spawn_shop(backend).await;
    product_with_items(&shop.engine, "viu", 15_000, 1).await;
    let charge = bought_by_qris(&shop, "6282001", "viu").await;
    let order = charge.order.clone().unwrap();
    let (status, body) =
        shop.admin("post", format!("/orders/{order}/refund"), Some(json!({"reason": "salah kirim"}))).await;
    assert_eq!(status, 200, "{body}");
    let refunded = balance_of(&shop, "6282001").await;
    assert_eq!(refunded, Money::rupiah(15_000 + charge.unique_code as u64));

    assert_eq!(shop.notify(&charge, "settlement").await.0, 200);
    assert_eq!(balance_of(&shop, "6282001").await, refunded, "the repeat credits nothing");
    let order = shop.engine.store.order(&order).await.unwrap().unwrap();
    assert_eq!(order.state, OrderState::Refunded);
    shop.finish().await;
}

on_both_backends!(a_settlement_repeated_after_a_refund_credits_nothing);

#[actix_rt::test]
async fn a_settlement_repeated_after_the_product_forgot_the_order_credits_nothing() {
    let shop = spawn_shop(Backend::Sqlite).await;
    product_with_items(&shop.engine, "viu", 15_000, 1).await;
    let charge = bought_by_qris(&shop, "6282002", "viu").await;
    let paid = balance_of(&shop, "6282002").await;
    let stopped = shop.stop().await;

    // A product remembers its latest settled orders only (10,000 of them): as if this order were
    // older than that, the product restarts without it.
    let pool = sqlx::SqlitePool::connect(&stopped.db.url).await.unwrap();
    sqlx::query("DELETE FROM reservations").execute(&pool).await.unwrap();
    pool.close().await;
    let again = stopped.restart().await;

    assert_eq!(again.notify(&charge, "settlement").await.0, 200);
    assert_eq!(balance_of(&again, "6282002").await, paid, "the repeat credits nothing");
    again.finish().await;
}

#[actix_rt::test]
async fn a_notification_replayed_from_the_inbox_table_is_refused() {
    let shop = spawn_shop(Backend::Sqlite).await;
    product_with_items(&shop.engine, "viu", 15_000, 1).await;
    bought_by_qris(&shop, "6282003", "viu").await;

    let pool = sqlx::SqlitePool::connect(&shop.db.url).await.unwrap();
    let stored: Vec<(String,)> =
        sqlx::query_as("SELECT payload FROM webhook_inbox WHERE provider = 'midtrans'").fetch_all(&pool).await.unwrap();
    pool.close().await;
    assert!(!stored.is_empty());
    for (payload,) in stored {
        let body: Value = serde_json::from_str(&payload).unwrap();
        let signature = body["signature_key"].as_str().unwrap_or("");
        assert!(signature.is_empty(), "a database reader must not find a replayable signature: {payload}");
        let response =
            shop.client.post(format!("{}/webhooks/midtrans", shop.address)).json(&body).send().await.unwrap();
        assert_eq!(response.status().as_u16(), 401);
    }
    shop.finish().await;
}

#[actix_rt::test]
async fn two_payments_racing_on_one_order_deliver_once_and_credit_the_other() {
    let shop = spawn_shop(Backend::Postgres).await;
    product_with_items(&shop.engine, "viu", 15_000, 5).await;
    for round in 0..5 {
        let who = format!("62820040{round}");
        let (status, opened) = shop.admin("post", "/orders", Some(json!({"customer": who, "product": "viu"}))).await;
        assert_eq!(status, 201, "{opened}");
        let order = opened["order"].as_str().unwrap().to_string();
        let pay = |id: &str| {
            let body = json!({"payment_id": format!("bca-{round}-{id}"), "amount": "15000"});
            shop.admin("post", format!("/orders/{order}/payments"), Some(body))
        };
        let ((first, a), (second, b)) = futures::join!(pay("a"), pay("b"));
        assert_eq!((first, second), (200, 200), "{a} {b}");
        let mut outcomes = vec![a["outcome"].as_str().unwrap(), b["outcome"].as_str().unwrap()];
        outcomes.sort();
        assert_eq!(outcomes, ["credited_to_wallet", "delivered"], "{a} {b}");
        assert_eq!(balance_of(&shop, &who).await, Money::rupiah(15_000), "the second payment is the customer's");
        let mut told = shop.replies(&who, 2).await;
        told.sort();
        assert!(told[0].contains("masuk ke saldo kamu") && told[1].contains("sudah dikonfirmasi"), "{told:?}");
    }
    assert_eq!(shop.engine.lanes.product_snapshot(&code("viu")).await.unwrap().sold, 5);
    shop.finish().await;
}

async fn a_payment_id_is_bound_to_one_customer_purpose_and_amount(backend: Backend) {
    let shop = spawn_shop(backend).await;
    product_with_items(&shop.engine, "viu", 15_000, 3).await;

    let top_up = |who: &str, id: &str, amount: &str| {
        shop.admin("post", format!("/wallets/{who}/top-ups"), Some(json!({"payment_id": id, "amount": amount})))
    };
    assert_eq!(top_up("6282005", "bca-7", "1000").await.0, 200);
    let (status, repeat) = top_up("6282005", "bca-7", "1000").await;
    assert_eq!(status, 200, "the same payment again is its first outcome: {repeat}");
    assert_eq!(repeat["balance"]["balance"], "1000");
    for (who, amount) in [("6282006", "1000"), ("6282005", "2000")] {
        let (status, refused) = top_up(who, "bca-7", amount).await;
        assert_eq!((status, refused["code"].as_str()), (409, Some("payment_mismatch")), "{refused}");
    }
    assert_eq!(balance_of(&shop, "6282005").await, Money::rupiah(1_000));
    assert_eq!(balance_of(&shop, "6282006").await, Money::ZERO, "nothing moved");

    let open = || shop.admin("post", "/orders", Some(json!({"customer": "6282005", "product": "viu"})));
    let first = open().await.1["order"].as_str().unwrap().to_string();
    let pay = |order: &str, id: &str| {
        let body = json!({"payment_id": id, "amount": "15000"});
        shop.admin("post", format!("/orders/{order}/payments"), Some(body))
    };
    let (status, delivered) = pay(&first, "bca-8").await;
    assert_eq!((status, delivered["outcome"].as_str()), (200, Some("delivered")), "{delivered}");
    let (status, again) = pay(&first, "bca-8").await;
    assert_eq!(status, 200);
    assert_eq!(again["items"], delivered["items"], "a repeat returns the first outcome with its items");
    let second = open().await.1["order"].as_str().unwrap().to_string();
    let (status, refused) = pay(&second, "bca-8").await;
    assert_eq!((status, refused["code"].as_str()), (409, Some("payment_mismatch")), "{refused}");
    let (status, refused) = pay(&second, "bca-7").await;
    assert_eq!((status, refused["code"].as_str()), (409, Some("payment_mismatch")), "a top-up's id: {refused}");
    let order = shop.engine.store.order(&order_id(&second)).await.unwrap().unwrap();
    assert_eq!(order.state, OrderState::AwaitingPayment, "nothing moved");
    assert_eq!(balance_of(&shop, "6282005").await, Money::rupiah(1_000));
    shop.finish().await;
}

on_both_backends!(a_payment_id_is_bound_to_one_customer_purpose_and_amount);

fn order_id(text: &str) -> warung_actors::domain::OrderId {
    warung_actors::domain::OrderId::parse(text).unwrap()
}

#[actix_rt::test]
async fn a_settlement_whose_status_code_disagrees_delivers_nothing() {
    let shop = spawn_shop(Backend::Sqlite).await;
    product_with_items(&shop.engine, "viu", 15_000, 1).await;
    shop.say("6282007", "beli viu qris").await;
    shop.replies("6282007", 2).await;
    let charge = shop.charge_of_latest_order("6282007").await;
    let gross = format!("{}.00", charge.gross.amount());
    // Signed with the right key, but "201" is a pending's code, not a settlement's.
    let body = notification(charge.id.as_str(), "settlement", "201", &gross, MIDTRANS_KEY);
    let (status, answer) = shop.notify_body(body).await;
    assert_eq!((status, answer["handled"].as_bool()), (200, Some(false)), "{answer}");
    let order = shop.engine.store.order(charge.order.as_ref().unwrap()).await.unwrap().unwrap();
    assert_eq!(order.state, OrderState::AwaitingPayment);
    shop.finish().await;
}

#[actix_rt::test]
async fn a_settlement_of_another_amount_mints_no_saldo_and_goes_to_review() {
    let shop = spawn_shop(Backend::Sqlite).await;
    shop.say("6282008", "topup 50.000").await;
    shop.replies("6282008", 2).await;
    let charge = shop.engine.store.open_charges(10).await.unwrap().remove(0);
    let (status, _) = shop.notify_signed(charge.id.as_str(), "settlement", "5000000.00", MIDTRANS_KEY).await;
    assert_eq!(status, 200);
    assert_eq!(balance_of(&shop, "6282008").await, Money::ZERO, "no saldo from an amount nobody asked for");
    let charge = shop.engine.store.charge(charge.id.as_str()).await.unwrap().unwrap();
    assert_eq!(charge.status, ChargeStatus::Review);
    shop.finish().await;
}

#[actix_rt::test]
async fn a_settlement_the_status_api_does_not_confirm_delivers_nothing() {
    let shop = spawn_shop(Backend::Sqlite).await;
    product_with_items(&shop.engine, "viu", 15_000, 1).await;
    shop.say("6282009", "beli viu qris").await;
    shop.replies("6282009", 2).await;
    let charge = shop.charge_of_latest_order("6282009").await;
    let gross = format!("{}.00", charge.gross.amount());
    shop.statuses.set(charge.id.as_str(), notification(charge.id.as_str(), "pending", "201", &gross, MIDTRANS_KEY));
    let settled = notification(charge.id.as_str(), "settlement", "200", &gross, MIDTRANS_KEY);
    let response = shop.client.post(format!("{}/webhooks/midtrans", shop.address)).json(&settled).send().await.unwrap();
    assert_eq!(response.status().as_u16(), 503, "Midtrans is asked to send it again later");
    let order = shop.engine.store.order(charge.order.as_ref().unwrap()).await.unwrap().unwrap();
    assert_eq!(order.state, OrderState::AwaitingPayment, "Midtrans' own answer says pending");

    // Once Midtrans says it too, the same notification delivers.
    assert_eq!(shop.notify_body(settled).await.0, 200);
    let order = shop.engine.store.order(charge.order.as_ref().unwrap()).await.unwrap().unwrap();
    assert_eq!(order.state, OrderState::Paid);
    shop.finish().await;
}

#[actix_rt::test]
async fn no_signed_amount_makes_the_notification_handler_panic() {
    let shop = spawn_shop(Backend::Sqlite).await;
    shop.say("6282010", "topup 50.000").await;
    shop.replies("6282010", 2).await;
    let charge = shop.engine.store.open_charges(10).await.unwrap().remove(0);
    for gross in ["2000000000000.00", "99999999999999999999999999999.00", "-5.00", "1e9", "12.345", ""] {
        let (status, answer) = shop.notify_signed(charge.id.as_str(), "settlement", gross, MIDTRANS_KEY).await;
        assert!(status == 200 || status == 400, "{gross}: {status} {answer}");
    }
    assert_eq!(balance_of(&shop, "6282010").await, Money::ZERO);
    let health = shop.client.get(format!("{}/health", shop.address)).send().await.unwrap();
    assert_eq!(health.status().as_u16(), 200);
    shop.finish().await;
}

#[actix_rt::test]
async fn the_audit_fails_a_store_where_a_payment_was_applied_twice() {
    let shop = spawn_shop(Backend::Sqlite).await;
    product_with_items(&shop.engine, "viu", 15_000, 1).await;
    let charge = bought_by_qris(&shop, "6282011", "viu").await;
    let db = shop.stop().await.db;

    // The payment delivered the order, and is credited to the wallet as well: the balance and
    // the ledger agree, so only the payment invariants can see it.
    let store = db.store().await;
    assert_audit_clean(store.as_ref()).await;
    let pool = sqlx::SqlitePool::connect(&db.url).await.unwrap();
    let gross = charge.gross.amount().to_string();
    sqlx::query(
        "INSERT INTO ledger_entries (customer, reference, kind, amount, balance_after, reason, actor, at) \
         SELECT customer, 'payment:midtrans-' || $1, 'top_up', $2, '0', 'planted', 'test', 0 FROM orders WHERE id = $1",
    )
    .bind(charge.id.as_str())
    .bind(&gross)
    .execute(&pool)
    .await
    .unwrap();
    let (balance,): (String,) =
        sqlx::query_as("SELECT balance FROM customers WHERE id = '6282011'").fetch_one(&pool).await.unwrap();
    let balance: rust_decimal::Decimal = balance.parse().unwrap();
    sqlx::query("UPDATE customers SET balance = $1 WHERE id = '6282011'")
        .bind((balance + charge.gross.amount()).to_string())
        .execute(&pool)
        .await
        .unwrap();
    pool.close().await;
    let report = warung::audit::audit(store.as_ref()).await.unwrap();
    assert!(!report.is_clean(), "{report}");
    let failed: Vec<_> = report.checks.iter().filter(|c| c.violations > 0).map(|c| c.name).collect();
    assert!(failed.iter().all(|name| name.contains("payment")), "only the payment check fails: {failed:?}");
    store.close().await;
    db.remove().await;
}

/// One step of the random interleavings below.
#[derive(Clone, Debug)]
enum Step {
    /// A payment (new, or an id seen before) for one of the orders, or a top-up.
    Pay {
        id: u8,
        order: Option<u8>,
        amount: u64,
        customer: u8,
    },
    Cancel(u8),
    /// The order's reservation runs out, as its timer would.
    Expire(u8),
    Refund(u8),
}

fn step() -> impl proptest::strategy::Strategy<Value = Step> {
    use proptest::prelude::*;
    prop_oneof![
        4 => (0u8..6, proptest::option::weighted(0.8, 0u8..3), prop_oneof![Just(15_000u64), Just(15_123), Just(14_999)], 0u8..3)
            .prop_map(|(id, order, amount, customer)| Step::Pay { id, order, amount, customer }),
        1 => (0u8..3).prop_map(Step::Cancel),
        1 => (0u8..3).prop_map(Step::Expire),
        1 => (0u8..3).prop_map(Step::Refund),
    ]
}

/// Random interleavings of settlements, repeats, admin payments, late payments, expiry, cancel
/// and refund, through the real engine: after each, the audit (each payment applied once, money
/// conserved, no item delivered twice) is clean, and every payment id is stored once.
#[actix_rt::test]
async fn random_interleavings_of_payments_and_order_changes_apply_each_payment_once() {
    use proptest::strategy::{Strategy, ValueTree};
    const CASES: usize = 24;
    let engine = TestEngine::start(Backend::Sqlite).await;
    let product = product_with_items(&engine, "viu", 15_000, CASES * 3).await;
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    let steps = proptest::collection::vec(step(), 1..16);
    for case in 0..CASES {
        let who = |n: u8| customer(&format!("62830{case:02}{n}"));
        let mut orders = Vec::new();
        for n in 0..3 {
            orders.push(engine.checkout.buy_with_external(&who(n), &product, 1).await.unwrap().order);
        }
        for step in steps.new_tree(&mut runner).unwrap().current() {
            match step {
                Step::Pay { id, order: Some(n), amount, .. } => {
                    let payment = reference(&format!("c{case}-p{id}"));
                    let _ = engine
                        .checkout
                        .confirm_payment(&orders[n as usize], &payment, Money::rupiah(amount), "test")
                        .await;
                }
                Step::Pay { id, order: None, amount, customer } => {
                    let payment = reference(&format!("c{case}-p{id}"));
                    let _ = engine.checkout.top_up(&who(customer), &payment, Money::rupiah(amount)).await;
                }
                Step::Cancel(n) => {
                    let _ = engine.checkout.cancel(&orders[n as usize]).await;
                }
                Step::Expire(n) => {
                    let order = orders[n as usize].clone();
                    let release = warung_actors::product::ProductCommand::Release {
                        order: order.clone(),
                        reason: warung_actors::product::ReleaseReason::Expired,
                        actor: "expiry".into(),
                    };
                    let _ = engine.lanes.product(&product, release).await;
                    engine.checkout.on_reservation_expired(&order).await;
                }
                Step::Refund(n) => {
                    let _ = engine.checkout.refund(&orders[n as usize], "test", "admin:test").await;
                }
            }
        }
        for order in &orders {
            let _ = engine.checkout.cancel(order).await;
        }
        engine.lanes.flush().await.unwrap();
        assert_audit_clean(engine.store.as_ref()).await;
    }
    let sold = engine.lanes.product_snapshot(&product).await.unwrap().sold;
    assert!(sold > 0, "some interleavings delivered");
    engine.finish().await;
}

#[actix_rt::test]
async fn a_payment_id_too_long_for_its_credits_and_an_adjustment_posing_as_a_payment_are_refused() {
    let shop = spawn_shop(Backend::Sqlite).await;
    let long = "p".repeat(125);
    let (status, body) =
        shop.admin("post", "/wallets/6282012/top-ups", Some(json!({"payment_id": long, "amount": "1000"}))).await;
    assert_eq!((status, body["code"].as_str()), (422, Some("payment_id_too_long")), "{body}");
    for reference in ["surplus:midtrans-x", "payment:bca-1", "topup:bca-1", "order:TRX-1", "refund:TRX-1"] {
        let adjust = json!({"reference": reference, "delta": "5000", "reason": "koreksi"});
        let (status, body) = shop.admin("post", "/wallets/6282012/adjustments", Some(adjust)).await;
        assert_eq!((status, body["code"].as_str()), (422, Some("reference_reserved")), "{reference}: {body}");
    }
    assert_eq!(balance_of(&shop, "6282012").await, Money::ZERO);
    shop.finish().await;
}
