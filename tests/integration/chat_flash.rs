//! A flash sale by chat: 2,000 customers send `beli` for one product with 50 items at once,
//! through the webhook endpoint.

use std::collections::HashMap;
use std::time::Duration;

use futures::StreamExt;
use warung::checkout::OrderState;

use crate::helpers::*;
use crate::shop::*;

const CUSTOMERS: u64 = 2_000;
const ITEMS: usize = 50;
const PRICE: u64 = 10_000;
/// Webhook deliveries in flight at once (Meta sends many at a time too).
const DELIVERIES_IN_FLIGHT: usize = 200;

#[actix_rt::test]
async fn two_thousand_customers_buy_fifty_items_by_chat_and_each_gets_exactly_one_reply() {
    let shop =
        spawn_shop_with(Backend::Postgres, StandIns::Accepting, |s| s.whatsapp.messages_per_second = 10_000).await;
    let product = product_with_items(&shop.engine, "promo", PRICE, ITEMS).await;
    let customers: Vec<String> = (0..CUSTOMERS).map(|i| format!("{}", 62_700_000_000u64 + i)).collect();
    futures::stream::iter(customers.iter().map(|c| fund(&shop.engine, c, PRICE)))
        .buffer_unordered(DELIVERIES_IN_FLIGHT)
        .collect::<Vec<_>>()
        .await;

    let bodies: Vec<Vec<u8>> = customers.iter().map(|c| text_webhook(c, "beli promo").1).collect();
    let statuses: Vec<u16> = futures::stream::iter(bodies.iter().map(|body| shop.deliver(body)))
        .buffer_unordered(DELIVERIES_IN_FLIGHT)
        .map(|(status, _)| status)
        .collect()
        .await;
    assert!(statuses.iter().all(|s| *s == 200), "every delivery acknowledged");

    let deadline = tokio::time::Instant::now() + Duration::from_secs(120);
    let replies = loop {
        let requests = shop.graph.received_requests().await.unwrap();
        if requests.len() >= customers.len() {
            break requests;
        }
        assert!(tokio::time::Instant::now() < deadline, "{} of {} replies", requests.len(), customers.len());
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    shop.until_idle().await;
    let replies_now = shop.graph.received_requests().await.unwrap();
    assert_eq!(replies_now.len(), replies.len(), "nothing more arrives");

    let mut per_customer: HashMap<String, Vec<String>> = HashMap::new();
    for request in &replies {
        let body: serde_json::Value = serde_json::from_slice(&request.body).unwrap();
        let to = body["to"].as_str().unwrap().trim_start_matches('+').to_string();
        per_customer.entry(to).or_default().push(text_of(&body));
    }
    assert_eq!(per_customer.len(), customers.len(), "every customer answered");
    assert!(per_customer.values().all(|r| r.len() == 1), "exactly one reply each");
    let paid_replies = per_customer.values().filter(|r| r[0].contains("Pembayaran berhasil")).count();
    let sold_out = per_customer.values().filter(|r| r[0] == "Maaf, stok habis 🙏").count();
    assert_eq!(
        (paid_replies, sold_out),
        (ITEMS, customers.len() - ITEMS),
        "{:?}",
        per_customer.values().take(3).collect::<Vec<_>>()
    );

    let orders = shop.engine.store.audit_data().await.unwrap().orders;
    assert_eq!(orders.iter().filter(|o| o.state == OrderState::Paid).count(), ITEMS, "exactly fifty paid orders");
    let snapshot = shop.engine.lanes.product_snapshot(&product).await.unwrap();
    assert_eq!((snapshot.sold, snapshot.available), (ITEMS as i64, 0));
    shop.finish().await;
}
