//! Nobody's chat stops for somebody else's trouble: a customer whose replies back off does not
//! hold up the outbox, a poison message does not silence its sender, and a few accounts cannot
//! take every unique QRIS code of an amount.

use warung::store::NewOutbox;
use warung_actors::domain::Money;

use crate::helpers::*;
use crate::shop::*;

#[actix_rt::test]
async fn customers_whose_replies_back_off_do_not_hold_up_everyone_elses() {
    let shop = spawn_shop(Backend::Sqlite).await;
    // Eleven customers with a hundred replies each waiting out Meta's pair limit (131056) for
    // an hour: older than anything else in the outbox.
    let later = shop.engine.lanes.clock().now() + 3_600_000;
    for who in 0..11 {
        let entries: Vec<NewOutbox> = (0..100)
            .map(|i| NewOutbox {
                dedup_key: format!("backlog:{who}:{i}"),
                kind: "whatsapp".into(),
                destination: format!("628400000{who:02}"),
                payload: serde_json::to_string(&warung::providers::whatsapp::Outbound::text("nanti")).unwrap(),
            })
            .collect();
        shop.engine.store.enqueue(later, &entries).await.unwrap();
    }
    let menu = shop.ask("6284100", "saldo", 1).await;
    assert!(menu.contains("Saldo"), "{menu}");
    shop.finish().await;
}

#[actix_rt::test]
async fn a_poison_message_is_answered_and_its_sender_is_answered_again() {
    let shop = spawn_shop(Backend::Sqlite).await;
    let giant = code("emas");
    assert!(shop
        .engine
        .catalog
        .create(&giant, "Emas batangan", Money::rupiah(999_999_999_999), warung_actors::journal::StockKind::Counted)
        .await
        .unwrap());
    let restock = warung_actors::product::ProductCommand::Restock {
        reference: reference("emas-1"),
        stock: warung_actors::product::Restock::Count(1),
        actor: "test".into(),
    };
    shop.engine.lanes.product(&giant, restock).await.unwrap().unwrap();

    let top_up = shop.ask("6284200", "topup 1.000.000.000.000", 1).await;
    assert!(!top_up.is_empty(), "answered");
    let qris = shop.ask("6284200", "beli emas qris", 2).await;
    assert!(!qris.is_empty(), "answered");
    let balance = shop.ask("6284200", "saldo", 3).await;
    assert!(balance.contains("Saldo kamu"), "the chat still answers: {balance}");
    assert!(shop.engine.store.open_charges(10).await.unwrap().is_empty(), "no charge beyond the money limit");
    shop.finish().await;
}

#[actix_rt::test]
async fn a_customer_holds_at_most_one_open_top_up() {
    let shop = spawn_shop(Backend::Sqlite).await;
    shop.say("6284300", "topup 10.000").await;
    shop.replies("6284300", 2).await;
    shop.say("6284300", "topup 10.000").await;
    let replies = shop.replies("6284300", 5).await;
    assert!(replies[2].contains("belum dibayar"), "told, and shown the open one's code again: {replies:?}");
    assert_eq!(replies[3], replies[0], "{replies:?}");
    assert_eq!(shop.engine.store.open_charges(10).await.unwrap().len(), 1, "one open top-up");
    shop.finish().await;
}

#[actix_rt::test]
async fn one_customers_unsent_backlog_is_capped() {
    let engine = TestEngine::start(Backend::Postgres).await;
    let later = engine.lanes.clock().now() + 3_600_000;
    let entries: Vec<NewOutbox> = (0..150)
        .map(|i| NewOutbox {
            dedup_key: format!("flood:{i}"),
            kind: "whatsapp".into(),
            destination: "6284400".into(),
            payload: "{}".into(),
        })
        .collect();
    engine.store.enqueue(later, &entries).await.unwrap();
    let kept = engine.store.outbox_of("6284400").await.unwrap().len() as i64;
    assert_eq!(kept, warung::store::mailbox::OUTBOX_DESTINATION_UNSENT_MAX);
    engine.finish().await;
}
