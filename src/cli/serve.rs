//! `warung serve`: the engine and its HTTP endpoints until SIGTERM or SIGINT.

use std::process::ExitCode;

use anyhow::Context;

use crate::providers::midtrans::MidtransMode;
use crate::providers::whatsapp::WhatsAppMode;
use crate::settings::Settings;
use crate::startup::Application;

/// The demo catalogue, compiled in so `serve --demo` works from any directory.
const DEMO_CATALOG: &str = include_str!("../../demo/catalog.toml");

/// The demo's owner: chat as this number on the simulator page to run the shop from the chat.
pub const DEMO_ADMIN_NUMBER: &str = "6280000000001";

/// What `--demo` sets when the settings leave it unset: an example bank account (so transfer is
/// offered) and an owner's number.
fn with_demo_values(mut settings: Settings) -> Settings {
    if settings.transfer.account().is_none() {
        settings.transfer = crate::settings::TransferSettings {
            bank: Some("BCA (contoh)".into()),
            account_number: Some("0000000000".into()),
            account_name: Some("Warung Demo".into()),
        };
    }
    if settings.shop.admin_numbers.trim().is_empty() {
        settings.shop.admin_numbers = DEMO_ADMIN_NUMBER.into();
    }
    settings
}

pub(super) async fn serve(settings: Settings, demo: bool) -> anyhow::Result<ExitCode> {
    let settings = if demo { with_demo_values(settings) } else { settings };
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
    let backups = crate::backup::schedule::start(&engine.settings.backup, &engine.settings.database.url);
    tracing::info!(backend = engine.store.backend(), database = %engine.settings.database.url, "store ready");
    let address = &app.address;
    let ops = match &app.ops_address {
        Some(ops) => ops.clone(),
        None => format!("{address} (with WARUNG_HTTP__OPS_TOKEN)"),
    };
    println!("warung is serving on {address} (health: {address}/health); ops and metrics: {ops}/ops");
    if app.gateway.whatsapp.mode == WhatsAppMode::Simulator {
        println!("chat with the shop: open {address}/simulator (a tab per customer)");
    }
    match (&engine.cluster, engine.store.cluster_access()) {
        (Some(joined), _) => exit_when_fenced(joined.node.fence().clone(), Fenced::OutOfTheCluster),
        (None, Some(access)) => exit_when_fenced(access.fence, Fenced::JournalTakenOver),
        (None, None) => {}
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
    let stopped = stopped.await;
    // A backup in progress is abandoned (its partial file stays a .partial, never a backup).
    if let Some(backups) = backups {
        backups.abort();
    }
    Ok(match stopped {
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

/// Why a process's writes are refused.
enum Fenced {
    /// The cluster declared this node dead (or it lost the database for longer than its TTL).
    OutOfTheCluster,
    /// This process wrote the journal alone, lost its writer lock with its connection (a restart
    /// of Postgres), and another process has since started on the database (`store::lone_writer`).
    JournalTakenOver,
}

/// A process whose writes are fenced must not serve another request: it exits at once, writing
/// nothing more (its journal refuses every batch). A cluster's node is started again by its
/// process supervisor as a new incarnation; a lone process, once the other has stopped.
fn exit_when_fenced(fence: std::sync::Arc<crate::store::WriterFence>, why: Fenced) {
    actix_rt::spawn(async move {
        fence.tripped().await;
        if fence.why() == Some(crate::store::Trip::OutcomeUnknown) {
            tracing::error!("a journal commit's outcome is unknown; exiting so the next start settles the log first");
            eprintln!("a journal commit's outcome is unknown: exiting");
            std::process::exit(i32::from(EXIT_FENCED));
        }
        match why {
            Fenced::OutOfTheCluster => {
                tracing::error!(
                    "this node was fenced out of the cluster; exiting so it can rejoin as a new incarnation"
                );
                eprintln!("fenced out of the cluster: exiting");
            }
            Fenced::JournalTakenOver => {
                tracing::error!("another process now writes this database's journal; exiting, nothing more is stored");
                eprintln!("another process writes this database's journal: exiting");
            }
        }
        std::process::exit(i32::from(EXIT_FENCED));
    });
}

/// The exit status of a process whose writes are fenced (out of its cluster, or its log taken over).
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
