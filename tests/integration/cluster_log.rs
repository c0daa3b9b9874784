//! A cluster on the journal's log: nodes in one process, on one database, stepped by hand. What a
//! node acknowledged may be in the log only (its projector held here); it is never read as
//! missing, never lost when the node dies, and never overwritten by the next owner.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use warung::checkout::OrderState;
use warung::cluster::{membership, ClusterNode, SHARDS_COUNT};
use warung::engine::Engine;
use warung::records::{OrderRow, PaymentMethod, ShopRecord};
use warung::settings::ClusterSettings;
use warung::store::{JournalMode, Store, StoreError, Writers};
use warung_actors::domain::{Clock, Money, OrderId};
use warung_actors::journal::{Entry, SinkError};

use crate::helpers::*;

const ITEMS: usize = 10;
const PRICE: u64 = 1_000;
/// Sold by A and in the tables before its projector is held.
const SOLD_PROJECTED: usize = 3;
/// Sold by A after that: acknowledged, in the log only.
const SOLD_IN_THE_LOG: usize = 4;
/// A's heartbeat expires this soon after it joins (it never renews it here).
const A_TTL_MS: u64 = 300;
/// A node may own shards once it has been up for two heartbeats.
const HEARTBEAT_MS: u64 = 50;

fn cluster(ttl_ms: u64) -> ClusterSettings {
    ClusterSettings { enabled: true, heartbeat_ms: HEARTBEAT_MS, ttl_ms, ..ClusterSettings::default() }
}

/// One round of the node's upkeep once it is stable: it renews its heartbeat and acquires what
/// it should own.
async fn round_when_stable(node: &ClusterNode) {
    tokio::time::sleep(Duration::from_millis(3 * HEARTBEAT_MS)).await;
    node.round().await.unwrap();
}

/// A node joined on its own store, its engine not started yet.
async fn join(db: &TestDb, node: &str, ttl_ms: u64) -> (Arc<dyn Store>, ClusterNode) {
    let store = db.node_store().await;
    let node = ClusterNode::join(store.cluster_access().unwrap(), &cluster(ttl_ms), node, "").await.unwrap();
    (store, node)
}

/// The node's engine, with every actor here (the tests step the nodes by hand).
async fn serve(db: &TestDb, store: Arc<dyn Store>) -> Engine {
    let mut settings = settings(&db.url);
    settings.database.journal = db.journal;
    Engine::start(settings, store, Clock::system()).await.unwrap().0
}

async fn start(db: &TestDb, node: &str, ttl_ms: u64) -> (Engine, ClusterNode) {
    let (store, node) = join(db, node, ttl_ms).await;
    (serve(db, store).await, node)
}

/// Counts rows straight from the database, past the store's read barrier.
async fn count(db: &TestDb, sql: &'static str) -> usize {
    let raw = sqlx::PgPool::connect(&db.url).await.unwrap();
    let (n,): (i64,) = sqlx::query_as(sql).fetch_one(&raw).await.unwrap();
    raw.close().await;
    n as usize
}

async fn buy(engine: &Engine, who: &str) -> Result<OrderId, warung::checkout::CheckoutError> {
    engine.checkout.buy_with_saldo(&customer(who), &code("hot"), 1).await.map(|p| p.order)
}

/// A's product and buyers; `SOLD_PROJECTED` sold and in the tables, then A's projector held and
/// `SOLD_IN_THE_LOG` more sold. The buyers, in order.
async fn sell_into_the_log(engine: &Engine) -> Vec<String> {
    product_with_items(engine, "hot", PRICE, ITEMS).await;
    let buyers: Vec<String> = (0..ITEMS + 2).map(|i| format!("buyer{i}")).collect();
    fund_all(engine, &buyers, PRICE).await;
    for buyer in &buyers[..SOLD_PROJECTED] {
        buy(engine, buyer).await.unwrap();
    }
    let projection = engine.store.projection().expect("the node runs on the log");
    projection.fresh().await.unwrap();
    projection.hold(true);
    for buyer in &buyers[SOLD_PROJECTED..SOLD_PROJECTED + SOLD_IN_THE_LOG] {
        buy(engine, buyer).await.unwrap();
    }
    buyers
}

#[actix_rt::test]
async fn a_dead_nodes_sales_in_the_log_are_projected_before_the_next_owner_serves_its_shards() {
    let db = TestDb::new(Backend::PostgresLog).await;
    let (engine_a, node_a) = start(&db, "node-a", A_TTL_MS).await;
    let buyers = sell_into_the_log(&engine_a).await;
    assert!(count(&db, "SELECT count(*) FROM journal_log").await > 0, "A's last sales are in the log");
    assert_eq!(count(&db, "SELECT count(*) FROM items WHERE status = 'sold'").await, SOLD_PROJECTED);

    // The nodes share the log; a process that is not one of them is refused.
    let lone = warung::store::connect_with(&db.url, 2, JournalMode::Log, Writers::ThisProcess).await;
    assert!(matches!(lone, Err(StoreError::JournalHasAnotherWriter)), "{:?}", lone.err());

    // B joins once A's heartbeat has expired, takes A over and acquires every shard: before it
    // owns them, A's acknowledged sales are in the tables.
    let (store_b, node_b) = join(&db, "node-b", 5_000).await;
    while !membership::expired(node_b.pool()).await.unwrap().iter().any(|(node, _)| node == "node-a") {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(node_b.take_over_expired().await.unwrap(), 1);
    round_when_stable(&node_b).await;
    assert_eq!(node_b.owned().count(), SHARDS_COUNT);
    assert_eq!(count(&db, "SELECT count(*) FROM journal_log").await, 0, "B projected what A left in the log");
    assert_eq!(count(&db, "SELECT count(*) FROM items WHERE status = 'sold'").await, SOLD_PROJECTED + SOLD_IN_THE_LOG);

    // A's projector, let go, is fenced out: it writes nothing, and A knows it must stop.
    engine_a.store.projection().unwrap().hold(false);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while !node_a.fence().is_tripped() {
        assert!(tokio::time::Instant::now() < deadline, "A's projector was not fenced");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    // B sells exactly what A left, once to each buyer.
    let engine_b = serve(&db, store_b).await;
    let mut sold_by_b = 0;
    for buyer in &buyers[SOLD_PROJECTED + SOLD_IN_THE_LOG..] {
        if retry_busy(|| buy(&engine_b, buyer)).await.is_ok() {
            sold_by_b += 1;
        }
    }
    assert_eq!(sold_by_b, ITEMS - SOLD_PROJECTED - SOLD_IN_THE_LOG, "B sold exactly what A left");
    engine_b.store.projection().unwrap().fresh().await.unwrap();
    let raw = sqlx::PgPool::connect(&db.url).await.unwrap();
    let orders: Vec<(String,)> =
        sqlx::query_as("SELECT order_id FROM items WHERE status = 'sold'").fetch_all(&raw).await.unwrap();
    assert_eq!(orders.iter().collect::<HashSet<_>>().len(), ITEMS, "every item sold once, to one order each");
    let debited: Vec<(String,)> =
        sqlx::query_as("SELECT id FROM customers WHERE balance = 0").fetch_all(&raw).await.unwrap();
    assert_eq!(debited.len(), ITEMS, "each buyer who got an item paid for it once");
    raw.close().await;
    assert_audit_clean(engine_b.store.as_ref()).await;
    drop(engine_a);
    finish(engine_b, db).await;
}

#[actix_rt::test]
async fn a_node_on_the_log_releases_shards_only_once_the_tables_show_its_sales() {
    let db = TestDb::new(Backend::PostgresLog).await;
    let (engine, node) = start(&db, "node-a", 5_000).await;
    round_when_stable(&node).await;
    assert_eq!(node.owned().count(), SHARDS_COUNT);
    sell_into_the_log(&engine).await;

    let leaving = actix_rt::spawn({
        let node = node.clone();
        async move { node.leave().await }
    });
    // Well past the hand-off's drain: the shards stay A's while its sales are in the log only.
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    assert!(!leaving.is_finished(), "A released its shards with sales the tables do not show");
    assert_eq!(count(&db, "SELECT count(*) FROM cluster_shards WHERE owner = 'node-a'").await, SHARDS_COUNT);

    engine.store.projection().unwrap().hold(false);
    leaving.await.unwrap().unwrap();
    assert_eq!(count(&db, "SELECT count(*) FROM journal_log").await, 0);
    assert_eq!(count(&db, "SELECT count(*) FROM items WHERE status = 'sold'").await, SOLD_PROJECTED + SOLD_IN_THE_LOG);
    assert_eq!(count(&db, "SELECT count(*) FROM cluster_shards WHERE owner IS NULL").await, SHARDS_COUNT);
    finish(engine, db).await;
}

#[actix_rt::test]
async fn a_read_on_one_node_waits_for_a_sale_another_node_acknowledged() {
    let db = TestDb::new(Backend::PostgresLog).await;
    let (engine_a, _node_a) = start(&db, "node-a", 5_000).await;
    let (engine_b, _node_b) = start(&db, "node-b", 5_000).await;
    product_with_items(&engine_a, "hot", PRICE, 2).await;
    fund(&engine_a, "reader", PRICE).await;
    let projection = engine_a.store.projection().unwrap();
    projection.fresh().await.unwrap();
    projection.hold(true);
    let order = buy(&engine_a, "reader").await.unwrap();

    let read = actix_rt::spawn({
        let store = engine_b.store.clone();
        async move { store.order(&order).await }
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(!read.is_finished(), "B read the tables while they missed A's acknowledged sale");

    projection.hold(false);
    let stored = read.await.unwrap().unwrap().expect("the order, once A's projector wrote it");
    assert_eq!(stored.state, OrderState::Paid);
    engine_b.shutdown().await.unwrap();
    finish(engine_a, db).await;
}

/// An order's row as a flow attaches it to a journal batch: created pending, or moved to `state`
/// later.
fn order_row(id: &OrderId, state: OrderState, updated_at: i64) -> Entry<ShopRecord> {
    Entry::Attached(ShopRecord::Order(OrderRow {
        id: id.clone(),
        customer: customer("twice"),
        product: code("hot"),
        quantity: 1,
        unit_price: Money::rupiah(PRICE),
        total: Money::rupiah(PRICE),
        method: PaymentMethod::Saldo,
        state,
        expires_at: 1,
        note: String::new(),
        created_at: 1,
        updated_at,
        creates: state == OrderState::Pending,
        moved_from: (state != OrderState::Pending).then_some(OrderState::Pending),
    }))
}

fn new_order(id: &OrderId) -> Entry<ShopRecord> {
    order_row(id, OrderState::Pending, 1)
}

fn acknowledged() -> warung_actors::journal::Earlier {
    Box::pin(std::future::ready(true))
}

/// A saldo order is created pending in the wallet's batch and paid in the product's: on two
/// nodes, two records, each projected by its own node. The earlier, projected last, must not
/// undo the later.
#[actix_rt::test]
async fn an_orders_earlier_row_projected_last_by_another_node_does_not_undo_it() {
    let db = TestDb::new(Backend::PostgresLog).await;
    let (wallet_node, _a) = join(&db, "node-a", 5_000).await;
    let (product_node, _b) = join(&db, "node-b", 5_000).await;
    let order = OrderId::generate();
    let held = wallet_node.projection().unwrap();
    held.hold(true);
    wallet_node.commit(&std::sync::Arc::new(vec![new_order(&order)]), acknowledged()).await.unwrap();
    product_node
        .commit(&std::sync::Arc::new(vec![order_row(&order, OrderState::Paid, 2)]), acknowledged())
        .await
        .unwrap();
    product_node.projection().unwrap().fresh().await.unwrap();
    held.hold(false);
    held.fresh().await.unwrap();
    let stored = product_node.order(&order).await.unwrap().expect("the order");
    assert_eq!(stored.state, OrderState::Paid, "the pending row, projected last, undid the payment");
    for store in [wallet_node, product_node] {
        store.close().await;
    }
    db.remove().await;
}

/// The tables refuse a second creation of an order id at the batch's commit (two nodes' flows
/// may both make one while its customer moves between them, as a rolling restart found). A
/// node's log must refuse it before it acknowledges the batch, or its projection would stop at
/// it for good.
async fn a_second_creation_of_an_order_is_refused_before_it_is_acknowledged(backend: Backend) {
    let db = TestDb::new(backend).await;
    let (store, _node) = join(&db, "node-a", 5_000).await;
    let first = OrderId::generate();
    store.commit(&std::sync::Arc::new(vec![new_order(&first)]), acknowledged()).await.unwrap();
    let again = store.commit(&std::sync::Arc::new(vec![new_order(&first)]), acknowledged()).await;
    assert!(matches!(again, Err(SinkError::Refused(_))), "a second creation was acknowledged: {again:?}");

    let next = OrderId::generate();
    store.commit(&std::sync::Arc::new(vec![new_order(&next)]), acknowledged()).await.expect("the journal goes on");
    if let Some(projection) = store.projection() {
        projection.fresh().await.expect("the projection goes on past the refused batch");
    }
    assert_eq!(count(&db, "SELECT count(*) FROM orders").await, 2);
    store.close().await;
    db.remove().await;
}

mod a_second_creation_of_an_order_is_refused_before_it_is_acknowledged {
    #[actix_rt::test]
    async fn on_postgres() {
        super::a_second_creation_of_an_order_is_refused_before_it_is_acknowledged(crate::helpers::Backend::Postgres)
            .await
    }

    #[actix_rt::test]
    async fn on_postgres_log() {
        super::a_second_creation_of_an_order_is_refused_before_it_is_acknowledged(crate::helpers::Backend::PostgresLog)
            .await
    }
}
