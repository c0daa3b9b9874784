//! Simulator mode: stand-ins for WhatsApp (`whatsapp`) and Midtrans (`midtrans`) served by the
//! engine itself when their credentials are not set, and a chat page (`page.html`) to shop as
//! any customer. The stand-ins talk to the engine only through its real webhook endpoints and
//! the providers' API shapes, so the real code paths run.

pub mod midtrans;
pub mod whatsapp;

use std::time::Duration;

use crate::flows::service::Gateway;
use crate::infra::http_client;
use crate::providers::midtrans::MidtransMode;
use crate::providers::whatsapp::WhatsAppMode;
pub use midtrans::MidtransSim;
pub use whatsapp::{ChatLine, Said, WhatsAppSim};

/// The chat page.
pub const PAGE_HTML: &str = include_str!("page.html");

/// How long the simulator waits for the engine's webhook to answer.
const SIMULATOR_WEBHOOK_TIMEOUT_SECS: u64 = 30;

pub struct Simulator {
    pub engine_url: String,
    pub whatsapp: Option<WhatsAppSim>,
    pub midtrans: Option<MidtransSim>,
    http: reqwest::Client,
}

#[derive(Debug, thiserror::Error)]
pub enum SimulatorError {
    #[error("this provider is live, not simulated")]
    NotSimulated,
    #[error("this customer came through the live WhatsApp: the simulator pays for nobody real")]
    LiveCustomer,
    #[error("{0}")]
    Refused(String),
    #[error("the engine's webhook could not be reached: {0}")]
    Webhook(String),
}

impl Simulator {
    /// The simulator for a gateway, or `None` when both providers are live.
    pub fn for_gateway(gateway: &Gateway) -> Option<Simulator> {
        let whatsapp = (gateway.whatsapp.mode == WhatsAppMode::Simulator)
            .then(|| WhatsAppSim::new(gateway.whatsapp.app_secret.clone(), gateway.whatsapp.access_token.clone()));
        let midtrans = (gateway.midtrans.mode == MidtransMode::Simulator)
            .then(|| MidtransSim::new(gateway.midtrans.server_key.clone()));
        if whatsapp.is_none() && midtrans.is_none() {
            return None;
        }
        let http = http_client(Duration::from_secs(SIMULATOR_WEBHOOK_TIMEOUT_SECS));
        Some(Simulator { engine_url: gateway.self_url.clone(), whatsapp, midtrans, http })
    }

    /// A customer types or taps something: the engine's webhook gets it, signed as Meta signs.
    pub async fn customer_says(&self, customer: &str, name: &str, said: &Said) -> Result<(), SimulatorError> {
        let whatsapp = self.whatsapp.as_ref().ok_or(SimulatorError::NotSimulated)?;
        let (body, signature) = whatsapp.customer_says(customer, name, said);
        self.post("/webhooks/whatsapp", body, Some(("X-Hub-Signature-256", signature))).await
    }

    /// A customer pays a QRIS code: the settlement notification goes to the engine. Only for a
    /// simulated customer: beside a live WhatsApp every customer is real, and is refused.
    pub async fn pay(&self, order_id: &str) -> Result<(), SimulatorError> {
        let midtrans = self.midtrans.as_ref().ok_or(SimulatorError::NotSimulated)?;
        if self.whatsapp.is_none() {
            return Err(SimulatorError::LiveCustomer);
        }
        let notification = midtrans.pay(order_id).map_err(SimulatorError::Refused)?;
        self.notify(&notification).await
    }

    /// A QRIS code runs out: the expire notification goes to the engine.
    pub async fn let_expire(&self, order_id: &str) -> Result<(), SimulatorError> {
        let midtrans = self.midtrans.as_ref().ok_or(SimulatorError::NotSimulated)?;
        match midtrans.close(order_id, "expire") {
            (_, Some(notification)) => self.notify(&notification).await,
            (answer, None) => Err(SimulatorError::Refused(answer["status_message"].as_str().unwrap_or("").to_string())),
        }
    }

    /// Sends a notification as Midtrans does (also after an expire or cancel through the API).
    pub async fn notify(&self, notification: &serde_json::Value) -> Result<(), SimulatorError> {
        self.post("/webhooks/midtrans", serde_json::to_vec(notification).expect("serializes"), None).await
    }

    async fn post(&self, path: &str, body: Vec<u8>, header: Option<(&str, String)>) -> Result<(), SimulatorError> {
        let mut request =
            self.http.post(format!("{}{path}", self.engine_url)).header("content-type", "application/json").body(body);
        if let Some((name, value)) = header {
            request = request.header(name, value);
        }
        let response = request.send().await.map_err(|e| SimulatorError::Webhook(e.to_string()))?;
        if response.status().is_success() {
            Ok(())
        } else {
            Err(SimulatorError::Webhook(format!("HTTP {}", response.status())))
        }
    }
}
