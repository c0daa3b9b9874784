//! The cluster's tables: the shard both sides compute, joins, heartbeats, takeovers and shard
//! ownership, driven one round at a time.

use std::time::Duration;

use warung::cluster::{membership, ClusterNode, MembershipError, Shard, SHARDS_COUNT};
use warung::settings::ClusterSettings;

use crate::helpers::*;

fn cluster(heartbeat_ms: u64) -> ClusterSettings {
    ClusterSettings { enabled: true, heartbeat_ms, ttl_ms: heartbeat_ms * 3, ..ClusterSettings::default() }
}

#[actix_rt::test]
async fn postgres_and_the_engine_put_every_key_on_the_same_shard() {
    let db = TestDb::new(Backend::Postgres).await;
    let store = db.store().await;
    let pool = store.cluster_access().unwrap().pool;
    for i in 0..500 {
        let (product, buyer) = (code(&format!("P{i}x")), customer(&format!("62812{i:07}")));
        let (p, c): (i16, i16) = sqlx::query_as("SELECT warung_shard('p', $1), warung_shard('c', $2)")
            .bind(product.as_str())
            .bind(buyer.as_str())
            .fetch_one(&pool)
            .await
            .unwrap();
        assert_eq!(p as u8, Shard::of_product(&product).number());
        assert_eq!(c as u8, Shard::of_customer(&buyer).number());
    }
    // Postgres reads backslashes in a text cast to bytea as escapes: ids holding them, or
    // starting like a hex literal, or beyond ASCII, still land where the engine puts them, in
    // the function and in the stored column alike.
    for (n, id) in [r"a\b", r"\x41", r"\\", r"x\000y", "pembeli\u{e9}\u{1F600}", r"\"].into_iter().enumerate() {
        let buyer = customer(id);
        let (c, stored): (i16, Option<i16>) = sqlx::query_as(
            "INSERT INTO webhook_inbox (provider, event_id, received_at, payload, customer) \
             VALUES ('whatsapp', $2, 0, '{}', $1) RETURNING warung_shard('c', $1), shard",
        )
        .bind(buyer.as_str())
        .bind(format!("wamid.shard-{n}"))
        .fetch_one(&pool)
        .await
        .unwrap();
        assert_eq!(c as u8, Shard::of_customer(&buyer).number(), "{id:?}");
        assert_eq!(stored, Some(c), "{id:?}");
    }
    store.close().await;
    db.remove().await;
}

#[actix_rt::test]
async fn two_nodes_share_every_shard_and_a_dead_one_is_taken_over() {
    let db = TestDb::new(Backend::Postgres).await;
    let (store_a, store_b) = (db.store().await, db.store().await);
    let settings = cluster(200);
    let a = ClusterNode::join(store_a.cluster_access().unwrap(), &settings, "a", "").await.unwrap();
    let b = ClusterNode::join(store_b.cluster_access().unwrap(), &settings, "b", "").await.unwrap();
    // Stable after two heartbeats; then each takes what rendezvous hashing gives it. Rounds every
    // heartbeat until then keep both alive: on a loaded machine the joins alone can take most of
    // a TTL, and a single sleep past two heartbeats let A's lease lapse before its first round.
    let stable_by = std::time::Instant::now() + Duration::from_secs(10);
    while a.owned().count() + b.owned().count() < SHARDS_COUNT {
        assert!(std::time::Instant::now() < stable_by, "the shards were never all owned");
        tokio::time::sleep(Duration::from_millis(settings.heartbeat_ms)).await;
        for node in [&a, &b] {
            node.round().await.unwrap();
        }
    }
    assert_eq!(a.owned().count() + b.owned().count(), SHARDS_COUNT);
    assert!(a.owned().count() > 64 && b.owned().count() > 64);
    assert_eq!(membership::unowned(a.pool()).await.unwrap(), 0);

    // A stops renewing; once its heartbeat has expired, B's round takes it over and its shards.
    tokio::time::sleep(Duration::from_millis(700)).await;
    b.round().await.unwrap();
    b.round().await.unwrap();
    assert_eq!(b.owned().count(), SHARDS_COUNT, "B owns every shard after taking A over");
    assert!(matches!(a.round().await, Err(MembershipError::Fenced)), "A learns from its heartbeat");
    let nodes = membership::nodes(b.pool(), Duration::ZERO).await.unwrap();
    let dead = nodes.iter().find(|n| n.node_id == "a").unwrap();
    assert_eq!((dead.state.as_str(), dead.incarnation), ("dead", a.id().incarnation + 1));

    // A restarted process joins as a new incarnation and gets shards again.
    let store_a2 = db.store().await;
    let a2 = ClusterNode::join(store_a2.cluster_access().unwrap(), &settings, "a", "").await.unwrap();
    assert_eq!(a2.id().incarnation, a.id().incarnation + 2);
    let events = membership::recent_events(b.pool(), 10).await.unwrap();
    assert!(events.iter().any(|e| e.kind == "fenced" && e.node_id == "a"));
    for store in [store_a, store_b, store_a2] {
        store.close().await;
    }
    db.remove().await;
}

#[actix_rt::test]
async fn one_node_at_a_time_sends_the_outbox_and_a_leaving_one_gives_it_up() {
    let db = TestDb::new(Backend::Postgres).await;
    let (store_a, store_b) = (db.store().await, db.store().await);
    let settings = cluster(200);
    let a = ClusterNode::join(store_a.cluster_access().unwrap(), &settings, "a", "").await.unwrap();
    let b = ClusterNode::join(store_b.cluster_access().unwrap(), &settings, "b", "").await.unwrap();
    for node in [&a, &b] {
        node.round().await.unwrap();
    }
    assert!(a.sends_outbox() ^ b.sends_outbox(), "exactly one sender");
    let (holder, other) = if a.sends_outbox() { (&a, &b) } else { (&b, &a) };
    other.round().await.unwrap();
    assert!(!other.sends_outbox(), "a held lease is not taken");

    holder.leave().await.unwrap();
    assert!(!holder.sends_outbox());
    other.round().await.unwrap();
    assert!(other.sends_outbox(), "the lease given up is taken at the next round");
    for store in [store_a, store_b] {
        store.close().await;
    }
    db.remove().await;
}
