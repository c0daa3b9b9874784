//! Bank transfers by chat: the order reserves stock and names the account and the exact amount;
//! the owner's confirmation (WhatsApp `lunas` or the admin API) delivers once; expiry releases the
//! stock; a confirmation after expiry credits the wallet; and when Midtrans is down the customer
//! is offered saldo and transfer in one message.

use std::time::Duration;

use serde_json::json;

use warung::checkout::{OrderNotice, OrderState, PaymentMethod};
use warung::settings::Settings;
use warung::store::{ChargeMethod, ChargeStatus};
use warung_actors::domain::Money;
use wiremock::matchers::{method, path};
use wiremock::{Mock, ResponseTemplate};

use crate::helpers::*;
use crate::shop::*;

pub const OWNER: &str = "6289000000001";

/// A shop that takes transfers, with `OWNER` as its admin number.
pub fn with_transfer(settings: &mut Settings) {
    settings.transfer.bank = Some("BCA".into());
    settings.transfer.account_number = Some("1234567890".into());
    settings.transfer.account_name = Some("Toko Budi".into());
    settings.shop.admin_numbers = OWNER.into();
}

async fn a_transfer_reserves_stock_names_the_account_and_delivers_once_when_confirmed(backend: Backend) {
    let shop = spawn_shop_with(backend, StandIns::Accepting, with_transfer).await;
    let product = product_with_items(&shop.engine, "viu", 15_000, 2).await;

    let asked = shop.ask("6281100", "beli viu transfer", 1).await;
    let charge = shop.charge_of_latest_order("6281100").await;
    let order = charge.order.clone().unwrap();
    assert_eq!((charge.method, charge.status), (ChargeMethod::Transfer, ChargeStatus::Pending));
    assert_eq!(charge.gross, Money::rupiah(15_000 + charge.unique_code as u64));
    for part in ["BCA", "1234567890", "Toko Budi", &format!("*{}*", charge.gross), order.as_str()] {
        assert!(asked.contains(part), "{part} in {asked}");
    }
    let row = shop.engine.store.order(&order).await.unwrap().unwrap();
    assert_eq!((row.method, row.state), (PaymentMethod::Transfer, OrderState::AwaitingPayment));
    let snapshot = shop.engine.lanes.product_snapshot(&product).await.unwrap();
    assert_eq!((snapshot.available, snapshot.reserved), (1, 1), "reserved as for QRIS");
    assert!(shop.midtrans.received_requests().await.unwrap().is_empty(), "Midtrans never hears of a transfer");

    // The owner finds it by its amount in `laporan`. Recorded as a payment under any other id, it
    // would be a second payment for the same money: refused.
    let report = shop.ask(OWNER, "laporan", 1).await;
    assert!(report.contains(&format!("{} — {order}", charge.gross)), "{report}");
    let other_id = json!({"payment_id": "bank-statement-17", "amount": charge.gross.amount().to_string()});
    let (status, body) = shop.admin("POST", format!("/orders/{order}/payments"), Some(other_id)).await;
    assert_eq!((status, body["code"].as_str()), (409, Some("transfer_takes_only_its_confirmation")));

    // The owner confirms from WhatsApp: the customer gets the item, once.
    let confirmed = shop.ask(OWNER, &format!("lunas {order}"), 2).await;
    assert!(confirmed.contains("dicatat") && confirmed.contains("1 item"), "{confirmed}");
    let delivered = shop.replies("6281100", 2).await.pop().unwrap();
    assert!(delivered.contains("dikonfirmasi") && delivered.contains("viu-item-"), "{delivered}");
    let again = shop.ask(OWNER, &format!("lunas {order}"), 3).await;
    assert!(again.contains("sudah dikonfirmasi sebelumnya"), "{again}");
    let (status, body) = shop.admin("POST", format!("/orders/{order}/transfer-received"), None).await;
    assert_eq!((status, body["repeat"].as_bool(), body["outcome"].as_str()), (200, Some(true), Some("delivered")));
    shop.until_idle().await;
    assert_eq!(shop.sent_to("6281100").await.len(), 2, "the customer is told once");

    let row = shop.engine.store.order(&order).await.unwrap().unwrap();
    assert_eq!(row.state, OrderState::Paid);
    let snapshot = shop.engine.lanes.product_snapshot(&product).await.unwrap();
    assert_eq!((snapshot.available, snapshot.reserved, snapshot.sold), (1, 0, 1));
    let balance = shop.engine.checkout.balance(&customer("6281100")).await.unwrap();
    assert_eq!(balance.balance, Money::rupiah(charge.unique_code as u64), "the unique code is the customer's");
    let payments = shop.engine.store.audit_data().await.unwrap().payments;
    let ours: Vec<_> = payments.iter().filter(|p| p.order.as_ref() == Some(&order)).collect();
    assert_eq!(ours.len(), 1, "one payment, whoever confirms and however often");
    assert_eq!(ours[0].id.as_str(), format!("transfer-{order}"));
    let moves = shop.engine.store.movements_of(&product, 10).await.unwrap();
    assert!(moves.iter().any(|m| m.actor == format!("admin:{OWNER}")), "the sale is the owner's word: {moves:?}");
    shop.finish().await;
}

on_both_backends!(a_transfer_reserves_stock_names_the_account_and_delivers_once_when_confirmed);

async fn an_unconfirmed_transfer_expires_and_a_late_confirmation_credits_the_wallet(backend: Backend) {
    let shop = spawn_shop_with(backend, StandIns::Accepting, |s| {
        with_transfer(s);
        s.engine.transfer_ttl_secs = 1;
    })
    .await;
    let product = product_with_items(&shop.engine, "viu", 15_000, 1).await;
    let mut notices = shop.engine.checkout.subscribe();
    shop.ask("6281101", "beli viu 1 transfer", 1).await;
    let charge = shop.charge_of_latest_order("6281101").await;
    let order = charge.order.clone().unwrap();

    let expired = tokio::time::timeout(Duration::from_secs(10), notices.recv()).await;
    assert_eq!(
        expired.expect("the reservation never expired").unwrap(),
        OrderNotice::Expired { order: order.clone(), customer: customer("6281101") }
    );
    shop.gateway.qris.sweep().await.unwrap();
    let told = shop.replies("6281101", 2).await.pop().unwrap();
    assert!(told.contains("Waktu pembayaran habis"), "{told}");
    assert_eq!(shop.engine.store.charge(charge.id.as_str()).await.unwrap().unwrap().status, ChargeStatus::Expired);
    assert_eq!(shop.engine.lanes.product_snapshot(&product).await.unwrap().available, 1, "released");

    // The money arrived after all: the owner confirms, the customer's wallet gets all of it.
    let late = shop.ask(OWNER, &format!("lunas {order}"), 1).await;
    assert!(late.contains("masuk ke saldo"), "{late}");
    let told = shop.replies("6281101", 3).await.pop().unwrap();
    assert!(told.contains("masuk ke saldo kamu"), "{told}");
    let balance = shop.engine.checkout.balance(&customer("6281101")).await.unwrap();
    assert_eq!(balance.balance, charge.gross, "every rupiah transferred is in the wallet");
    assert_eq!(shop.engine.lanes.product_snapshot(&product).await.unwrap().sold, 0, "released stock not sold");
    let again = shop.ask(OWNER, &format!("lunas {order}"), 2).await;
    assert!(again.contains("sebelumnya"), "a second confirmation credits nothing: {again}");
    let balance = shop.engine.checkout.balance(&customer("6281101")).await.unwrap();
    assert_eq!(balance.balance, charge.gross);
    shop.finish().await;
}

on_both_backends!(an_unconfirmed_transfer_expires_and_a_late_confirmation_credits_the_wallet);

#[actix_rt::test]
async fn a_shop_without_an_account_does_not_offer_transfer() {
    let shop = spawn_shop(Backend::Sqlite).await;
    let product = product_with_items(&shop.engine, "viu", 15_000, 1).await;
    let refused = shop.ask("6281102", "beli viu transfer", 1).await;
    assert!(refused.contains("belum menerima transfer"), "{refused}");
    assert_eq!(shop.engine.lanes.product_snapshot(&product).await.unwrap().available, 1, "nothing reserved");
    let menu = shop.ask("6281102", "menu", 2).await;
    assert!(!menu.contains("transfer"), "{menu}");
    shop.finish().await;
}

#[actix_rt::test]
async fn lunas_refuses_an_order_not_paid_by_transfer() {
    let shop = spawn_shop_with(Backend::Sqlite, StandIns::Accepting, with_transfer).await;
    product_with_items(&shop.engine, "viu", 15_000, 1).await;
    shop.say("6281103", "beli viu qris").await;
    shop.replies("6281103", 2).await;
    let order = shop.charge_of_latest_order("6281103").await.order.unwrap();
    let refused = shop.ask(OWNER, &format!("lunas {order}"), 1).await;
    assert!(refused.contains("tidak dibayar dengan transfer"), "{refused}");
    let (status, body) = shop.admin("POST", format!("/orders/{order}/transfer-received"), None).await;
    assert_eq!((status, body["code"].as_str()), (409, Some("not_a_transfer_order")));
    let (status, _) = shop.admin("POST", "/orders/TRX-00000000aa-1700000000000/transfer-received", None).await;
    assert_eq!(status, 404);
    shop.finish().await;
}

#[actix_rt::test]
async fn midtrans_down_offers_saldo_and_transfer_in_one_message() {
    let shop = spawn_shop_with(Backend::Sqlite, StandIns::MidtransUnmounted, with_transfer).await;
    Mock::given(method("POST"))
        .and(path("/v2/charge"))
        .respond_with(ResponseTemplate::new(503))
        .mount(&shop.midtrans)
        .await;
    let product = product_with_items(&shop.engine, "viu", 15_000, 1).await;
    let down = shop.ask("6281104", "beli viu 1 qris", 1).await;
    assert!(down.contains("QRIS sedang gangguan"), "{down}");
    assert!(down.contains("*beli viu 1*") && down.contains("*beli viu 1 transfer*"), "both ways, one message: {down}");
    assert_eq!(shop.engine.lanes.product_snapshot(&product).await.unwrap().available, 1, "released");
    let transfer = shop.ask("6281104", "beli viu 1 transfer", 2).await;
    assert!(transfer.contains("1234567890"), "transfer still works: {transfer}");
    shop.finish().await;
}
