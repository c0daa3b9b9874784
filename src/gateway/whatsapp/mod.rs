//! WhatsApp Cloud API: the webhook's signature (`signature`) and its payloads (`webhook`).
//! shared/PROTOCOLS.md section 2 is the reference.

pub mod config;
pub mod signature;
pub mod webhook;

pub use config::{WhatsAppConfig, WhatsAppMode};

pub use signature::{sign, verify, SignatureError, SIGNATURE_HEADER};
pub use webhook::{
    parse, Content, DeliveryStatus, InboundMessage, ProviderError, StatusUpdate, WaMessageId, Webhook, WebhookError,
    WhatsAppEvent, WEBHOOK_BODY_MAX_BYTES,
};
