//! warung's engine as a contender: in process, on its own fresh database (Postgres for `actor`,
//! a SQLite file for `actor-sqlite`), every purchase answered only after its journal batch
//! committed (durable). The database is kept after the run, so `warung audit` can check it again.

use std::str::FromStr;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use anyhow::Context;
use async_trait::async_trait;
use futures::StreamExt;
use rust_decimal::Decimal;
use sqlx::postgres::PgConnectOptions;
use sqlx::ConnectOptions;
use warung_actors::domain::{CustomerId, ItemSecret, Money, ProductCode, Reference};
use warung_actors::journal::StockKind;
use warung_actors::product::{ProductRejection, Restock};
use warung_actors::runtime::CallError;

use super::alternate::Alternation;
use super::memory::{self, Resident};
use super::sale::{FenceMode, FlashSale};
use super::{Attempt, Contender, Verification};
use crate::checkout::{CheckoutError, OrderState};
use crate::engine::Engine;
use crate::settings::Settings;

/// The engine's database, created afresh for each run on the server `--database-url` names:
/// this name when the URL names the `postgres` database (or none), else `<database>_bench_actor`.
pub const ACTOR_DATABASE_DEFAULT: &str = "warung_bench_actor";

/// The engine's SQLite file in `--sqlite-dir`, for `actor-sqlite`.
const ACTOR_SQLITE_FILE: &str = "warung_bench_actor.db";

/// Up to this many units in all, stock is deliverable items (so a unit sold twice would show);
/// beyond it, counted stock (the check is then the counts alone).
const ITEMS_CHECKED_MAX: u64 = 200_000;

/// Items per restock command while preparing.
const RESTOCK_CHUNK: usize = 10_000;

/// Wallets funded at once while preparing.
const FUNDING_IN_FLIGHT: usize = 512;

/// Tries of an attempt the engine answered "busy" (mailbox full: nothing was done).
const BUSY_RETRIES_MAX: usize = 100;

/// Distinct reasons for failed attempts kept for the notes; the rest are counted together.
const FAILURE_REASONS_MAX: usize = 8;

pub struct ActorContender {
    engine: Engine,
    /// The journal's counters when the sale began: (batches, events, commit micros).
    journal_before: (u64, u64, u64),
    products: Vec<ProductCode>,
    items: bool,
    database: String,
    /// `--fence alternate`: the fence's windows and the sales in each.
    alternation: Option<Arc<Alternation>>,
    /// Why attempts failed, so a run with failures says what they were: per kind of error, how
    /// many and the first one's text.
    failures: std::sync::Mutex<std::collections::BTreeMap<String, (u64, String)>>,
    /// Resident memory with the engine started and no customer yet.
    resident_before: Option<Resident>,
    customers: u64,
    /// Resident memory at the peak and once every actor has passivated, with how many did.
    resident_after: std::sync::Mutex<Option<(Resident, Resident, usize)>>,
}

/// The engine's own database on the same server: its name, its URL, and the server's options.
fn actor_database(url: &str) -> anyhow::Result<(String, String, PgConnectOptions)> {
    let options = crate::store::postgres_options(url).context("--database-url must be a postgres:// URL")?;
    let name = match options.get_database() {
        Some(db) if db != "postgres" => format!("{db}_bench_actor"),
        _ => ACTOR_DATABASE_DEFAULT.to_string(),
    };
    let engine_url = options.clone().database(&name).to_url_lossy().to_string();
    Ok((name, engine_url, options))
}

/// A fresh Postgres database on `--database-url`'s server: its name and URL.
async fn fresh_postgres(sale: &FlashSale) -> anyhow::Result<(String, String)> {
    let (name, url, admin_options) = actor_database(&sale.database_url)?;
    let admin = sqlx::PgPool::connect_with(admin_options).await.context("connecting to Postgres")?;
    for statement in [format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"), format!("CREATE DATABASE {name}")] {
        sqlx::query(sqlx::AssertSqlSafe(statement)).execute(&admin).await?;
    }
    admin.close().await;
    Ok((name, url))
}

/// A fresh SQLite file in `--sqlite-dir`: its path and URL.
fn fresh_sqlite(sale: &FlashSale) -> anyhow::Result<(String, String)> {
    std::fs::create_dir_all(&sale.sqlite_dir).with_context(|| format!("creating {}", sale.sqlite_dir.display()))?;
    let path = sale.sqlite_dir.join(ACTOR_SQLITE_FILE);
    super::sqlite::remove_database(&path);
    let path = path.display().to_string();
    let url = format!("sqlite://{path}");
    Ok((path, url))
}

/// The engine on Postgres, or with `on_sqlite` on SQLite.
pub async fn prepare(sale: &FlashSale, on_sqlite: bool) -> anyhow::Result<ActorContender> {
    let (name, url) = if on_sqlite { fresh_sqlite(sale)? } else { fresh_postgres(sale).await? };
    let mut settings = Settings::from_environment().context("settings")?;
    settings.database.url = url.into();
    settings.database.journal = sale.journal;
    let engine = crate::startup::start_engine(settings).await?;
    let resident_before = memory::resident();
    let mut alternation = None;
    if sale.fence != FenceMode::Off {
        let access = engine.store.cluster_access().context("--fence needs the engine on Postgres (actor)")?;
        // Joins as the only node and arms the journal's fence; no upkeep runs, and nothing takes
        // this node over, so every batch passes the fence, paying its whole cost.
        let settings = crate::settings::ClusterSettings::default();
        let fence = access.fence.clone();
        crate::cluster::ClusterNode::join(access, &settings, "lab-fenced", "").await?;
        if sale.fence == FenceMode::Alternate {
            alternation = Some(Alternation::new(fence));
        }
    }
    let items = sale.stock * u64::from(sale.products) <= ITEMS_CHECKED_MAX;
    let mut products = Vec::new();
    for p in 0..sale.products {
        let code = ProductCode::parse(&format!("p{p}")).expect("a valid code");
        let kind = if items { StockKind::Items } else { StockKind::Counted };
        engine.catalog.create(&code, &format!("Product {p}"), Money::rupiah(sale.price), kind).await?;
        restock(&engine, &code, sale.stock, items).await?;
        products.push(code);
    }
    let funding = (0..sale.buyers()).map(|b| {
        let engine = engine.clone();
        async move {
            let payment = Reference::parse(&format!("fund-{b}")).expect("a valid reference");
            let (who, amount) = (customer(b), Money::rupiah(sale.wallet(b)));
            retry_busy(|| engine.checkout.top_up(&who, &payment, amount)).await
        }
    });
    let funded: Vec<_> = futures::stream::iter(funding).buffer_unordered(FUNDING_IN_FLIGHT).collect().await;
    if let Some(Err(error)) = funded.into_iter().find(Result::is_err) {
        anyhow::bail!("funding the wallets: {error}");
    }
    engine.lanes.flush().await.context("storing the wallets")?;
    // The sale starts on an engine at rest: its tables show the preparation, so neither the
    // projector's catch-up of the wallets nor its lag limits fall into the sale's figures.
    if let Some(projection) = engine.store.projection() {
        projection.fresh().await.map_err(|behind| anyhow::anyhow!("projecting the prepared wallets: {behind}"))?;
    }
    let journal_before = journal_figures(&engine);
    Ok(ActorContender {
        engine,
        journal_before,
        products,
        items,
        database: name,
        alternation,
        failures: Default::default(),
        resident_before,
        customers: sale.buyers(),
        resident_after: Default::default(),
    })
}

async fn restock(engine: &Engine, code: &ProductCode, units: u64, items: bool) -> anyhow::Result<()> {
    let mut commands = Vec::new();
    if items {
        let secrets: Vec<ItemSecret> =
            (0..units).map(|u| ItemSecret::parse(&format!("{code}-unit-{u}")).expect("a valid item")).collect();
        for (i, chunk) in secrets.chunks(RESTOCK_CHUNK).enumerate() {
            commands.push((i, Restock::Items(chunk.to_vec())));
        }
    } else {
        commands.push((0, Restock::Count(u32::try_from(units).context("--stock is too large")?)));
    }
    for (i, stock) in commands {
        // As an owner restocks: with several lanes the stock is spread over the product's shares.
        let reference = Reference::parse(&format!("bench-stock-{i}")).expect("a valid reference");
        engine
            .catalog
            .restock(code, reference, stock, "bench")
            .await?
            .map_err(|r| anyhow::anyhow!("restock refused: {r:?}"))?;
    }
    Ok(())
}

fn journal_figures(engine: &Engine) -> (u64, u64, u64) {
    let stats = engine.lanes.journal_stats();
    (
        stats.batches_committed.load(Ordering::Relaxed),
        stats.events_committed.load(Ordering::Relaxed),
        stats.commit_micros_total.load(Ordering::Relaxed),
    )
}

fn customer(buyer: u64) -> CustomerId {
    CustomerId::parse(&format!("b{buyer}")).expect("a valid customer id")
}

async fn retry_busy<T, F, Fut>(mut call: F) -> Result<T, CheckoutError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, CheckoutError>>,
{
    let mut tries = 0;
    loop {
        tries += 1;
        match call().await {
            Err(CheckoutError::Unavailable(CallError::Busy)) if tries < BUSY_RETRIES_MAX => {
                tokio::time::sleep(std::time::Duration::from_millis(2)).await
            }
            other => return other,
        }
    }
}

/// What a failed attempt is counted under: the error's variant, and for an actor that could not
/// answer the call error's; the text would name the order, making every failure a kind of its own.
fn failure_kind(error: &CheckoutError) -> String {
    fn variant(debug: String) -> String {
        debug.split(|c: char| !c.is_alphanumeric() && c != '_').next().unwrap_or_default().to_string()
    }
    match error {
        CheckoutError::Unavailable(call) => format!("Unavailable::{}", variant(format!("{call:?}"))),
        CheckoutError::Product(rejection) => format!("Product::{}", variant(format!("{rejection:?}"))),
        CheckoutError::Wallet(rejection) => format!("Wallet::{}", variant(format!("{rejection:?}"))),
        other => variant(format!("{other:?}")),
    }
}

impl ActorContender {
    /// Passivates every actor, as the idle sweep does after `passivate_after`, and notes the
    /// resident memory at the peak and after: what a customer costs once idle.
    async fn passivate_all(&self) {
        let at_peak = memory::resident();
        let stopped = self.engine.lanes.stop_actors(|_| true).await;
        if let (Some(at_peak), Some(after)) = (at_peak, memory::resident()) {
            *self.resident_after.lock().expect("memory lock") = Some((at_peak, after, stopped));
        }
    }

    fn memory_note(&self) -> Option<String> {
        let before = self.resident_before?;
        let (at_peak, after, stopped) = (*self.resident_after.lock().expect("memory lock"))?;
        let per_customer = after.now_kib.saturating_sub(before.now_kib) as f64 * 1024.0 / self.customers.max(1) as f64;
        Some(format!(
            "resident memory: {} MiB before the {} customers, {} MiB at the peak, {} MiB once {stopped} actors passivated \
             ({per_customer:.0} bytes per idle customer)",
            before.now_kib / 1024,
            self.customers,
            at_peak.peak_kib / 1024,
            after.now_kib / 1024,
        ))
    }

    fn count_failure(&self, error: &CheckoutError) {
        let mut failures = self.failures.lock().expect("failures lock");
        let kind = failure_kind(error);
        let kind = if failures.len() < FAILURE_REASONS_MAX || failures.contains_key(&kind) {
            kind
        } else {
            "other kinds".to_string()
        };
        failures.entry(kind).or_insert_with(|| (0, error.to_string())).0 += 1;
    }
}

#[async_trait]
impl Contender for ActorContender {
    fn not_durable(&self) -> Option<String> {
        None
    }

    async fn attempt(&self, buyer: u64, product: u32) -> Attempt {
        let (who, code) = (customer(buyer), &self.products[product as usize]);
        if let Some(alternation) = &self.alternation {
            alternation.begin();
        }
        let bought = match self.engine.lanes.count() {
            1 => retry_busy(|| self.engine.checkout.buy_with_saldo(&who, code, 1)).await,
            // On the buyer's lane, where their wallet is, as a customer's flow would run there.
            _ => {
                let (checkout, buyer, code) = (self.engine.checkout.clone(), who.clone(), code.clone());
                let buying = async move { retry_busy(|| checkout.buy_with_saldo(&buyer, &code, 1)).await };
                self.engine.lanes.on_customer_lane(&who, buying).await.unwrap_or_else(|e| Err(e.into()))
            }
        };
        match bought {
            Ok(_) => {
                if let Some(alternation) = &self.alternation {
                    alternation.sold();
                }
                Attempt::Sold
            }
            Err(CheckoutError::Product(ProductRejection::ExceedsAvailable { .. })) => Attempt::SoldOut,
            Err(CheckoutError::InsufficientBalance { .. }) => Attempt::Insufficient,
            Err(error) => {
                self.count_failure(&error);
                Attempt::Failed
            }
        }
    }

    async fn catch_up(&self) -> Option<std::time::Duration> {
        let started = std::time::Instant::now();
        if let Some(projection) = self.engine.store.projection() {
            if let Err(behind) = projection.fresh().await {
                eprintln!("actor: {behind}");
            }
        }
        Some(started.elapsed())
    }

    async fn verify(&self) -> anyhow::Result<Verification> {
        self.engine.lanes.flush().await.context("flushing the journal")?;
        self.passivate_all().await;
        let store = self.engine.store.as_ref();
        let audit = crate::audit::audit(store).await?;
        anyhow::ensure!(audit.is_clean(), "the audit found violations:\n{audit}");
        let data = store.audit_data().await?;
        let paid: Vec<_> = data.orders.iter().filter(|o| o.state == OrderState::Paid).collect();
        let mut balances = Decimal::ZERO;
        let mut negative = 0;
        for (_, balance) in &data.customers {
            let balance = Decimal::from_str(balance).context("a stored balance")?;
            negative += u64::from(balance.is_sign_negative() && !balance.is_zero());
            balances += balance;
        }
        let revenue: Decimal = paid.iter().map(|o| o.total.amount()).sum();
        let oversold = data.products.iter().map(|p| (p.sold - p.received).max(0) as u64).sum();
        Ok(Verification {
            sold: paid.len() as u64,
            oversold,
            negative_wallets: negative,
            money_now: balances + revenue,
            duplicate_deliveries: self
                .items
                .then(|| data.items_sold_twice.iter().map(|(_, _, n)| (*n - 1) as u64).sum()),
        })
    }

    fn notes(&self) -> Vec<String> {
        let (batches, events, micros) = journal_figures(&self.engine);
        let (batches, events, micros) =
            (batches - self.journal_before.0, events - self.journal_before.1, micros - self.journal_before.2);
        if batches == 0 {
            return Vec::new();
        }
        let lanes = match self.engine.lanes.count() {
            1 => String::new(),
            count => format!(", {count} lanes"),
        };
        let journal = format!(
            "journal ({:?}{lanes}): {batches} batches, {:.1} rows per batch, {:.2} ms per commit on average",
            self.engine.settings.database.journal,
            events as f64 / batches as f64,
            micros as f64 / batches as f64 / 1000.0
        );
        let failures = self.failures.lock().expect("failures lock");
        let failed =
            failures.iter().map(|(kind, (n, first))| format!("{n} attempts failed ({kind}), the first: {first}"));
        std::iter::once(journal)
            .chain(self.alternation.as_ref().and_then(|a| a.note()))
            .chain(self.memory_note())
            .chain(failed)
            .collect()
    }

    async fn finish(&self) {
        if let Err(error) = self.engine.shutdown().await {
            eprintln!("actor: the journal's last flush failed: {error}");
        }
        eprintln!(
            "actor: the engine's database {} is kept; `warung audit --database-url ...` checks it again",
            self.database
        );
    }
}

#[cfg(test)]
mod tests {
    use warung_actors::domain::OrderId;

    use super::*;

    #[test]
    fn failed_attempts_are_counted_by_kind_not_by_the_order_they_name() {
        let first = CheckoutError::EarlierPurchaseUnsettled { order: OrderId::generate() };
        let second = CheckoutError::EarlierPurchaseUnsettled { order: OrderId::generate() };
        assert_ne!(first.to_string(), second.to_string());
        assert_eq!(failure_kind(&first), "EarlierPurchaseUnsettled");
        assert_eq!(failure_kind(&second), "EarlierPurchaseUnsettled");
        assert_eq!(failure_kind(&CheckoutError::Unavailable(CallError::Busy)), "Unavailable::Busy");
        assert_eq!(failure_kind(&CheckoutError::ProductNotFound), "ProductNotFound");
    }
}
