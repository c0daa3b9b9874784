//! The engine core: store (migrated), the supervisors' lanes (journals, actors), checkout coordinator,
//! recovery, the shop's settings and catalogue. It knows no provider and starts no worker:
//! `startup` starts it, with its workers, and adds the gateway on top.

use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;

use anyhow::Context;
use tokio::sync::mpsc::UnboundedReceiver;
use warung_actors::domain::Clock;
use warung_actors::runtime::Notice;

use crate::catalog::Catalog;
use crate::checkout::{Checkout, CheckoutSettings};
use crate::cluster::wakes::Wakes;
use crate::cluster::{Actors, Joined};
use crate::records::Lanes;
use crate::settings::Settings;
use crate::shares::Shares;
use crate::shop::{Shop, ShopValues};
use crate::store::{self, Store};

#[derive(Clone)]
pub struct Engine {
    pub settings: Settings,
    pub store: Arc<dyn Store>,
    /// The actors' supervisors, one per lane (`engine.lanes`), as one.
    pub lanes: Lanes,
    pub checkout: Checkout,
    /// What products exist.
    pub catalog: Catalog,
    /// The products' shares in the lanes, and the stock moved to them.
    pub shares: Shares,
    /// The settings an admin changes while the shop runs.
    pub shop: Arc<Shop>,
    /// This node, when it is one of a cluster.
    pub cluster: Option<Joined>,
}

impl Engine {
    /// Connects and migrates the store named by the settings.
    pub async fn connect(settings: &Settings) -> anyhow::Result<Arc<dyn Store>> {
        let database = &settings.database;
        let writers = match settings.cluster.enabled {
            true => store::Writers::ClusterNodes,
            false => store::Writers::ThisProcess,
        };
        let journal = store::JournalOptions {
            journals: store::Journals::of_lanes(settings.engine.lanes),
            ..database.journal_options()
        };
        let store = store::connect_with(database.url.expose(), database.max_connections, journal, writers)
            .await
            .with_context(|| format!("connecting to the store at {}", settings.database.url))?;
        store.migrate().await.context("applying migrations")?;
        Ok(store)
    }

    /// Starts the actors on a connected and migrated store, with a given clock (tests pause
    /// time), and recovers unfinished orders; returns the actors' notices for a worker to handle.
    /// Runs inside an actix System.
    pub async fn start(
        settings: Settings,
        store: Arc<dyn Store>,
        clock: Clock,
    ) -> anyhow::Result<(Engine, UnboundedReceiver<Notice>)> {
        Engine::start_in(settings, store, clock, None).await
    }

    /// As `start`, as a node of a cluster when `joined` is given: its actors are those of the
    /// shards it owns, the others are called on their owners.
    pub async fn start_in(
        settings: Settings,
        store: Arc<dyn Store>,
        clock: Clock,
        joined: Option<&Joined>,
    ) -> anyhow::Result<(Engine, UnboundedReceiver<Notice>)> {
        let (lanes, notices) = Lanes::start(store.clone(), clock, settings.supervisor(), settings.engine.lanes).await;
        let actors = match joined {
            Some(joined) => joined.attach(lanes.clone()),
            None => Actors::local(lanes.clone()),
        };
        let sells_from_shares = lanes.count() > 1 && joined.is_none();
        let shares =
            Shares::load(store.clone(), lanes.clone(), sells_from_shares).await.context("listing the shares")?;
        let checkout_settings = CheckoutSettings::from_settings(&settings.engine);
        let checkout = Checkout::new(actors, store.clone(), checkout_settings, shares.clone());
        checkout.load_roles().await.context("loading customer roles")?;
        match joined {
            None => {
                let moves = shares.recover().await.context("finishing stock moves")?;
                if moves > 0 {
                    tracing::warn!(moves, "finished stock moves a stop had cut short");
                }
                let recovered = checkout.recover().await.context("recovering unfinished orders")?;
                tracing::info!(?recovered, "recovered unfinished orders");
            }
            Some(joined) => start_upkeep(joined, &checkout, &shares, clock),
        }
        tracing::info!(backend = store.backend(), lanes = lanes.count(), "engine started");
        let shop = Arc::new(Shop::new(shop_values(&settings, store.as_ref()).await?));
        let catalog = Catalog::load(store.clone(), checkout.actors().clone(), shares.clone())
            .await
            .context("listing the catalogue")?;
        let engine = Engine { settings, store, lanes, checkout, catalog, shares, shop, cluster: joined.cloned() };
        if joined.is_some() {
            spawn_cache_reloads(engine.clone());
        }
        Ok((engine, notices))
    }

    /// Reads the catalogue, the shop's settings and the roles again from the store.
    pub async fn reload_caches(&self) -> anyhow::Result<()> {
        self.catalog.reload().await.context("reloading the catalogue")?;
        self.shop.replace(shop_values(&self.settings, self.store.as_ref()).await?);
        self.checkout.load_roles().await.context("reloading the roles")?;
        Ok(())
    }

    /// After an admin changed the catalogue, the shop's settings or roles: in a cluster, every
    /// other node reloads its caches (this one's are up to date already).
    pub async fn caches_changed(&self) {
        if let Some(joined) = &self.cluster {
            Wakes::new(joined.nats.clone(), joined.name.clone()).caches_changed().await;
        }
    }

    /// Waits until every change made so far is stored (or has failed), then closes the store.
    /// An error means the last changes could not be stored: their callers were told so.
    pub async fn shutdown(&self) -> Result<(), warung_actors::runtime::CallError> {
        self.lanes.stop_watching();
        let flushed = self.lanes.flush().await;
        if let Err(error) = &flushed {
            tracing::error!(%error, "journal flush at shutdown failed");
        }
        self.lanes.stop_threads();
        self.store.close().await;
        flushed
    }
}

/// A cluster node owns nothing until its upkeep acquires shards; each acquisition recovers what
/// the shards' last owner left unfinished, while the shards already serve (every step of
/// recovery is idempotent by order id, as at a single node's start). Orders changed within a
/// flow's longest run of the acquisition may be purchases still running, here or on the last
/// owner (whose calls reach this node once it owns the shards): the sweeps settle them if they
/// stop. Customers' flows sent by other nodes run on this node's checkout; a hand-off waits for
/// the flows running here (up to a route deadline), and shards handed off take their customers'
/// claims with them.
fn start_upkeep(joined: &Joined, checkout: &Checkout, shares: &Shares, clock: Clock) {
    let recovering = checkout.clone();
    let moving = shares.clone();
    let in_flight = joined.route_deadline * crate::cluster::FLOW_DEADLINES_MAX;
    joined.node.on_acquire(Arc::new(move |shards| {
        let checkout = recovering.clone();
        let shares = moving.clone();
        let changed_before = clock.now() - in_flight.as_millis() as i64;
        actix_rt::spawn(async move {
            let count = shards.len();
            let scope = crate::cluster::Scope::Shards(shards);
            // Moves first, as a lone process's start does.
            match shares.recover_in(&scope).await {
                Ok(0) => {}
                Ok(moves) => tracing::warn!(moves, "finished stock moves on acquired shards"),
                Err(error) => tracing::error!(%error, "finishing stock moves on acquired shards failed; the shard's next owner or this node's next start tries again"),
            }
            match checkout.recover_in(&scope, changed_before).await {
                Ok(recovered) => tracing::info!(shards = count, ?recovered, "recovered acquired shards"),
                Err(error) => tracing::error!(%error, "recovering acquired shards failed; the sweeps retry"),
            }
        });
    }));
    let draining = checkout.clone();
    let flows_within = joined.route_deadline;
    joined.node.on_drain(Arc::new(move |shards| {
        let checkout = draining.clone();
        Box::pin(async move {
            let running = checkout.flows_finished(&shards, flows_within).await;
            if running > 0 {
                tracing::warn!(running, "customers' flows still running as their shards are handed off");
            }
        })
    }));
    let forgetting = checkout.clone();
    joined.node.on_release(Arc::new(move |shards| forgetting.forget_customers_of(shards)));
    let running = checkout.clone();
    joined.serve_flows(Arc::new(move |flow| {
        let checkout = running.clone();
        Box::pin(async move {
            match checkout.run_flow(flow).await {
                Ok(outcome) => crate::cluster::wire::Answer::Done(outcome),
                Err(reason) => crate::cluster::wire::Answer::Malformed(reason),
            }
        })
    }));
    actix_rt::spawn(joined.node.clone().run_upkeep());
}

/// A backstop for a lost "caches changed" announcement: caches are reloaded this often anyway.
const CACHES_RELOAD_EVERY_SECS: u64 = 60;

/// Reloads this node's caches when another announces an admin's change, and every minute.
fn spawn_cache_reloads(engine: Engine) {
    let Some(joined) = engine.cluster.clone() else { return };
    actix_rt::spawn(async move {
        let wakes = Wakes::new(joined.nats.clone(), joined.name.clone());
        let changes = match wakes.cache_changes().await {
            Ok(changes) => changes.boxed(),
            Err(error) => {
                tracing::error!(%error, "cannot hear cache changes; reloading every minute only");
                futures::stream::pending().boxed()
            }
        };
        let every = tokio_stream_interval(Duration::from_secs(CACHES_RELOAD_EVERY_SECS));
        let mut reasons = futures::stream::select(changes, every);
        while reasons.next().await.is_some() {
            if let Err(error) = engine.reload_caches().await {
                tracing::warn!(error = %format!("{error:#}"), "reloading caches failed; trying again later");
            }
        }
    });
}

/// A stream that yields every `period`, the first after one period.
fn tokio_stream_interval(period: Duration) -> futures::stream::BoxStream<'static, ()> {
    futures::stream::unfold(tokio::time::interval_at(tokio::time::Instant::now() + period, period), |mut every| async {
        every.tick().await;
        Some(((), every))
    })
    .boxed()
}

/// The configured defaults, overridden by what an admin stored. A stored value this build no
/// longer accepts is logged and skipped, never a reason not to start.
async fn shop_values(settings: &Settings, store: &dyn Store) -> anyhow::Result<ShopValues> {
    let mut values = ShopValues::defaults(&settings.shop);
    for (key, value) in store.stored_settings().await.context("reading the shop's stored settings")? {
        if let Err(error) = values.set(&key, &value) {
            tracing::warn!(%error, "stored setting ignored");
        }
    }
    Ok(values)
}
