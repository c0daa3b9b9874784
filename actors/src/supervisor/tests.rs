//! Supervisor and actor behaviour over time, with tokio's clock paused: reservation expiry runs
//! on the actor's own timer, and a reservation restored from the store keeps its expiry.
//! The store here is an in-memory double of the `Persistence` traits whose futures complete at
//! once, so the paused clock moves only when the test advances it (real database I/O would let
//! tokio auto-advance it); the same paths run against Postgres and SQLite in `tests/`.

use crate::product::PriceTier;
use std::sync::Mutex;
use std::time::Duration;

use futures::future::{BoxFuture, FutureExt};

use super::*;
use crate::domain::{Item, ItemSecret, Money, OrderId};
use crate::journal::{Earlier, Entries, ProductRow, SinkError, StockKind};
use crate::product::{ProductCommand, ProductOutcome, ProductRecord, ProductSnapshot, Reservation, StoreWhen};
use crate::wallet::{WalletCommand, WalletRecord};

#[derive(Default)]
pub(super) struct MemoryStore {
    product: Mutex<Option<ProductRecord>>,
    committed: Mutex<usize>,
}

impl Sink<()> for MemoryStore {
    fn commit<'a>(&'a self, events: &'a Entries<()>, earlier: Earlier) -> BoxFuture<'a, Result<(), SinkError>> {
        async move {
            crate::journal::after(earlier).await?;
            *self.committed.lock().unwrap() += events.len();
            Ok(())
        }
        .boxed()
    }
}

impl Loader for MemoryStore {
    fn load_product<'a>(&'a self, _: &'a ProductCode) -> BoxFuture<'a, Result<Option<ProductRecord>, LoadError>> {
        futures::future::ready(Ok(self.product.lock().unwrap().clone())).boxed()
    }
    fn load_wallet<'a>(&'a self, _: &'a CustomerId) -> BoxFuture<'a, Result<WalletRecord, LoadError>> {
        futures::future::ready(Ok(WalletRecord::default())).boxed()
    }
}

pub(super) fn record(now: i64, items: usize, reservations: Vec<(OrderId, Reservation)>) -> ProductRecord {
    let reserved: i64 = reservations.iter().map(|(_, r)| i64::from(r.quantity)).sum();
    let available: Vec<Item> = (0..items)
        .map(|i| Item { no: i as i64 + 1, secret: ItemSecret::parse(&format!("item-{i}")).unwrap() })
        .collect();
    let secrets = available
        .iter()
        .map(|i| i.secret.clone())
        .chain(reservations.iter().flat_map(|(_, r)| r.items.iter().map(|i| i.secret.clone())))
        .collect();
    ProductRecord {
        row: ProductRow {
            reseller_price: None,
            code: ProductCode::parse("viu1b").unwrap(),
            name: "Viu".into(),
            price: Money::rupiah(15_000),
            kind: StockKind::Items,
            active: true,
            received: available.len() as i64 + reserved,
            available: available.len() as i64,
            reserved,
            sold: 0,
            removed: 0,
            next_item_no: 100,
            updated_at: now,
        },
        available,
        reservations,
        settled: vec![],
        secrets,
        restocks: vec![],
        moves: vec![],
        away: vec![],
    }
}

pub(super) fn settings() -> SupervisorSettings {
    SupervisorSettings { actor_threads: 0, ..SupervisorSettings::default() }
}

async fn snapshot(supervisor: &Supervisor<()>) -> ProductSnapshot {
    supervisor.product_snapshot(&ProductCode::parse("viu1b").unwrap()).await.unwrap()
}

#[actix_rt::test]
async fn a_reservation_expires_at_its_time_and_not_before() {
    tokio::time::pause();
    let clock = Clock::system();
    let store = std::sync::Arc::new(MemoryStore::default());
    *store.product.lock().unwrap() = Some(record(clock.now(), 2, vec![]));
    let (supervisor, mut notices) = Supervisor::start(store.clone(), clock, settings());
    let code = ProductCode::parse("viu1b").unwrap();
    let order = OrderId::generate();

    let reserve = ProductCommand::Reserve {
        tier: PriceTier::Member,
        order: order.clone(),
        quantity: 1,
        ttl_ms: 15 * 60 * 1000,
        store: StoreWhen::Reserved,
        actor: "test".into(),
    };
    let reserved = supervisor.product(&code, reserve).await.unwrap().unwrap();
    assert!(matches!(reserved, ProductOutcome::Reserved { .. }));

    tokio::time::advance(Duration::from_secs(15 * 60 - 1)).await;
    assert_eq!(snapshot(&supervisor).await.reserved, 1, "still held a second before its time");
    assert!(notices.try_recv().is_err());

    tokio::time::advance(Duration::from_secs(2)).await;
    let notice = tokio::time::timeout(Duration::from_secs(1), notices.recv()).await.unwrap().unwrap();
    assert_eq!(notice, Notice::ReservationExpired { product: code.clone(), order: order.clone() });
    let after = snapshot(&supervisor).await;
    assert_eq!((after.available, after.reserved), (2, 0));

    let commit = ProductCommand::Commit { order, actor: "late payment".into() };
    assert!(supervisor.product(&code, commit).await.unwrap().is_err(), "an expired reservation cannot be paid");
}

#[actix_rt::test]
async fn a_call_is_answered_with_its_commands_own_reply() {
    let clock = Clock::system();
    let store = std::sync::Arc::new(MemoryStore::default());
    *store.product.lock().unwrap() = Some(record(clock.now(), 2, vec![]));
    let (supervisor, _notices) = Supervisor::start(store, clock, settings());
    let code = ProductCode::parse("viu1b").unwrap();
    let order = OrderId::generate();
    let reserve = crate::product::Reserve {
        tier: PriceTier::Member,
        order: order.clone(),
        quantity: 2,
        ttl_ms: 60_000,
        store: StoreWhen::Reserved,
        actor: "test".into(),
    };
    let reserved = supervisor.product(&code, reserve).await.unwrap().unwrap();
    assert_eq!((reserved.order, reserved.total), (order.clone(), Money::rupiah(30_000)));
    let commit = crate::product::Commit { order, actor: "test".into() };
    let committed = supervisor.product(&code, commit).await.unwrap().unwrap();
    assert_eq!(committed.items.len(), 2);
}

#[actix_rt::test]
async fn a_reservation_restored_from_the_store_keeps_its_expiry() {
    tokio::time::pause();
    let clock = Clock::system();
    let order = OrderId::generate();
    let held = Reservation {
        quantity: 1,
        unit_price: Money::rupiah(15_000),
        items: vec![Item { no: 50, secret: ItemSecret::parse("held-item").unwrap() }],
        expires_at: clock.now() + 5 * 60 * 1000,
        stored: true,
    };
    let store = std::sync::Arc::new(MemoryStore::default());
    *store.product.lock().unwrap() = Some(record(clock.now(), 1, vec![(order.clone(), held)]));
    let (supervisor, mut notices) = Supervisor::start(store, clock, settings());
    supervisor.ensure_product(&ProductCode::parse("viu1b").unwrap()).await.unwrap();

    tokio::time::advance(Duration::from_secs(4 * 60)).await;
    assert_eq!(snapshot(&supervisor).await.reserved, 1);
    tokio::time::advance(Duration::from_secs(61)).await;
    let notice = tokio::time::timeout(Duration::from_secs(1), notices.recv()).await.unwrap().unwrap();
    assert!(matches!(notice, Notice::ReservationExpired { order: expired, .. } if expired == order));
    assert_eq!(snapshot(&supervisor).await.available, 2);
}

#[actix_rt::test]
async fn a_full_mailbox_answers_busy_at_once() {
    let clock = Clock::system();
    let store = std::sync::Arc::new(MemoryStore::default());
    *store.product.lock().unwrap() = Some(record(clock.now(), 1, vec![]));
    let settings = SupervisorSettings { mailbox_capacity: 1, ..settings() };
    let (supervisor, _notices) = Supervisor::start(store, clock, settings);
    let code = ProductCode::parse("viu1b").unwrap();
    let calls = (0..50).map(|_| supervisor.product_snapshot(&code));
    let results = futures::future::join_all(calls).await;
    assert!(results.iter().any(|r| r.is_ok()));
    assert!(results.iter().any(|r| matches!(r, Err(CallError::Busy))), "some callers are told busy, none hang");
}

#[actix_rt::test]
async fn an_idle_actor_is_passivated_and_comes_back_on_its_next_message() {
    tokio::time::pause();
    let clock = Clock::system();
    let store = std::sync::Arc::new(MemoryStore::default());
    *store.product.lock().unwrap() = Some(record(clock.now(), 2, vec![]));
    let settings = SupervisorSettings {
        passivate_after: Duration::from_secs(60),
        passivation_sweep_every: Duration::from_secs(10),
        ..settings()
    };
    let (supervisor, _notices) = Supervisor::start(store, clock, settings);
    snapshot(&supervisor).await;
    assert_eq!(supervisor.active_products(), 1);

    tokio::time::advance(Duration::from_secs(30)).await;
    tokio::task::yield_now().await;
    assert_eq!(supervisor.active_products(), 1, "not idle long enough");

    for _ in 0..5 {
        tokio::time::advance(Duration::from_secs(11)).await;
        tokio::task::yield_now().await;
    }
    assert_eq!(supervisor.active_products(), 0, "idle for more than a minute");
    assert_eq!(supervisor.counters().passivated.load(std::sync::atomic::Ordering::Relaxed), 1);

    assert_eq!(snapshot(&supervisor).await.available, 2, "reactivated from the store");
    assert_eq!(supervisor.counters().activated.load(std::sync::atomic::Ordering::Relaxed), 2);
    assert_eq!(supervisor.restarts(), 0, "a passivation is not a crash");
}

#[actix_rt::test]
async fn an_actor_that_keeps_crashing_is_quarantined_within_its_budget() {
    let clock = Clock::system();
    let store = std::sync::Arc::new(MemoryStore::default());
    *store.product.lock().unwrap() = Some(record(clock.now(), 1, vec![]));
    let budget = RestartBudget { restarts_max: 2, window: Duration::from_secs(60) };
    let (supervisor, _notices) =
        Supervisor::start(store, clock, SupervisorSettings { restart_budget: budget, ..settings() });
    let code = ProductCode::parse("viu1b").unwrap();
    let mut quarantined = None;
    for _ in 0..6 {
        match supervisor.product_snapshot(&code).await {
            Ok(_) => supervisor.crash_product_for_test(&code),
            Err(error) => {
                quarantined = Some(error);
                break;
            }
        }
    }
    assert!(matches!(quarantined, Some(CallError::Quarantined { .. })), "{quarantined:?}");
    assert_eq!(supervisor.restarts(), 3, "restarted twice within the budget, then stopped");
}

#[actix_rt::test]
async fn an_active_wallet_publishes_its_available_balance() {
    let store = std::sync::Arc::new(MemoryStore::default());
    let (supervisor, _notices) = Supervisor::start(store, Clock::system(), settings());
    let customer = CustomerId::parse("budi").unwrap();
    assert!(supervisor.wallet_gauges(&customer).is_none(), "nothing published before activation");
    let credit = WalletCommand::Credit {
        reference: crate::domain::Reference::parse("topup-1").unwrap(),
        amount: Money::rupiah(50_000),
        kind: crate::journal::LedgerKind::TopUp,
        reason: "top up".into(),
        actor: "test".into(),
    };
    supervisor.wallet(&customer, credit).await.unwrap().unwrap();
    let debit = WalletCommand::Debit {
        reference: crate::domain::Reference::parse("buy-1").unwrap(),
        amount: Money::rupiah(15_000),
        reason: "purchase".into(),
        actor: "test".into(),
    };
    supervisor.wallet(&customer, debit).await.unwrap().unwrap();
    let gauges = supervisor.wallet_gauges(&customer).expect("active after use");
    assert_eq!(*gauges.available.read().unwrap(), Money::rupiah(35_000));
}

/// A store whose wallet loads take a while, counting how many run at once.
#[derive(Default)]
struct SlowLoads {
    loading: std::sync::atomic::AtomicUsize,
    most_at_once: std::sync::atomic::AtomicUsize,
}

impl Sink<()> for SlowLoads {
    fn commit<'a>(&'a self, _: &'a Entries<()>, earlier: Earlier) -> BoxFuture<'a, Result<(), SinkError>> {
        crate::journal::after(earlier).boxed()
    }
}

impl Loader for SlowLoads {
    fn load_product<'a>(&'a self, _: &'a ProductCode) -> BoxFuture<'a, Result<Option<ProductRecord>, LoadError>> {
        futures::future::ready(Ok(None)).boxed()
    }
    fn load_wallet<'a>(&'a self, _: &'a CustomerId) -> BoxFuture<'a, Result<WalletRecord, LoadError>> {
        use std::sync::atomic::Ordering::SeqCst;
        async move {
            let now = self.loading.fetch_add(1, SeqCst) + 1;
            self.most_at_once.fetch_max(now, SeqCst);
            tokio::time::sleep(Duration::from_millis(10)).await;
            self.loading.fetch_sub(1, SeqCst);
            Ok(WalletRecord::default())
        }
        .boxed()
    }
}

#[actix_rt::test]
async fn a_burst_of_new_customers_loads_a_few_at_a_time_and_every_one_is_served() {
    tokio::time::pause();
    let store = std::sync::Arc::new(SlowLoads::default());
    let (supervisor, _notices) = Supervisor::start(store.clone(), Clock::system(), settings());
    let customers: Vec<CustomerId> = (0..500).map(|c| CustomerId::parse(&format!("new{c}")).unwrap()).collect();
    let balances = futures::future::join_all(customers.iter().map(|c| supervisor.wallet_balance(c))).await;
    assert!(balances.iter().all(Result::is_ok), "every customer is served");
    let most = store.most_at_once.load(std::sync::atomic::Ordering::SeqCst);
    assert_eq!(most, ACTIVATION_LOADS_AT_ONCE_MAX, "loads ran {most} at once");
}

/// A store that reads wallets together, counting its reads; each wallet's balance is the number
/// in its customer's id, so a mix-up shows.
#[derive(Default)]
struct CountedReads {
    reads: std::sync::atomic::AtomicUsize,
    largest: std::sync::atomic::AtomicUsize,
}

impl Sink<()> for CountedReads {
    fn commit<'a>(&'a self, _: &'a Entries<()>, earlier: Earlier) -> BoxFuture<'a, Result<(), SinkError>> {
        crate::journal::after(earlier).boxed()
    }
}

impl Loader for CountedReads {
    fn load_product<'a>(&'a self, _: &'a ProductCode) -> BoxFuture<'a, Result<Option<ProductRecord>, LoadError>> {
        futures::future::ready(Ok(None)).boxed()
    }
    fn load_wallet<'a>(&'a self, _: &'a CustomerId) -> BoxFuture<'a, Result<WalletRecord, LoadError>> {
        panic!("wallets waiting together are read together")
    }
    fn load_wallets<'a>(&'a self, customers: &'a [CustomerId]) -> BoxFuture<'a, Vec<Result<WalletRecord, LoadError>>> {
        use std::sync::atomic::Ordering::SeqCst;
        async move {
            self.reads.fetch_add(1, SeqCst);
            self.largest.fetch_max(customers.len(), SeqCst);
            tokio::time::sleep(Duration::from_millis(10)).await;
            customers
                .iter()
                .map(|c| {
                    let balance = c.as_str().trim_start_matches("new").parse::<u64>().unwrap();
                    Ok(WalletRecord { balance: Money::rupiah(balance), ledger: vec![] })
                })
                .collect()
        }
        .boxed()
    }
}

#[actix_rt::test]
async fn wallets_waiting_to_activate_at_once_are_read_together_and_each_gets_its_own() {
    use std::sync::atomic::Ordering::SeqCst;
    tokio::time::pause();
    let store = std::sync::Arc::new(CountedReads::default());
    let (supervisor, _notices) = Supervisor::start(store.clone(), Clock::system(), settings());
    let customers: Vec<CustomerId> = (1..=500).map(|c| CustomerId::parse(&format!("new{c}")).unwrap()).collect();
    let balances = futures::future::join_all(customers.iter().map(|c| supervisor.wallet_balance(c))).await;
    for (n, balance) in balances.into_iter().enumerate() {
        assert_eq!(balance.unwrap().balance, Money::rupiah(n as u64 + 1), "customer new{}", n + 1);
    }
    let (reads, largest) = (store.reads.load(SeqCst), store.largest.load(SeqCst));
    assert!(largest <= WALLET_LOADS_PER_READ_MAX, "{largest} wallets in one read");
    assert!(reads <= 500usize.div_ceil(WALLET_LOADS_PER_READ_MAX) + ACTIVATION_LOADS_AT_ONCE_MAX, "{reads} reads");
}

/// The threads the memory release ran on (the hook is process-wide; only this test sets it).
static RELEASED_ON: Mutex<Vec<std::thread::ThreadId>> = Mutex::new(Vec::new());

fn note_release() {
    RELEASED_ON.lock().unwrap().push(std::thread::current().id());
}

#[actix_rt::test]
async fn once_many_actors_have_stopped_every_supervisor_thread_releases_memory() {
    crate::runtime::memory::release_memory_with(note_release);
    let store = std::sync::Arc::new(MemoryStore::default());
    let settings = SupervisorSettings { actor_threads: 2, ..SupervisorSettings::default() };
    let (supervisor, _notices) = Supervisor::start(store, Clock::system(), settings);
    let customers = crate::runtime::memory::STOPS_BEFORE_MEMORY_RELEASE - 1;
    for n in 0..customers {
        let customer = CustomerId::parse(&format!("62811{n:06}")).unwrap();
        supervisor.wallet_balance(&customer).await.unwrap();
    }
    assert_eq!(supervisor.stop_actors(|_| true).await, customers as usize);
    assert!(RELEASED_ON.lock().unwrap().is_empty(), "fewer stops than the threshold: nothing released");

    let last = CustomerId::parse("6281299999").unwrap();
    supervisor.wallet_balance(&last).await.unwrap();
    assert_eq!(supervisor.stop_actors(|_| true).await, 1);
    let mut threads = RELEASED_ON.lock().unwrap().clone();
    threads.sort_unstable_by_key(|id| format!("{id:?}"));
    threads.dedup();
    assert_eq!(threads.len(), 4, "two actor threads, the journal's and the supervisor's home, each once");
    assert_eq!(supervisor.active_wallets(), 0);
}

/// Without actor threads the actors live at home, beside the journal, wherever their activation
/// was asked for: a web server's worker thread (which may stop, and is restarted after a panic)
/// never holds one.
#[actix_rt::test]
async fn an_actor_activated_from_another_thread_lives_on_the_home_thread() {
    let store = std::sync::Arc::new(MemoryStore::default());
    let (supervisor, _notices) = Supervisor::start(store, Clock::system(), settings());
    let customer = CustomerId::parse("6281234567").unwrap();
    let worker = actix::Arbiter::new();
    let (asked, answered) = tokio::sync::oneshot::channel();
    let (on_worker, who) = (supervisor.clone(), customer.clone());
    worker.spawn(async move {
        let _ = asked.send(on_worker.wallet_balance(&who).await.map(|balance| balance.balance));
    });
    assert_eq!(answered.await.unwrap(), Ok(Money::ZERO), "activated from the worker's thread");
    worker.stop();
    worker.join().unwrap();

    assert_eq!(supervisor.wallet_balance(&customer).await.map(|b| b.balance), Ok(Money::ZERO));
    assert_eq!(
        supervisor.counters().activated.load(std::sync::atomic::Ordering::Relaxed),
        1,
        "the actor outlived the worker's thread: it was never activated again"
    );
}

/// The cluster's intake answers requests in tasks of the runtime, outside the home arbiter's
/// local set, on the home thread itself: an actor activated there starts all the same.
#[actix_rt::test]
async fn an_actor_activated_from_a_task_outside_the_local_set_starts() {
    let store = std::sync::Arc::new(MemoryStore::default());
    let (supervisor, _notices) = Supervisor::start(store, Clock::system(), settings());
    let customer = CustomerId::parse("6281234568").unwrap();
    let balance = tokio::spawn(async move { supervisor.wallet_balance(&customer).await.map(|b| b.balance) });
    assert_eq!(balance.await.expect("the task did not panic"), Ok(Money::ZERO));
}

/// A crowd of new reservations fills the product's mailbox; the commit of one admitted before
/// them still goes in (and is answered), where a reservation is told "busy".
#[actix_rt::test]
async fn a_full_mailbox_refuses_new_reservations_but_never_a_commit() {
    let clock = Clock::system();
    let store = std::sync::Arc::new(MemoryStore::default());
    *store.product.lock().unwrap() = Some(record(clock.now(), 2, vec![]));
    let settings = SupervisorSettings { mailbox_capacity: 4, ..settings() };
    let (supervisor, _notices) = Supervisor::start(store, clock, settings);
    let code = ProductCode::parse("viu1b").unwrap();
    let reserve = |order: &OrderId| ProductCommand::Reserve {
        tier: PriceTier::Member,
        order: order.clone(),
        quantity: 1,
        ttl_ms: 60_000,
        store: StoreWhen::Reserved,
        actor: "test".into(),
    };
    let first = OrderId::generate();
    assert!(matches!(supervisor.product(&code, reserve(&first)).await, Ok(Ok(ProductOutcome::Reserved { .. }))));

    let crowd: Vec<OrderId> = (0..20).map(|_| OrderId::generate()).collect();
    let crowd = futures::future::join_all(crowd.iter().map(|order| supervisor.product(&code, reserve(order))));
    let commit = supervisor.product(&code, ProductCommand::Commit { order: first, actor: "test".into() });
    let (crowd, commit) = futures::join!(crowd, commit);

    assert!(matches!(commit, Ok(Ok(ProductOutcome::Committed { .. }))), "the commit went in: {commit:?}");
    assert!(crowd.iter().any(|r| matches!(r, Err(CallError::Busy))), "the crowd filled the mailbox");
    assert_eq!(snapshot(&supervisor).await.sold, 1);
}

/// A store whose commits wait for the test to open its gate, then succeed or fail as told.
#[derive(Default)]
struct GatedStore {
    gate: tokio::sync::Notify,
    fail: std::sync::atomic::AtomicBool,
}

impl Sink<()> for GatedStore {
    fn commit<'a>(&'a self, _: &'a Entries<()>, earlier: Earlier) -> BoxFuture<'a, Result<(), SinkError>> {
        async move {
            crate::journal::after(earlier).await?;
            self.gate.notified().await;
            match self.fail.load(std::sync::atomic::Ordering::SeqCst) {
                true => Err(SinkError::Unavailable("the test's store is down".into())),
                false => Ok(()),
            }
        }
        .boxed()
    }
}

impl Loader for GatedStore {
    fn load_product<'a>(&'a self, _: &'a ProductCode) -> BoxFuture<'a, Result<Option<ProductRecord>, LoadError>> {
        futures::future::ready(Ok(None)).boxed()
    }
    fn load_wallet<'a>(&'a self, _: &'a CustomerId) -> BoxFuture<'a, Result<WalletRecord, LoadError>> {
        futures::future::ready(Ok(WalletRecord::default())).boxed()
    }
}

fn top_up(reference: &str) -> WalletCommand {
    WalletCommand::Credit {
        reference: crate::domain::Reference::parse(reference).unwrap(),
        amount: Money::rupiah(10_000),
        kind: crate::journal::LedgerKind::TopUp,
        reason: "top up".into(),
        actor: "test".into(),
    }
}

/// The actor hands its answer back at once (`Held`); the call gives it only once the store has
/// the change, and a change the store did not take is answered "not stored", never as done.
#[actix_rt::test]
async fn a_durable_answer_is_given_only_once_its_change_is_stored() {
    let store = std::sync::Arc::new(GatedStore::default());
    let (supervisor, _notices) = Supervisor::start(store.clone(), Clock::system(), settings());
    let customer = CustomerId::parse("budi").unwrap();

    let call = supervisor.wallet(&customer, top_up("topup-1"));
    tokio::pin!(call);
    let waited = tokio::time::timeout(Duration::from_millis(200), &mut call).await;
    assert!(waited.is_err(), "answered before its change was stored: {waited:?}");
    store.gate.notify_one();
    let credited = call.await.expect("stored").expect("applied");
    assert_eq!(credited.balance().available, Money::rupiah(10_000));

    store.fail.store(true, std::sync::atomic::Ordering::SeqCst);
    let call = supervisor.wallet(&customer, top_up("topup-2"));
    tokio::pin!(call);
    assert!(tokio::time::timeout(Duration::from_millis(200), &mut call).await.is_err());
    store.gate.notify_one();
    let refused = call.await;
    assert!(matches!(refused, Err(CallError::NotStored { .. })), "{refused:?}");
}
