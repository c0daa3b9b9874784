//! The chat through the webhook and the Graph API: answered once, in order, durably.

use serde_json::json;
use warung::checkout::OrderState;
use warung::store::{InboxEntry, OutboxStatus};

use crate::helpers::*;
use crate::shop::*;

async fn a_saldo_purchase_by_chat_is_answered_with_its_items(backend: Backend) {
    let shop = spawn_shop(backend).await;
    product_with_items(&shop.engine, "viu1b", 15_000, 2).await;
    fund(&shop.engine, "6281111", 20_000).await;

    let menu = shop.ask("6281111", "menu", 1).await;
    assert!(menu.contains("*viu1b*"), "{menu}");
    let list = &shop.sent_to("6281111").await[0];
    assert_eq!(list["interactive"]["action"]["sections"][0]["rows"][0]["id"], "beli viu1b", "tap to buy");

    let bought = shop.ask("6281111", "beli viu1b", 2).await;
    assert!(bought.contains("Pembayaran berhasil") && bought.contains("viu1b-item-0"), "{bought}");
    assert_eq!(shop.ask("6281111", "saldo", 3).await, "Saldo kamu: Rp5.000");
    let history = shop.ask("6281111", "riwayat", 4).await;
    assert!(history.contains("lunas"), "{history}");
    let order = shop.engine.store.orders_of(&customer("6281111"), 1).await.unwrap().remove(0);
    let status = shop.ask("6281111", &format!("status {}", order.id), 5).await;
    assert!(status.contains("Status: lunas") && status.contains("viu1b-item-0"), "its items, to its owner: {status}");
    let poor = shop.ask("6281111", "beli viu1b", 6).await;
    assert!(poor.contains("Saldo tidak cukup"), "{poor}");
    let nonsense = shop.ask("6281111", "apa kabar", 7).await;
    assert!(nonsense.contains("Ketik *menu*"), "never silence: {nonsense}");
    // A greeting is answered with the menu, not "not recognised".
    let greeted = shop.ask("6281111", "halo kak", 8).await;
    assert!(greeted.contains("Selamat datang") && greeted.contains("*viu1b*"), "{greeted}");
    shop.finish().await;
}

on_both_backends!(a_saldo_purchase_by_chat_is_answered_with_its_items);

#[actix_rt::test]
async fn a_message_delivered_three_times_buys_once_and_is_answered_once() {
    let shop = spawn_shop(Backend::Sqlite).await;
    product_with_items(&shop.engine, "viu1b", 15_000, 5).await;
    fund(&shop.engine, "6282222", 100_000).await;
    let (_, body) = text_webhook("6282222", "beli viu1b");
    for _ in 0..3 {
        assert_eq!(shop.deliver(&body).await.0, 200);
    }
    shop.replies("6282222", 1).await;
    shop.say("6282222", "saldo").await;
    shop.until_idle().await; // every delivery answered and sent: the count below is final
    let replies = shop.replies("6282222", 2).await;
    assert_eq!(replies.len(), 2, "{replies:?}");
    assert_eq!(replies[1], "Saldo kamu: Rp85.000", "bought once");
    shop.finish().await;
}

#[actix_rt::test]
async fn one_customers_messages_are_answered_in_order_and_a_batch_reaches_everyone() {
    let shop = spawn_shop(Backend::Sqlite).await;
    fund(&shop.engine, "6283333", 7_000).await;
    let message = |id: &str, from: &str, text: &str| json!({"from": from, "id": id, "timestamp": "1700000000", "type": "text", "text": {"body": text}});
    let batch = json!({"object": "whatsapp_business_account", "entry": [
        {"id": "1", "changes": [{"field": "messages", "value": {"messages": [
            message("wamid.B1", "6283333", "saldo"), message("wamid.B2", "6283333", "riwayat"),
            message("wamid.B3", "6283333", "batal")]}}]},
        {"id": "1", "changes": [{"field": "messages", "value": {
            "messages": [message("wamid.B4", "6284444", "saldo")],
            "statuses": [{"id": "wamid.SENT", "status": "delivered", "timestamp": "1700000001", "recipient_id": "6283333"}]}}]}]});
    let (status, counts) = shop.deliver(&serde_json::to_vec(&batch).unwrap()).await;
    assert_eq!((status, counts["new"].as_u64()), (200, Some(5)), "{counts}");
    let first = shop.replies("6283333", 3).await;
    assert_eq!(first[0], "Saldo kamu: Rp7.000");
    assert!(first[1].contains("Belum ada pesanan"), "{first:?}");
    assert_eq!(first[2], "Tidak ada pesanan yang menunggu pembayaran.");
    assert_eq!(shop.replies("6284444", 1).await, vec!["Saldo kamu: Rp0".to_string()]);
    shop.until_idle().await;
    assert_eq!(shop.sent_to("6283333").await.len(), 3, "the status callback is recorded, not answered");
    shop.finish().await;
}

#[actix_rt::test]
async fn an_image_and_an_unsupported_message_get_a_polite_reply() {
    let shop = spawn_shop(Backend::Sqlite).await;
    for name in ["wa_image_message.json", "wa_unsupported_message.json"] {
        let body = std::fs::read(format!("{}/tests/fixtures/whatsapp/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap();
        assert_eq!(shop.deliver(&body).await.0, 200);
    }
    let image_from = fixture_json("whatsapp/wa_image_message.json")["entry"][0]["changes"][0]["value"]["messages"][0]
        ["from"]
        .as_str()
        .unwrap()
        .to_string();
    let replies = shop.replies(&image_from, 1).await;
    assert!(replies[0].contains("hanya bisa membaca pesan teks"), "{replies:?}");
    shop.finish().await;
}

async fn a_restart_answers_recorded_messages_and_sends_what_the_outbox_holds(backend: Backend) {
    // First run: Meta is down, so the answer stays in the outbox.
    let shop = spawn_shop_meta_down(backend).await;
    shop.say("6285555", "saldo").await;
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let entries = shop.engine.store.outbox_of("6285555").await.unwrap();
        if entries.first().is_some_and(|e| e.attempts >= 1) {
            assert_eq!(entries[0].status, OutboxStatus::Pending, "kept for a retry");
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "no attempt: {entries:?}");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    // A message recorded but never answered (the process died right after the acknowledgement).
    let payload = r#"{"customer":"6286666","name":null,"sent_at":null,"content":{"type":"text","value":"saldo"}}"#;
    let entry = InboxEntry {
        provider: "whatsapp",
        event_id: "message:wamid.UNANSWERED",
        received_at: 1,
        customer: Some("6286666"),
        payload,
        handled: false,
    };
    assert!(shop.engine.store.record_webhook(&entry).await.unwrap());

    // Second run: Meta is back.
    let again = shop.stop().await.restart().await;
    assert_eq!(again.replies("6285555", 1).await, vec!["Saldo kamu: Rp0".to_string()]);
    assert_eq!(again.replies("6286666", 1).await, vec!["Saldo kamu: Rp0".to_string()]);
    // Meta has the reply; the sender marks it sent just after, and is idle only once it has.
    again.until_idle().await;
    let entries = again.engine.store.outbox_of("6285555").await.unwrap();
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0].status, OutboxStatus::Sent);
    assert_eq!(entries[0].provider_id.as_deref(), Some("wamid.SENT"));
    again.finish().await;
}

on_both_backends!(a_restart_answers_recorded_messages_and_sends_what_the_outbox_holds);

#[actix_rt::test]
async fn the_graph_api_answering_5xx_429_then_130429_is_retried_until_the_reply_is_sent_once() {
    let shop = spawn_shop_with(Backend::Sqlite, StandIns::GraphUnmounted, |_| {}).await;
    use wiremock::{matchers::method, Mock, ResponseTemplate};
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(500))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&shop.graph)
        .await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(429))
        .up_to_n_times(1)
        .with_priority(2)
        .mount(&shop.graph)
        .await;
    let limited = fixture_json("whatsapp/wa_api_error_rate_limit_130429.json");
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(400).set_body_json(limited))
        .up_to_n_times(1)
        .with_priority(3)
        .mount(&shop.graph)
        .await;
    graph_accepts(&shop.graph).await;
    shop.say("6287777", "saldo").await;
    let replies = shop.replies("6287777", 4).await;
    assert!(replies.iter().all(|r| r == "Saldo kamu: Rp0"), "{replies:?}");
    shop.until_idle().await;
    assert_eq!(shop.sent_to("6287777").await.len(), 4, "three refused attempts and one success, nothing more");
    let entries = shop.engine.store.outbox_of("6287777").await.unwrap();
    assert_eq!((entries.len(), entries[0].status, entries[0].attempts), (1, OutboxStatus::Sent, 4));
    let errors = shop.gateway.counters.whatsapp_sends.errors();
    let count = |code: &str| errors.iter().find(|(c, _)| c == code).map(|(_, n)| *n);
    assert_eq!((count("130429"), count("transient")), (Some(1), Some(2)), "by Meta's error code: {errors:?}");
    shop.finish().await;
}

#[actix_rt::test]
async fn a_message_meta_refuses_for_good_is_given_up_and_later_replies_still_go() {
    let shop = spawn_shop_with(Backend::Sqlite, StandIns::GraphUnmounted, |_| {}).await;
    use wiremock::{matchers::method, Mock, ResponseTemplate};
    let outside_window = json!({"error": {"message": "Re-engagement message", "code": 131047}});
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(400).set_body_json(outside_window))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&shop.graph)
        .await;
    graph_accepts(&shop.graph).await;
    shop.say("6288888", "saldo").await;
    shop.say("6288888", "riwayat").await;
    let replies = shop.replies("6288888", 2).await;
    assert!(replies[1].contains("Belum ada pesanan"), "{replies:?}");
    // Meta has the second reply; the sender marks it sent just after, and is idle only once it has.
    shop.until_idle().await;
    let entries = shop.engine.store.outbox_of("6288888").await.unwrap();
    assert_eq!(entries[0].status, OutboxStatus::Failed);
    assert!(entries[0].last_error.as_deref().unwrap_or("").contains("131047"));
    assert_eq!(entries[1].status, OutboxStatus::Sent);
    let orders = shop.engine.store.orders_of(&customer("6288888"), 5).await.unwrap();
    assert!(orders.iter().all(|o| o.state != OrderState::Pending));
    shop.finish().await;
}

#[actix_rt::test]
async fn a_customer_over_the_purchase_limit_is_told_to_wait_counted_in_redis() {
    let shop = spawn_shop_with(Backend::Sqlite, StandIns::Accepting, |s| {
        s.redis.url = Some("redis://127.0.0.1:6379".into());
        s.shop.purchases_per_minute = 2;
    })
    .await;
    assert!(shop.gateway.limiter.shared());
    product_with_items(&shop.engine, "pulsa", 1_000, 10).await;
    // Redis is shared by every test run: a customer of this run alone.
    let who = format!("6290{:08}", rand::random::<u32>() % 100_000_000);
    fund(&shop.engine, &who, 10_000).await;
    assert!(shop.ask(&who, "beli pulsa", 1).await.contains("Pembayaran berhasil"));
    assert!(shop.ask(&who, "beli pulsa", 2).await.contains("Pembayaran berhasil"));
    let limited = shop.ask(&who, "beli pulsa", 3).await;
    assert!(limited.contains("Terlalu banyak pembelian") && limited.contains("detik"), "{limited}");
    assert_eq!(shop.ask(&who, "saldo", 4).await, "Saldo kamu: Rp8.000", "the third was not bought");
    shop.finish().await;
}

#[actix_rt::test]
async fn purchases_go_on_when_redis_is_down_and_the_limit_says_it_failed_open() {
    let shop = spawn_shop_with(Backend::Sqlite, StandIns::Accepting, |s| {
        s.redis.url = Some("redis://127.0.0.1:1".into());
        s.shop.purchases_per_minute = 1;
    })
    .await;
    product_with_items(&shop.engine, "pulsa", 1_000, 10).await;
    fund(&shop.engine, "6291000", 10_000).await;
    assert!(shop.ask("6291000", "beli pulsa", 1).await.contains("Pembayaran berhasil"));
    assert!(shop.ask("6291000", "beli pulsa", 2).await.contains("Pembayaran berhasil"), "fails open");
    let ops: serde_json::Value =
        shop.client.get(format!("{}/ops/gateway", shop.ops_address)).send().await.unwrap().json().await.unwrap();
    assert_eq!(ops["purchase_rate_limit"]["failed_open"], 2, "{ops}");
    shop.finish().await;
}

#[actix_rt::test]
async fn the_in_process_limit_applies_without_redis() {
    let shop = spawn_shop_with(Backend::Sqlite, StandIns::Accepting, |s| s.shop.purchases_per_minute = 1).await;
    product_with_items(&shop.engine, "pulsa", 1_000, 10).await;
    fund(&shop.engine, "6292000", 10_000).await;
    assert!(shop.ask("6292000", "beli pulsa", 1).await.contains("Pembayaran berhasil"));
    assert!(shop.ask("6292000", "topup 10000", 2).await.contains("Terlalu banyak pembelian"), "top ups count too");
    shop.finish().await;
}

#[actix_rt::test]
async fn a_customer_without_a_visible_phone_number_is_answered_by_user_id() {
    let shop = spawn_shop(Backend::Sqlite).await;
    let body = json!({"object": "whatsapp_business_account", "entry": [{"id": "1", "changes": [{"field": "messages",
        "value": {"messaging_product": "whatsapp",
                  "contacts": [{"profile": {"name": "Ani", "username": "ani.shop"}, "user_id": "US.13491208655302741918"}],
                  "messages": [{"from_user_id": "US.13491208655302741918", "id": "wamid.BSUID1", "timestamp": "1700000000",
                                "type": "text", "text": {"body": "saldo"}}]}}]}]});
    assert_eq!(shop.deliver(&serde_json::to_vec(&body).unwrap()).await.0, 200);
    // Idle once the reply is answered and sent.
    shop.until_idle().await;
    let requests = shop.graph.received_requests().await.unwrap();
    let sent: serde_json::Value = serde_json::from_slice(&requests.first().expect("a reply").body).unwrap();
    assert_eq!(sent["recipient"], "US.13491208655302741918");
    assert!(sent.get("to").is_none());
    assert_eq!(sent["text"]["body"], "Saldo kamu: Rp0");
    shop.finish().await;
}

#[actix_rt::test]
async fn a_stopping_engine_waits_until_the_due_replies_are_sent_and_not_for_those_backing_off() {
    use std::time::Duration;
    use warung::flows::outbox::wait_until_sent;
    let shop = spawn_shop(Backend::Sqlite).await;
    let customers: Vec<String> = (0..5).map(|i| format!("62812000{i}")).collect();
    for who in &customers {
        shop.say(who, "saldo").await;
    }
    // Once every reply is written, the drain returns only when each is sent.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    for who in &customers {
        while shop.engine.store.outbox_of(who).await.unwrap().is_empty() {
            assert!(tokio::time::Instant::now() < deadline, "no reply written for {who}");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    let left = wait_until_sent(shop.engine.store.as_ref(), shop.engine.lanes.clock(), Duration::from_secs(10)).await;
    assert_eq!(left, 0);
    for who in &customers {
        let entries = shop.engine.store.outbox_of(who).await.unwrap();
        assert_eq!(entries[0].status, OutboxStatus::Sent, "{who}: {entries:?}");
    }
    shop.finish().await;

    // Meta down: the reply waits out a backoff, and the drain does not wait for it.
    let shop = spawn_shop_meta_down(Backend::Sqlite).await;
    shop.say("6285555", "saldo").await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while shop.engine.store.outbox_of("6285555").await.unwrap().first().is_none_or(|e| e.attempts == 0) {
        assert!(tokio::time::Instant::now() < deadline, "no attempt to send the reply");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let started = tokio::time::Instant::now();
    let left = wait_until_sent(shop.engine.store.as_ref(), shop.engine.lanes.clock(), Duration::from_secs(10)).await;
    assert_eq!(left, 0, "nothing due: the entry waits for its next attempt");
    assert!(started.elapsed() < Duration::from_secs(5), "returned at once");
    assert_eq!(
        shop.engine.store.outbox_of("6285555").await.unwrap()[0].status,
        OutboxStatus::Pending,
        "kept for the next start"
    );
    shop.finish().await;
}

#[actix_rt::test]
async fn each_customer_is_answered_by_an_actor_that_ops_can_see_and_that_stops_when_done() {
    let shop = spawn_shop(Backend::Sqlite).await;
    fund(&shop.engine, "6293000", 5_000).await;
    for _ in 0..3 {
        shop.say("6293000", "saldo").await;
    }
    shop.say("6293001", "saldo").await;
    shop.until_idle().await; // everything answered and sent: the counts below are final
    assert_eq!(shop.replies("6293000", 3).await, vec!["Saldo kamu: Rp5.000".to_string(); 3], "in order, each once");
    assert_eq!(shop.replies("6293001", 1).await, vec!["Saldo kamu: Rp0".to_string()]);
    let ops: serde_json::Value =
        shop.client.get(format!("{}/ops/gateway", shop.ops_address)).send().await.unwrap().json().await.unwrap();
    let conversations = &ops["conversations"];
    assert_eq!((conversations["active"].as_u64(), conversations["queued"].as_u64()), (Some(0), Some(0)), "{ops}");
    assert_eq!(conversations["answered"].as_u64(), Some(4), "{ops}");
    assert!(conversations["answer_p99_micros"].as_u64().unwrap() > 0, "{ops}");
    assert!(ops["outbox_sender"]["wakes"].as_u64().unwrap() >= 1, "{ops}");
    assert!(ops["qris_sweep"]["sweeps"].as_u64().unwrap() >= 1, "the sweep runs at start: {ops}");
    shop.finish().await;
}
