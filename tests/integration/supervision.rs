//! The gateway's actors are the supervisor's: the outbox sender and the QRIS sweep are services it
//! keeps running, and they are listed in `/ops/actors` beside the products, wallets and
//! conversations, with their mailbox and handling time. (Their restarts are unit-tested in the
//! actors crate and in the inbox.)

use serde_json::Value;

use crate::helpers::*;
use crate::shop::*;

#[actix_rt::test]
async fn the_outbox_sender_and_the_qris_sweep_are_services_ops_can_see() {
    let shop = spawn_shop(Backend::Sqlite).await;
    shop.say("6294000", "saldo").await;
    shop.replies("6294000", 1).await;
    shop.until_idle().await;

    let ops: Value =
        shop.client.get(format!("{}/ops/actors", shop.ops_address)).send().await.unwrap().json().await.unwrap();
    let service = |name: &str| {
        let listed = ops["actors"].as_array().unwrap().iter().find(|a| a["kind"] == "service" && a["id"] == name);
        listed.cloned().unwrap_or_else(|| panic!("{name} is not listed: {ops}"))
    };
    let sender = service("outbox-sender");
    assert!(sender["messages_handled"].as_u64().unwrap() >= 1, "it woke and sent: {sender}");
    assert!(sender["handling_p99_micros"].as_u64().unwrap() > 0, "{sender}");
    assert_eq!(sender["mailbox_capacity"], 2, "{sender}");
    assert!(sender["mailbox_depth"].as_i64().unwrap() <= 1, "its own timer is not counted as mail: {sender}");
    assert_eq!(sender["incarnation"], 1, "never restarted: {sender}");
    let sweep = service("qris-sweep");
    assert!(sweep["messages_handled"].as_u64().unwrap() >= 1, "it sweeps at start: {sweep}");
    assert!(sweep["mailbox_depth"].as_i64().unwrap() <= 2, "{sweep}");
    shop.finish().await;
}

/// With two lanes (`engine.lanes`), `/ops/actors` shows each lane's actors and journal (a
/// product's share among them), and its totals, like `/metrics`, add the lanes up: an uneven
/// spread shows, and nothing is missed.
#[actix_rt::test]
async fn with_two_lanes_the_ops_page_and_the_metrics_add_the_lanes_up() {
    const BUYERS: usize = 8;
    let shop = spawn_shop_with(Backend::PostgresLog, StandIns::Accepting, |s| s.engine.lanes = 2).await;
    let product = product_with_items(&shop.engine, "laned", 10_000, BUYERS).await;
    let buyers: Vec<String> = (0..BUYERS).map(|b| format!("62811{b:04}")).collect();
    fund_all(&shop.engine, &buyers, 10_000).await;
    for buyer in &buyers {
        shop.engine.checkout.buy_with_saldo(&customer(buyer), &product, 1).await.unwrap();
    }

    let ops: Value =
        shop.client.get(format!("{}/ops/actors", shop.ops_address)).send().await.unwrap().json().await.unwrap();
    let lanes = ops["lanes"].as_array().unwrap_or_else(|| panic!("no lanes: {ops}"));
    assert_eq!(lanes.len(), 2, "{ops}");
    let mut wallets_by_lane = [0; 2];
    for buyer in &buyers {
        wallets_by_lane[shop.engine.lanes.lane_of_customer(&customer(buyer))] += 1;
    }
    assert!(wallets_by_lane.iter().all(|wallets| *wallets > 0), "buyers in both lanes: {wallets_by_lane:?}");
    for (lane, shown) in lanes.iter().enumerate() {
        assert_eq!(shown["lane"], lane, "{ops}");
        assert_eq!(shown["wallets"], wallets_by_lane[lane], "each wallet in its lane: {ops}");
        assert!(shown["events_committed"].as_u64().unwrap() > 0, "each lane's journal stored changes: {ops}");
    }
    let sum = |field: &str| lanes.iter().map(|lane| lane[field].as_u64().unwrap()).sum::<u64>();
    // The product sells in its lane and its share (made by the restock) in the other.
    assert!(lanes.iter().all(|lane| lane["products"] == 1), "the product and its share, a lane each: {ops}");
    assert_eq!(ops["active"]["wallets"], BUYERS, "{ops}");
    assert_eq!(ops["journal"]["events_committed"].as_u64(), Some(sum("events_committed")), "{ops}");
    assert_eq!(ops["journal"]["batches_committed"].as_u64(), Some(sum("batches_committed")), "{ops}");

    let metrics = shop.client.get(format!("{}/metrics", shop.ops_address)).send().await.unwrap().text().await.unwrap();
    let wallets_line = format!("warung_actors_active{{kind=\"wallet\"}} {BUYERS}");
    assert!(metrics.lines().any(|line| line == wallets_line), "{wallets_line} in:\n{metrics}");
    shop.finish().await;
}
