//! What the WhatsApp side runs with, from settings: live against Meta, or the simulator.

use rand::Rng;

use crate::gateway::Secret;
use crate::settings::WhatsAppSettings;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WhatsAppMode {
    /// Meta's Cloud API, with the configured credentials.
    Live,
    /// No credentials: the local simulator stands in for Meta, signing its webhooks with a secret
    /// made for this process.
    Simulator,
}

#[derive(Clone, Debug)]
pub struct WhatsAppConfig {
    pub mode: WhatsAppMode,
    /// Checks every webhook body (`X-Hub-Signature-256`).
    pub app_secret: Secret,
    /// Answers Meta's subscription check; unset, the check is refused.
    pub verify_token: Option<Secret>,
}

impl WhatsAppConfig {
    pub fn from_settings(settings: &WhatsAppSettings) -> WhatsAppConfig {
        match (&settings.app_secret, settings.is_live()) {
            (Some(app_secret), true) => WhatsAppConfig {
                mode: WhatsAppMode::Live,
                app_secret: app_secret.clone(),
                verify_token: settings.verify_token.clone(),
            },
            _ => {
                let bytes: [u8; 32] = rand::rng().random();
                let secret: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
                WhatsAppConfig {
                    mode: WhatsAppMode::Simulator,
                    app_secret: Secret::new(secret),
                    verify_token: settings.verify_token.clone(),
                }
            }
        }
    }
}
