//! The `warung` command line: serve, migrate, audit, catalog import, bench flash-sale.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand};

use crate::providers::midtrans::MidtransMode;
use crate::providers::whatsapp::WhatsAppMode;
use crate::settings::Settings;
use crate::startup::{redact, Application};

#[derive(Parser)]
#[command(name = "warung", version, about = "Actor-based commerce engine for shops that sell through WhatsApp")]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the engine and its HTTP endpoints (applies migrations first).
    Serve {
        #[arg(long)]
        database_url: Option<String>,
        /// Import the demo catalogue (demo/catalog.toml) if the shop has no products yet.
        #[arg(long)]
        demo: bool,
    },
    /// Apply the store's migrations and exit.
    Migrate {
        #[arg(long)]
        database_url: Option<String>,
    },
    /// Check every invariant of stock and money in a store; exits 1 on any violation.
    Audit {
        #[arg(long)]
        database_url: Option<String>,
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Products and stock from files.
    Catalog {
        #[command(subcommand)]
        command: CatalogCommand,
    },
    /// The contention lab.
    Bench {
        #[command(subcommand)]
        command: BenchCommand,
    },
}

#[derive(Subcommand)]
enum BenchCommand {
    /// Run one flash sale against several purchase strategies, one after another, on the same
    /// Postgres and Redis; print throughput, latency and whether each stayed correct.
    FlashSale(FlashSaleArgs),
}

#[derive(clap::Args)]
struct FlashSaleArgs {
    /// Comma-separated: actor, pg-row-lock, pg-atomic, redis-lua; or all.
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
    /// The cluster's fence on the engine's journal (the actor strategy), as one node of a cluster
    /// would have it, without the rest of the cluster: off, on (every batch), or alternate (on
    /// and off in turns within the run; the notes compare the two).
    #[arg(long, value_enum, default_value_t = crate::bench::sale::FenceMode::Off)]
    fence: crate::bench::sale::FenceMode,
    /// The Postgres server (and database) the SQL strategies use; the engine gets its own
    /// database on the same server.
    #[arg(long, env = "WARUNG_BENCH_DATABASE_URL", default_value = "postgres://postgres@127.0.0.1:5432/postgres")]
    database_url: String,
    #[arg(long, env = "WARUNG_BENCH_REDIS_URL", default_value = "redis://127.0.0.1:6379")]
    redis_url: String,
    /// Also write the results as JSON here.
    #[arg(long)]
    json: Option<PathBuf>,
    /// Also write a self-contained HTML page with charts here.
    #[arg(long)]
    report: Option<PathBuf>,
}

/// Attempts per strategy when neither --buyers nor --duration is given.
const BENCH_BUYERS_DEFAULT: u64 = 20_000;

#[derive(Subcommand)]
enum CatalogCommand {
    /// Import products (code, name, price, items or count) from a JSON or TOML file.
    Import {
        file: PathBuf,
        #[arg(long)]
        database_url: Option<String>,
    },
}

/// The demo catalogue, compiled in so `serve --demo` works from any directory.
const DEMO_CATALOG: &str = include_str!("../demo/catalog.toml");

fn settings(database_url: Option<String>) -> anyhow::Result<Settings> {
    Ok(Settings::load_with_database(database_url)?)
}

pub async fn run(cli: Cli) -> ExitCode {
    match execute(cli).await {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

async fn execute(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Serve { database_url, demo } => serve(settings(database_url)?, demo).await,
        Command::Migrate { database_url } => {
            let settings = settings(database_url)?;
            let store = crate::store::connect(&settings.database.url, 2).await.context("connecting to the store")?;
            store.migrate().await.context("applying migrations")?;
            println!("migrations applied to {}", redact(&settings.database.url));
            Ok(ExitCode::SUCCESS)
        }
        Command::Audit { database_url, json } => {
            let settings = settings(database_url)?;
            let store = crate::store::connect(&settings.database.url, 2).await.context("connecting to the store")?;
            let report = crate::audit::audit(store.as_ref()).await.context("reading the store")?;
            if json {
                println!("{}", serde_json::to_string_pretty(&report)?);
            } else {
                println!("{report}");
            }
            Ok(if report.is_clean() { ExitCode::SUCCESS } else { ExitCode::FAILURE })
        }
        Command::Bench { command: BenchCommand::FlashSale(args) } => flash_sale(args).await,
        Command::Catalog { command: CatalogCommand::Import { file, database_url } } => {
            let catalog = crate::catalog::parse(&file)?;
            let engine = crate::startup::start_engine(settings(database_url)?).await?;
            let report = engine.catalog.import(catalog).await;
            engine.shutdown().await.context("storing the import")?;
            let report = report?;
            println!(
                "imported {}: {} products created, {} repriced, {} units added, {} restocks already done",
                file.display(),
                report.created,
                report.repriced,
                report.units_added,
                report.unchanged
            );
            Ok(ExitCode::SUCCESS)
        }
    }
}

async fn flash_sale(args: FlashSaleArgs) -> anyhow::Result<ExitCode> {
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
        fence: args.fence,
        database_url: args.database_url,
        redis_url: args.redis_url,
    };
    sale.check().map_err(anyhow::Error::msg)?;
    let machine = report::machine(&sale).await;
    let reports = run_all(&sale).await;
    print!("{}", report::table(&reports));
    let document = report::document(&sale, machine.clone(), &reports);
    if let Some(path) = &args.json {
        std::fs::write(path, serde_json::to_string_pretty(&document)?)
            .with_context(|| format!("writing {}", path.display()))?;
    }
    if let Some(path) = &args.report {
        let page = report::html_page(&machine, &document["params"], &reports);
        std::fs::write(path, page).with_context(|| format!("writing {}", path.display()))?;
    }
    let all_correct = reports.iter().all(|r| r.correct && r.error.is_none());
    if !all_correct {
        eprintln!("NOT ALL STRATEGIES RAN CORRECTLY: see the table above");
    }
    Ok(if all_correct { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}

async fn serve(settings: Settings, demo: bool) -> anyhow::Result<ExitCode> {
    crate::telemetry::init(settings.log.format);
    let app = Application::build(settings).await?;
    let engine = &app.engine;
    if demo && engine.catalog.codes().is_empty() {
        let catalog: crate::catalog::CatalogFile = toml::from_str(DEMO_CATALOG).context("the demo catalogue")?;
        let report = engine.catalog.import(catalog).await?;
        tracing::info!(products = report.created, units = report.units_added, "demo catalogue imported");
    }
    if engine.settings.admin.token.is_none() {
        tracing::info!("admin API off: set WARUNG_ADMIN__TOKEN to turn it on");
    }
    log_providers(&app);
    tracing::info!(backend = engine.store.backend(), database = %redact(&engine.settings.database.url), "store ready");
    let address = &app.address;
    let ops = match &app.ops_address {
        Some(ops) => ops.clone(),
        None => format!("{address} (with WARUNG_HTTP__OPS_TOKEN)"),
    };
    println!("warung is serving on {address} (health: {address}/health); ops and metrics: {ops}/ops");
    if app.gateway.whatsapp.mode == WhatsAppMode::Simulator {
        println!("chat with the shop: open {address}/simulator (a tab per customer)");
    }
    if let Some(joined) = &engine.cluster {
        exit_when_fenced(joined.node.fence().clone());
    }
    let cluster = engine.cluster.clone();
    let stopped = app.run_until_stopped(async move {
        if let Err(error) = stop_signal().await {
            tracing::error!(%error, "cannot listen for signals; stopping");
        }
        if let Some(joined) = cluster {
            tracing::info!("leaving the cluster: handing every shard off");
            if let Err(error) = joined.node.leave().await {
                tracing::error!(%error, "could not hand the shards off; the others take them over after the TTL");
            }
        }
        tracing::info!("a second signal exits at once");
        actix_rt::spawn(async {
            if stop_signal().await.is_ok() {
                eprintln!("second signal: exiting now");
                std::process::exit(130);
            }
        });
    });
    Ok(match stopped.await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!(error = %format!("{error:#}"), "stopped with changes not stored");
            ExitCode::FAILURE
        }
    })
}

fn log_providers(app: &Application) {
    let settings = &app.engine.settings;
    match app.gateway.whatsapp.mode {
        WhatsAppMode::Live => tracing::info!(
            phone_number_id = settings.whatsapp.phone_number_id.as_deref().unwrap_or_default(),
            "WhatsApp: live, webhooks at /webhooks/whatsapp"
        ),
        WhatsAppMode::Simulator => tracing::info!("WhatsApp: simulator mode (no WARUNG_WHATSAPP__* credentials)"),
    }
    match app.gateway.midtrans.mode {
        MidtransMode::Live => {
            tracing::info!(api = %settings.midtrans.api_base_url, "Midtrans: live, notifications at /webhooks/midtrans")
        }
        MidtransMode::Simulator => tracing::info!("Midtrans: simulator mode (no WARUNG_MIDTRANS__SERVER_KEY)"),
    }
}

/// A node the cluster has declared dead (or that lost the database for longer than its TTL) must
/// not serve another request: it exits at once, writing nothing more (its journal refuses every
/// batch), and its process supervisor starts it again as a new incarnation.
fn exit_when_fenced(fence: std::sync::Arc<crate::store::WriterFence>) {
    actix_rt::spawn(async move {
        fence.tripped().await;
        tracing::error!("this node was fenced out of the cluster; exiting so it can rejoin as a new incarnation");
        eprintln!("fenced out of the cluster: exiting");
        std::process::exit(i32::from(EXIT_FENCED));
    });
}

/// The exit status of a node fenced out of its cluster.
pub const EXIT_FENCED: u8 = 75;

/// Resolves on SIGINT or SIGTERM.
async fn stop_signal() -> anyhow::Result<()> {
    use tokio::signal::unix::{signal, SignalKind};
    let mut terminate = signal(SignalKind::terminate()).context("listening for SIGTERM")?;
    let mut interrupt = signal(SignalKind::interrupt()).context("listening for SIGINT")?;
    tokio::select! {
        _ = terminate.recv() => {}
        _ = interrupt.recv() => {}
    }
    Ok(())
}
