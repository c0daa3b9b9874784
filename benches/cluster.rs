//! What a purchase costs when its product lives on another node: two cluster nodes in one
//! process, on this machine's Postgres and NATS. Each buyer's wallet is on node A, and every
//! purchase is made through A (as the chat does: a customer's messages are answered by the
//! customer's owner); the product is either A's own (local) or B's (remote: reserve and commit
//! over NATS, the debit flushed before the commit is sent). Sequential purchases show the added
//! latency of the hop; a run with several in flight shows what it does to a crowd.
//!
//! Run: `cargo bench --bench cluster` (Postgres on 127.0.0.1:5432 and NATS on 127.0.0.1:4222).
//! Prints p50, p99 and the mean for each case.

use std::time::{Duration, Instant};

use futures::StreamExt;
use warung::cluster::{membership, ClusterNode, Joined, Shard};
use warung::engine::Engine;
use warung::settings::{ClusterSettings, Settings};
use warung_actors::domain::{Clock, CustomerId, Money, ProductCode, Reference};
use warung_actors::journal::StockKind;
use warung_actors::product::{ProductCommand, Restock};

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const POSTGRES_ADMIN_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";
const NATS_URL: &str = "nats://127.0.0.1:4222";
/// Purchases per case.
const PURCHASES: usize = 2_000;
/// Purchases in flight in the crowd cases.
const CROWD: usize = 16;

fn main() {
    warung::infra::install_tls_provider();
    let system = actix_rt::System::new();
    system.block_on(run());
}

async fn run() {
    let name = format!("warung_bench_cluster_{}", std::process::id());
    let admin = sqlx::PgPool::connect(POSTGRES_ADMIN_URL).await.expect("Postgres on 127.0.0.1:5432");
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}"))).execute(&admin).await.unwrap();
    let url = format!("postgres://postgres@127.0.0.1:5432/{name}");
    let (a, node_a) = node(&url, &name, "a").await;
    let (_b, node_b) = node(&url, &name, "b").await;
    while membership::unowned(node_a.pool()).await.unwrap() > 0
        || node_a.owned().count() == 0
        || node_b.owned().count() == 0
    {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;

    let local = stocked(&a, &node_a, "local").await;
    let remote = stocked(&a, &node_b, "remote").await;
    let buyers: Vec<CustomerId> = (0..)
        .map(|i| CustomerId::parse(&format!("6281{i:08}")).unwrap())
        .filter(|c| node_a.owned().owns(Shard::of_customer(c)))
        .take(PURCHASES * 4)
        .collect();
    futures::stream::iter(buyers.iter().map(|buyer| {
        let a = a.clone();
        async move {
            let payment = Reference::parse(&format!("fund-{buyer}")).unwrap();
            a.checkout.top_up(buyer, &payment, Money::rupiah(1_000_000)).await.unwrap();
        }
    }))
    .buffer_unordered(256)
    .collect::<Vec<_>>()
    .await;

    let mut buyers = buyers.chunks(PURCHASES);
    for (case, product, in_flight) in
        [("local", &local, 1), ("remote", &remote, 1), ("local", &local, CROWD), ("remote", &remote, CROWD)]
    {
        let latencies = purchases(&a, product, buyers.next().unwrap(), in_flight).await;
        report(case, in_flight, latencies);
    }
    drop(admin);
    let admin = sqlx::PgPool::connect(POSTGRES_ADMIN_URL).await.unwrap();
    let _ =
        sqlx::query(sqlx::AssertSqlSafe(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))).execute(&admin).await;
}

async fn node(url: &str, cluster: &str, id: &str) -> (Engine, ClusterNode) {
    let mut settings = Settings::default();
    settings.database.url = url.into();
    settings.cluster =
        ClusterSettings { enabled: true, heartbeat_ms: 250, ttl_ms: 1_500, ..ClusterSettings::default() };
    let store = Engine::connect(&settings).await.unwrap();
    let node = ClusterNode::join(store.cluster_access().unwrap(), &settings.cluster, id, "").await.unwrap();
    let nats = async_nats::connect(NATS_URL).await.expect("NATS on 127.0.0.1:4222");
    let joined = Joined::new(node.clone(), nats, cluster.to_string(), Duration::from_secs(5));
    let (engine, _notices) = Engine::start_in(settings, store, Clock::system(), Some(&joined)).await.unwrap();
    (engine, node)
}

/// A product on `owner`'s shards with counted stock for every purchase.
async fn stocked(engine: &Engine, owner: &ClusterNode, prefix: &str) -> ProductCode {
    let code = (0..)
        .map(|i| ProductCode::parse(&format!("{prefix}{i}")).unwrap())
        .find(|c| owner.owned().owns(Shard::of_product(c)))
        .unwrap();
    engine.catalog.create(&code, prefix, Money::rupiah(1_000), StockKind::Counted).await.unwrap();
    let restock = ProductCommand::Restock {
        reference: Reference::parse(&format!("stock-{prefix}")).unwrap(),
        stock: Restock::Count((PURCHASES * 4) as u32),
        actor: "bench".into(),
    };
    engine.checkout.actors().product(&code, restock).await.unwrap().unwrap();
    code
}

async fn purchases(engine: &Engine, product: &ProductCode, buyers: &[CustomerId], in_flight: usize) -> Vec<Duration> {
    futures::stream::iter(buyers.iter().map(|buyer| async move {
        let started = Instant::now();
        engine.checkout.buy_with_saldo(buyer, product, 1).await.expect("a purchase");
        started.elapsed()
    }))
    .buffer_unordered(in_flight)
    .collect()
    .await
}

fn report(case: &str, in_flight: usize, mut latencies: Vec<Duration>) {
    latencies.sort();
    let at = |q: f64| latencies[((latencies.len() as f64 * q) as usize).min(latencies.len() - 1)];
    let mean = latencies.iter().sum::<Duration>() / latencies.len() as u32;
    println!(
        "{case:>6} product, {in_flight:>2} in flight: p50 {:.2} ms, p99 {:.2} ms, mean {:.2} ms ({} purchases)",
        at(0.50).as_secs_f64() * 1e3,
        at(0.99).as_secs_f64() * 1e3,
        mean.as_secs_f64() * 1e3,
        latencies.len()
    );
}
