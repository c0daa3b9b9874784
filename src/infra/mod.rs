//! Infrastructure the flows share, knowing nothing of the shop.
//!
//! - `rate_limit`: purchases per customer per minute (Redis, or in process).
//! - `counters`: webhooks and provider calls counted, for `/metrics`.
//! - `http_client`: the outbound HTTP client (rustls with the ring provider).
//! - `thread_priority`: a background thread's lower CPU priority (the projector's).
//! - `wib`: the owner's clock, Western Indonesian Time (UTC+7): days, dates and times shown.

pub mod counters;
pub mod http_client;
pub mod rate_limit;
pub mod redis;
pub mod thread_priority;
pub mod wib;

pub use http_client::{http_client, install_tls_provider};
