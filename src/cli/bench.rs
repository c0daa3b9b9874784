//! `warung bench flash-sale`: the contention lab's command line.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;

use crate::bench::rounds::BENCH_ROUNDS_MAX;

/// Attempts per strategy when neither --buyers nor --duration is given.
const BENCH_BUYERS_DEFAULT: u64 = 20_000;

#[derive(clap::Args)]
pub(super) struct FlashSaleArgs {
    /// Comma-separated: actor, actor-sqlite, pg-row-lock, pg-atomic, sqlite-tx, redis-lua,
    /// redis-lua-fsync; or all.
    #[arg(long, default_value = "all")]
    strategy: String,
    /// Stop each strategy after this many purchase attempts, each by a different buyer.
    #[arg(long, conflicts_with = "duration")]
    buyers: Option<u64>,
    /// Run each strategy this many seconds instead (buyers cycle through 100,000 wallets).
    #[arg(long)]
    duration: Option<u64>,
    /// Units of stock per product.
    #[arg(long, default_value_t = 10_000)]
    stock: u64,
    /// Products; attempts spread evenly over them (1: one hot product).
    #[arg(long, default_value_t = 1)]
    products: u32,
    /// Purchase attempts in flight at once.
    #[arg(long, default_value_t = 64)]
    concurrency: usize,
    /// Price in whole rupiah.
    #[arg(long, default_value_t = 10_000)]
    price: u64,
    /// Share of buyers who can pay; the others hold half the price.
    #[arg(long, default_value_t = 0.8)]
    funded_fraction: f64,
    /// Purchases a funded buyer's wallet pays for: above 1, a timed run (--duration) cycling
    /// through its wallets keeps selling instead of turning into refusals once each has bought.
    #[arg(long, default_value_t = 1)]
    purchases_per_buyer: u64,
    /// The cluster's fence on the engine's journal (the actor strategy), as one node of a cluster
    /// would have it, without the rest of the cluster: off, on (every batch), or alternate (on
    /// and off in turns within the run; the notes compare the two).
    #[arg(long, value_enum, default_value_t = crate::bench::sale::FenceMode::Off)]
    fence: crate::bench::sale::FenceMode,
    /// How the engine (`actor`, `actor-sqlite`) stores its journal: tables (each batch writes the
    /// tables) or log (each batch is one log record; the tables are projected from it).
    #[arg(long, value_enum, default_value_t = crate::store::JournalMode::Log)]
    journal: crate::store::JournalMode,
    /// The Postgres server (and database) the SQL strategies use; the engine gets its own
    /// database on the same server.
    #[arg(
        long,
        env = "WARUNG_BENCH_DATABASE_URL",
        hide_env_values = true,
        value_name = "URL",
        default_value = "postgres://postgres@127.0.0.1:5432/postgres"
    )]
    database_url: String,
    /// The Redis the redis-lua strategy uses (its keys are the lab's own and removed after).
    #[arg(
        long,
        env = "WARUNG_BENCH_REDIS_URL",
        hide_env_values = true,
        value_name = "URL",
        default_value = "redis://127.0.0.1:6379"
    )]
    redis_url: String,
    /// The Redis the redis-lua-fsync strategy uses: one started with `--appendonly yes
    /// --appendfsync always` (the lab checks, and reports it not durable otherwise).
    #[arg(
        long,
        env = "WARUNG_BENCH_REDIS_FSYNC_URL",
        hide_env_values = true,
        value_name = "URL",
        default_value = "redis://127.0.0.1:6380"
    )]
    redis_fsync_url: String,
    /// Where actor-sqlite and sqlite-tx keep their database files (the engine's is kept after
    /// the run, for `warung audit`).
    #[arg(long, value_name = "DIR", default_value_os_t = std::env::temp_dir().join("warung-bench"))]
    sqlite_dir: PathBuf,
    /// Run the whole sale this many times, the strategies in turn each round, and print each
    /// strategy's median: the host's rate moves by a sixth from run to run.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=i64::from(BENCH_ROUNDS_MAX)))]
    rounds: u32,
    /// Also write the results as JSON here (every round's, under `rounds`, when there are several;
    /// `runs` holds the last).
    #[arg(long, value_name = "FILE")]
    json: Option<PathBuf>,
    /// Also write a self-contained HTML page with charts here (the last round's).
    #[arg(long, value_name = "FILE")]
    report: Option<PathBuf>,
}

pub(super) async fn flash_sale(args: FlashSaleArgs) -> anyhow::Result<ExitCode> {
    use crate::bench::{report, run_all, FlashSale, Stop, Strategy};
    let stop = match (args.buyers, args.duration) {
        (_, Some(secs)) => Stop::Seconds(secs),
        (Some(n), None) => Stop::Buyers(n),
        (None, None) => Stop::Buyers(BENCH_BUYERS_DEFAULT),
    };
    let sale = FlashSale {
        strategies: Strategy::parse_list(&args.strategy).map_err(anyhow::Error::msg)?,
        stop,
        stock: args.stock,
        products: args.products,
        concurrency: args.concurrency,
        price: args.price,
        funded_fraction: args.funded_fraction,
        purchases_per_buyer: args.purchases_per_buyer,
        fence: args.fence,
        journal: args.journal,
        database_url: args.database_url,
        redis_url: args.redis_url,
        redis_fsync_url: args.redis_fsync_url,
        sqlite_dir: args.sqlite_dir,
    };
    sale.check().map_err(anyhow::Error::msg)?;
    let _one_run_at_a_time_on_postgres = match sale.strategies.iter().any(|strategy| strategy.on_postgres()) {
        true => Some(crate::bench::lab_lock::take(&sale.database_url).await?),
        false => None,
    };
    let _one_run_at_a_time_in_the_sqlite_dir = match sale.strategies.iter().any(|strategy| strategy.on_sqlite()) {
        true => Some(crate::bench::lab_lock::take_sqlite_dir(&sale.sqlite_dir)?),
        false => None,
    };
    let machine = report::machine(&sale).await;
    let several = args.rounds > 1;
    let mut rounds = Vec::new();
    for round in 1..=args.rounds {
        if several {
            eprintln!("round {round} of {}", args.rounds);
        }
        let reports = run_all(&sale).await;
        if several {
            println!("round {round} of {}:", args.rounds);
        }
        print!("{}", report::table(&reports));
        rounds.push(reports);
    }
    let reports = rounds.last().expect("at least one round");
    let mut document = report::document(&sale, machine.clone(), reports);
    if several {
        print!("{}", crate::bench::rounds::summary(&rounds));
        document["rounds"] = serde_json::to_value(&rounds)?;
    }
    if let Some(path) = &args.json {
        std::fs::write(path, serde_json::to_string_pretty(&document)?)
            .with_context(|| format!("writing {}", path.display()))?;
    }
    if let Some(path) = &args.report {
        let page = report::html_page(&machine, &document["params"], reports);
        std::fs::write(path, page).with_context(|| format!("writing {}", path.display()))?;
    }
    let all_correct = rounds.iter().flatten().all(|r| r.correct && r.error.is_none());
    if !all_correct {
        eprintln!("NOT ALL STRATEGIES RAN CORRECTLY: see the table above");
    }
    Ok(if all_correct { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}
