//! The flash sale every strategy runs: the same products, the same buyers with the same wallets,
//! the same concurrency, stopping after a number of attempts or a time.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::future::join_all;
use hdrhistogram::Histogram;
use indicatif::{ProgressBar, ProgressStyle};
use rand::Rng;
use rust_decimal::Decimal;
use serde::Serialize;

use super::report::{Latencies, RunReport};
use super::{Attempt, Contender};

/// Buyers the wallets are made for when the run is timed (`--duration`): each may try again.
pub const TIMED_BUYERS_DEFAULT: u64 = 100_000;

/// The slowest attempt the histogram keeps exactly; slower ones count as this.
const LATENCY_MAX_MICROS: u64 = 120_000_000;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Strategy {
    Actor,
    PgRowLock,
    PgAtomic,
    RedisLua,
}

impl Strategy {
    pub const ALL: [Strategy; 4] = [Strategy::Actor, Strategy::PgRowLock, Strategy::PgAtomic, Strategy::RedisLua];

    pub fn name(self) -> &'static str {
        match self {
            Strategy::Actor => "actor",
            Strategy::PgRowLock => "pg-row-lock",
            Strategy::PgAtomic => "pg-atomic",
            Strategy::RedisLua => "redis-lua",
        }
    }

    /// `actor,pg-row-lock` or `all`.
    pub fn parse_list(text: &str) -> Result<Vec<Strategy>, String> {
        if text.trim() == "all" {
            return Ok(Strategy::ALL.to_vec());
        }
        let mut strategies = Vec::new();
        for name in text.split(',').map(str::trim).filter(|n| !n.is_empty()) {
            let strategy = Strategy::ALL.into_iter().find(|s| s.name() == name).ok_or_else(|| {
                format!("unknown strategy {name:?}: use actor, pg-row-lock, pg-atomic, redis-lua or all")
            })?;
            if !strategies.contains(&strategy) {
                strategies.push(strategy);
            }
        }
        if strategies.is_empty() {
            return Err("no strategy named".into());
        }
        Ok(strategies)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Stop {
    /// After this many purchase attempts (each by a different buyer).
    Buyers(u64),
    /// After this many seconds, as pgbench -T.
    Seconds(u64),
}

#[derive(Clone, Debug, Serialize)]
pub struct FlashSale {
    pub strategies: Vec<Strategy>,
    pub stop: Stop,
    /// Units of stock per product.
    pub stock: u64,
    pub products: u32,
    pub concurrency: usize,
    /// Price in whole rupiah.
    pub price: u64,
    /// Share of buyers whose wallet holds the price; the others hold half of it.
    pub funded_fraction: f64,
    #[serde(skip)]
    pub database_url: String,
    #[serde(skip)]
    pub redis_url: String,
}

impl FlashSale {
    /// Buyers with a wallet: every attempt's buyer, or a pool the timed run cycles through.
    pub fn buyers(&self) -> u64 {
        match self.stop {
            Stop::Buyers(n) => n,
            Stop::Seconds(_) => TIMED_BUYERS_DEFAULT,
        }
    }

    /// Whether buyer `b` can pay: spread evenly, so any prefix of buyers has the same share.
    pub fn funded(&self, buyer: u64) -> bool {
        let per_thousand = (self.funded_fraction.clamp(0.0, 1.0) * 1000.0).round() as u64;
        (buyer * 7919) % 1000 < per_thousand
    }

    /// Whole rupiah in buyer `b`'s wallet at the start.
    pub fn wallet(&self, buyer: u64) -> u64 {
        if self.funded(buyer) {
            self.price
        } else {
            self.price / 2
        }
    }

    pub fn money_in(&self) -> Decimal {
        (0..self.buyers()).map(|b| Decimal::from(self.wallet(b))).sum()
    }

    pub fn check(&self) -> Result<(), String> {
        let mut problems = Vec::new();
        if self.stock == 0 || self.products == 0 || self.concurrency == 0 || self.price < 2 {
            problems.push("--stock, --products and --concurrency must be positive, --price at least 2".to_string());
        }
        match self.stop {
            Stop::Buyers(0) | Stop::Seconds(0) => problems.push("--buyers or --duration must be positive".into()),
            _ => {}
        }
        if !(0.0..=1.0).contains(&self.funded_fraction) {
            problems.push("--funded-fraction must be between 0 and 1".into());
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(problems.join("; "))
        }
    }
}

/// Runs every strategy in turn; a strategy that cannot start is reported as such and the rest
/// run.
pub async fn run_all(sale: &FlashSale) -> Vec<RunReport> {
    let mut reports = Vec::new();
    for strategy in &sale.strategies {
        eprintln!("{}: preparing {} products and {} wallets", strategy.name(), sale.products, sale.buyers());
        let contender: anyhow::Result<Box<dyn Contender>> = match strategy {
            Strategy::Actor => super::actor::prepare(sale).await.map(|c| Box::new(c) as Box<dyn Contender>),
            Strategy::PgRowLock | Strategy::PgAtomic => {
                super::postgres::prepare(sale, *strategy).await.map(|c| Box::new(c) as Box<dyn Contender>)
            }
            Strategy::RedisLua => super::redis_lua::prepare(sale).await.map(|c| Box::new(c) as Box<dyn Contender>),
        };
        let report = match contender {
            Ok(contender) => {
                let contender: Arc<dyn Contender> = Arc::from(contender);
                let report = run_one(sale, *strategy, contender.clone()).await;
                contender.finish().await;
                report
            }
            Err(error) => RunReport::could_not_run(*strategy, format!("{error:#}")),
        };
        reports.push(report);
    }
    super::report::set_ratios(&mut reports);
    reports
}

#[derive(Default)]
struct Tally {
    sold: u64,
    sold_out: u64,
    insufficient: u64,
    failed: u64,
}

async fn run_one(sale: &FlashSale, strategy: Strategy, contender: Arc<dyn Contender>) -> RunReport {
    let next = Arc::new(AtomicU64::new(0));
    let done = Arc::new(AtomicU64::new(0));
    let progress = progress_bar(sale, strategy);
    let started = Instant::now();
    let deadline = match sale.stop {
        Stop::Seconds(secs) => Some(started + Duration::from_secs(secs)),
        Stop::Buyers(_) => None,
    };
    let ticker = {
        let (done, progress) = (done.clone(), progress.clone());
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(Duration::from_millis(100)).await;
                match deadline {
                    Some(_) => progress.set_position(started.elapsed().as_secs()),
                    None => progress.set_position(done.load(Ordering::Relaxed)),
                }
            }
        })
    };
    let workers = (0..sale.concurrency).map(|_| {
        let (next, done, contender) = (next.clone(), done.clone(), contender.clone());
        let sale = sale.clone();
        async move {
            let mut histogram = Histogram::<u64>::new_with_max(LATENCY_MAX_MICROS, 3).expect("histogram bounds");
            let mut tally = Tally::default();
            let buyers = sale.buyers();
            loop {
                let n = next.fetch_add(1, Ordering::Relaxed);
                let over = match (sale.stop, deadline) {
                    (Stop::Buyers(limit), _) => n >= limit,
                    (_, Some(deadline)) => Instant::now() >= deadline,
                    _ => true,
                };
                if over {
                    break;
                }
                let product = if sale.products == 1 { 0 } else { rand::rng().random_range(0..sale.products) };
                let began = Instant::now();
                let outcome = contender.attempt(n % buyers, product).await;
                histogram.saturating_record(began.elapsed().as_micros() as u64);
                done.fetch_add(1, Ordering::Relaxed);
                match outcome {
                    Attempt::Sold => tally.sold += 1,
                    Attempt::SoldOut => tally.sold_out += 1,
                    Attempt::Insufficient => tally.insufficient += 1,
                    Attempt::Failed => tally.failed += 1,
                }
            }
            (histogram, tally)
        }
    });
    let results = join_all(workers.map(tokio::spawn)).await;
    let wall = started.elapsed();
    ticker.abort();
    progress.finish_and_clear();

    let mut histogram = Histogram::<u64>::new_with_max(LATENCY_MAX_MICROS, 3).expect("histogram bounds");
    let mut tally = Tally::default();
    for (h, t) in results.into_iter().flatten() {
        histogram.add(&h).expect("same bounds");
        tally.sold += t.sold;
        tally.sold_out += t.sold_out;
        tally.insufficient += t.insufficient;
        tally.failed += t.failed;
    }
    let attempted = tally.sold + tally.sold_out + tally.insufficient + tally.failed;
    let verification = contender.verify().await;
    let mut report = RunReport {
        strategy: strategy.name(),
        durable: contender.durable(),
        attempted,
        sold: tally.sold,
        refused_sold_out: tally.sold_out,
        refused_insufficient: tally.insufficient,
        failed: tally.failed,
        wall_time_s: wall.as_secs_f64(),
        throughput_per_s: attempted as f64 / wall.as_secs_f64().max(1e-9),
        latency_ms: Latencies::of(&histogram),
        latency_histogram_ms: super::report::buckets(&histogram),
        ..RunReport::could_not_run(strategy, String::new())
    };
    report.error = None;
    report.notes = contender.notes();
    report.apply(verification, sale.money_in());
    report
}

fn progress_bar(sale: &FlashSale, strategy: Strategy) -> ProgressBar {
    let (length, unit) = match sale.stop {
        Stop::Buyers(n) => (n, "attempts"),
        Stop::Seconds(secs) => (secs, "s"),
    };
    let progress = ProgressBar::new(length);
    let template = format!("{{prefix:>12}} [{{bar:40}}] {{pos}}/{{len}} {unit} {{elapsed}}");
    progress.set_style(ProgressStyle::with_template(&template).expect("a valid template").progress_chars("=> "));
    progress.set_prefix(strategy.name());
    progress
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sale(fraction: f64) -> FlashSale {
        FlashSale {
            strategies: Strategy::ALL.to_vec(),
            stop: Stop::Buyers(1000),
            stock: 10,
            products: 1,
            concurrency: 4,
            price: 10_000,
            funded_fraction: fraction,
            database_url: String::new(),
            redis_url: String::new(),
        }
    }

    #[test]
    fn the_funded_share_is_what_was_asked_and_the_rest_hold_half() {
        let s = sale(0.8);
        let funded = (0..1000).filter(|b| s.funded(*b)).count();
        assert_eq!(funded, 800);
        assert_eq!(s.wallet((0..1000).find(|b| !s.funded(*b)).unwrap()), 5_000);
        assert_eq!(s.money_in(), Decimal::from(800 * 10_000 + 200 * 5_000));
    }

    #[test]
    fn strategies_are_named_in_a_list_or_all() {
        assert_eq!(Strategy::parse_list("all").unwrap(), Strategy::ALL.to_vec());
        assert_eq!(Strategy::parse_list("redis-lua, actor").unwrap(), vec![Strategy::RedisLua, Strategy::Actor]);
        assert!(Strategy::parse_list("mysql").is_err());
    }
}
