//! Benchmarks of the engine's hot paths:
//! - `product/reserve_commit`: one hot product's state machine, reserve then commit, in memory.
//! - `product/actor_round_trip`: the same through the product actor (mailbox, journal hand-off),
//!   with a store that commits at once, so the figure is the actor's own cost.
//! - `purchase/durable_postgres`: the full saldo purchase (reserve, debit, commit, each held
//!   until its batch is committed) on one hot product, on this machine's Postgres.
//! - `journal/top_up_postgres`: wallet credits through the group commit on Postgres: the journal
//!   and the store's batch writer without the product actor (three rows each: wallet, ledger,
//!   payment).
//!
//! Run: `cargo bench --bench engine` (Postgres on 127.0.0.1:5432, see the README).

use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use futures::future::{BoxFuture, FutureExt};
use futures::StreamExt;
use rand::Rng;
use warung::engine::Engine;
use warung::settings::Settings;
use warung_actors::domain::{Clock, CustomerId, ItemSecret, Money, OrderId, ProductCode, Reference};
use warung_actors::journal::{Earlier, Entries, Sink, SinkError, StockKind};
use warung_actors::product::{PriceTier, ProductCommand, ProductRecord, ProductState, Restock, StoreWhen};
use warung_actors::supervisor::{LoadError, Loader, Supervisor, SupervisorSettings};
use warung_actors::wallet::WalletRecord;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const POSTGRES_ADMIN_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";

/// Purchases in flight at once in the durable benchmark: a flash sale's crowd. Override with
/// `WARUNG_BENCH_IN_FLIGHT` (at most `BUYERS`: one open order per customer).
const IN_FLIGHT_DEFAULT: usize = 1_000;

fn in_flight() -> usize {
    std::env::var("WARUNG_BENCH_IN_FLIGHT")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(IN_FLIGHT_DEFAULT)
        .clamp(1, BUYERS)
}
/// Purchases per measured iteration.
const PURCHASES_PER_ITERATION: usize = 5_000;
/// Distinct buyers (one open order per customer at a time).
const BUYERS: usize = 10_000;

fn code() -> ProductCode {
    ProductCode::parse("hot").unwrap()
}

fn order(n: u64) -> OrderId {
    OrderId::parse(&format!("TRX-{n:010x}-1")).unwrap()
}

fn stocked_product(units: usize) -> ProductState {
    let mut product = ProductState::new(code(), "Hot".into(), Money::rupiah(10_000), StockKind::Items);
    let items = (0..units).map(|i| ItemSecret::parse(&format!("item-{i}")).unwrap()).collect();
    let restock = ProductCommand::Restock {
        reference: Reference::parse("r").unwrap(),
        stock: Restock::Items(items),
        actor: "bench".into(),
    };
    product.apply(restock, 0).unwrap();
    product
}

fn state_machine(c: &mut Criterion) {
    const PAIRS: usize = 10_000;
    let mut group = c.benchmark_group("product");
    group.throughput(Throughput::Elements(PAIRS as u64));
    group.bench_function("reserve_commit", |b| {
        b.iter_batched_ref(
            || (stocked_product(PAIRS), 0u64),
            |(product, n)| {
                for _ in 0..PAIRS {
                    *n += 1;
                    let reserve = ProductCommand::Reserve {
                        tier: PriceTier::Member,
                        order: order(*n),
                        quantity: 1,
                        ttl_ms: 60_000,
                        store: StoreWhen::Reserved,
                        actor: "b".into(),
                    };
                    product.apply(reserve, 1).unwrap();
                    product.apply(ProductCommand::Commit { order: order(*n), actor: "b".into() }, 2).unwrap();
                }
            },
            BatchSize::PerIteration,
        )
    });
    group.finish();
}

/// A store that commits instantly: the actor benchmark measures the actor, not a database.
struct InstantStore(std::sync::Mutex<Option<ProductRecord>>);

impl Sink<()> for InstantStore {
    fn commit<'a>(&'a self, _: &'a Entries<()>, earlier: Earlier) -> BoxFuture<'a, Result<(), SinkError>> {
        warung_actors::journal::after(earlier).boxed()
    }
}

impl Loader for InstantStore {
    fn load_product<'a>(&'a self, _: &'a ProductCode) -> BoxFuture<'a, Result<Option<ProductRecord>, LoadError>> {
        futures::future::ready(Ok(self.0.lock().unwrap().clone())).boxed()
    }
    fn load_wallet<'a>(&'a self, _: &'a CustomerId) -> BoxFuture<'a, Result<WalletRecord, LoadError>> {
        futures::future::ready(Ok(WalletRecord::default())).boxed()
    }
}

fn actor_round_trip(c: &mut Criterion) {
    let system = actix_rt::System::new();
    let mut group = c.benchmark_group("product");
    const ROUND_TRIPS: usize = 10_000;
    group.throughput(Throughput::Elements(ROUND_TRIPS as u64));
    group.bench_function("actor_round_trip", |b| {
        b.iter_custom(|iterations| {
            system.block_on(async {
                let mut total = Duration::ZERO;
                for _ in 0..iterations {
                    let store = Arc::new(InstantStore(std::sync::Mutex::new(None)));
                    let record = empty_record();
                    *store.0.lock().unwrap() = Some(record);
                    let settings = SupervisorSettings {
                        actor_threads: 1,
                        mailbox_capacity: 100_000,
                        ..SupervisorSettings::default()
                    };
                    let (supervisor, _notices) = Supervisor::start(store, Clock::system(), settings);
                    let items = (0..ROUND_TRIPS).map(|i| ItemSecret::parse(&format!("i{i}")).unwrap()).collect();
                    let restock = ProductCommand::Restock {
                        reference: Reference::parse("r").unwrap(),
                        stock: Restock::Items(items),
                        actor: "b".into(),
                    };
                    supervisor.product(&code(), restock).await.unwrap().unwrap();
                    let started = Instant::now();
                    let calls = (0..ROUND_TRIPS as u64).map(|n| {
                        let supervisor = supervisor.clone();
                        async move {
                            let reserve = ProductCommand::Reserve {
                                tier: PriceTier::Member,
                                order: order(n),
                                quantity: 1,
                                ttl_ms: 60_000,
                                store: StoreWhen::Reserved,
                                actor: "b".into(),
                            };
                            supervisor.product(&code(), reserve).await.unwrap().unwrap();
                        }
                    });
                    futures::stream::iter(calls).buffer_unordered(256).collect::<Vec<_>>().await;
                    total += started.elapsed();
                }
                total
            })
        })
    });
    group.finish();
}

fn empty_record() -> ProductRecord {
    let state = ProductState::new(code(), "Hot".into(), Money::rupiah(10_000), StockKind::Items);
    ProductRecord {
        row: state.row(0),
        available: vec![],
        reservations: vec![],
        settled: vec![],
        secrets: vec![],
        restocks: vec![],
        moves: vec![],
        away: vec![],
    }
}

fn durable_purchases(c: &mut Criterion) {
    let system = actix_rt::System::new();
    let name = format!("warung_bench_{:08x}", rand::rng().random::<u32>());
    let engine = funded_engine(&system, &name);

    journal_commits(c, &system, &engine);

    let mut group = c.benchmark_group("purchase");
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(20));
    group.throughput(Throughput::Elements(PURCHASES_PER_ITERATION as u64));
    let mut batch = 0u64;
    group.bench_function("durable_postgres", |b| {
        b.iter_custom(|iterations| {
            system.block_on(async {
                let mut total = Duration::ZERO;
                for _ in 0..iterations {
                    batch += 1;
                    let items = (0..PURCHASES_PER_ITERATION)
                        .map(|i| ItemSecret::parse(&format!("b{batch}-{i}")).unwrap())
                        .collect();
                    let restock = ProductCommand::Restock {
                        reference: Reference::parse(&format!("r{batch}")).unwrap(),
                        stock: Restock::Items(items),
                        actor: "bench".into(),
                    };
                    engine.lanes.product(&code(), restock).await.unwrap().unwrap();
                    let started = Instant::now();
                    let purchases = (0..PURCHASES_PER_ITERATION).map(|i| {
                        let engine = engine.clone();
                        async move {
                            let who = CustomerId::parse(&format!("buyer{}", i % BUYERS)).unwrap();
                            engine
                                .checkout
                                .buy_with_saldo(&who, &code(), 1)
                                .await
                                .expect("a funded buyer with stock buys");
                        }
                    });
                    futures::stream::iter(purchases).buffer_unordered(in_flight()).collect::<Vec<_>>().await;
                    total += started.elapsed();
                }
                total
            })
        })
    });
    group.finish();
    report_and_drop(&system, engine, &name);
}

/// An engine on a fresh Postgres database `name`, with the hot product and `BUYERS` funded buyers.
fn funded_engine(system: &actix_rt::SystemRunner, name: &str) -> Engine {
    system.block_on(async {
        let admin = sqlx::PgPool::connect(POSTGRES_ADMIN_URL).await.expect("Postgres on 127.0.0.1:5432");
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}"))).execute(&admin).await.unwrap();
        let mut settings = Settings::default();
        settings.database.url = format!("postgres://postgres@127.0.0.1:5432/{name}").into();
        let engine = warung::startup::start_engine(settings).await.unwrap();
        engine.catalog.create(&code(), "Hot", Money::rupiah(10_000), StockKind::Items).await.unwrap();
        let funding = (0..BUYERS).map(|b| {
            let engine = engine.clone();
            async move {
                let who = CustomerId::parse(&format!("buyer{b}")).unwrap();
                engine
                    .checkout
                    .top_up(&who, &Reference::parse(&format!("f{b}")).unwrap(), Money::rupiah(1_000_000_000))
                    .await
                    .unwrap();
            }
        });
        futures::stream::iter(funding).buffer_unordered(256).collect::<Vec<_>>().await;
        engine
    })
}

/// Prints what the journal did over the run, stops the engine and drops its database.
fn report_and_drop(system: &actix_rt::SystemRunner, engine: Engine, name: &str) {
    let journal = engine.lanes.journal_stats();
    let batches = journal.batches_committed.load(std::sync::atomic::Ordering::Relaxed).max(1);
    let events = journal.events_committed.load(std::sync::atomic::Ordering::Relaxed);
    let micros = journal.commit_micros_total.load(std::sync::atomic::Ordering::Relaxed);
    eprintln!(
        "journal: {batches} batches, {} events per batch, {:.2} ms per commit",
        events / batches,
        micros as f64 / batches as f64 / 1000.0
    );
    system.block_on(async {
        engine.shutdown().await.unwrap();
        let admin = sqlx::PgPool::connect(POSTGRES_ADMIN_URL).await.unwrap();
        let _ = sqlx::query(sqlx::AssertSqlSafe(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")))
            .execute(&admin)
            .await;
    });
}

/// Top ups in flight at once, and per measured iteration, in the journal benchmark.
const TOP_UPS_IN_FLIGHT: usize = 1_000;
const TOP_UPS_PER_ITERATION: usize = 5_000;

fn journal_commits(c: &mut Criterion, system: &actix_rt::SystemRunner, engine: &Engine) {
    let mut group = c.benchmark_group("journal");
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(15));
    group.throughput(Throughput::Elements(TOP_UPS_PER_ITERATION as u64));
    let mut round = 0u64;
    group.bench_function("top_up_postgres", |b| {
        b.iter_custom(|iterations| {
            system.block_on(async {
                let mut total = Duration::ZERO;
                for _ in 0..iterations {
                    round += 1;
                    let started = Instant::now();
                    let top_ups = (0..TOP_UPS_PER_ITERATION).map(|i| {
                        let engine = engine.clone();
                        async move {
                            let who = CustomerId::parse(&format!("buyer{}", i % BUYERS)).unwrap();
                            let payment = Reference::parse(&format!("t{round}-{i}")).unwrap();
                            engine.checkout.top_up(&who, &payment, Money::rupiah(1)).await.expect("a top up is stored");
                        }
                    });
                    futures::stream::iter(top_ups).buffer_unordered(TOP_UPS_IN_FLIGHT).collect::<Vec<_>>().await;
                    total += started.elapsed();
                }
                total
            })
        })
    });
    group.finish();
}

criterion_group!(benches, state_machine, actor_round_trip, durable_purchases);
criterion_main!(benches);
