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
