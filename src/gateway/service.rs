//! The gateway's running parts, started once the HTTP server's address is known (the simulator
//! stand-ins are served by the same server): the outbox sender, the QRIS service and its sweep,
//! and the inbox, which picks up messages left unanswered by the last run.

use std::net::SocketAddr;
use std::sync::Arc;

use super::counters::GatewayCounters;
use super::inbox::Inbox;
use super::midtrans::{MidtransClient, MidtransMode};
use super::outbox;
use super::payments::Qris;
use super::whatsapp::{GraphClient, WhatsAppMode};
use crate::engine::Engine;

/// Where the simulator's stand-ins are served, under the engine's own address.
pub const SIMULATOR_WHATSAPP_PATH: &str = "/simulator/whatsapp";
pub const SIMULATOR_MIDTRANS_PATH: &str = "/simulator/midtrans";

#[derive(Clone)]
pub struct Gateway {
    pub inbox: Inbox,
    pub qris: Qris,
    pub counters: Arc<GatewayCounters>,
    /// The engine's own base URL (`http://127.0.0.1:8080`), for the simulator.
    pub self_url: String,
}

impl Gateway {
    /// Starts the gateway for an engine served at `local`; runs on the current actix System.
    pub fn start(engine: &Engine, local: SocketAddr) -> Gateway {
        let self_url = self_url(local);
        let counters = Arc::new(GatewayCounters::default());
        let whatsapp = &engine.whatsapp;
        let graph_base = match whatsapp.mode {
            WhatsAppMode::Live => whatsapp.api_base_url.clone().expect("a live WhatsApp has a base URL"),
            WhatsAppMode::Simulator => format!("{self_url}{SIMULATOR_WHATSAPP_PATH}"),
        };
        let graph = GraphClient::new(
            &graph_base,
            &whatsapp.api_version,
            &whatsapp.phone_number_id,
            whatsapp.access_token.clone(),
        );
        let signal = outbox::spawn(
            engine.store.clone(),
            graph,
            engine.supervisor.clock(),
            whatsapp.messages_per_second,
            counters.clone(),
        );

        let midtrans = &engine.midtrans;
        let (midtrans_base, notification_url) = match midtrans.mode {
            MidtransMode::Live => (
                midtrans.api_base_url.clone().expect("a live Midtrans has a base URL"),
                midtrans.notification_url.clone(),
            ),
            MidtransMode::Simulator => {
                (format!("{self_url}{SIMULATOR_MIDTRANS_PATH}"), Some(format!("{self_url}/webhooks/midtrans")))
            }
        };
        let client =
            MidtransClient::new(&midtrans_base, midtrans.server_key.clone(), notification_url, counters.clone());
        let qris = Qris::new(engine.clone(), client, signal.clone());
        qris.spawn_sweep();

        let inbox = Inbox::new(engine.clone(), qris.clone(), signal.clone());
        let resuming = inbox.clone();
        actix::spawn(async move {
            match resuming.resume().await {
                Ok(0) => {}
                Ok(resumed) => tracing::info!(resumed, "answering messages left unanswered by the last run"),
                Err(error) => tracing::error!(%error, "could not read unanswered messages; the next start will"),
            }
        });
        // Replies queued by the last run go out now.
        signal.wake();
        Gateway { inbox, qris, counters, self_url }
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
