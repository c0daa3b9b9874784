//! What the lab reports per strategy, as a table (stdout), JSON (`--json`) and an HTML page
//! (`--report`). A strategy that oversells, leaves a negative wallet, loses money or delivers a
//! unit twice is marked incorrect, loudly.

use hdrhistogram::Histogram;
use rust_decimal::Decimal;
use serde::Serialize;
use serde_json::{json, Value};

use super::sale::{FlashSale, Strategy};
use super::Verification;

#[derive(Clone, Debug, Default, Serialize)]
pub struct Latencies {
    pub p50: f64,
    pub p90: f64,
    pub p99: f64,
    pub p999: f64,
    pub max: f64,
}

impl Latencies {
    pub fn of(histogram: &Histogram<u64>) -> Latencies {
        let ms = |micros: u64| micros as f64 / 1000.0;
        Latencies {
            p50: ms(histogram.value_at_quantile(0.50)),
            p90: ms(histogram.value_at_quantile(0.90)),
            p99: ms(histogram.value_at_quantile(0.99)),
            p999: ms(histogram.value_at_quantile(0.999)),
            max: ms(histogram.max()),
        }
    }
}

/// The latency distribution in buckets doubling from 0.05 ms: (upper bound in ms, attempts).
pub fn buckets(histogram: &Histogram<u64>) -> Vec<(f64, u64)> {
    let mut bounds = Vec::new();
    let mut upper = 50u64;
    while upper < histogram.max().max(50) * 2 && bounds.len() < 24 {
        bounds.push(upper);
        upper *= 2;
    }
    let mut below = 0;
    bounds
        .into_iter()
        .map(|upper| {
            let through = histogram.count_between(0, upper);
            let in_bucket = through - below;
            below = through;
            (upper as f64 / 1000.0, in_bucket)
        })
        .collect()
}

/// The percentiles the report plots, from the median to four nines.
pub const PLOTTED_PERCENTILES: [f64; 9] = [50.0, 75.0, 90.0, 95.0, 99.0, 99.5, 99.9, 99.95, 99.99];

/// (percentile, ms) at each of `PLOTTED_PERCENTILES`.
pub fn percentiles(histogram: &Histogram<u64>) -> Vec<(f64, f64)> {
    PLOTTED_PERCENTILES.iter().map(|p| (*p, histogram.value_at_quantile(p / 100.0) as f64 / 1000.0)).collect()
}

/// Points of the throughput over time drawn at most; samples are merged into wider steps past it.
const THROUGHPUT_POINTS_MAX: usize = 120;

/// From (seconds since the start, attempts done) samples: (end of the step in seconds, attempts
/// per second over the step), in steps of whole samples, at most `THROUGHPUT_POINTS_MAX`.
pub fn rates(samples: &[(f64, u64)]) -> Vec<(f64, f64)> {
    let step = samples.len().div_ceil(THROUGHPUT_POINTS_MAX).max(1);
    let mut points = Vec::new();
    let mut from = 0;
    while from + 1 < samples.len() {
        let to = (from + step).min(samples.len() - 1);
        let ((t0, n0), (t1, n1)) = (samples[from], samples[to]);
        if t1 > t0 {
            points.push((t1, (n1.saturating_sub(n0)) as f64 / (t1 - t0)));
        }
        from = to;
    }
    points
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct RunReport {
    pub strategy: &'static str,
    pub durable: bool,
    /// Why a purchase it answered could be lost, when it is not durable.
    pub not_durable_because: Option<String>,
    pub attempted: u64,
    pub sold: u64,
    pub refused_sold_out: u64,
    pub refused_insufficient: u64,
    /// Attempts the strategy could not decide (timeouts, busy, lost connections).
    pub failed: u64,
    /// From the store, not the counters.
    pub sold_in_store: u64,
    pub oversold: u64,
    pub negative_wallets: u64,
    pub money_conserved: bool,
    /// Money now (wallets + orders) minus money at the start; zero when conserved.
    pub money_difference: String,
    /// `None`: the units carry no identity to check (counted stock).
    pub duplicate_deliveries: Option<u64>,
    pub correct: bool,
    pub wall_time_s: f64,
    pub throughput_per_s: f64,
    /// The engine: from the last acknowledgement to every table caught up, in seconds.
    pub catch_up_s: Option<f64>,
    /// The engine: attempts per second counted until the tables caught up.
    pub projected_per_s: Option<f64>,
    /// The machine's busy CPU time during the run and the engine's catch-up after it (every
    /// process), per attempt, in µs.
    pub cpu_us_per_attempt: Option<f64>,
    /// The same by process (this process by thread, Postgres backends by connection), the
    /// largest first, in µs per attempt.
    pub cpu_us_per_attempt_by_process: Vec<(String, f64)>,
    /// Throughput over pg-row-lock's in the same run.
    pub vs_pg_row_lock: Option<f64>,
    pub latency_ms: Latencies,
    pub latency_histogram_ms: Vec<(f64, u64)>,
    /// (percentile, ms), from p50 to p99.99.
    pub latency_percentiles_ms: Vec<(f64, f64)>,
    /// (seconds since the start, attempts per second over the step before).
    pub throughput_over_time: Vec<(f64, f64)>,
    /// Why the strategy could not run or be checked.
    pub error: Option<String>,
    /// Where the time went, where the strategy can tell.
    pub notes: Vec<String>,
}

impl RunReport {
    pub fn could_not_run(strategy: Strategy, error: String) -> RunReport {
        RunReport { strategy: strategy.name(), error: Some(error), ..RunReport::default() }
    }

    pub fn apply(&mut self, verification: anyhow::Result<Verification>, money_in: Decimal) {
        match verification {
            Ok(v) => {
                let difference = v.money_now - money_in;
                self.sold_in_store = v.sold;
                self.oversold = v.oversold;
                self.negative_wallets = v.negative_wallets;
                self.money_conserved = difference.is_zero();
                self.money_difference = difference.to_string();
                self.duplicate_deliveries = v.duplicate_deliveries;
                self.correct = v.oversold == 0
                    && v.negative_wallets == 0
                    && self.money_conserved
                    && v.duplicate_deliveries.unwrap_or(0) == 0
                    && v.sold == self.sold;
            }
            Err(error) => {
                self.error = Some(format!("could not read the store back: {error:#}"));
                self.correct = false;
            }
        }
    }
}

pub fn set_ratios(reports: &mut [RunReport]) {
    let base = reports.iter().find(|r| r.strategy == "pg-row-lock" && r.error.is_none()).map(|r| r.throughput_per_s);
    for report in reports.iter_mut() {
        report.vs_pg_row_lock =
            base.filter(|b| *b > 0.0 && report.error.is_none()).map(|b| report.throughput_per_s / b);
    }
}

/// The table printed at the end.
pub fn table(reports: &[RunReport]) -> String {
    let mut out = format!(
        "{:<15} {:>8} {:>9} {:>8} {:>9} {:>8} {:>6} {:>10} {:>9} {:>8} {:>8} {:>8} {:>8}  {}\n",
        "strategy",
        "durable",
        "attempted",
        "sold",
        "sold-out",
        "no-money",
        "failed",
        "per-s",
        "x-rowlock",
        "p50-ms",
        "p99-ms",
        "p999-ms",
        "max-ms",
        "correct"
    );
    for r in reports {
        if let (Some(error), 0) = (&r.error, r.attempted) {
            out.push_str(&format!("{:<15} did not run: {error}\n", r.strategy));
            continue;
        }
        let ratio = r.vs_pg_row_lock.map_or("-".to_string(), |x| format!("{x:.1}x"));
        let verdict = if r.correct {
            "yes".to_string()
        } else {
            format!(
                "NO: oversold {}, negative wallets {}, money {}, duplicates {}, sold in store {}{}",
                r.oversold,
                r.negative_wallets,
                if r.money_conserved { "conserved".to_string() } else { format!("off by {}", r.money_difference) },
                r.duplicate_deliveries.map_or("unchecked".to_string(), |d| d.to_string()),
                r.sold_in_store,
                r.error.as_ref().map_or(String::new(), |e| format!(" ({e})"))
            )
        };
        out.push_str(&format!(
            "{:<15} {:>8} {:>9} {:>8} {:>9} {:>8} {:>6} {:>10.0} {:>9} {:>8.2} {:>8.2} {:>8.2} {:>8.2}  {}\n",
            r.strategy,
            if r.durable { "yes" } else { "NO" },
            r.attempted,
            r.sold,
            r.refused_sold_out,
            r.refused_insufficient,
            r.failed,
            r.throughput_per_s,
            ratio,
            r.latency_ms.p50,
            r.latency_ms.p99,
            r.latency_ms.p999,
            r.latency_ms.max,
            verdict
        ));
    }
    for r in reports {
        if let Some(cpu) = r.cpu_us_per_attempt.filter(|_| r.error.is_none()) {
            out.push_str(&format!(
                "{}: the machine's CPU (every process, catch-up included): {cpu:.0} µs per attempt\n",
                r.strategy
            ));
            if !r.cpu_us_per_attempt_by_process.is_empty() {
                let parts: Vec<String> =
                    r.cpu_us_per_attempt_by_process.iter().map(|(name, us)| format!("{name} {us:.1}")).collect();
                out.push_str(&format!("{}: of which, in µs per attempt: {}\n", r.strategy, parts.join(", ")));
            }
        }
        if let (Some(catch_up), Some(projected)) = (r.catch_up_s.filter(|_| r.error.is_none()), r.projected_per_s) {
            out.push_str(&format!(
                "{}: every table caught up {:.0} ms after the last acknowledgement: {projected:.0} per s projected\n",
                r.strategy,
                catch_up * 1000.0
            ));
        }
        for note in &r.notes {
            out.push_str(&format!("{}: {note}\n", r.strategy));
        }
    }
    for r in reports.iter().filter(|r| r.error.is_none()) {
        if let Some(why) = &r.not_durable_because {
            out.push_str(&format!("durable NO: {}: {why}\n", r.strategy));
        }
    }
    out
}

/// The JSON document: machine, parameters, runs.
pub fn document(sale: &FlashSale, machine: Value, reports: &[RunReport]) -> Value {
    json!({"machine": machine, "params": sale, "runs": reports})
}

/// What the run ran on: cores, memory, and the servers' versions.
pub async fn machine(sale: &FlashSale) -> Value {
    let memory_kib = std::fs::read_to_string("/proc/meminfo").ok().and_then(|m| {
        m.lines().find(|l| l.starts_with("MemTotal:")).and_then(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok())
    });
    let postgres = async {
        let pool = sqlx::PgPool::connect_with(crate::store::postgres_options(&sale.database_url).ok()?).await.ok()?;
        let version: Option<(String,)> =
            sqlx::query_as("SHOW server_version").fetch_optional(&pool).await.ok().flatten();
        pool.close().await;
        version.map(|v| v.0)
    }
    .await;
    let redis = match redis::Client::open(sale.redis_url.as_str()) {
        Ok(client) => match client.get_multiplexed_async_connection().await {
            Ok(mut connection) => {
                let info: Option<String> = redis::cmd("INFO").arg("server").query_async(&mut connection).await.ok();
                info.and_then(|i| i.lines().find_map(|l| l.strip_prefix("redis_version:").map(str::to_string)))
            }
            Err(_) => None,
        },
        Err(_) => None,
    };
    json!({
        "cores": std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0),
        "memory_gib": memory_kib.map(|k| (k as f64 / 1024.0 / 1024.0 * 10.0).round() / 10.0),
        "os": std::env::consts::OS,
        "postgres": postgres,
        "redis": redis,
    })
}

pub use super::html::page as html_page;
