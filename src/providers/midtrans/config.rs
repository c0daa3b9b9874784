//! What the Midtrans side runs with, from settings: live against Midtrans (sandbox or
//! production, by base URL), or the built-in stand-in.

use crate::providers::whatsapp::config::random_hex;
use crate::settings::MidtransSettings;
use crate::settings::Secret;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MidtransMode {
    Live,
    /// No server key: the simulator's stand-in takes the charges, with a key made for this
    /// process, and signs its notifications with it.
    Simulator,
}

#[derive(Clone, Debug)]
pub struct MidtransConfig {
    pub mode: MidtransMode,
    pub server_key: Secret,
    /// Midtrans' base URL when live; the simulator's is only known once the server listens.
    pub api_base_url: Option<String>,
    pub notification_url: Option<String>,
}

impl MidtransConfig {
    pub fn from_settings(settings: &MidtransSettings) -> MidtransConfig {
        match &settings.server_key {
            Some(key) => MidtransConfig {
                mode: MidtransMode::Live,
                server_key: key.clone(),
                api_base_url: Some(settings.api_base_url.clone()),
                notification_url: settings.notification_url.clone(),
            },
            None => MidtransConfig {
                mode: MidtransMode::Simulator,
                server_key: Secret::new(format!("SIM-Mid-server-{}", random_hex())),
                api_base_url: None,
                notification_url: None,
            },
        }
    }
}
