//! WhatsApp Cloud API: the webhook's signature (`signature`) and its payloads (`webhook`); what we
//! send (`outbound`) and the Graph API client that sends it (`client`). docs/providers.md
//! (WhatsApp) says what the code relies on.

pub mod client;
pub mod config;
pub mod outbound;
pub mod signature;
pub mod webhook;

pub use client::{GraphClient, SendError};
pub use config::{WhatsAppConfig, WhatsAppMode};
pub use outbound::{Choice, Outbound, LIST_ROWS_MAX};

pub use signature::{sign, verify, SignatureError, SIGNATURE_HEADER};
pub use webhook::{
    parse, Content, DeliveryStatus, InboundMessage, ProviderError, StatusUpdate, WaMessageId, Webhook, WebhookError,
    WhatsAppEvent, WEBHOOK_BODY_MAX_BYTES,
};
