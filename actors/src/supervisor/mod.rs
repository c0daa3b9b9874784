//! The supervisor: owns every actor's lifecycle. It activates an actor on first use by loading
//! its state from the store (`activation`; wallets waiting at once are read together,
//! `wallet_loads`), spreads actors over one arbiter (thread) per core,
//! passivates idle ones and reloads the ones whose changes failed to commit (`lifecycle`),
//! restarts crashed ones from the store within a budget (`registry`), and sends each message
//! with a bounded mailbox and retries (`call`); `calls` are the typed calls it offers. It also
//! keeps the application's own long-lived actors running (`services`: started, watched, started
//! again within the same restart budget, `restarts`). `lanes` runs several supervisors in one
//! process, each on a thread of its own, as one. What every actor speaks (the call error,
//! the lifecycle messages, per-actor stats) is the floor below, `crate::runtime`.

mod activation;
mod call;
mod calls;
mod chain;
#[cfg(test)]
mod chain_tests;
mod counters;
mod known;
mod lanes;
#[cfg(test)]
mod lanes_tests;
mod lifecycle;
mod loader;
mod registry;
mod restarts;
mod services;
#[cfg(test)]
mod services_tests;
mod shares;
#[cfg(test)]
mod tests;
mod wallet_loads;

pub use chain::Chained;
pub use counters::SupervisorCounters;
pub use known::{Known, ProductHandle, WalletHandle};
pub use lanes::{Lanes, LANES_MAX};
pub use loader::{LoadError, Loader, Persistence};
pub use registry::{Handle, HandleParts, Registry};
pub use restarts::{RestartBudget, Restarts};
pub use services::{Recipe, Service, Watched, WATCH_EVERY_MS};
pub use shares::{move_destination, move_reference};
pub use wallet_loads::WALLET_LOADS_PER_READ_MAX;

use activation::store_as_loader;
use call::call;

use std::sync::atomic::{AtomicU64, AtomicUsize};
use std::sync::Arc;
use std::time::Duration;

use actix::{Actor, Arbiter, ArbiterHandle, Context};
use tokio::sync::mpsc;

use crate::domain::{Clock, CustomerId, ProductCode};
use crate::journal::ActorKey;
use crate::journal::{Journal, JournalSettings, Record, Sink};
use crate::product::{ProductActor, ProductGauges};
use crate::runtime::{ActorReport, ActorStats, CallError, Notice};
use crate::wallet::{WalletActor, WalletGauges};

/// Default capacity of every mailbox. A full mailbox answers "busy, try again" at once.
pub const MAILBOX_CAPACITY_DEFAULT: usize = 4_096;

/// How many times one call is tried when the actor stops under it (passivated, crashed, fenced).
/// Safe because every command carries its caller's id.
pub const CALL_ATTEMPTS_MAX: usize = 3;

/// Actor states loaded from the store at once. Past this, an activation waits its turn here, in
/// arrival order, instead of in the store's connection pool: thousands of waiters there (a flash
/// sale's new customers all at once) time out together and keep retrying, and the pool's acquire
/// timeout then turns a burst into a stream of "store unavailable". Half the default pool, so
/// queries outside activation still find connections.
pub const ACTIVATION_LOADS_AT_ONCE_MAX: usize = 8;

#[derive(Clone, Debug)]
pub struct SupervisorSettings {
    pub mailbox_capacity: usize,
    /// Threads (actix arbiters) actors are spread over, with one more for the journal; 0 (the
    /// default) runs the actors and the journal on the supervisor's home arbiter, the thread it
    /// was started on, where the flows that call them run too. Measured on 2 cores
    /// (docs/benchmarks.md, issue 19, eleventh part): a purchase that never leaves one thread
    /// makes a quarter more sales per second than one crossing to the actors' and the journal's
    /// threads, and costs less CPU; the engine's own work fits in one core, the store's backends
    /// take the other.
    pub actor_threads: usize,
    /// An actor idle this long is stopped; its state is already in the store.
    pub passivate_after: Duration,
    pub passivation_sweep_every: Duration,
    pub restart_budget: RestartBudget,
    pub journal: JournalSettings,
}

impl Default for SupervisorSettings {
    fn default() -> Self {
        SupervisorSettings {
            mailbox_capacity: MAILBOX_CAPACITY_DEFAULT,
            actor_threads: 0,
            passivate_after: Duration::from_secs(300),
            passivation_sweep_every: Duration::from_secs(30),
            restart_budget: RestartBudget { restarts_max: 5, window: Duration::from_secs(60) },
            journal: JournalSettings::default(),
        }
    }
}

type Products<R> = Registry<ProductCode, ProductActor<R>, ProductGauges>;
type Wallets<R> = Registry<CustomerId, WalletActor<R>, WalletGauges>;

struct Inner<R: Record> {
    products: Products<R>,
    wallets: Wallets<R>,
    journal: Journal<R>,
    loader: Arc<dyn Loader>,
    /// Permits to load an actor's state: see `ACTIVATION_LOADS_AT_ONCE_MAX`. Shared by the
    /// lanes of one process, whose loads use the one store's pool.
    loads: Arc<tokio::sync::Semaphore>,
    /// Wallets waiting to be read for their activation (`wallet_loads`).
    wallet_loads: wallet_loads::WalletLoads,
    clock: Clock,
    settings: SupervisorSettings,
    arbiters: Vec<ArbiterHandle>,
    next_arbiter: AtomicUsize,
    /// The journal's own thread, if it has one.
    journal_thread: Option<ArbiterHandle>,
    /// Actors stopped since the supervisor last released memory (`release_memory_after`).
    stopped_since_release: AtomicU64,
    /// Where the services run: the arbiter the supervisor was started on.
    home: ArbiterHandle,
    /// What the watch keeps running besides products and wallets.
    watched: std::sync::Mutex<Vec<Arc<dyn Watched>>>,
    /// Set when the application stops: what dies then is not restarted.
    watch_stopped: std::sync::atomic::AtomicBool,
    notices: mpsc::UnboundedSender<Notice>,
    counters: SupervisorCounters,
    /// In a cluster, which actors this node may activate (those of the shards it owns); unset,
    /// every one. Set once.
    owns: std::sync::OnceLock<Ownership>,
}

/// Whether this node owns an actor (see `Supervisor::activate_only`).
pub type Ownership = Arc<dyn Fn(&ActorKey) -> bool + Send + Sync>;

/// Cheap to clone; every clone drives the same actors. `R` is the type of the records callers
/// attach to the actors' changes (see `journal::Record`).
pub struct Supervisor<R: Record> {
    inner: Arc<Inner<R>>,
}

impl<R: Record> Clone for Supervisor<R> {
    fn clone(&self) -> Self {
        Supervisor { inner: self.inner.clone() }
    }
}

impl<R: Record> Supervisor<R> {
    /// Starts the journal, the arbiters and the background sweeps. Must run inside an actix System.
    pub fn start(
        store: Arc<dyn Persistence<R>>,
        clock: Clock,
        settings: SupervisorSettings,
    ) -> (Supervisor<R>, mpsc::UnboundedReceiver<Notice>) {
        let loads = Arc::new(tokio::sync::Semaphore::new(ACTIVATION_LOADS_AT_ONCE_MAX));
        Supervisor::start_sharing(store, clock, settings, loads)
    }

    /// As `start`, taking its activations' load permits from `loads` (the lanes' one limit).
    fn start_sharing(
        store: Arc<dyn Persistence<R>>,
        clock: Clock,
        settings: SupervisorSettings,
        loads: Arc<tokio::sync::Semaphore>,
    ) -> (Supervisor<R>, mpsc::UnboundedReceiver<Notice>) {
        let sink: Arc<dyn Sink<R>> = store.clone();
        let loader: Arc<dyn Loader> = store_as_loader(store);
        // The journal gets a thread of its own, so its round trips to the store never queue
        // behind other work; with `actor_threads == 0` everything stays on the caller's arbiter.
        let journal_thread = (settings.actor_threads > 0).then(|| Arbiter::new().handle());
        let (journal, mut fenced) = match journal_thread.clone() {
            Some(thread) => Journal::start_with(sink, settings.journal, move |run| {
                thread.spawn(run);
            }),
            None => Journal::start(sink, settings.journal),
        };
        let (notices, notices_rx) = mpsc::unbounded_channel();
        let arbiters = (0..settings.actor_threads).map(|_| Arbiter::new().handle()).collect();
        let supervisor = Supervisor {
            inner: Arc::new(Inner {
                products: Registry::new(settings.restart_budget),
                wallets: Registry::new(settings.restart_budget),
                journal,
                loader,
                loads,
                wallet_loads: wallet_loads::WalletLoads::default(),
                clock,
                settings,
                arbiters,
                next_arbiter: AtomicUsize::new(0),
                journal_thread,
                stopped_since_release: AtomicU64::new(0),
                home: Arbiter::current(),
                watched: std::sync::Mutex::new(Vec::new()),
                watch_stopped: std::sync::atomic::AtomicBool::new(false),
                notices,
                counters: SupervisorCounters::default(),
                owns: std::sync::OnceLock::new(),
            }),
        };
        let weak = Arc::downgrade(&supervisor.inner);
        actix::spawn(async move {
            while let Some(keys) = fenced.recv().await {
                let Some(inner) = weak.upgrade() else { break };
                Supervisor { inner }.reload(keys);
            }
        });
        let weak = Arc::downgrade(&supervisor.inner);
        let every = supervisor.inner.settings.passivation_sweep_every;
        actix::spawn(async move {
            let mut tick = tokio::time::interval(every);
            tick.tick().await;
            loop {
                tick.tick().await;
                let Some(inner) = weak.upgrade() else { break };
                Supervisor { inner }.passivate_idle().await;
            }
        });
        let weak = Arc::downgrade(&supervisor.inner);
        actix::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_millis(WATCH_EVERY_MS));
            loop {
                tick.tick().await;
                let Some(inner) = weak.upgrade() else { break };
                Supervisor { inner }.restart_dead();
            }
        });
        (supervisor, notices_rx)
    }

    pub fn journal(&self) -> &Journal<R> {
        &self.inner.journal
    }

    pub fn clock(&self) -> Clock {
        self.inner.clock
    }

    pub fn counters(&self) -> &SupervisorCounters {
        &self.inner.counters
    }

    /// What an active wallet publishes, without a message; `None` when it is not active.
    pub fn wallet_gauges(&self, customer: &CustomerId) -> Option<Arc<WalletGauges>> {
        self.inner.wallets.gauges(customer)
    }

    /// The gauges of `product`'s actor if it is active.
    pub fn product_gauges(&self, product: &ProductCode) -> Option<Arc<ProductGauges>> {
        self.inner.products.gauges(product)
    }

    /// Makes sure a product is active (so its reservation timers run), loading it if needed.
    pub async fn ensure_product(&self, code: &ProductCode) -> Result<(), CallError> {
        self.inner.products.get(code, self.inner.clock, &|| self.activate_product(code)).await.map(|_| ())
    }

    /// Starts a service (see `services`) and keeps it running: `recipe` builds each of its
    /// actors, first and after a crash; `capacity` bounds its mailbox.
    pub fn keep_running<A, F>(&self, name: &'static str, capacity: usize, recipe: F) -> Service<A>
    where
        A: Actor<Context = Context<A>>,
        F: Fn(Arc<ActorStats>) -> A + Send + Sync + 'static,
    {
        let placement = services::Placement {
            home: self.inner.home.clone(),
            budget: self.inner.settings.restart_budget,
            clock: self.inner.clock,
        };
        let service = Service::start(ActorKey::Service(name), capacity, Box::new(recipe), placement);
        self.watch(Arc::new(service.clone()));
        service
    }

    /// Keeps `watched`'s actors running: the watch asks it every `WATCH_EVERY_MS` to start its
    /// dead ones again, and its actors are listed with every other.
    pub fn watch(&self, watched: Arc<dyn Watched>) {
        self.inner.watched.lock().expect("watch lock").push(watched);
    }

    /// The budget every actor's restarts are held to.
    pub fn restart_budget(&self) -> RestartBudget {
        self.inner.settings.restart_budget
    }

    fn watched(&self) -> Vec<Arc<dyn Watched>> {
        self.inner.watched.lock().expect("watch lock").clone()
    }

    /// Stops restarting what is watched: for a stopping application, whose actors die with its
    /// threads and must not be counted as crashes or started again.
    pub fn stop_watching(&self) {
        self.inner.watch_stopped.store(true, std::sync::atomic::Ordering::Release);
    }

    fn restart_dead(&self) {
        if self.inner.watch_stopped.load(std::sync::atomic::Ordering::Acquire) {
            return;
        }
        let now = self.inner.clock.now();
        for watched in self.watched() {
            // A bug in one must not stop the watch over the others.
            let restarting = std::panic::AssertUnwindSafe(|| watched.restart_dead(now));
            if std::panic::catch_unwind(restarting).is_err() {
                tracing::error!("restarting a watched actor panicked; the watch goes on");
            }
        }
    }

    /// Every running actor's stats, deepest mailbox first.
    pub fn actors(&self) -> Vec<ActorReport> {
        let mut reports: Vec<ActorReport> = self.inner.products.handles().iter().map(|h| h.stats.report()).collect();
        reports.extend(self.inner.wallets.handles().iter().map(|h| h.stats.report()));
        reports.extend(self.watched().iter().flat_map(|watched| watched.reports()));
        reports.sort_by(|a, b| b.mailbox_depth.cmp(&a.mailbox_depth).then(b.messages_handled.cmp(&a.messages_handled)));
        reports
    }

    /// Stops an actor by crashing it, for tests of the restart path (feature `test-hooks`).
    #[cfg(any(test, feature = "test-hooks"))]
    pub fn crash_product_for_test(&self, code: &ProductCode) {
        if let Some(handle) = self.inner.products.active(code) {
            handle.addr.do_send(crate::runtime::CrashForTest);
        }
    }

    /// Stops a wallet's actor by crashing it, for tests of the restart path (feature `test-hooks`).
    #[cfg(any(test, feature = "test-hooks"))]
    pub fn crash_wallet_for_test(&self, customer: &CustomerId) {
        if let Some(handle) = self.inner.wallets.active(customer) {
            handle.addr.do_send(crate::runtime::CrashForTest);
        }
    }

    /// Waits until everything submitted so far is stored (for a clean shutdown).
    /// From now on, activates only the actors `owns` accepts; any other is refused with
    /// `CallError::NotOwner`. A cluster node runs an actor only while it owns its shard: a second
    /// live actor on another node would write from a stale copy.
    pub fn activate_only(&self, owns: Ownership) {
        assert!(self.inner.owns.set(owns).is_ok(), "ownership is set once");
    }

    pub(super) fn may_activate(&self, key: &ActorKey) -> Result<(), CallError> {
        match self.inner.owns.get() {
            Some(owns) if !owns(key) => Err(CallError::NotOwner),
            _ => Ok(()),
        }
    }

    pub async fn flush(&self) -> Result<(), CallError> {
        self.inner.journal.flush().await.map_err(CallError::from)
    }

    /// Actors restarted after a crash, since start (products, wallets and everything watched).
    pub fn restarts(&self) -> u64 {
        let watched: u64 = self.watched().iter().map(|watched| watched.crashes_total()).sum();
        self.inner.products.crashes_total() + self.inner.wallets.crashes_total() + watched
    }

    pub fn active_products(&self) -> usize {
        self.inner.products.len()
    }

    pub fn active_wallets(&self) -> usize {
        self.inner.wallets.len()
    }
}
