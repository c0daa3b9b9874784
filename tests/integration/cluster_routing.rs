//! Two nodes in one process on one database and the machine's NATS: each runs the actors of its
//! own shards, and a purchase whose product or wallet lives on the other node is served there.

use std::time::Duration;

use warung::checkout::{CheckoutError, OrderState};
use warung::cluster::{membership, ClusterNode, Joined, Shard};
use warung::engine::Engine;
use warung::settings::ClusterSettings;
use warung_actors::domain::{ItemSecret, Money, ProductCode};
use warung_actors::journal::StockKind;
use warung_actors::product::{ProductCommand, Restock};
use warung_actors::runtime::{CallError, Notice};

use crate::helpers::*;

const NATS_URL: &str = "nats://127.0.0.1:4222";

pub(crate) async fn node(db: &TestDb, name: &str) -> (Engine, ClusterNode) {
    node_in(db, name, settings_for(db)).await
}

/// A node with `engine` settings; the actors' notices are handled as `warung serve`'s workers do.
async fn node_in(db: &TestDb, name: &str, engine: warung::settings::Settings) -> (Engine, ClusterNode) {
    let settings = ClusterSettings { enabled: true, heartbeat_ms: 100, ttl_ms: 600, ..ClusterSettings::default() };
    let store = db.store().await;
    let node = ClusterNode::join(store.cluster_access().unwrap(), &settings, name, "").await.unwrap();
    let nats = async_nats::connect(NATS_URL).await.expect("NATS on 127.0.0.1:4222 (see README)");
    let joined = Joined::new(node.clone(), nats, db.name.clone(), Duration::from_secs(3));
    let (engine, mut notices) =
        Engine::start_in(engine, store, warung_actors::domain::Clock::system(), Some(&joined)).await.unwrap();
    let checkout = engine.checkout.clone();
    actix_rt::spawn(async move {
        while let Some(notice) = notices.recv().await {
            match notice {
                Notice::ReservationExpired { order, .. } => checkout.on_reservation_expired(&order).await,
            }
        }
    });
    (engine, node)
}

fn settings_for(db: &TestDb) -> warung::settings::Settings {
    settings(&db.url)
}

/// Waits until the two nodes' upkeep has shared every shard out between them.
pub(crate) async fn until_shared(a: &ClusterNode, b: &ClusterNode) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while membership::unowned(a.pool()).await.unwrap() > 0 || a.owned().count() == 0 || b.owned().count() == 0 {
        assert!(tokio::time::Instant::now() < deadline, "the shards were not shared out");
        // The nodes' upkeep shares the shards out on its own; polled, as there is no event.
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Waits until every message of `phone` is answered and a reply is queued; returns the replies'
/// keys in the order they were queued.
async fn until_answered(pool: &sqlx::PgPool, phone: &str) -> Vec<String> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let replies: Vec<(String,)> = sqlx::query_as("SELECT dedup_key FROM outbox WHERE destination = $1 ORDER BY id")
            .bind(phone)
            .fetch_all(pool)
            .await
            .unwrap();
        let (unhandled,): (i64,) =
            sqlx::query_as("SELECT COUNT(*) FROM webhook_inbox WHERE customer = $1 AND handled_at IS NULL")
                .bind(phone)
                .fetch_one(pool)
                .await
                .unwrap();
        if unhandled == 0 && !replies.is_empty() {
            return replies.into_iter().map(|(key,)| key).collect();
        }
        assert!(tokio::time::Instant::now() < deadline, "the messages were not answered");
        // Answered by the customer's node, seen in the tables: polled.
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The first name `make(i)` gives whose shard `node` owns.
fn owned_by<T>(node: &ClusterNode, shard: impl Fn(&T) -> Shard, make: impl Fn(usize) -> T) -> T {
    (0..10_000).map(make).find(|key| node.owned().owns(shard(key))).expect("a key on that node")
}

#[actix_rt::test]
async fn a_purchase_reaches_the_product_and_the_wallet_on_the_nodes_that_own_them() {
    let db = TestDb::new(Backend::Postgres).await;
    let (engine_a, node_a) = node(&db, "a").await;
    let (engine_b, node_b) = node(&db, "b").await;
    until_shared(&node_a, &node_b).await;
    // Let the intake subscribe to the shards just acquired.
    tokio::time::sleep(Duration::from_millis(200)).await;

    let product: ProductCode = owned_by(&node_b, Shard::of_product, |i| code(&format!("hot{i}")));
    assert!(engine_a.catalog.create(&product, "Hot", Money::rupiah(1_000), StockKind::Items).await.unwrap());
    let secrets = (0..3).map(|i| ItemSecret::parse(&format!("item-{i}")).unwrap()).collect();
    let restock =
        ProductCommand::Restock { reference: reference("stock"), stock: Restock::Items(secrets), actor: "test".into() };
    engine_a.checkout.actors().product(&product, restock).await.unwrap().unwrap();
    assert_eq!(
        engine_a.lanes.product_snapshot(&product).await.unwrap_err(),
        CallError::NotOwner,
        "a node does not run an actor of a shard it does not own"
    );

    // A's customer buys B's product from A: the stock is reserved and committed on B.
    let buyer_a = owned_by(&node_a, Shard::of_customer, |i| customer(&format!("62811{i:07}")));
    fund(&engine_a, buyer_a.as_str(), 5_000).await;
    let bought = engine_a.checkout.buy_with_saldo(&buyer_a, &product, 1).await.unwrap();
    assert_eq!(bought.items.len(), 1);
    assert_eq!(bought.balance.available, Money::rupiah(4_000));

    // The same customer buys again from B: the wallet is debited on A.
    let bought = engine_b.checkout.buy_with_saldo(&buyer_a, &product, 1).await.unwrap();
    assert_eq!(bought.balance.available, Money::rupiah(3_000));

    let pool = sqlx::PgPool::connect(&db.url).await.unwrap();
    let (sold,): (i64,) =
        sqlx::query_as("SELECT COUNT(*) FROM items WHERE status = 'sold'").fetch_one(&pool).await.unwrap();
    assert_eq!(sold, 2);
    pool.close().await;

    // Ops see the cluster from either node, and the calls that went to the other one.
    let ops = serve_ops(&engine_a);
    let client = reqwest::Client::new();
    let cluster: serde_json::Value =
        client.get(format!("{ops}/ops/cluster")).send().await.unwrap().json().await.unwrap();
    assert_eq!(cluster["node"], "a");
    assert_eq!(cluster["nodes"].as_array().unwrap().len(), 2);
    assert_eq!(cluster["shards_unowned"], 0);
    assert_eq!(cluster["shard_map"].as_array().unwrap().len(), 256);
    let metrics = client.get(format!("{ops}/metrics")).send().await.unwrap().text().await.unwrap();
    let done = metrics
        .lines()
        .find_map(|line| line.strip_prefix("warung_cluster_remote_calls_total{outcome=\"done\"} "))
        .expect("remote calls are counted");
    assert!(done.parse::<u64>().unwrap() >= 2, "{done}");
    assert_audit_clean(engine_a.store.as_ref()).await;
    engine_a.shutdown().await.unwrap();
    engine_b.shutdown().await.unwrap();
    db.remove().await;
}

/// Nodes with two lanes each (`engine.lanes`): a call from the other node is placed in its lane
/// as a local call is, and a purchase crosses nodes and lanes with nothing lost.
#[actix_rt::test]
async fn nodes_with_two_lanes_each_serve_purchases_across_nodes_and_lanes() {
    const BUYERS: usize = 6;
    let db = TestDb::new(Backend::Postgres).await;
    let two_lanes = || {
        let mut settings = settings_for(&db);
        settings.engine.lanes = 2;
        settings
    };
    let (engine_a, node_a) = node_in(&db, "a", two_lanes()).await;
    let (engine_b, node_b) = node_in(&db, "b", two_lanes()).await;
    until_shared(&node_a, &node_b).await;
    // Let the intake subscribe to the shards just acquired.
    tokio::time::sleep(Duration::from_millis(200)).await;

    let on_a: ProductCode = owned_by(&node_a, Shard::of_product, |i| code(&format!("lanea{i}")));
    let on_b: ProductCode = owned_by(&node_b, Shard::of_product, |i| code(&format!("laneb{i}")));
    for product in [&on_a, &on_b] {
        assert!(engine_a.catalog.create(product, "Laned", Money::rupiah(1_000), StockKind::Items).await.unwrap());
        let secrets = (0..BUYERS).map(|i| ItemSecret::parse(&format!("{product}-{i}")).unwrap()).collect();
        let restock = ProductCommand::Restock {
            reference: reference("stock"),
            stock: Restock::Items(secrets),
            actor: "test".into(),
        };
        engine_a.checkout.actors().product(product, restock).await.unwrap().unwrap();
    }
    let buyers: Vec<_> = (0..10_000)
        .map(|i| customer(&format!("62812{i:07}")))
        .filter(|buyer| node_a.owned().owns(Shard::of_customer(buyer)))
        .take(BUYERS)
        .collect();
    let lanes: std::collections::HashSet<usize> =
        buyers.iter().map(|buyer| engine_a.lanes.lane_of_customer(buyer)).collect();
    assert_eq!(lanes.len(), 2, "A's buyers are in both of its lanes");

    for buyer in &buyers {
        fund(&engine_a, buyer.as_str(), 5_000).await;
        // B's product bought on A, A's product bought on B: each call reaches the owner's lane.
        engine_a.checkout.buy_with_saldo(buyer, &on_b, 1).await.unwrap();
        let bought = engine_b.checkout.buy_with_saldo(buyer, &on_a, 1).await.unwrap();
        assert_eq!(bought.balance.available, Money::rupiah(3_000), "{buyer}");
    }
    for (engine, product) in [(&engine_a, &on_a), (&engine_b, &on_b)] {
        let snapshot = engine.lanes.product_snapshot(product).await.unwrap();
        assert_eq!((snapshot.sold, snapshot.available), (BUYERS as i64, 0), "{product}");
    }
    engine_a.lanes.flush().await.unwrap();
    engine_b.lanes.flush().await.unwrap();
    let pool = sqlx::PgPool::connect(&db.url).await.unwrap();
    let (paid,): (i64,) =
        sqlx::query_as("SELECT COUNT(*) FROM orders WHERE state = 'paid'").fetch_one(&pool).await.unwrap();
    assert_eq!(paid, 2 * BUYERS as i64);
    pool.close().await;
    assert_audit_clean(engine_a.store.as_ref()).await;
    engine_a.shutdown().await.unwrap();
    engine_b.shutdown().await.unwrap();
    db.remove().await;
}

#[actix_rt::test]
async fn a_message_recorded_by_one_node_is_answered_by_its_customers_owner() {
    let db = TestDb::new(Backend::Postgres).await;
    let (engine_a, node_a) = node(&db, "a").await;
    let (engine_b, node_b) = node(&db, "b").await;
    until_shared(&node_a, &node_b).await;
    let (served_a, served_b) = (spawn_app(&engine_a), spawn_app(&engine_b));
    let phone = owned_by(&node_b, |p: &String| Shard::of_customer(&customer(p)), |i| format!("62813{i:07}"));

    // The simulator signs a webhook to node A; the message is B's customer's.
    let client = reqwest::Client::new();
    let said = client
        .post(format!("{}/simulator/api/chat/{phone}", served_a.address))
        .json(&serde_json::json!({"text": "menu"}))
        .send()
        .await
        .unwrap();
    assert_eq!(said.status(), 202);
    let pool = sqlx::PgPool::connect(&db.url).await.unwrap();
    until_answered(&pool, &phone).await;
    assert_eq!(served_a.gateway.inbox.report().answered, 0, "node A answered a message of B's customer");
    assert_eq!(served_b.gateway.inbox.report().answered, 1, "B, the customer's owner, answered it");
    pool.close().await;
    engine_a.shutdown().await.unwrap();
    engine_b.shutdown().await.unwrap();
    db.remove().await;
}

#[actix_rt::test]
async fn what_an_admin_changes_on_one_node_the_others_see_at_once() {
    let db = TestDb::new(Backend::Postgres).await;
    let (engine_a, node_a) = node(&db, "a").await;
    let (engine_b, node_b) = node(&db, "b").await;
    until_shared(&node_a, &node_b).await;
    let served_a = spawn_app(&engine_a);
    let client = reqwest::Client::new();
    let admin = |path: &str| format!("{}/admin/api{path}", served_a.address);
    let created = client
        .post(admin("/products"))
        .bearer_auth(ADMIN_TOKEN)
        .json(&serde_json::json!({"code": "fresh", "name": "Fresh", "price": "5000"}))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    let buyer = customer("6281300000001");
    let role = client
        .put(admin(&format!("/customers/{buyer}/role")))
        .bearer_auth(ADMIN_TOKEN)
        .json(&serde_json::json!({"role": "reseller"}))
        .send()
        .await
        .unwrap();
    assert!(role.status().is_success(), "{}", role.status());
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while !(engine_b.catalog.contains(&code("fresh"))
        && engine_b.checkout.role_of(&buyer).tier() != engine_a.checkout.role_of(&customer("someone")).tier())
    {
        assert!(tokio::time::Instant::now() < deadline, "node B's caches were not reloaded");
        // Reloaded by B when A's announcement arrives over NATS: polled.
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    engine_a.shutdown().await.unwrap();
    engine_b.shutdown().await.unwrap();
    db.remove().await;
}

/// A customer's flows run on the node that owns the customer, wherever they start (an admin's
/// call on another node, a reservation expiring on the product's node): the rule "one open order
/// per customer" is kept there, so it holds across nodes.
#[actix_rt::test]
async fn a_customers_flows_run_on_the_customers_node_wherever_they_start() {
    let db = TestDb::new(Backend::Postgres).await;
    let mut quick = settings_for(&db);
    quick.engine.payment_ttl_secs = 1;
    let (engine_a, node_a) = node_in(&db, "a", quick.clone()).await;
    let (engine_b, node_b) = node_in(&db, "b", quick).await;
    until_shared(&node_a, &node_b).await;
    // Let the intake subscribe to the shards just acquired.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let product: ProductCode = owned_by(&node_a, Shard::of_product, |i| code(&format!("hot{i}")));
    assert!(engine_a.catalog.create(&product, "Hot", Money::rupiah(1_000), StockKind::Items).await.unwrap());
    let secrets = (0..4).map(|i| ItemSecret::parse(&format!("item-{i}")).unwrap()).collect();
    let restock =
        ProductCommand::Restock { reference: reference("stock"), stock: Restock::Items(secrets), actor: "test".into() };
    engine_a.checkout.actors().product(&product, restock).await.unwrap().unwrap();
    let buyer = owned_by(&node_b, Shard::of_customer, |i| customer(&format!("62812{i:07}")));
    fund(&engine_a, buyer.as_str(), 10_000).await;

    // An order opened on A (an admin's call that landed there) holds the claim on B.
    let open = engine_a.checkout.buy_with_external(&buyer, &product, 1).await.unwrap();
    let second = engine_b.checkout.buy_with_saldo(&buyer, &product, 1).await;
    assert_eq!(second.unwrap_err(), CheckoutError::OpenOrderExists { order: open.order.clone() });
    // Cancelled on A, it frees the claim on B.
    engine_a.checkout.cancel(&open.order).await.unwrap();
    engine_b.checkout.buy_with_saldo(&buyer, &product, 1).await.expect("the claim was freed");

    // An order whose reservation expires on A, the product's node, frees the claim on B.
    let expiring = engine_b.checkout.buy_with_external(&buyer, &product, 1).await.unwrap();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        match engine_b.checkout.buy_with_saldo(&buyer, &product, 1).await {
            Ok(_) => break,
            Err(CheckoutError::OpenOrderExists { order }) if order == expiring.order => {
                assert!(tokio::time::Instant::now() < deadline, "the expired order still holds the claim");
                // The reservation's timer runs on A (1 s): polled.
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Err(error) => panic!("{error}"),
        }
    }
    let expired = engine_b.store.order(&expiring.order).await.unwrap().unwrap();
    assert_eq!(expired.state, OrderState::Expired);
    assert_audit_clean(engine_a.store.as_ref()).await;
    engine_a.shutdown().await.unwrap();
    engine_b.shutdown().await.unwrap();
    db.remove().await;
}

/// A customer's messages are answered in the order they were recorded, even when the earlier one
/// was recorded by another node whose wake has not arrived: the owner queues from the table.
#[actix_rt::test]
async fn a_customers_messages_are_answered_in_order_across_nodes() {
    let db = TestDb::new(Backend::Postgres).await;
    let (engine_a, node_a) = node(&db, "a").await;
    let (engine_b, node_b) = node(&db, "b").await;
    until_shared(&node_a, &node_b).await;
    let served_b = spawn_app(&engine_b);
    let phone = owned_by(&node_b, |p: &String| Shard::of_customer(&customer(p)), |i| format!("62814{i:07}"));

    // An earlier message, recorded by another node whose wake to B was lost.
    let pool = sqlx::PgPool::connect(&db.url).await.unwrap();
    let earlier = serde_json::json!({"id": "wamid.early", "customer": phone, "name": null, "sent_at": null,
                                     "content": {"type": "text", "value": "saldo"}});
    sqlx::query(
        "INSERT INTO webhook_inbox (provider, event_id, received_at, payload, customer) \
         VALUES ('whatsapp', 'message:wamid.early', $1, $2, $3)",
    )
    .bind(warung_actors::domain::Clock::system().now() - 1_000)
    .bind(earlier.to_string())
    .bind(&phone)
    .execute(&pool)
    .await
    .unwrap();
    // A later one reaches the owner itself.
    let said = reqwest::Client::new()
        .post(format!("{}/simulator/api/chat/{phone}", served_b.address))
        .json(&serde_json::json!({"text": "menu"}))
        .send()
        .await
        .unwrap();
    assert_eq!(said.status(), 202);

    let first_reply = until_answered(&pool, &phone).await.remove(0);
    assert!(first_reply.starts_with("reply:message:wamid.early:"), "answered out of order: {first_reply}");
    pool.close().await;
    engine_a.shutdown().await.unwrap();
    engine_b.shutdown().await.unwrap();
    db.remove().await;
}
