//! The shop's flows: what happens between a provider's message and the engine's answer.
//!
//! - `admin`: the shop owner's rules (prices with guard rails), whoever asks.
//! - `alerts`: alerts and the daily summary to the admins, deduplicated and rate-limited.
//! - `chat`: a customer's conversation: a command parsed (`command`), acted on through the
//!   checkout (`conversation`), answered in Bahasa Indonesia (`reply`, `payment_reply`).
//! - `inbox`: inbound messages answered once each, in order per customer, many customers at once.
//! - `outbox`: the sender that delivers queued replies, paced and retried.
//! - `owner`: the shop owner on WhatsApp: admin commands, reports.
//! - `qris`: QRIS payments and top-ups through Midtrans, from charge to paid or closed, and bank
//!   transfers the owner confirms.
//! - `service`: the gateway's running parts, started with the application.

pub mod admin;
pub mod alerts;
pub mod chat;
pub mod inbox;
pub mod outbox;
pub mod owner;
pub mod qris;
pub mod service;
