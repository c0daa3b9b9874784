//! The gateway wired: each flow given exactly what it uses, the provider clients pointed at the
//! real providers or at the simulator's stand-ins under the engine's own address.

use std::net::SocketAddr;
use std::sync::Arc;

use super::workers;
use crate::checkout::CheckoutSettings;
use crate::cluster::wakes::Wakes;
use crate::engine::Engine;
use crate::flows::admin::{Prices, Products};
use crate::flows::alerts::{AlertWatch, Alerts, WatchParts, STORE_DOWN_ALERT_MS};
use crate::flows::chat::Conversation;
use crate::flows::inbox::{Inbox, InboxCluster};
use crate::flows::outbox;
use crate::flows::owner::Desk;
use crate::flows::qris::{Qris, QrisParts};
use crate::flows::service::{Gateway, SIMULATOR_MIDTRANS_PATH, SIMULATOR_WHATSAPP_PATH};
use crate::infra::counters::GatewayCounters;
use crate::infra::rate_limit::PurchaseLimiter;
use crate::providers::midtrans::{MidtransClient, MidtransConfig, MidtransMode};
use crate::providers::whatsapp::{GraphClient, WhatsAppConfig, WhatsAppMode};

/// Builds the gateway for an engine served at `local` and starts its workers; runs on the
/// current actix System.
pub fn start(engine: &Engine, local: SocketAddr) -> anyhow::Result<Gateway> {
    let settings = &engine.settings;
    let self_url = self_url(local);
    let counters = Arc::new(GatewayCounters::default());
    let whatsapp = Arc::new(WhatsAppConfig::from_settings(&settings.whatsapp));
    let midtrans = Arc::new(MidtransConfig::from_settings(&settings.midtrans));
    let redis = match &settings.redis.url {
        Some(url) => Some(crate::infra::redis::client(url, settings.redis.ca_file.as_deref())?),
        None => None,
    };
    let limiter = PurchaseLimiter::new(settings.shop.purchases_per_minute, redis);
    limiter.set_per_minute(engine.shop.values().purchases_per_minute);
    let limiter = Arc::new(limiter);

    let graph = GraphClient::new(
        &graph_base(&whatsapp, &self_url),
        &whatsapp.api_version,
        &whatsapp.phone_number_id,
        whatsapp.access_token.clone(),
    );
    let clock = engine.lanes.clock();
    let one_sender: Option<outbox::MaySend> = engine.cluster.as_ref().map(|joined| {
        let node = joined.node.clone();
        Arc::new(move || node.sends_outbox()) as outbox::MaySend
    });
    let signal = outbox::start(
        engine.lanes.home(),
        engine.store.clone(),
        graph,
        whatsapp.messages_per_second,
        counters.clone(),
        one_sender,
    );

    let (midtrans_base, notification_url) = match midtrans.mode {
        MidtransMode::Live => {
            (midtrans.api_base_url.clone().expect("a live Midtrans has a base URL"), midtrans.notification_url.clone())
        }
        MidtransMode::Simulator => {
            (format!("{self_url}{SIMULATOR_MIDTRANS_PATH}"), Some(format!("{self_url}/webhooks/midtrans")))
        }
    };
    let client = MidtransClient::new(&midtrans_base, midtrans.server_key.clone(), notification_url, counters.clone());
    let parts = QrisParts {
        store: engine.store.clone(),
        checkout: engine.checkout.clone(),
        clock,
        payment_ttl: CheckoutSettings::from_settings(&settings.engine).payment_ttl,
        transfer: settings.transfer.account(),
    };
    let qris = Qris::new(parts, client, signal.clone());

    let prices = Prices {
        store: engine.store.clone(),
        actors: engine.checkout.actors().clone(),
        shares: engine.shares.clone(),
        shop: engine.shop.clone(),
        clock: engine.lanes.clock(),
    };
    let products = Products {
        actors: engine.checkout.actors().clone(),
        shares: engine.shares.clone(),
        catalog: engine.catalog.clone(),
        prices: prices.clone(),
        clock: engine.lanes.clock(),
    };
    let conversation = Conversation {
        store: engine.store.clone(),
        checkout: engine.checkout.clone(),
        actors: engine.checkout.actors().clone(),
        catalog: engine.catalog.clone(),
        limiter: limiter.clone(),
        shop: engine.shop.clone(),
        transfer_offered: settings.transfer.account().is_some(),
    };
    let desk = Desk {
        products: products.clone(),
        checkout: engine.checkout.clone(),
        store: engine.store.clone(),
        qris: qris.clone(),
        shop: engine.shop.clone(),
        clock,
    };
    let alerts = Alerts::new(engine.store.clone(), engine.shop.clone(), engine.checkout.clone(), signal.clone(), clock);
    let alert_watch = AlertWatch::new(WatchParts {
        alerts: alerts.clone(),
        desk: desk.clone(),
        lanes: engine.lanes.clone(),
        counters: counters.clone(),
        audit_every_hours: Some(settings.audit.every_hours).filter(|hours| *hours > 0),
        store_down_alert_after_ms: STORE_DOWN_ALERT_MS,
    });
    if settings.alerts.watch_every_secs > 0 {
        alert_watch.spawn(std::time::Duration::from_secs(settings.alerts.watch_every_secs));
    }
    let restart_budget = engine.lanes.restart_budget();
    let inbox = Inbox::new(
        conversation.clone(),
        qris.clone(),
        desk.clone(),
        signal.clone(),
        engine.store.clone(),
        clock,
        restart_budget,
        engine.cluster.as_ref().map(|joined| InboxCluster {
            wakes: Wakes::new(joined.nats.clone(), joined.name.clone()),
            owned: joined.node.owned().clone(),
            pool: joined.node.pool().clone(),
        }),
    );
    let sweep = workers::spawn_gateway(engine.lanes.home(), &qris, &inbox, &signal);
    Ok(Gateway {
        sweep,
        outbox: signal,
        prices,
        products,
        conversation,
        inbox,
        qris,
        desk,
        alerts,
        alert_watch,
        counters,
        whatsapp,
        midtrans,
        limiter,
        self_url,
    })
}

fn graph_base(whatsapp: &WhatsAppConfig, self_url: &str) -> String {
    match whatsapp.mode {
        WhatsAppMode::Live => whatsapp.api_base_url.clone().expect("a live WhatsApp has a base URL"),
        WhatsAppMode::Simulator => format!("{self_url}{SIMULATOR_WHATSAPP_PATH}"),
    }
}

/// The URL the engine reaches itself at: a wildcard bind is reached on loopback.
fn self_url(local: SocketAddr) -> String {
    let host = if local.ip().is_unspecified() {
        if local.is_ipv4() {
            "127.0.0.1".to_string()
        } else {
            "[::1]".to_string()
        }
    } else if local.is_ipv6() {
        format!("[{}]", local.ip())
    } else {
        local.ip().to_string()
    };
    format!("http://{host}:{}", local.port())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_wildcard_bind_is_reached_on_loopback() {
        assert_eq!(self_url("0.0.0.0:8080".parse().unwrap()), "http://127.0.0.1:8080");
        assert_eq!(self_url("127.0.0.1:9".parse().unwrap()), "http://127.0.0.1:9");
        assert_eq!(self_url("[::]:80".parse().unwrap()), "http://[::1]:80");
    }
}
