//! Fresh stores and engines for tests: every test gets its own Postgres database or SQLite file.

use std::sync::Arc;

use rand::Rng;
use warung::checkout::CheckoutError;
use warung::engine::Engine;
use warung::flows::service::Gateway;
use warung::settings::Settings;
use warung::startup::Application;
use warung::store::{self, JournalMode, Store};
use warung_actors::domain::{ItemSecret, Money, ProductCode, Reference};
use warung_actors::journal::StockKind;
use warung_actors::product::Restock;
use warung_actors::runtime::CallError;

/// The machine's Postgres, with trust auth; each test creates its own database on it.
pub const POSTGRES_ADMIN_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";

pub const ADMIN_TOKEN: &str = "test-admin-token-0123456789";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Postgres,
    Sqlite,
    /// Postgres with the journal's log (`database.journal = "log"`): the tables projected.
    PostgresLog,
    /// SQLite with the journal's log.
    SqliteLog,
}

/// A fresh, empty database, dropped (Postgres) or deleted (SQLite) when the value goes, also when
/// its test fails; `remove` drops it at a chosen point.
pub struct TestDb {
    pub url: String,
    pub name: String,
    /// How an engine on this database stores its journal.
    pub journal: JournalMode,
    _dir: Option<tempfile::TempDir>,
    removed: bool,
}

impl TestDb {
    /// A fresh database on `backend`; tests that need no engine of their own (the binary runs
    /// on it) or set something up in front of one start here.
    pub async fn new(backend: Backend) -> TestDb {
        // Every test builds HTTP clients, and reqwest has no TLS provider of its own here.
        warung::infra::install_tls_provider();
        let name = format!("warung_t_{:012x}", rand::rng().random::<u64>() & 0xffff_ffff_ffff);
        match backend {
            Backend::Postgres | Backend::PostgresLog => {
                let admin =
                    sqlx::PgPool::connect(POSTGRES_ADMIN_URL).await.expect("Postgres on 127.0.0.1:5432 (see README)");
                sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}"))).execute(&admin).await.unwrap();
                admin.close().await;
                let journal = if backend == Backend::PostgresLog { JournalMode::Log } else { JournalMode::Tables };
                let url = format!("postgres://postgres@127.0.0.1:5432/{name}");
                TestDb { url, name, journal, _dir: None, removed: false }
            }
            Backend::Sqlite | Backend::SqliteLog => {
                let dir = tempfile::tempdir().unwrap();
                let url = format!("sqlite://{}", dir.path().join("warung.db").display());
                let journal = if backend == Backend::SqliteLog { JournalMode::Log } else { JournalMode::Tables };
                TestDb { url, name, journal, _dir: Some(dir), removed: false }
            }
        }
    }

    /// Whether the database is on Postgres (else an SQLite file).
    pub fn is_postgres(&self) -> bool {
        self._dir.is_none()
    }

    /// Drops the database now, rather than when the value goes.
    pub async fn remove(mut self) {
        if self.is_postgres() {
            drop_database(&self.name).await;
        }
        self.removed = true;
    }

    /// The end of a test whose engine has stopped: the database passes the audit, then goes.
    pub async fn finish(self) {
        let store = self.store().await;
        assert_audit_clean(store.as_ref()).await;
        store.close().await;
        self.remove().await;
    }

    /// A store of its own on the database, migrated, to read it (a database on the log has one
    /// writer, the engine under test: this store reads the tables).
    pub async fn store(&self) -> Arc<dyn Store> {
        let store = store::connect(&self.url, 4).await.unwrap();
        store.migrate().await.unwrap();
        store
    }

    /// A store as a cluster's node opens it, with the database's journal (on the log, the nodes
    /// share it), migrated.
    pub async fn node_store(&self) -> Arc<dyn Store> {
        let store = store::connect_with(&self.url, 4, self.journal, store::Writers::ClusterNodes).await.unwrap();
        store.migrate().await.unwrap();
        store
    }
}

impl Drop for TestDb {
    /// A test that failed (or forgot `remove`) still leaves no database behind. Drop cannot
    /// await, and the test's runtime may be the one unwinding: a thread of its own does it.
    fn drop(&mut self) {
        if self.removed || !self.is_postgres() {
            return;
        }
        let name = self.name.clone();
        let _ = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a runtime");
            runtime.block_on(drop_database(&name));
        })
        .join();
    }
}

async fn drop_database(name: &str) {
    if let Ok(admin) = sqlx::PgPool::connect(POSTGRES_ADMIN_URL).await {
        let _ = sqlx::query(sqlx::AssertSqlSafe(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")))
            .execute(&admin)
            .await;
        admin.close().await;
    }
}

/// The tests' settings on the database at `url`: simulated providers, the admin token, few
/// connections.
pub fn settings(url: &str) -> Settings {
    let mut settings = Settings::default();
    settings.database.url = url.into();
    settings.admin.token = Some(ADMIN_TOKEN.into());
    // Many engines run at once in this test binary; Postgres allows 100 connections in all.
    settings.database.max_connections = 4;
    // `WARUNG_TEST_LANES=N` runs every test's engine in N lanes (`engine.lanes`): a check, run by
    // hand, that every flow holds when its wallet and product are in two lanes.
    if let Ok(lanes) = std::env::var("WARUNG_TEST_LANES") {
        settings.engine.lanes = lanes.parse().expect("WARUNG_TEST_LANES is a number of lanes");
    }
    settings
}

/// An engine on a fresh database of its own: `finish` audits the store, stops the engine and
/// drops the database (a failed test drops it too). It reads as the engine it holds.
pub struct TestEngine {
    pub engine: Engine,
    pub db: TestDb,
}

impl TestEngine {
    /// An engine with the tests' settings on a fresh database.
    pub async fn start(backend: Backend) -> TestEngine {
        TestEngine::start_with(backend, |_| {}).await
    }

    /// An engine on a fresh database, with the tests' settings changed by `tweak`.
    pub async fn start_with(backend: Backend, tweak: impl FnOnce(&mut Settings)) -> TestEngine {
        TestEngine::on(TestDb::new(backend).await, tweak).await
    }

    /// An engine on a database the test set up first (a proxy in front of it, say); the engine
    /// owns the database from now on.
    pub async fn on(db: TestDb, tweak: impl FnOnce(&mut Settings)) -> TestEngine {
        let mut settings = settings(&db.url);
        settings.database.journal = db.journal;
        tweak(&mut settings);
        let engine = warung::startup::start_engine(settings).await.unwrap();
        TestEngine { engine, db }
    }

    /// Stops the engine, its journal flushed, and starts another on the same database with the
    /// same settings: what a restart of the process keeps.
    pub async fn restart(self) -> TestEngine {
        self.engine.shutdown().await.unwrap();
        let engine = warung::startup::start_engine(self.engine.settings.clone()).await.unwrap();
        TestEngine { engine, db: self.db }
    }

    /// Stops the engine, its journal flushed, and hands back its database to look at or change.
    pub async fn stop(self) -> TestDb {
        self.engine.shutdown().await.unwrap();
        self.db
    }

    /// The end of a test: the store passes the audit, the engine stops, the database goes.
    pub async fn finish(self) {
        finish(self.engine, self.db).await;
    }
}

impl std::ops::Deref for TestEngine {
    type Target = Engine;

    fn deref(&self) -> &Engine {
        &self.engine
    }
}

/// The application as the binary builds it (`Application::build_on`, the last step of
/// `Application::build`), on `engine`, served on free local ports: public and ops.
pub struct Served {
    pub address: String,
    pub ops_address: String,
    pub engine: Engine,
    pub gateway: Gateway,
}

/// Builds the application on `engine` as the binary does, and serves it in the background.
pub fn spawn_app(engine: &Engine) -> Served {
    let public = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let ops = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let listeners = warung::http::Listeners { public, ops: Some(ops) };
    let app = Application::build_on(engine.clone(), listeners).unwrap();
    let served = Served {
        address: app.address.clone(),
        ops_address: app.ops_address.clone().expect("an ops listener"),
        engine: app.engine.clone(),
        gateway: app.gateway.clone(),
    };
    // Stopped with the test; the test's `finish` flushes the journal.
    app.spawn();
    served
}

/// Serves `engine` over HTTP on a free local port; returns its base address.
pub fn serve(engine: &Engine) -> String {
    spawn_app(engine).address
}

pub fn code(s: &str) -> ProductCode {
    ProductCode::parse(s).unwrap()
}

pub fn customer(s: &str) -> warung_actors::domain::CustomerId {
    warung_actors::domain::CustomerId::parse(s).unwrap()
}

pub fn reference(s: &str) -> Reference {
    Reference::parse(s).unwrap()
}

/// Creates a product with `items` deliverable items named `<code>-item-<n>`.
pub async fn product_with_items(engine: &Engine, name: &str, price: u64, items: usize) -> ProductCode {
    let product = code(name);
    assert!(engine.catalog.create(&product, name, Money::rupiah(price), StockKind::Items).await.unwrap());
    if items > 0 {
        let secrets = (0..items).map(|i| ItemSecret::parse(&format!("{name}-item-{i}")).unwrap()).collect();
        // As an owner restocks: with several lanes, the stock is then spread over the shares.
        let stock = Restock::Items(secrets);
        engine.catalog.restock(&product, reference(&format!("stock-{name}")), stock, "test").await.unwrap().unwrap();
    }
    product
}

/// Tops up `who`'s wallet with `amount`, by a payment named after both: the same call again is
/// credited once.
pub async fn fund(engine: &Engine, who: &str, amount: u64) {
    let (buyer, payment) = (customer(who), reference(&format!("fund-{who}-{amount}")));
    retry_busy(|| engine.checkout.top_up(&buyer, &payment, Money::rupiah(amount)))
        .await
        .unwrap_or_else(|error| panic!("funding {who}: {error}"));
}

/// Funds every named wallet with `amount`, 256 at a time.
pub async fn fund_all(engine: &Engine, names: &[String], amount: u64) {
    use futures::StreamExt;
    futures::stream::iter(names.iter().map(|name| fund(engine, name, amount)))
        .buffer_unordered(256)
        .collect::<Vec<_>>()
        .await;
}

/// Every named customer buys one unit of `product` with saldo, all at once, in the background.
pub fn spawn_hot_load(engine: &Engine, product: &ProductCode, names: Vec<String>) -> actix_rt::task::JoinHandle<()> {
    use futures::StreamExt;
    let (engine, product) = (engine.clone(), product.clone());
    actix_rt::spawn(async move {
        let in_flight = names.len().max(1);
        let buys = names.into_iter().map(|name| {
            let (engine, product) = (engine.clone(), product.clone());
            async move {
                let who = customer(&name);
                retry_busy(|| engine.checkout.buy_with_saldo(&who, &product, 1)).await.unwrap();
            }
        });
        futures::stream::iter(buys).buffer_unordered(in_flight).collect::<Vec<_>>().await;
    })
}

/// Retries a call the engine answered with "busy" or "store unavailable": both promise nothing
/// and ask the client to try again, which is what a real client does under a flash sale.
pub async fn retry_busy<T, F, Fut>(mut call: F) -> Result<T, CheckoutError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, CheckoutError>>,
{
    const ATTEMPTS_MAX: usize = 200;
    let mut attempts = 0;
    loop {
        attempts += 1;
        match call().await {
            Err(CheckoutError::Unavailable(CallError::Busy | CallError::StoreUnavailable { .. }))
                if attempts < ATTEMPTS_MAX =>
            {
                tokio::time::sleep(std::time::Duration::from_millis(5)).await
            }
            other => return other,
        }
    }
}

/// The end of a test: the store passes the audit, the engine stops, the database goes.
pub async fn finish(engine: Engine, db: TestDb) {
    assert_audit_clean(engine.store.as_ref()).await;
    engine.shutdown().await.unwrap();
    db.remove().await;
}

/// The audit finds nothing wrong in `store`.
pub async fn assert_audit_clean(store: &dyn Store) {
    let report = warung::audit::audit(store).await.unwrap();
    assert!(report.is_clean(), "{report}");
}

/// Declares one test per backend and journal from one async body taking a `Backend`.
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[actix_rt::test]
            async fn on_postgres() {
                super::$name(crate::helpers::Backend::Postgres).await
            }

            #[actix_rt::test]
            async fn on_sqlite() {
                super::$name(crate::helpers::Backend::Sqlite).await
            }

            #[actix_rt::test]
            async fn on_postgres_log() {
                super::$name(crate::helpers::Backend::PostgresLog).await
            }

            #[actix_rt::test]
            async fn on_sqlite_log() {
                super::$name(crate::helpers::Backend::SqliteLog).await
            }
        }
    )*};
}
pub(crate) use on_both_backends;

/// Terminates every connection to `database`, as a restart of the server would; returns how many.
pub async fn cut_every_connection(database: &str) -> usize {
    let admin = sqlx::PgPool::connect(POSTGRES_ADMIN_URL).await.unwrap();
    let cut = cut_every_connection_by(&admin, database).await;
    admin.close().await;
    cut
}

/// As `cut_every_connection`, through an admin pool the caller keeps (a new connection for each
/// cut is slow on a busy machine).
pub async fn cut_every_connection_by(admin: &sqlx::PgPool, database: &str) -> usize {
    let cut: Vec<(bool,)> = sqlx::query_as(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()",
    )
    .bind(database)
    .fetch_all(admin)
    .await
    .unwrap();
    cut.len()
}

/// Serves `engine` on a public and an ops listener, on free local ports; returns both addresses.
pub fn serve_both(engine: &Engine) -> (String, String) {
    let served = spawn_app(engine);
    (served.address, served.ops_address)
}

/// The ops listener's address of an engine served as `serve_both` does.
pub fn serve_ops(engine: &Engine) -> String {
    serve_both(engine).1
}

/// Waits until the server at `base` answers `/ready` (a process just started), at most a minute.
pub async fn wait_ready(client: &reqwest::Client, base: &str) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while std::time::Instant::now() < deadline {
        if let Ok(r) = client.get(format!("{base}/ready")).send().await {
            if r.status().is_success() {
                return;
            }
        }
        // Polling another process until it listens: no event to await.
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("the server at {base} did not become ready");
}

/// POSTs `body` to the admin API at `url` with the tests' token: the status and the JSON answer.
pub async fn admin_post(
    client: &reqwest::Client,
    url: String,
    body: serde_json::Value,
) -> Result<(u16, serde_json::Value), reqwest::Error> {
    let response = client.post(url).bearer_auth(ADMIN_TOKEN).json(&body).send().await?;
    let status = response.status().as_u16();
    Ok((status, response.json().await.unwrap_or(serde_json::Value::Null)))
}
