//! The run loop: each strategy in turn, the same buyers with the same wallets, the same
//! concurrency, stopping after a number of attempts or a time.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures::future::join_all;
use hdrhistogram::Histogram;
use indicatif::{ProgressBar, ProgressStyle};
use rand::Rng;

use super::processes::{ProcessTimes, PROCESSES_REPORTED_MAX};
use super::report::{Latencies, RunReport};
use super::sale::{FlashSale, Stop, Strategy};
use super::{Attempt, Contender};

/// The slowest attempt the histogram keeps exactly; slower ones count as this.
const LATENCY_MAX_MICROS: u64 = 120_000_000;

/// How often the attempts done so far are sampled, for the throughput over time.
const SAMPLE_EVERY_MS: u64 = 100;

/// Runs every strategy in turn; a strategy that cannot start is reported as such and the rest
/// run.
pub async fn run_all(sale: &FlashSale) -> Vec<RunReport> {
    let mut reports = Vec::new();
    for strategy in &sale.strategies {
        eprintln!("{}: preparing {} products and {} wallets", strategy.name(), sale.products, sale.buyers());
        let contender: anyhow::Result<Box<dyn Contender>> = match strategy {
            Strategy::Actor | Strategy::ActorSqlite => {
                let on_sqlite = *strategy == Strategy::ActorSqlite;
                super::actor::prepare(sale, on_sqlite).await.map(|c| Box::new(c) as Box<dyn Contender>)
            }
            Strategy::PgRowLock | Strategy::PgAtomic => {
                super::postgres::prepare(sale, *strategy).await.map(|c| Box::new(c) as Box<dyn Contender>)
            }
            Strategy::SqliteTx => super::sqlite::prepare(sale).await.map(|c| Box::new(c) as Box<dyn Contender>),
            Strategy::RedisLua | Strategy::RedisLuaFsync => {
                let fsync = *strategy == Strategy::RedisLuaFsync;
                super::redis_lua::prepare(sale, fsync).await.map(|c| Box::new(c) as Box<dyn Contender>)
            }
        };
        let report = match contender {
            Ok(contender) => {
                let contender: Arc<dyn Contender> = Arc::from(contender);
                eprintln!("{}: {}", strategy.name(), super::settle::settle(&sale.database_url).await);
                eprintln!("{}: selling", strategy.name());
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

impl Tally {
    fn add(&mut self, other: &Tally) {
        self.sold += other.sold;
        self.sold_out += other.sold_out;
        self.insufficient += other.insufficient;
        self.failed += other.failed;
    }
}

async fn run_one(sale: &FlashSale, strategy: Strategy, contender: Arc<dyn Contender>) -> RunReport {
    let next = Arc::new(AtomicU64::new(0));
    let done = Arc::new(AtomicU64::new(0));
    let progress = progress_bar(sale, strategy);
    // Read before the clock starts: reading every process's times takes a few milliseconds.
    let cpu_before = super::cpu::busy_micros();
    let processes_before = ProcessTimes::now();
    let started = Instant::now();
    let deadline = match sale.stop {
        Stop::Seconds(secs) => Some(started + Duration::from_secs(secs)),
        Stop::Buyers(_) => None,
    };
    let samples = Arc::new(Mutex::new(vec![(0.0, 0)]));
    let latencies = Arc::new(Mutex::new(latency_histogram()));
    let ticker = {
        let (done, progress, samples) = (done.clone(), progress.clone(), samples.clone());
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(Duration::from_millis(SAMPLE_EVERY_MS)).await;
                let (elapsed, attempts) = (started.elapsed(), done.load(Ordering::Relaxed));
                samples.lock().expect("samples").push((elapsed.as_secs_f64(), attempts));
                match deadline {
                    Some(_) => progress.set_position(elapsed.as_secs()),
                    None => progress.set_position(attempts),
                }
            }
        })
    };
    let workers = (0..sale.concurrency).map(|_| {
        let shared = Shared {
            next: next.clone(),
            done: done.clone(),
            latencies: latencies.clone(),
            contender: contender.clone(),
            deadline,
        };
        buyer(sale.clone(), shared)
    });
    let results = join_all(workers.map(tokio::spawn)).await;
    let wall = started.elapsed();
    // The CPU is read once the tables have caught up: what the projector writes after the last
    // acknowledgement is work the sale caused, and counting it is what makes runs with a
    // different projection lag comparable.
    let catch_up = contender.catch_up().await;
    let cpu = cpu_before.zip(super::cpu::busy_micros()).map(|(before, after)| after.saturating_sub(before));
    let by_process = ProcessTimes::now().spent_since(&processes_before, &backend_names(&sale.database_url).await);
    ticker.abort();
    let mut samples = std::mem::take(&mut *samples.lock().expect("samples"));
    samples.push((wall.as_secs_f64(), done.load(Ordering::Relaxed)));
    progress.finish_and_clear();

    let histogram = std::mem::replace(&mut *latencies.lock().expect("latencies"), latency_histogram());
    let mut tally = Tally::default();
    for t in results.into_iter().flatten() {
        tally.add(&t);
    }
    let attempted = tally.sold + tally.sold_out + tally.insufficient + tally.failed;
    let verification = contender.verify().await;
    let mut report = RunReport {
        strategy: strategy.name(),
        durable: contender.not_durable().is_none(),
        not_durable_because: contender.not_durable(),
        attempted,
        sold: tally.sold,
        refused_sold_out: tally.sold_out,
        refused_insufficient: tally.insufficient,
        failed: tally.failed,
        wall_time_s: wall.as_secs_f64(),
        throughput_per_s: attempted as f64 / wall.as_secs_f64().max(1e-9),
        catch_up_s: catch_up.map(|d| d.as_secs_f64()),
        projected_per_s: catch_up.map(|d| attempted as f64 / (wall + d).as_secs_f64().max(1e-9)),
        cpu_us_per_attempt: cpu.map(|micros| micros as f64 / attempted.max(1) as f64),
        cpu_us_per_attempt_by_process: by_process
            .into_iter()
            .take(PROCESSES_REPORTED_MAX)
            .map(|(name, micros)| (name, micros as f64 / attempted.max(1) as f64))
            .collect(),
        latency_ms: Latencies::of(&histogram),
        latency_histogram_ms: super::report::buckets(&histogram),
        latency_percentiles_ms: super::report::percentiles(&histogram),
        throughput_over_time: super::report::rates(&samples),
        ..RunReport::could_not_run(strategy, String::new())
    };
    report.error = None;
    report.notes = contender.notes();
    report.apply(verification, sale.money_in());
    report
}

/// The `application_name` of each Postgres backend on the lab's server, by pid: empty when the
/// server cannot be asked (the SQLite and Redis strategies' runs go on without it).
async fn backend_names(database_url: &str) -> HashMap<u32, String> {
    let asked = async {
        let mut conn = <sqlx::PgConnection as sqlx::Connection>::connect(database_url).await?;
        sqlx::query_as::<_, (i32, String)>(
            "SELECT pid, application_name FROM pg_stat_activity WHERE backend_type = 'client backend'",
        )
        .fetch_all(&mut conn)
        .await
    };
    match asked.await {
        Ok(rows) => rows.into_iter().map(|(pid, name)| (pid as u32, name)).collect(),
        Err(_) => HashMap::new(),
    }
}

/// One histogram for every in-flight slot of a run. Not one per slot: each is 147 KB (3
/// significant digits up to `LATENCY_MAX_MICROS`), so 1,000 slots zeroed 147 MB as the first
/// strategy began, and its first purchases waited about 400 ms behind the page faults (`perf`:
/// the kernel's `clear_page` took two thirds of the process's first 0.4 s); later strategies
/// reused the memory and did not pay. The lock is never contended for long: a record is an add.
fn latency_histogram() -> Histogram<u64> {
    Histogram::<u64>::new_with_max(LATENCY_MAX_MICROS, 3).expect("histogram bounds")
}

/// What every buyer task of one run shares: the next buyer's number, the attempts done, the
/// latencies, the contender, and when a timed run ends.
struct Shared {
    next: Arc<AtomicU64>,
    done: Arc<AtomicU64>,
    latencies: Arc<Mutex<Histogram<u64>>>,
    contender: Arc<dyn Contender>,
    deadline: Option<Instant>,
}

/// One in-flight slot: takes the next buyer and attempts a purchase, until the run is over.
async fn buyer(sale: FlashSale, shared: Shared) -> Tally {
    let mut tally = Tally::default();
    let buyers = sale.buyers();
    loop {
        let n = shared.next.fetch_add(1, Ordering::Relaxed);
        let over = match (sale.stop, shared.deadline) {
            (Stop::Buyers(limit), _) => n >= limit,
            (_, Some(deadline)) => Instant::now() >= deadline,
            _ => true,
        };
        if over {
            break;
        }
        let product = if sale.products == 1 { 0 } else { rand::rng().random_range(0..sale.products) };
        let began = Instant::now();
        let outcome = shared.contender.attempt(n % buyers, product).await;
        shared.latencies.lock().expect("latencies").saturating_record(began.elapsed().as_micros() as u64);
        shared.done.fetch_add(1, Ordering::Relaxed);
        match outcome {
            Attempt::Sold => tally.sold += 1,
            Attempt::SoldOut => tally.sold_out += 1,
            Attempt::Insufficient => tally.insufficient += 1,
            Attempt::Failed => tally.failed += 1,
        }
        // An attempt refused from memory is never pending, so without this a slot would keep
        // its thread from the tasks that answer the purchases still in flight, for the rest of
        // the run (measured: replies held for 50 s once every wallet was spent).
        tokio::task::coop::consume_budget().await;
    }
    tally
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
