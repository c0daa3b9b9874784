//! The flows as the HTTP edge reaches them. `startup` builds them and starts their workers; the
//! edge only hands them what arrived.

use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant;
use warung_actors::domain::Clock;

use super::admin::{Prices, Products};
use super::alerts::{AlertWatch, Alerts};
use super::chat::Conversation;
use super::inbox::Inbox;
use super::outbox::OutboxSignal;
use super::owner::Desk;
use super::qris::{Qris, SweepStats};
use crate::infra::counters::GatewayCounters;
use crate::infra::rate_limit::PurchaseLimiter;
use crate::providers::midtrans::MidtransConfig;
use crate::providers::whatsapp::WhatsAppConfig;
use crate::store::Store;

/// Where the simulator's stand-ins are served, under the engine's own address.
pub const SIMULATOR_WHATSAPP_PATH: &str = "/simulator/whatsapp";
pub const SIMULATOR_MIDTRANS_PATH: &str = "/simulator/midtrans";

/// How often `wait_until_idle` looks again.
const OUTBOX_IDLE_CHECK_MS: u64 = 20;

#[derive(Clone)]
pub struct Gateway {
    /// The outbox sender: woken by new replies; what ops see of it.
    pub outbox: OutboxSignal,
    /// What ops see of the QRIS sweep.
    pub sweep: Arc<SweepStats>,
    /// The price rules the admin API applies.
    pub prices: Prices,
    /// The product rules the admin API applies.
    pub products: Products,
    pub conversation: Conversation,
    pub inbox: Inbox,
    pub qris: Qris,
    /// The owner's chat commands.
    pub desk: Desk,
    /// Alerts to the admins.
    pub alerts: Alerts,
    /// The alerts' watch (it runs on its own; tests make it look now).
    pub alert_watch: AlertWatch,
    pub counters: Arc<GatewayCounters>,
    pub whatsapp: Arc<WhatsAppConfig>,
    pub midtrans: Arc<MidtransConfig>,
    /// Purchases per customer per minute, in Redis when one is configured.
    pub limiter: Arc<PurchaseLimiter>,
    /// The engine's own base URL (`http://127.0.0.1:8080`), for the simulator.
    pub self_url: String,
}

impl Gateway {
    /// Waits until the inbox answers nothing and the outbox holds nothing unsent (due, in flight or
    /// waiting out a backoff), or `within` has passed; returns whether it got there. After it, nothing
    /// more is sent until something new arrives: what a test asserts as "nothing more was sent".
    pub async fn wait_until_idle(&self, store: &dyn Store, clock: Clock, within: Duration) -> bool {
        let deadline = Instant::now() + within;
        loop {
            let unsent = async {
                let waiting = store.next_outbox_due().await?.is_some();
                Ok::<_, crate::store::StoreError>(waiting || store.outbox_in_flight(clock.now()).await? > 0)
            };
            // Read the inbox first: a message it answers puts its replies in the outbox before it
            // leaves the queue.
            let answering = !self.inbox.is_idle();
            if !answering && matches!(unsent.await, Ok(false)) {
                return true;
            }
            if Instant::now() >= deadline {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(OUTBOX_IDLE_CHECK_MS)).await;
        }
    }
}
