//! The providers' protocols, and nothing of the shop: each parses and verifies what its provider
//! sends, shapes what we send, and calls its API. See `docs/providers.md`.
//!
//! - `whatsapp`: the WhatsApp Cloud API: webhook payloads and signatures, outbound message
//!   shapes, the Graph API client.
//! - `midtrans`: the Midtrans Core API (QRIS): charges and statuses, notification signatures,
//!   the client.

pub mod midtrans;
pub mod whatsapp;
