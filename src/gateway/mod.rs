//! The gateway between the engine and its providers: WhatsApp Cloud API (`whatsapp`) and, later,
//! Midtrans. Provider payloads are checked and parsed here into domain values before anything
//! else sees them.

pub mod secret;
pub mod whatsapp;

pub use secret::Secret;
