//! What the WhatsApp side runs with, from settings: live against Meta, or the simulator.

use rand::Rng;

use crate::settings::Secret;
use crate::settings::WhatsAppSettings;

/// The phone number id the simulator's stand-in Graph API answers to.
pub const SIMULATOR_PHONE_NUMBER_ID: &str = "simulator";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WhatsAppMode {
    /// Meta's Cloud API, with the configured credentials.
    Live,
    /// No credentials: the local simulator stands in for Meta, signing its webhooks and checking
    /// our sends with secrets made for this process.
    Simulator,
}

#[derive(Clone, Debug)]
pub struct WhatsAppConfig {
    pub mode: WhatsAppMode,
    /// Checks every webhook body (`X-Hub-Signature-256`).
    pub app_secret: Secret,
    /// Answers Meta's subscription check; unset, the check is refused.
    pub verify_token: Option<Secret>,
    /// The Graph API bearer token.
    pub access_token: Secret,
    pub phone_number_id: String,
    /// Meta's base URL when live; the simulator's is only known once the server listens.
    pub api_base_url: Option<String>,
    pub api_version: String,
    /// Sends per second through the business number (Meta's default throughput is 80).
    pub messages_per_second: u32,
}

impl WhatsAppConfig {
    pub fn from_settings(settings: &WhatsAppSettings) -> WhatsAppConfig {
        match (&settings.app_secret, &settings.access_token, &settings.phone_number_id) {
            (Some(app_secret), Some(access_token), Some(phone_number_id)) => WhatsAppConfig {
                mode: WhatsAppMode::Live,
                app_secret: app_secret.clone(),
                verify_token: settings.verify_token.clone(),
                access_token: access_token.clone(),
                phone_number_id: phone_number_id.clone(),
                api_base_url: Some(settings.api_base_url.clone()),
                api_version: settings.api_version.clone(),
                messages_per_second: settings.messages_per_second,
            },
            _ => WhatsAppConfig {
                mode: WhatsAppMode::Simulator,
                app_secret: Secret::new(random_hex()),
                verify_token: settings.verify_token.clone(),
                access_token: Secret::new(random_hex()),
                phone_number_id: SIMULATOR_PHONE_NUMBER_ID.to_string(),
                api_base_url: None,
                api_version: settings.api_version.clone(),
                messages_per_second: settings.messages_per_second,
            },
        }
    }
}

pub(crate) fn random_hex() -> String {
    let bytes: [u8; 32] = rand::rng().random();
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
