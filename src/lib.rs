//! warung: an actor-based concurrent commerce engine for shops that sell through WhatsApp.
//!
//! - `store`: Postgres and SQLite behind one trait; the journal's sink and the actors' loader.
//! - `checkout`: the coordinator that drives purchases across product and wallet actors.
//! - `engine`: builds the whole engine (store, supervisor, coordinator) from settings.
//! - `audit`: checks every invariant of stock and money against a store.
//! - `catalog`: imports products and stock from a JSON or TOML file.
//! - `shop`: the settings an admin changes while the shop runs (name, messages, limits).
//! - `settings`: typed configuration from defaults, `warung.toml` and `WARUNG_` variables.
//! - `gateway`: the providers' side: WhatsApp and Midtrans, the chat, inbox and outbox.
//! - `simulator`: stand-ins for WhatsApp and Midtrans when their credentials are not set.
//! - `http`: the HTTP surface (health, admin API, ops, webhooks, simulator).
//! - `inputs`: every parser of outside input in one call each, for the fuzz targets and proptests.
//! - `telemetry`: tracing setup.
//! - `bench`: the contention lab (`warung bench flash-sale`).
//! - `cli`: the `warung` command line.

pub mod audit;
pub mod bench;
pub mod catalog;
pub mod checkout;
pub mod cli;
pub mod engine;
pub mod gateway;
pub mod http;
pub mod inputs;
pub mod settings;
pub mod shop;
pub mod simulator;
pub mod store;
pub mod telemetry;
