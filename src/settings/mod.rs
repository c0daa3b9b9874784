//! Typed settings: defaults here, then an optional `warung.toml`, then `WARUNG_` environment
//! variables with `__` between levels (`WARUNG_DATABASE__URL`). Validated once, at startup, with
//! one clear message per bad value.

use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use serde::Deserialize;
use warung_actors::journal::JournalSettings;
use warung_actors::supervisor::{RestartBudget, SupervisorSettings};

mod cluster;
pub mod secret;

pub use cluster::ClusterSettings;

pub use secret::Secret;

/// The embedded default store: a SQLite file in the working directory, no server needed.
pub const DATABASE_URL_DEFAULT: &str = "sqlite://warung.db";

/// How long an order may wait for an external payment before its stock goes back on sale.
pub const PAYMENT_TTL_SECS_DEFAULT: u64 = 15 * 60;

/// How long a saldo purchase holds its stock between steps; after this, a purchase cut short
/// by a crash gives its stock back by itself even before recovery runs.
pub const SALDO_RESERVATION_TTL_SECS_DEFAULT: u64 = 120;

#[derive(Clone, Debug, Deserialize)]
pub struct Settings {
    pub database: DatabaseSettings,
    pub http: HttpSettings,
    pub engine: EngineSettings,
    #[serde(default)]
    pub redis: RedisSettings,
    #[serde(default)]
    pub admin: AdminSettings,
    pub whatsapp: WhatsAppSettings,
    pub midtrans: MidtransSettings,
    #[serde(default)]
    pub simulator: SimulatorSettings,
    pub shop: ShopSettings,
    pub log: LogSettings,
    #[serde(default)]
    pub cluster: ClusterSettings,
}

#[derive(Clone, Debug, Deserialize)]
pub struct LogSettings {
    /// `text` (the default) or `json`.
    pub format: LogFormat,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Text,
    Json,
}

/// Midtrans Core API (QRIS). With a server key set the shop charges through Midtrans at
/// `api_base_url`; without one it runs the built-in stand-in.
#[derive(Clone, Debug, Deserialize)]
pub struct MidtransSettings {
    pub server_key: Option<Secret>,
    /// `https://api.sandbox.midtrans.com` (the default) or `https://api.midtrans.com`.
    pub api_base_url: String,
    /// Where Midtrans sends notifications for our charges (`X-Override-Notification`); unset,
    /// the dashboard's setting applies.
    pub notification_url: Option<String>,
}

/// The simulator stands in for a provider with no credentials. It never runs beside a live one
/// unless this says so: a live WhatsApp beside a simulated Midtrans would let any customer "pay"
/// with the simulator's button.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct SimulatorSettings {
    /// For development only: one provider live, the other simulated. Even then a simulated
    /// payment is refused for a customer who came through the live WhatsApp.
    #[serde(default)]
    pub allow_mixed: bool,
}

#[derive(Clone, Debug, Deserialize)]
pub struct ShopSettings {
    /// The name the chat greets customers with.
    pub name: String,
    /// Purchases (and top ups) one customer may start per minute; more are refused politely.
    pub purchases_per_minute: u32,
}

/// The WhatsApp Cloud API. With the app secret, access token and phone number id all set the shop
/// talks to Meta; with none, it runs the simulator. Secrets never print (`Secret`).
#[derive(Clone, Debug, Deserialize)]
pub struct WhatsAppSettings {
    pub app_secret: Option<Secret>,
    pub verify_token: Option<Secret>,
    pub access_token: Option<Secret>,
    pub phone_number_id: Option<String>,
    pub api_base_url: String,
    pub api_version: String,
    /// Sends per second through the business number (Meta's default throughput is 80).
    pub messages_per_second: u32,
}

impl WhatsAppSettings {
    pub fn is_live(&self) -> bool {
        self.app_secret.is_some() && self.access_token.is_some() && self.phone_number_id.is_some()
    }
}

#[derive(Clone, Debug, Deserialize)]
pub struct DatabaseSettings {
    /// `postgres://...` selects Postgres; `sqlite://file` (or a bare path) selects SQLite.
    pub url: String,
    pub max_connections: u32,
}

#[derive(Clone, Debug, Deserialize)]
pub struct HttpSettings {
    pub bind: String,
    /// Where `/ops`, `/metrics` and the detail of `/ready` are served: an address only operators
    /// reach. The same as `bind` serves them on the public listener, behind `ops_token`.
    pub ops_bind: String,
    /// Bearer token for the ops routes when they share the public listener (16+ characters).
    pub ops_token: Option<Secret>,
    /// Largest request body accepted; larger ones get 413.
    pub body_limit_bytes: usize,
}

impl HttpSettings {
    /// Whether the ops routes share the public listener (and so need the ops token).
    pub fn ops_shared(&self) -> bool {
        self.ops_bind == self.bind
    }
}

#[derive(Clone, Debug, Default, Deserialize)]
pub struct RedisSettings {
    /// Unset: everything in-process.
    pub url: Option<String>,
}

#[derive(Clone, Debug, Default, Deserialize)]
pub struct AdminSettings {
    /// Bearer token for `/admin/api`; unset turns the admin API off.
    pub token: Option<String>,
}

#[derive(Clone, Debug, Deserialize)]
pub struct EngineSettings {
    pub mailbox_capacity: usize,
    /// 0: one per core.
    pub actor_threads: usize,
    pub journal_batch_events_max: usize,
    pub journal_batch_window_micros: u64,
    pub passivate_after_secs: u64,
    pub payment_ttl_secs: u64,
    pub saldo_reservation_ttl_secs: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    #[error("could not read settings: {0}")]
    Read(#[from] config::ConfigError),
    #[error("invalid settings:\n{}", .0.join("\n"))]
    Invalid(Vec<String>),
}

impl Settings {
    /// Reads `warung.toml` from the working directory if present, then the environment.
    pub fn load() -> Result<Settings, SettingsError> {
        Settings::load_from(Path::new("warung.toml"))
    }

    pub fn load_from(file: &Path) -> Result<Settings, SettingsError> {
        Settings::load_from_with_database(file, None)
    }

    /// As `load`, with the database URL a command line gave (`--database-url`), which wins over
    /// the file and the environment, and is validated with the rest.
    pub fn load_with_database(database_url: Option<String>) -> Result<Settings, SettingsError> {
        Settings::load_from_with_database(Path::new("warung.toml"), database_url)
    }

    fn load_from_with_database(file: &Path, database_url: Option<String>) -> Result<Settings, SettingsError> {
        let settings: Settings = config::Config::builder()
            .set_default("database.url", DATABASE_URL_DEFAULT)?
            .set_default("database.max_connections", 16)?
            .set_default("http.bind", "127.0.0.1:8080")?
            .set_default("http.ops_bind", "127.0.0.1:9090")?
            .set_default("http.body_limit_bytes", 256 * 1024)?
            .set_default("engine.mailbox_capacity", warung_actors::supervisor::MAILBOX_CAPACITY_DEFAULT as u64)?
            .set_default("engine.actor_threads", 0)?
            .set_default("engine.journal_batch_events_max", JournalSettings::default().batch_events_max as u64)?
            .set_default(
                "engine.journal_batch_window_micros",
                JournalSettings::default().batch_window.as_micros() as u64,
            )?
            .set_default("engine.passivate_after_secs", 300)?
            .set_default("engine.payment_ttl_secs", PAYMENT_TTL_SECS_DEFAULT)?
            .set_default("engine.saldo_reservation_ttl_secs", SALDO_RESERVATION_TTL_SECS_DEFAULT)?
            .set_default("whatsapp.api_base_url", "https://graph.facebook.com")?
            .set_default("whatsapp.api_version", "v24.0")?
            .set_default("whatsapp.messages_per_second", 80)?
            .set_default("midtrans.api_base_url", "https://api.sandbox.midtrans.com")?
            .set_default("shop.name", "Warung")?
            .set_default("shop.purchases_per_minute", 3)?
            .set_default("log.format", "text")?
            .add_source(config::File::from(file).required(false))
            .add_source(
                config::Environment::with_prefix("WARUNG").prefix_separator("_").separator("__").try_parsing(true),
            )
            .set_override_option("database.url", database_url)?
            .build()?
            .try_deserialize()?;
        settings.validate()?;
        Ok(settings)
    }

    fn validate(&self) -> Result<(), SettingsError> {
        let mut problems = Vec::new();
        self.check_store_and_http(&mut problems);
        self.check_engine_and_admin(&mut problems);
        self.check_providers(&mut problems);
        self.check_shop(&mut problems);
        self.check_cluster(&mut problems);
        if problems.is_empty() {
            Ok(())
        } else {
            Err(SettingsError::Invalid(problems))
        }
    }

    /// The database and the listeners.
    fn check_store_and_http(&self, problems: &mut Vec<String>) {
        if self.database.url.trim().is_empty() {
            problems.push("database.url (WARUNG_DATABASE__URL) must not be empty".to_string());
        }
        if self.database.max_connections == 0 {
            problems.push("database.max_connections must be at least 1".to_string());
        }
        if self.http.bind.parse::<SocketAddr>().is_err() {
            problems.push(format!("http.bind (WARUNG_HTTP__BIND) must be host:port, got {:?}", self.http.bind));
        }
        if self.http.ops_bind.parse::<SocketAddr>().is_err() {
            problems
                .push(format!("http.ops_bind (WARUNG_HTTP__OPS_BIND) must be host:port, got {:?}", self.http.ops_bind));
        }
        if self.http.ops_shared() && self.http.ops_token.as_ref().is_none_or(|t| t.expose().len() < 16) {
            problems.push(
                "http.ops_bind is the public address: the ops routes then need WARUNG_HTTP__OPS_TOKEN (16+ characters), \
                 or serve them on an address of their own (WARUNG_HTTP__OPS_BIND, default 127.0.0.1:9090)"
                    .to_string(),
            );
        }
        if self.http.body_limit_bytes == 0 {
            problems.push("http.body_limit_bytes must be positive".to_string());
        }
    }

    /// The engine's limits and the admin token.
    fn check_engine_and_admin(&self, problems: &mut Vec<String>) {
        if self.engine.mailbox_capacity == 0 {
            problems.push("engine.mailbox_capacity must be positive".to_string());
        }
        if self.engine.journal_batch_events_max == 0 {
            problems.push("engine.journal_batch_events_max must be positive".to_string());
        }
        if self.engine.payment_ttl_secs == 0 || self.engine.saldo_reservation_ttl_secs == 0 {
            problems.push("engine.payment_ttl_secs and engine.saldo_reservation_ttl_secs must be positive".to_string());
        }
        if let Some(token) = &self.admin.token {
            if token.len() < 16 {
                problems.push("admin.token (WARUNG_ADMIN__TOKEN) must be at least 16 characters".to_string());
            }
        }
    }

    /// WhatsApp and Midtrans: all credentials or none, and both live or both simulated.
    fn check_providers(&self, problems: &mut Vec<String>) {
        let whatsapp = &self.whatsapp;
        let credentials =
            [whatsapp.app_secret.is_some(), whatsapp.access_token.is_some(), whatsapp.phone_number_id.is_some()];
        if credentials.contains(&true) && credentials.contains(&false) {
            problems.push(
                "whatsapp: set all of WARUNG_WHATSAPP__APP_SECRET, WARUNG_WHATSAPP__ACCESS_TOKEN and \
                 WARUNG_WHATSAPP__PHONE_NUMBER_ID to talk to Meta, or none of them for the simulator"
                    .to_string(),
            );
        }
        if [&whatsapp.app_secret, &whatsapp.verify_token, &whatsapp.access_token]
            .iter()
            .any(|s| s.as_ref().is_some_and(|s| s.expose().is_empty()))
        {
            problems.push("whatsapp: a secret that is set must not be empty".to_string());
        }
        if !whatsapp.api_base_url.starts_with("http://") && !whatsapp.api_base_url.starts_with("https://") {
            problems.push(format!(
                "whatsapp.api_base_url (WARUNG_WHATSAPP__API_BASE_URL) must be an http(s) URL, got {:?}",
                whatsapp.api_base_url
            ));
        }
        if whatsapp.messages_per_second == 0 {
            problems.push("whatsapp.messages_per_second must be positive".to_string());
        }
        let midtrans = &self.midtrans;
        if midtrans.server_key.as_ref().is_some_and(|s| s.expose().is_empty()) {
            problems.push("midtrans.server_key (WARUNG_MIDTRANS__SERVER_KEY) must not be empty when set".to_string());
        }
        for (name, url) in
            [("api_base_url", Some(&midtrans.api_base_url)), ("notification_url", midtrans.notification_url.as_ref())]
        {
            if let Some(url) = url {
                if !url.starts_with("http://") && !url.starts_with("https://") {
                    problems.push(format!("midtrans.{name} must be an http(s) URL, got {url:?}"));
                }
            }
        }
        if whatsapp.is_live() != midtrans.server_key.is_some() && !self.simulator.allow_mixed {
            let (live, simulated) =
                if whatsapp.is_live() { ("WhatsApp", "Midtrans") } else { ("Midtrans", "WhatsApp") };
            problems.push(format!(
                "{live} is live but {simulated} would run simulated: set {simulated}'s credentials too, or none of \
                 either. The simulator never runs beside a live provider (its pay button would hand out goods for \
                 free); for development only, WARUNG_SIMULATOR__ALLOW_MIXED=true allows it"
            ));
        }
    }

    /// The shop's own settings.
    fn check_shop(&self, problems: &mut Vec<String>) {
        if self.shop.purchases_per_minute == 0 {
            problems.push("shop.purchases_per_minute (WARUNG_SHOP__PURCHASES_PER_MINUTE) must be positive".to_string());
        }
        if self.shop.name.trim().is_empty() {
            problems.push("shop.name (WARUNG_SHOP__NAME) must not be empty".to_string());
        }
    }

    pub fn supervisor(&self) -> SupervisorSettings {
        let defaults = SupervisorSettings::default();
        SupervisorSettings {
            mailbox_capacity: self.engine.mailbox_capacity,
            actor_threads: if self.engine.actor_threads == 0 {
                defaults.actor_threads
            } else {
                self.engine.actor_threads
            },
            passivate_after: Duration::from_secs(self.engine.passivate_after_secs),
            passivation_sweep_every: defaults.passivation_sweep_every,
            restart_budget: RestartBudget { ..defaults.restart_budget },
            journal: JournalSettings {
                batch_events_max: self.engine.journal_batch_events_max,
                batch_window: Duration::from_micros(self.engine.journal_batch_window_micros),
            },
        }
    }
}

#[cfg(test)]
mod tests;
