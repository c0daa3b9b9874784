//! warung's integration tests: one binary, the real engine on real Postgres and SQLite.

mod admin_api;
mod audit_and_catalog;
mod availability;
mod bench_lab;
mod browser;
mod chat_flash;
mod chat_flows;
mod checkout_flows;
mod commit_failure;
mod conversation;
mod crash;
mod cut_proxy;
mod flash_sale;
mod helpers;
mod http_api;
mod logs;
mod metrics;
mod ops_listener;
mod payments;
mod qris_flows;
mod readiness;
mod shop;
mod simulator_mode;
mod supervision;
mod webhooks;
