//! The gateway between the engine and its providers: WhatsApp Cloud API (`whatsapp`) and, later,
//! Midtrans; and the shop's conversation (`chat`). Provider payloads and chat commands are
//! checked and parsed here into domain values before anything else sees them.

pub mod chat;
pub mod secret;
pub mod whatsapp;

pub use secret::Secret;
