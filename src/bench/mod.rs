//! The contention lab: `warung bench flash-sale` runs the same flash sale against several
//! purchase strategies on the same Postgres and Redis, one after another, and reports throughput,
//! latency and, read back from each store afterwards, whether the result is correct.
//!
//! - `sale`: the parameters every strategy gets, checked.
//! - `workload`: the buyers and wallets every strategy gets, the run loop.
//! - `actor`: warung's engine, in process, durable, on Postgres or SQLite.
//! - `postgres`: the database-lock designs: `SELECT ... FOR UPDATE`, and conditional updates.
//! - `sqlite`: one SQLite transaction per purchase, the embedded default's lock-based peer.
//! - `redis_lua`: a Lua script in Redis, without a disk or fsynced before each answer.
//! - `settle`: the disk's pending writes flushed before each strategy sells.
//! - `report`: the table, the JSON, and the HTML page (`html`, its charts drawn by `plot`).
//! - `rounds`: several rounds of the same sale, and each strategy's median over them.
//! - `lab_lock`: one run at a time on a Postgres database.

mod actor;
mod alternate;
mod cpu;
mod html;
pub mod lab_lock;
mod memory;
mod plot;
mod postgres;
mod processes;
mod redis_lua;
pub mod report;
pub mod rounds;
pub mod sale;
mod settle;
mod sqlite;
pub mod workload;

use async_trait::async_trait;
use rust_decimal::Decimal;

pub use sale::{FlashSale, Stop, Strategy};
pub use workload::run_all;

/// What one purchase attempt came to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Attempt {
    Sold,
    SoldOut,
    Insufficient,
    /// The strategy failed to decide (a timeout, a busy engine, a lost connection).
    Failed,
}

/// What the store says after a run: the counters are not trusted, the rows are.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Verification {
    pub sold: u64,
    /// Units sold beyond a product's stock, over all products.
    pub oversold: u64,
    pub negative_wallets: u64,
    /// Money in wallets plus money in orders, which must equal the money the wallets began with.
    pub money_now: Decimal,
    /// Units delivered to more than one order; `None` where units carry no identity to check.
    pub duplicate_deliveries: Option<u64>,
}

/// One strategy: prepared with the workload's products and wallets, then attempted at, then
/// read back.
#[async_trait]
pub trait Contender: Send + Sync {
    /// Why a purchase it answered could be lost in a crash; `None` when it is durable.
    fn not_durable(&self) -> Option<String>;
    /// One purchase of one unit of `product` by `buyer`.
    async fn attempt(&self, buyer: u64, product: u32) -> Attempt;
    /// Waits, right after the run, until every table shows every acknowledged purchase; returns
    /// how long that took. `None` for a strategy whose tables are its acknowledgement.
    async fn catch_up(&self) -> Option<std::time::Duration> {
        None
    }
    /// Reads the store after the run.
    async fn verify(&self) -> anyhow::Result<Verification>;
    /// Drops what the run created (keys, schemas); the engine's database is kept for `warung audit`.
    async fn finish(&self);
    /// What the strategy can say about where its time went (the engine: its journal's batches).
    fn notes(&self) -> Vec<String> {
        Vec::new()
    }
}
