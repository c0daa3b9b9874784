//! The engine, built from settings the same way by the binary and by the tests: store (migrated),
//! supervisor (journal, actors), checkout coordinator, recovery, and the background tasks that
//! tie them together.

use std::collections::BTreeSet;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use anyhow::Context;
use warung_actors::domain::{Clock, ProductCode};
use warung_actors::runtime::Notice;

use crate::checkout::{Checkout, Supervisor};
use crate::gateway::midtrans::MidtransConfig;
use crate::gateway::rate_limit::PurchaseLimiter;
use crate::gateway::whatsapp::WhatsAppConfig;
use crate::settings::Settings;
use crate::shop::{Shop, ShopValues};
use crate::store::{self, Store};

/// How often pending saldo orders whose flow died are looked for (and payment surpluses that
/// could not be credited are tried again).
const STALE_PENDING_SWEEP_SECS: u64 = 30;

#[derive(Clone)]
pub struct Engine {
    pub settings: Settings,
    pub store: Arc<dyn Store>,
    pub supervisor: Supervisor,
    pub checkout: Checkout,
    pub whatsapp: Arc<WhatsAppConfig>,
    pub midtrans: Arc<MidtransConfig>,
    /// Purchases per customer per minute, in Redis when one is configured.
    pub limiter: Arc<PurchaseLimiter>,
    /// Every product code, kept in memory so a chat listing asks the actors, not the database.
    pub catalog: Arc<RwLock<BTreeSet<ProductCode>>>,
    /// The settings an admin changes while the shop runs.
    pub shop: Arc<Shop>,
}

impl Engine {
    /// Connects, migrates, starts the actors and recovers unfinished orders. Runs inside an actix
    /// System.
    pub async fn start(settings: Settings) -> anyhow::Result<Engine> {
        let store = store::connect(&settings.database.url, settings.database.max_connections)
            .await
            .with_context(|| format!("connecting to the store at {}", redact(&settings.database.url)))?;
        store.migrate().await.context("applying migrations")?;
        Engine::start_on(settings, store, Clock::system()).await
    }

    /// Starts on an already connected and migrated store, with a given clock (tests pause time).
    pub async fn start_on(settings: Settings, store: Arc<dyn Store>, clock: Clock) -> anyhow::Result<Engine> {
        let (supervisor, notices) = Supervisor::start(store.clone(), clock, settings.supervisor());
        let checkout = Checkout::new(supervisor.clone(), store.clone(), settings.checkout());
        checkout.load_roles().await.context("loading customer roles")?;
        let recovered = checkout.recover().await.context("recovering unfinished orders")?;
        tracing::info!(?recovered, backend = store.backend(), "engine started");
        spawn_notice_handler(checkout.clone(), notices);
        spawn_stale_sweep(checkout.clone(), settings.checkout().saldo_ttl * 2);
        let whatsapp = Arc::new(WhatsAppConfig::from_settings(&settings.whatsapp));
        let midtrans = Arc::new(MidtransConfig::from_settings(&settings.midtrans));
        let limiter = PurchaseLimiter::new(settings.shop.purchases_per_minute, settings.redis.url.as_deref())
            .context("redis.url (WARUNG_REDIS__URL) is not a Redis URL")?;
        let shop = Arc::new(Shop::new(shop_values(&settings, store.as_ref()).await?));
        limiter.set_per_minute(shop.values().purchases_per_minute);
        let limiter = Arc::new(limiter);
        let codes = store.product_codes().await.context("listing the catalogue")?;
        let catalog = Arc::new(RwLock::new(codes.into_iter().collect()));
        Ok(Engine { settings, store, supervisor, checkout, whatsapp, midtrans, limiter, catalog, shop })
    }

    /// Waits until every change made so far is stored (or has failed), then closes the store.
    /// An error means the last changes could not be stored: their callers were told so.
    pub async fn shutdown(&self) -> Result<(), warung_actors::runtime::CallError> {
        let flushed = self.supervisor.flush().await;
        if let Err(error) = &flushed {
            tracing::error!(%error, "journal flush at shutdown failed");
        }
        self.store.close().await;
        flushed
    }
}

/// The configured defaults, overridden by what an admin stored. A stored value this build no
/// longer accepts is logged and skipped, never a reason not to start.
async fn shop_values(settings: &Settings, store: &dyn Store) -> anyhow::Result<ShopValues> {
    let mut values = ShopValues::defaults(&settings.shop.name, settings.shop.purchases_per_minute);
    for (key, value) in store.stored_settings().await.context("reading the shop's stored settings")? {
        if let Err(error) = values.set(&key, &value) {
            tracing::warn!(%error, "stored setting ignored");
        }
    }
    Ok(values)
}

fn spawn_notice_handler(checkout: Checkout, mut notices: tokio::sync::mpsc::UnboundedReceiver<Notice>) {
    actix::spawn(async move {
        while let Some(notice) = notices.recv().await {
            match notice {
                Notice::ReservationExpired { order, .. } => checkout.on_reservation_expired(&order).await,
            }
        }
    });
}

fn spawn_stale_sweep(checkout: Checkout, older_than: Duration) {
    actix::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(STALE_PENDING_SWEEP_SECS));
        tick.tick().await;
        loop {
            tick.tick().await;
            match checkout.sweep_stale_pending(older_than.as_millis() as i64).await {
                Ok(0) => {}
                Ok(settled) => tracing::warn!(settled, "settled pending orders whose flow had stopped"),
                Err(error) => tracing::error!(%error, "stale order sweep failed"),
            }
            let owed = checkout.retry_owed_surpluses().await;
            if owed > 0 {
                tracing::warn!(owed, "payment surpluses still owed; trying again at the next sweep");
            }
        }
    });
}

/// A database URL without its password, for logs.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let credentials = &url[scheme + 3..at];
            let user = credentials.split(':').next().unwrap_or("");
            format!("{}://{user}:***@{}", &url[..scheme], &url[at + 1..])
        }
        _ => url.to_string(),
    }
}
