//! Two nodes on one database, in one process, stepped by hand: node A's batch is held inside
//! Postgres (a row it writes is locked by the test) while node B takes A over. The takeover
//! waits for that batch; A's next batch is refused as fenced; B sells the rest from what A
//! committed, and no item is sold twice.

use std::collections::HashSet;
use std::time::Duration;

use warung::cluster::{membership, ClusterNode};
use warung::engine::Engine;
use warung::settings::ClusterSettings;
use warung_actors::domain::Clock;

use crate::helpers::*;

const ITEMS: usize = 12;
/// Sold by A before its batch is held.
const SOLD_BY_A_FIRST: usize = 4;
/// A's heartbeat expires this soon after it joins (it never renews it here).
const A_TTL_MS: u64 = 300;

fn cluster(ttl_ms: u64) -> ClusterSettings {
    ClusterSettings { enabled: true, heartbeat_ms: ttl_ms / 3, ttl_ms, ..ClusterSettings::default() }
}

/// Polls `pg_stat_activity` until a backend of the test's database runs a statement containing
/// `query` and waits on a lock.
async fn until_waiting_on_a_lock(db: &TestDb, query: &str) {
    let admin = sqlx::PgPool::connect(POSTGRES_ADMIN_URL).await.unwrap();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let (waiting,): (i64,) = sqlx::query_as(
            "SELECT COUNT(*) FROM pg_stat_activity WHERE datname = $1 AND wait_event_type = 'Lock' AND query LIKE '%' || $2 || '%'",
        )
        .bind(&db.name)
        .bind(query)
        .fetch_one(&admin)
        .await
        .unwrap();
        if waiting > 0 {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "nothing waited on a lock running {query:?}");
        // Polling another process (Postgres) for a state it reaches by itself: no event to await.
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    admin.close().await;
}

async fn buy(engine: &Engine, who: &str) -> Result<(), warung::checkout::CheckoutError> {
    let product = code("hot");
    engine.checkout.buy_with_saldo(&customer(who), &product, 1).await.map(|_| ())
}

#[actix_rt::test]
async fn a_node_taken_over_mid_batch_is_fenced_and_the_new_owner_sells_the_rest() {
    let db = TestDb::new(Backend::Postgres).await;
    let store_a = db.store().await;
    let node_a = ClusterNode::join(store_a.cluster_access().unwrap(), &cluster(A_TTL_MS), "node-a", "").await.unwrap();
    let (engine_a, _notices_a) = Engine::start(settings(&db.url), store_a, Clock::system()).await.unwrap();
    product_with_items(&engine_a, "hot", 1_000, ITEMS).await;
    let buyers: Vec<String> = (0..ITEMS + 2).map(|i| format!("buyer{i}")).collect();
    fund_all(&engine_a, &buyers, 1_000).await;
    for buyer in &buyers[..SOLD_BY_A_FIRST] {
        buy(&engine_a, buyer).await.unwrap();
    }

    // The barrier: the test holds the hot product's row, so A's next batch passes the fence (a
    // share lock on A's node row) and then waits.
    let barrier_pool = sqlx::PgPool::connect(&db.url).await.unwrap();
    let mut barrier = barrier_pool.begin().await.unwrap();
    sqlx::query("SELECT 1 FROM products WHERE code = 'hot' FOR UPDATE").execute(&mut *barrier).await.unwrap();
    let held = actix_rt::spawn({
        let (engine, buyer) = (engine_a.clone(), buyers[SOLD_BY_A_FIRST].clone());
        async move { buy(&engine, &buyer).await }
    });
    until_waiting_on_a_lock(&db, "products").await;

    // B joins once A's heartbeat has expired, and takes A over: the takeover waits for A's batch.
    let store_b = db.store().await;
    let node_b = ClusterNode::join(store_b.cluster_access().unwrap(), &cluster(5_000), "node-b", "").await.unwrap();
    while !membership::expired(node_b.pool()).await.unwrap().iter().any(|(node, _)| node == "node-a") {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let takeover = actix_rt::spawn({
        let node_b = node_b.clone();
        async move { node_b.take_over_expired().await }
    });
    until_waiting_on_a_lock(&db, "UPDATE cluster_nodes").await;
    assert!(!takeover.is_finished(), "the takeover went ahead of A's batch in flight");

    barrier.rollback().await.unwrap();
    held.await.unwrap().expect("A's batch in flight committed before the takeover");
    assert_eq!(takeover.await.unwrap().unwrap(), 1, "B took A over");

    // A's next batch is refused, and A knows it must stop.
    let refused = buy(&engine_a, &buyers[SOLD_BY_A_FIRST + 1]).await;
    assert!(refused.is_err(), "a fenced node's purchase was acknowledged: {refused:?}");
    assert!(node_a.fence().is_tripped());
    // Nor can it answer a customer: its writes beside the journal are fenced too.
    let reply = warung::store::NewOutbox {
        dedup_key: "zombie-reply".into(),
        kind: "whatsapp".into(),
        destination: "6281200000000".into(),
        payload: "{}".into(),
    };
    assert!(engine_a.store.enqueue(0, &[reply]).await.is_err(), "a fenced node queued a message");
    let stored_after_fence = sold_count(&db).await;
    assert_eq!(stored_after_fence, SOLD_BY_A_FIRST + 1, "exactly what A acknowledged is stored");

    // B serves from the store: it sells the rest, and no more.
    let (engine_b, _notices_b) = Engine::start(settings(&db.url), store_b, Clock::system()).await.unwrap();
    let rest = &buyers[SOLD_BY_A_FIRST + 1..];
    let mut sold_by_b = 0;
    for buyer in rest {
        if retry_busy(|| buy(&engine_b, buyer)).await.is_ok() {
            sold_by_b += 1;
        }
    }
    assert_eq!(sold_by_b, ITEMS - SOLD_BY_A_FIRST - 1, "B sold exactly what A left");
    let orders: Vec<(String,)> =
        sqlx::query_as("SELECT order_id FROM items WHERE status = 'sold'").fetch_all(&barrier_pool).await.unwrap();
    assert_eq!(orders.len(), ITEMS);
    assert_eq!(orders.iter().collect::<HashSet<_>>().len(), ITEMS, "no two sold items share an order");
    let (zombie,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM outbox WHERE dedup_key = 'zombie-reply'")
        .fetch_one(&barrier_pool)
        .await
        .unwrap();
    assert_eq!(zombie, 0);
    barrier_pool.close().await;
    assert!(engine_a.shutdown().await.is_err(), "a fenced node cannot flush");
    finish(engine_b, db).await;
}

async fn sold_count(db: &TestDb) -> usize {
    let pool = sqlx::PgPool::connect(&db.url).await.unwrap();
    let (sold,): (i64,) =
        sqlx::query_as("SELECT COUNT(*) FROM items WHERE status = 'sold'").fetch_one(&pool).await.unwrap();
    pool.close().await;
    sold as usize
}
