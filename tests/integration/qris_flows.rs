//! QRIS through Midtrans, by chat: unique amounts, notifications that repeat or arrive out of
//! order, forged ones, Midtrans down, payments after expiry, top ups, cancel.

use std::time::Duration;

use warung::checkout::{OrderNotice, OrderState};
use warung::store::ChargeStatus;
use warung_actors::domain::Money;
use wiremock::matchers::{method, path, path_regex};
use wiremock::{Mock, ResponseTemplate};

use crate::helpers::*;
use crate::shop::*;

async fn a_qris_purchase_is_delivered_once_however_the_notifications_come(backend: Backend) {
    let shop = spawn_shop(backend).await;
    let product = product_with_items(&shop.engine, "netflix", 54_500, 2).await;

    shop.say("6281000", "beli netflix qris").await;
    let replies = shop.replies("6281000", 2).await;
    let charge = shop.charge_of_latest_order("6281000").await;
    assert!((1..=999).contains(&charge.unique_code));
    assert_eq!(charge.gross, Money::rupiah(54_500 + charge.unique_code as u64));
    assert!(replies[0].starts_with("[image https://qr.test/qris/code.png]"), "{replies:?}");
    assert!(replies[0].contains(&format!("*{}*", charge.gross)), "the exact amount to pay: {replies:?}");
    let sent = &shop.midtrans.received_requests().await.unwrap()[0];
    let request: serde_json::Value = serde_json::from_slice(&sent.body).unwrap();
    assert_eq!(
        request["transaction_details"]["gross_amount"],
        charge.gross.amount().to_string().parse::<i64>().unwrap()
    );
    assert_eq!(request["transaction_details"]["order_id"], charge.id.as_str());
    assert!(sent.headers.get("authorization").unwrap().to_str().unwrap().starts_with("Basic "));

    // Settlement twice, then a late pending: one delivery, one message.
    assert_eq!(shop.notify(&charge, "settlement").await.0, 200);
    assert_eq!(shop.notify(&charge, "settlement").await.0, 200);
    let (status, late) = shop.notify(&charge, "pending").await;
    assert_eq!((status, late["handled"].as_bool()), (200, Some(false)));
    let replies = shop.replies("6281000", 3).await;
    assert!(replies[2].contains("Pembayaran QRIS diterima") && replies[2].contains("netflix-item-0"), "{replies:?}");
    assert!(replies[2].contains(&format!("Kode unik Rp{}", charge.unique_code)), "{replies:?}");
    shop.until_idle().await;
    assert_eq!(shop.sent_to("6281000").await.len(), 3, "told once");
    // An expire after the settlement changes nothing.
    assert_eq!(shop.notify(&charge, "expire").await.0, 200);

    let order = shop.engine.store.order(charge.order.as_ref().unwrap()).await.unwrap().unwrap();
    assert_eq!(order.state, OrderState::Paid);
    assert_eq!(shop.engine.store.charge(charge.id.as_str()).await.unwrap().unwrap().status, ChargeStatus::Paid);
    let balance = shop.engine.checkout.balance(&customer("6281000")).await.unwrap();
    assert_eq!(balance.balance, Money::rupiah(charge.unique_code as u64), "the unique code comes back as saldo");
    assert_eq!(shop.engine.lanes.product_snapshot(&product).await.unwrap().sold, 1);
    shop.finish().await;
}

on_both_backends!(a_qris_purchase_is_delivered_once_however_the_notifications_come);

#[actix_rt::test]
async fn open_charges_never_share_an_amount() {
    let shop = spawn_shop(Backend::Postgres).await;
    product_with_items(&shop.engine, "pulsa", 10_000, 40).await;
    let buyers: Vec<String> = (0..30).map(|i| format!("628900{i:04}")).collect();
    futures::future::join_all(buyers.iter().map(|b| shop.say(b, "beli pulsa qris"))).await;
    let mut amounts = Vec::new();
    for buyer in &buyers {
        shop.replies(buyer, 2).await;
        amounts.push(shop.charge_of_latest_order(buyer).await.gross);
    }
    let distinct: std::collections::HashSet<_> = amounts.iter().collect();
    assert_eq!(distinct.len(), buyers.len(), "{amounts:?}");
    shop.finish().await;
}

#[actix_rt::test]
async fn a_forged_notification_gets_401_and_changes_nothing() {
    let shop = spawn_shop(Backend::Sqlite).await;
    product_with_items(&shop.engine, "viu", 15_000, 1).await;
    shop.say("6281001", "beli viu qris").await;
    shop.replies("6281001", 2).await;
    let charge = shop.charge_of_latest_order("6281001").await;
    let gross = format!("{}.00", charge.gross.amount());
    let (status, _) = shop.notify_signed(charge.id.as_str(), "settlement", &gross, "not-the-server-key").await;
    assert_eq!(status, 401);
    // The documentation's own sample, signed with a key nobody knows.
    let sample = fixture_json("midtrans/midtrans_notification_qris_settlement.json");
    let response = shop.client.post(format!("{}/webhooks/midtrans", shop.address)).json(&sample).send().await.unwrap();
    assert_eq!(response.status().as_u16(), 401);
    let unsigned = serde_json::json!({"order_id": charge.id.as_str(), "transaction_status": "settlement", "status_code": "200", "gross_amount": gross});
    let response =
        shop.client.post(format!("{}/webhooks/midtrans", shop.address)).json(&unsigned).send().await.unwrap();
    assert_eq!(response.status().as_u16(), 401);
    let response = shop.client.post(format!("{}/webhooks/midtrans", shop.address)).body("{oops").send().await.unwrap();
    assert_eq!(response.status().as_u16(), 400);
    let order = shop.engine.store.order(charge.order.as_ref().unwrap()).await.unwrap().unwrap();
    assert_eq!(order.state, OrderState::AwaitingPayment, "nothing changed");
    shop.finish().await;
}

#[actix_rt::test]
async fn a_top_up_by_qris_credits_the_whole_payment_once() {
    let shop = spawn_shop(Backend::Sqlite).await;
    shop.say("6281002", "topup 50.000").await;
    let replies = shop.replies("6281002", 2).await;
    assert!(replies[0].contains("top up saldo Rp50.000"), "{replies:?}");
    let charge = shop.engine.store.open_charges(10).await.unwrap().remove(0);
    assert!(charge.order.is_none());
    for _ in 0..2 {
        assert_eq!(shop.notify(&charge, "settlement").await.0, 200);
    }
    let replies = shop.replies("6281002", 3).await;
    assert!(replies[2].contains("Top up Rp"), "{replies:?}");
    let balance = shop.engine.checkout.balance(&customer("6281002")).await.unwrap();
    assert_eq!(balance.balance, charge.gross, "credited once, unique code included");
    shop.finish().await;
}

#[actix_rt::test]
async fn cancel_releases_the_order_and_an_expire_notification_tells_the_customer() {
    let shop = spawn_shop(Backend::Sqlite).await;
    let product = product_with_items(&shop.engine, "viu", 15_000, 1).await;
    shop.say("6281003", "beli viu qris").await;
    shop.replies("6281003", 2).await;
    let first = shop.charge_of_latest_order("6281003").await;
    let cancelled = shop.ask("6281003", "batal", 3).await;
    assert!(cancelled.contains("dibatalkan"), "{cancelled}");
    assert_eq!(shop.engine.lanes.product_snapshot(&product).await.unwrap().available, 1);
    Mock::given(method("POST"))
        .and(path_regex(r"^/v2/.+/cancel$"))
        .respond_with(ResponseTemplate::new(200).set_body_json(fixture_json("midtrans/midtrans_cancel_response.json")))
        .mount(&shop.midtrans)
        .await;
    shop.gateway.qris.sweep().await.unwrap();
    let cancel_path = format!("/v2/{}/cancel", first.id.as_str());
    let requests = shop.midtrans.received_requests().await.unwrap();
    assert!(requests.iter().any(|r| r.url.path() == cancel_path), "the withdrawn charge is cancelled at Midtrans");
    assert_eq!(shop.engine.store.charge(first.id.as_str()).await.unwrap().unwrap().status, ChargeStatus::Cancelled);

    shop.say("6281003", "beli viu qris").await;
    shop.replies("6281003", 5).await;
    let second = shop.charge_of_latest_order("6281003").await;
    assert_ne!(first.id, second.id);
    assert_eq!(shop.notify(&second, "expire").await.0, 200);
    let replies = shop.replies("6281003", 6).await;
    assert!(replies[5].contains("Waktu pembayaran habis"), "{replies:?}");
    assert_eq!(shop.engine.lanes.product_snapshot(&product).await.unwrap().available, 1, "released");
    assert_eq!(shop.engine.store.charge(second.id.as_str()).await.unwrap().unwrap().status, ChargeStatus::Expired);
    shop.finish().await;
}

async fn a_payment_after_expiry_goes_to_the_wallet(backend: Backend) {
    let shop = spawn_shop_with(backend, StandIns::Accepting, |s| s.engine.payment_ttl_secs = 1).await;
    Mock::given(method("POST"))
        .and(path_regex(r"^/v2/.+/expire$"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(fixture_json("midtrans/midtrans_expire_response_407.json")),
        )
        .mount(&shop.midtrans)
        .await;
    let product = product_with_items(&shop.engine, "viu", 15_000, 1).await;
    let mut notices = shop.engine.checkout.subscribe();
    shop.say("6281004", "beli viu qris").await;
    shop.replies("6281004", 2).await;
    let charge = shop.charge_of_latest_order("6281004").await;

    // The reservation's time passes (the checkout announces the expiry once it is stored): the
    // sweep expires the charge at Midtrans and tells the customer.
    let expired = tokio::time::timeout(Duration::from_secs(10), notices.recv()).await;
    let expired = expired.expect("the reservation never expired").unwrap();
    let order = charge.order.clone().unwrap();
    assert_eq!(expired, OrderNotice::Expired { order, customer: customer("6281004") });
    shop.gateway.qris.sweep().await.unwrap();
    let replies = shop.replies("6281004", 3).await;
    assert!(replies[2].contains("Waktu pembayaran habis"), "{replies:?}");
    let expire_calls =
        shop.midtrans.received_requests().await.unwrap().iter().filter(|r| r.url.path().ends_with("/expire")).count();
    assert_eq!(expire_calls, 1, "expired at Midtrans so a late scan cannot pay");
    assert_eq!(shop.engine.lanes.product_snapshot(&product).await.unwrap().available, 1);

    // The customer paid at the last second anyway.
    assert_eq!(shop.notify(&charge, "settlement").await.0, 200);
    let replies = shop.replies("6281004", 4).await;
    assert!(replies[3].contains("masuk ke saldo kamu"), "{replies:?}");
    let balance = shop.engine.checkout.balance(&customer("6281004")).await.unwrap();
    assert_eq!(balance.balance, charge.gross, "every rupiah paid is in the wallet");
    assert_eq!(shop.engine.lanes.product_snapshot(&product).await.unwrap().sold, 0, "released stock not sold");
    shop.finish().await;
}

on_both_backends!(a_payment_after_expiry_goes_to_the_wallet);

#[actix_rt::test]
async fn midtrans_down_tells_the_customer_and_leaves_no_reservation() {
    let shop = spawn_shop_with(Backend::Sqlite, StandIns::MidtransUnmounted, |_| {}).await;
    Mock::given(method("POST"))
        .and(path("/v2/charge"))
        .respond_with(ResponseTemplate::new(503))
        .up_to_n_times(1)
        .mount(&shop.midtrans)
        .await;
    Mock::given(method("POST"))
        .and(path("/v2/charge"))
        .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_secs(12)))
        .mount(&shop.midtrans)
        .await;
    let product = product_with_items(&shop.engine, "viu", 15_000, 1).await;
    fund(&shop.engine, "6281005", 15_000).await;

    let down = shop.ask("6281005", "beli viu qris", 1).await;
    assert!(down.contains("QRIS sedang gangguan") && down.contains("saldo"), "{down}");
    assert_eq!(shop.engine.lanes.product_snapshot(&product).await.unwrap().available, 1, "released");
    let timed_out = shop.ask("6281005", "beli viu qris", 2).await;
    assert!(timed_out.contains("QRIS sedang gangguan"), "{timed_out}");
    assert_eq!(shop.engine.lanes.product_snapshot(&product).await.unwrap().available, 1, "released");
    assert!(shop.engine.store.open_charges(10).await.unwrap().is_empty(), "no charge left open");
    let expired_after_timeout =
        shop.midtrans.received_requests().await.unwrap().iter().filter(|r| r.url.path().ends_with("/expire")).count();
    assert!(expired_after_timeout >= 1, "a timed-out charge is expired in case Midtrans made it");

    let saldo = shop.ask("6281005", "beli viu", 3).await;
    assert!(saldo.contains("Pembayaran berhasil"), "saldo still works: {saldo}");
    shop.finish().await;
}

#[actix_rt::test]
async fn a_late_notification_is_found_by_asking_midtrans() {
    let shop = spawn_shop(Backend::Sqlite).await;
    product_with_items(&shop.engine, "viu", 15_000, 1).await;
    shop.say("6281006", "beli viu qris").await;
    shop.replies("6281006", 2).await;
    let charge = shop.charge_of_latest_order("6281006").await;
    let mut settled = fixture_json("midtrans/midtrans_notification_qris_settlement.json");
    settled["order_id"] = serde_json::json!(charge.id.as_str());
    settled["gross_amount"] = serde_json::json!(format!("{}.00", charge.gross.amount()));
    Mock::given(method("GET"))
        .and(path(format!("/v2/{}/status", charge.id.as_str())))
        .respond_with(ResponseTemplate::new(200).set_body_json(settled))
        .mount(&shop.midtrans)
        .await;
    // No notification comes; the poll asks Midtrans, which says it is paid.
    assert_eq!(shop.gateway.qris.check(charge.id.as_str()).await.unwrap(), warung::flows::qris::Handled::Done);
    let replies = shop.replies("6281006", 3).await;
    assert!(replies[2].contains("Pembayaran QRIS diterima") && replies[2].contains("viu-item-0"), "{replies:?}");
    shop.finish().await;
}

#[actix_rt::test]
async fn a_qris_message_handled_again_after_a_crash_sends_the_same_code_and_charges_once() {
    let shop = spawn_shop(Backend::Sqlite).await;
    product_with_items(&shop.engine, "viu", 15_000, 2).await;
    shop.say("6281007", "beli viu qris").await;
    let first = shop.replies("6281007", 2).await;
    let charge = shop.charge_of_latest_order("6281007").await;
    let stopped = shop.stop().await;

    // As if the process had died after charging and before storing the replies.
    let pool = sqlx::SqlitePool::connect(&stopped.db.url).await.unwrap();
    sqlx::query("UPDATE webhook_inbox SET handled_at = NULL").execute(&pool).await.unwrap();
    sqlx::query("DELETE FROM outbox").execute(&pool).await.unwrap();
    pool.close().await;

    let again = stopped.restart().await;
    let replies = again.replies("6281007", 2).await;
    assert_eq!(replies[0], first[0], "the same code, the same amount");
    let charges =
        again.midtrans.received_requests().await.unwrap().iter().filter(|r| r.url.path() == "/v2/charge").count();
    assert_eq!(charges, 1, "charged once");
    assert_eq!(again.charge_of_latest_order("6281007").await.id, charge.id);
    assert_eq!(again.engine.store.orders_of(&customer("6281007"), 5).await.unwrap().len(), 1, "one order");
    again.finish().await;
}
