//! The application, built in one place for the binary and the tests alike.
//!
//! - `start_engine`: the core (`crate::engine`) with its workers; commands that serve nothing
//!   (`catalog import`, the lab) use it alone.
//! - `gateway`: the flows wired to the providers (or the simulator's stand-ins).
//! - `workers`: every background worker, started from there.
//!
//! `Application::build(settings)` binds the listeners the settings name, starts the engine and
//! the gateway, and builds the HTTP server; `run_until_stopped` serves until a stop and then
//! drains what is in flight.

mod gateway;
mod workers;

pub use crate::engine::Engine;

use std::future::Future;
use std::time::Duration;

use std::sync::Arc;

use anyhow::Context;
use warung_actors::domain::Clock;

use crate::checkout::CheckoutSettings;
use crate::store::Store;

use crate::flows::outbox::{wait_until_sent, OUTBOX_SHUTDOWN_DRAIN_SECS};
use crate::flows::service::Gateway;
use crate::http::Listeners;
use crate::providers::whatsapp::WhatsAppMode;
use crate::settings::Settings;

/// Connects, migrates, starts the engine core and recovers unfinished orders, with the core's
/// workers. Runs inside an actix System.
pub async fn start_engine(settings: Settings) -> anyhow::Result<Engine> {
    let store = Engine::connect(&settings).await?;
    let joined = match settings.cluster.enabled {
        true => Some(crate::cluster::join(&settings, store.as_ref()).await?),
        false => None,
    };
    start_engine_in(settings, store, Clock::system(), joined.as_ref()).await
}

/// As `start_engine`, on a store already connected and migrated, with a given clock.
pub async fn start_engine_on(settings: Settings, store: Arc<dyn Store>, clock: Clock) -> anyhow::Result<Engine> {
    start_engine_in(settings, store, clock, None).await
}

async fn start_engine_in(
    settings: Settings,
    store: Arc<dyn Store>,
    clock: Clock,
    joined: Option<&crate::cluster::Joined>,
) -> anyhow::Result<Engine> {
    let (engine, notices) = Engine::start_in(settings, store, clock, joined).await?;
    let stale_after = CheckoutSettings::from_settings(&engine.settings.engine).saldo_ttl * 2;
    workers::spawn_core(&engine.checkout, notices, stale_after);
    Ok(engine)
}

pub struct Application {
    pub engine: Engine,
    pub gateway: Gateway,
    /// `http://host:port` of the public listener.
    pub address: String,
    /// `http://host:port` of the ops listener, when it has its own.
    pub ops_address: Option<String>,
    server: actix_web::dev::Server,
}

impl Application {
    /// Binds the listeners the settings name, then builds the application on them. Runs inside
    /// an actix System.
    pub async fn build(settings: Settings) -> anyhow::Result<Application> {
        let listeners = Listeners::bind(&settings.http)
            .with_context(|| format!("binding {} and {}", settings.http.bind, settings.http.ops_bind))?;
        let engine = start_engine(settings).await?;
        Application::build_on(engine, listeners)
    }

    /// The application on an engine already started (tests restart one on the same store).
    pub fn build_on(engine: Engine, listeners: impl Into<Listeners>) -> anyhow::Result<Application> {
        let listeners = listeners.into();
        let public = listeners.public.local_addr().context("the public listener's address")?;
        let ops_address = match &listeners.ops {
            Some(ops) => Some(format!("http://{}", ops.local_addr().context("the ops listener's address")?)),
            None => None,
        };
        let gateway = gateway::start(&engine, public)?;
        let server = crate::http::server(engine.clone(), gateway.clone(), listeners).context("starting HTTP")?;
        Ok(Application { engine, gateway, address: format!("http://{public}"), ops_address, server })
    }

    /// Serves in the background until the process ends (tests: the test's end stops it).
    pub fn spawn(self) {
        actix_rt::spawn(self.run_until_stopped(std::future::pending()));
    }

    /// Serves until `stop` resolves, then stops taking requests, finishes those in progress,
    /// sends what the outbox holds (for a while) and flushes the journal. An error means the
    /// last changes could not be stored: their callers were told so.
    pub async fn run_until_stopped(self, stop: impl Future<Output = ()>) -> anyhow::Result<()> {
        let Application { engine, gateway, server, .. } = self;
        let http = server.handle();
        let running = actix_rt::spawn(server);
        stop.await;
        tracing::info!("stopping: no new requests; finishing those in progress");
        // The conversations die with the HTTP workers they run on: not crashes; what they had yet
        // to answer stays recorded and is answered at the next start.
        engine.lanes.stop_watching();
        http.stop(true).await;
        let _ = running.await;
        // In simulator mode the stand-in Graph API was served by the HTTP server just stopped.
        if gateway.whatsapp.mode == WhatsAppMode::Live {
            let within = Duration::from_secs(OUTBOX_SHUTDOWN_DRAIN_SECS);
            let left = wait_until_sent(engine.store.as_ref(), engine.lanes.clock(), within).await;
            tracing::info!(left, "outbox drained (what is left is sent at the next start)");
        }
        tracing::info!("HTTP stopped; flushing the journal");
        engine.shutdown().await.context("flushing the journal")
    }
}
