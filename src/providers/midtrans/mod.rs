//! Midtrans Core API, QRIS only: the client (`client`), what its answers and notifications say
//! (`transaction`), the notification signature (`signature`), and live or simulated (`config`). docs/providers.md
//! (Midtrans) says what the code relies on.

pub mod client;
pub mod config;
pub mod signature;
pub mod transaction;

pub use client::{MidtransClient, MidtransError};
pub use config::{MidtransConfig, MidtransMode};
pub use signature::{signature_key, signature_matches};
pub use transaction::{Transaction, TxStatus, Verdict};
