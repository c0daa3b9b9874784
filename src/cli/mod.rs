//! The `warung` command line: serve, migrate, audit, backup and restore, catalog import, the
//! contention lab, shell completions. Every option that mirrors a setting names its environment
//! variable in `--help`; every command shows examples.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{CommandFactory, Parser, Subcommand};

use crate::settings::{Settings, Sources};

mod bench;
mod serve;

pub use serve::EXIT_FENCED;

#[derive(Parser)]
#[command(
    name = "warung",
    version,
    about = "Actor-based commerce engine for shops that sell through WhatsApp",
    long_about = "Actor-based commerce engine for shops that sell through WhatsApp: stock and wallets \
                  owned by actors, payments by QRIS (Midtrans) or saldo, every change durable before \
                  it is acknowledged.\n\nSettings come from a TOML file (--config, else ./warung.toml \
                  when present), then WARUNG_<SECTION>__<KEY> environment variables, then the \
                  command line. warung.toml.example documents every one.",
    after_help = "Examples:\n  warung serve --demo                      the shop on SQLite with simulated providers\n  \
                  warung --config /etc/warung/warung.toml serve\n  \
                  WARUNG_DATABASE__URL=postgres://warung@db/warung warung migrate\n  \
                  warung audit --json\n  \
                  warung completions bash > /etc/bash_completion.d/warung"
)]
pub struct Cli {
    /// The settings file (TOML, see warung.toml.example). Without it, ./warung.toml is read if
    /// it exists.
    #[arg(long, short = 'c', global = true, env = "WARUNG_CONFIG", value_name = "FILE")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

/// The store to work on, when it is not the settings' own.
#[derive(clap::Args)]
struct StoreArgs {
    /// The store: postgres://user@host/db (add ?sslmode=verify-full for TLS) or sqlite://file.
    /// Overrides database.url from the settings file.
    #[arg(long, env = "WARUNG_DATABASE__URL", hide_env_values = true, value_name = "URL")]
    database_url: Option<String>,
}

#[derive(Subcommand)]
enum Command {
    /// Run the engine and its HTTP endpoints (applies migrations first).
    #[command(after_help = "Examples:\n  warung serve --demo\n  \
                            WARUNG_HTTP__BIND=0.0.0.0:8080 warung serve --database-url postgres://warung@db/warung\n  \
                            warung --config /etc/warung/warung.toml serve")]
    Serve {
        #[command(flatten)]
        store: StoreArgs,
        /// Import the demo catalogue (demo/catalog.toml) if the shop has no products yet, and set an
        /// example bank account and owner number (6280000000001) where the settings leave them unset.
        #[arg(long)]
        demo: bool,
    },
    /// Apply the store's migrations and exit.
    #[command(after_help = "Examples:\n  warung migrate\n  warung migrate --database-url postgres://warung@db/warung")]
    Migrate {
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Check every invariant of stock and money in a store; exits 1 on any violation.
    #[command(after_help = "Examples:\n  warung audit\n  warung audit --json --database-url sqlite://restored.db")]
    Audit {
        #[command(flatten)]
        store: StoreArgs,
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Take a consistent snapshot of the store while it runs, named by its time
    /// (warung-20261202T071500Z.db for SQLite, .pgdump for Postgres; Postgres needs pg_dump).
    #[command(after_help = "Examples:\n  warung backup --to /var/backups/warung\n  \
                            warung backup --database-url postgres://warung@db/warung --to backups")]
    Backup {
        #[command(flatten)]
        store: StoreArgs,
        /// The directory to write it in; default: backup.dir (WARUNG_BACKUP__DIR), else ./backups.
        #[arg(long, value_name = "DIR")]
        to: Option<PathBuf>,
    },
    /// Restore a backup into a fresh store, bring it up to date (migrations) and audit it; exits 1
    /// if the audit finds a violation. Postgres needs pg_restore and an existing, empty database.
    #[command(
        after_help = "Examples:\n  warung restore backups/warung-20261202T071500Z.db --database-url sqlite://restored.db\n  \
                            createdb warung_restored && warung restore warung-20261202T071500Z.pgdump --database-url postgres://warung@db/warung_restored"
    )]
    Restore {
        /// The backup file (.db or .pgdump).
        file: PathBuf,
        #[command(flatten)]
        store: StoreArgs,
        /// Replace a store that already holds data (stop warung first).
        #[arg(long)]
        force: bool,
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
    /// Print a shell completion script for warung.
    #[command(after_help = "Examples:\n  warung completions bash > /etc/bash_completion.d/warung\n  \
                            warung completions zsh > \"${fpath[1]}/_warung\"\n  \
                            warung completions fish > ~/.config/fish/completions/warung.fish")]
    Completions {
        /// The shell to complete in.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
}

#[derive(Subcommand)]
enum BenchCommand {
    /// Run one flash sale against several purchase strategies, one after another, on the same
    /// Postgres and Redis; print throughput, latency and whether each stayed correct.
    #[command(after_help = "Examples:\n  warung bench flash-sale --buyers 20000 --stock 10\n  \
                            warung bench flash-sale --strategy actor,pg-row-lock --funded-fraction 1 --report lab.html")]
    // Boxed: its options are many times the size of every other command's.
    FlashSale(Box<bench::FlashSaleArgs>),
}

#[derive(Subcommand)]
enum CatalogCommand {
    /// Import products (code, name, price, items or count) from a JSON or TOML file.
    #[command(after_help = "Examples:\n  warung catalog import demo/catalog.toml\n  \
                            warung catalog import products.json --database-url postgres://warung@db/warung")]
    Import {
        /// The catalogue file (.toml or .json).
        file: PathBuf,
        #[command(flatten)]
        store: StoreArgs,
    },
}

/// The whole process after its allocator is chosen: the command line read, the command run on an
/// actix system. A plain function, so the binary monomorphizes nothing: a release build shares no
/// generic instances across crates, and a binary that started the system itself re-generated the
/// whole async command tree the library had compiled (44 s of a clean build's tail, docs/ci.md).
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    actix_web::rt::System::new().block_on(run(cli))
}

async fn run(cli: Cli) -> ExitCode {
    match execute(cli).await {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

async fn execute(cli: Cli) -> anyhow::Result<ExitCode> {
    let config = cli.config;
    let settings = |store: StoreArgs| -> anyhow::Result<Settings> {
        Ok(Settings::load(Sources::from_process(config.clone(), store.database_url))?)
    };
    match cli.command {
        Command::Serve { store, demo } => serve::serve(settings(store)?, demo).await,
        Command::Migrate { store } => {
            let settings = settings(store)?;
            let store =
                crate::store::connect(settings.database.url.expose(), 2).await.context("connecting to the store")?;
            store.migrate().await.context("applying migrations")?;
            println!("migrations applied to {}", settings.database.url);
            Ok(ExitCode::SUCCESS)
        }
        Command::Audit { store, json } => {
            let settings = settings(store)?;
            let store =
                crate::store::connect(settings.database.url.expose(), 2).await.context("connecting to the store")?;
            let report = crate::audit::audit(store.as_ref()).await.context("reading the store")?;
            if json {
                println!("{}", serde_json::to_string_pretty(&report)?);
            } else {
                println!("{report}");
            }
            Ok(if report.is_clean() { ExitCode::SUCCESS } else { ExitCode::FAILURE })
        }
        Command::Backup { store, to } => {
            let settings = settings(store)?;
            let dir = to.or(settings.backup.dir.clone()).unwrap_or_else(|| PathBuf::from("backups"));
            let snapshot = crate::backup::take(&settings.database.url, &dir).await.context("taking the backup")?;
            println!(
                "backup of {} written to {} ({} bytes, {} ms)",
                settings.database.url,
                snapshot.path.display(),
                snapshot.bytes,
                snapshot.took.as_millis()
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Restore { file, store, force } => {
            let settings = settings(store)?;
            let into = if force { crate::backup::RestoreInto::Replace } else { crate::backup::RestoreInto::Fresh };
            crate::backup::restore(&file, &settings.database.url, into).await.context("restoring the backup")?;
            let store = crate::store::connect(settings.database.url.expose(), 2)
                .await
                .context("connecting to the restored store")?;
            store.migrate().await.context("applying migrations to the restored store")?;
            let report = crate::audit::audit(store.as_ref()).await.context("auditing the restored store")?;
            println!("{} restored into {}\n{report}", file.display(), settings.database.url);
            Ok(if report.is_clean() { ExitCode::SUCCESS } else { ExitCode::FAILURE })
        }
        Command::Bench { command: BenchCommand::FlashSale(args) } => bench::flash_sale(*args).await,
        Command::Catalog { command: CatalogCommand::Import { file, store } } => {
            let catalog = crate::catalog::parse(&file)?;
            let engine = crate::startup::start_engine(settings(store)?).await?;
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
        Command::Completions { shell } => {
            clap_complete::generate(shell, &mut Cli::command(), "warung", &mut std::io::stdout());
            Ok(ExitCode::SUCCESS)
        }
    }
}

#[cfg(test)]
mod tests;
