//! warung: an actor-based concurrent commerce engine for shops that sell through WhatsApp.
//!
//! From the bottom floor up (each imports only floors below it):
//! - `settings`: typed configuration from defaults, `warung.toml` and `WARUNG_` variables; secrets.
//! - `records`: the rows the shop stores beside the actors' changes: orders, payments, audit.
//! - `store`: Postgres and SQLite, one trait per consumer (the journal's sink, the actors' loader,
//!   recovery, the chat, the admin API, the mailbox, payments); `Store` is all of them.
//! - `cluster`: several nodes on one Postgres: shards, membership and takeovers, this node's upkeep.
//! - `engine`: the core: store, supervisor, checkout, catalogue and shop settings, started together.
//! - `checkout`: the coordinator that drives purchases and payments across product and wallet actors.
//! - `catalog`: what products exist: created, restocked, imported from a JSON or TOML file.
//! - `shop`: the settings an admin changes while the shop runs (name, messages, limits).
//! - `audit`: checks every invariant of stock and money against a store.
//! - `backup`: consistent snapshots of the store while it sells, their schedule, and restore.
//! - `infra`: what the flows share and that knows nothing of the shop: rate limit, counters, HTTP client.
//! - `providers`: the WhatsApp and Midtrans protocols: parse, verify, shape, call.
//! - `flows`: the shop's flows: the chat, the inbox worker, the outbox sender, QRIS payments.
//! - `simulator`: stand-ins for WhatsApp and Midtrans when their credentials are not set.
//! - `http`: the HTTP edge (health, admin API, ops, webhooks, simulator).
//! - `startup`: `Application::build`, the one place the application is wired and its workers started.
//! - `inputs`: every parser of outside input in one call each, for the fuzz targets and proptests.
//! - `telemetry`: tracing setup.
//! - `bench`: the contention lab (`warung bench flash-sale`).
//! - `cli`: the `warung` command line.

pub mod audit;
pub mod backup;
pub mod bench;
pub mod catalog;
pub mod checkout;
pub mod cli;
pub mod cluster;
pub mod engine;
pub mod flows;
pub mod http;
pub mod infra;
pub mod inputs;
pub mod providers;
pub mod records;
pub mod settings;
pub mod shares;
pub mod shop;
pub mod simulator;
pub mod startup;
pub mod store;
pub mod telemetry;
