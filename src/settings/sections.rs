//! The settings' sections, each with its defaults: `warung.toml.example` shows the same values,
//! and a test keeps the two equal.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};
use warung_actors::journal::JournalSettings;

use crate::store::log::limits::ProjectionLimits;

use super::{Secret, SecretUrl};

/// The embedded default store: a SQLite file in the working directory, no server needed.
pub const DATABASE_URL_DEFAULT: &str = "sqlite://warung.db";

/// How long an order may wait for an external payment before its stock goes back on sale.
pub const PAYMENT_TTL_SECS_DEFAULT: u64 = 15 * 60;

/// How long an order paid by bank transfer waits for the owner to confirm it: a person checks the
/// bank, so hours rather than minutes.
pub const TRANSFER_TTL_SECS_DEFAULT: u64 = 2 * 3_600;

/// How long a saldo purchase holds its stock between steps; after this, a purchase cut short
/// by a crash gives its stock back by itself even before recovery runs.
pub const SALDO_RESERVATION_TTL_SECS_DEFAULT: u64 = 120;

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct DatabaseSettings {
    /// `postgres://...` selects Postgres; `sqlite://file` (or a bare path) selects SQLite.
    pub url: SecretUrl,
    pub max_connections: u32,
    /// How the journal stores a batch: `log` (each batch is one record appended to a log, the
    /// tables projected from it a few milliseconds later; the default, on Postgres, one node or a
    /// cluster, and on SQLite; docs/journal-log.md) or `tables` (each batch writes the tables).
    pub journal: crate::store::JournalMode,
    /// With the log: the bounds of the tables' lag behind it, and how long the projector may
    /// leave them behind while commits keep coming (`store::log::limits`).
    pub projection_lag_events_max: u64,
    pub projection_lag_ms_max: u64,
    pub projection_defer_ms: u64,
    /// On Postgres: how often the process looks whether it still holds the journal's writer lock,
    /// which a restart of Postgres frees, and takes it again (`store::lone_writer`).
    pub writer_lock_check_ms: u64,
}

impl Default for DatabaseSettings {
    fn default() -> Self {
        let limits = ProjectionLimits::default();
        DatabaseSettings {
            url: SecretUrl::new(DATABASE_URL_DEFAULT),
            max_connections: 16,
            journal: crate::store::JournalMode::default(),
            projection_lag_events_max: limits.lag_events_max,
            projection_lag_ms_max: limits.lag_ms_max,
            projection_defer_ms: limits.defer_ms,
            writer_lock_check_ms: crate::store::WRITER_LOCK_CHECK_MS,
        }
    }
}

impl DatabaseSettings {
    /// The journal's mode and, with the log, its projection's limits.
    pub fn journal_options(&self) -> crate::store::JournalOptions {
        crate::store::JournalOptions {
            mode: self.journal,
            limits: ProjectionLimits {
                lag_events_max: self.projection_lag_events_max,
                lag_ms_max: self.projection_lag_ms_max,
                defer_ms: self.projection_defer_ms,
            },
            writer_lock_check_ms: self.writer_lock_check_ms,
            journals: crate::store::Journals::One,
        }
    }
}

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
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

impl Default for HttpSettings {
    fn default() -> Self {
        HttpSettings {
            bind: "127.0.0.1:8080".to_string(),
            ops_bind: "127.0.0.1:9090".to_string(),
            ops_token: None,
            body_limit_bytes: 256 * 1024,
        }
    }
}

impl HttpSettings {
    /// Whether the ops routes share the public listener (and so need the ops token).
    pub fn ops_shared(&self) -> bool {
        self.ops_bind == self.bind
    }
}

#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct RedisSettings {
    /// Unset: everything in-process. `rediss://` connects over TLS.
    pub url: Option<SecretUrl>,
    /// A PEM file of the certificate authorities to trust for `rediss://` instead of the
    /// system's (a managed Redis with its own CA, or a self-signed one).
    pub ca_file: Option<PathBuf>,
}

#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct AdminSettings {
    /// Bearer token for `/admin/api`; unset turns the admin API off.
    pub token: Option<Secret>,
}

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct EngineSettings {
    pub mailbox_capacity: usize,
    /// 0 (the default): the actors and the journal on the engine's own thread, beside the flows
    /// that call them; N: the actors spread over N threads and the journal on one more (see
    /// `SupervisorSettings::actor_threads`).
    pub actor_threads: usize,
    /// 1 (the default): one supervisor. N: N supervisors, each with its actors and its journal
    /// on a thread of its own, a customer's wallet and a product each in the lane its id hashes
    /// to (`warung_actors::supervisor::Lanes`). A purchase whose wallet and product are in two
    /// lanes waits for two commits, not one: until a product's stock is shared between lanes
    /// this halves a burst's sales at 64 in flight (docs/journal-log.md). `actor_threads` applies
    /// to each lane.
    pub lanes: usize,
    pub journal_batch_events_max: usize,
    pub journal_batch_window_micros: u64,
    /// Batches of at least this many events are written from the journal's writer thread
    /// (`JournalSettings::writer_thread_events_min`; a number past any batch turns it off).
    pub journal_writer_thread_events_min: usize,
    pub passivate_after_secs: u64,
    pub payment_ttl_secs: u64,
    pub transfer_ttl_secs: u64,
    pub saldo_reservation_ttl_secs: u64,
}

impl Default for EngineSettings {
    fn default() -> Self {
        let journal = JournalSettings::default();
        EngineSettings {
            mailbox_capacity: warung_actors::supervisor::MAILBOX_CAPACITY_DEFAULT,
            actor_threads: 0,
            lanes: 1,
            journal_batch_events_max: journal.batch_events_max,
            journal_batch_window_micros: journal.batch_window.as_micros() as u64,
            journal_writer_thread_events_min: journal.writer_thread_events_min,
            passivate_after_secs: 300,
            payment_ttl_secs: PAYMENT_TTL_SECS_DEFAULT,
            transfer_ttl_secs: TRANSFER_TTL_SECS_DEFAULT,
            saldo_reservation_ttl_secs: SALDO_RESERVATION_TTL_SECS_DEFAULT,
        }
    }
}

/// The WhatsApp Cloud API. With the app secret, access token and phone number id all set the shop
/// talks to Meta; with none, it runs the simulator. Secrets never print (`Secret`).
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
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

impl Default for WhatsAppSettings {
    fn default() -> Self {
        WhatsAppSettings {
            app_secret: None,
            verify_token: None,
            access_token: None,
            phone_number_id: None,
            api_base_url: "https://graph.facebook.com".to_string(),
            api_version: "v24.0".to_string(),
            messages_per_second: 80,
        }
    }
}

impl WhatsAppSettings {
    pub fn is_live(&self) -> bool {
        self.app_secret.is_some() && self.access_token.is_some() && self.phone_number_id.is_some()
    }
}

/// Midtrans Core API (QRIS). With a server key set the shop charges through Midtrans at
/// `api_base_url`; without one it runs the built-in stand-in.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct MidtransSettings {
    pub server_key: Option<Secret>,
    /// `https://api.sandbox.midtrans.com` (the default) or `https://api.midtrans.com`.
    pub api_base_url: String,
    /// Where Midtrans sends notifications for our charges (`X-Override-Notification`); unset,
    /// the dashboard's setting applies.
    pub notification_url: Option<String>,
}

impl Default for MidtransSettings {
    fn default() -> Self {
        MidtransSettings {
            server_key: None,
            api_base_url: "https://api.sandbox.midtrans.com".to_string(),
            notification_url: None,
        }
    }
}

/// The simulator stands in for a provider with no credentials. It never runs beside a live one
/// unless this says so: a live WhatsApp beside a simulated Midtrans would let any customer "pay"
/// with the simulator's button.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct SimulatorSettings {
    /// For development only: one provider live, the other simulated. Even then a simulated
    /// payment is refused for a customer who came through the live WhatsApp.
    pub allow_mixed: bool,
}

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct ShopSettings {
    /// The name the chat greets customers with.
    pub name: String,
    /// Purchases (and top ups) one customer may start per minute; more are refused politely.
    pub purchases_per_minute: u32,
    /// WhatsApp numbers (comma-separated) that run the shop from the chat and get its alerts.
    pub admin_numbers: String,
    /// A product with this many units left or fewer raises a low-stock alert (0: only sold out).
    pub stock_alert_threshold: u32,
    /// The hour (0 to 23, WIB) the admins get the day's summary.
    pub daily_summary_hour: u8,
}

impl Default for ShopSettings {
    fn default() -> Self {
        ShopSettings {
            name: "Warung".to_string(),
            purchases_per_minute: 3,
            admin_numbers: String::new(),
            stock_alert_threshold: 3,
            daily_summary_hour: 21,
        }
    }
}

/// The shop's bank account for manual transfers. Transfer is offered only when all three are set.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct TransferSettings {
    /// The bank's name as customers know it (`BCA`).
    pub bank: Option<String>,
    pub account_number: Option<String>,
    /// The account holder's name, so customers can check before they send.
    pub account_name: Option<String>,
}

impl TransferSettings {
    /// The account, when transfer is offered.
    pub fn account(&self) -> Option<BankAccount> {
        let field = |f: &Option<String>| f.as_deref().map(str::trim).filter(|t| !t.is_empty()).map(str::to_string);
        Some(BankAccount {
            bank: field(&self.bank)?,
            number: field(&self.account_number)?,
            name: field(&self.account_name)?,
        })
    }
}

/// Where customers send a bank transfer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BankAccount {
    pub bank: String,
    pub number: String,
    pub name: String,
}

/// The watch that alerts the admins (stock, orders in review, the store, Midtrans...).
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct AlertsSettings {
    /// Seconds between the watch's looks (0: no watch, no alerts and no daily summary).
    pub watch_every_secs: u64,
}

impl Default for AlertsSettings {
    fn default() -> Self {
        AlertsSettings { watch_every_secs: 15 }
    }
}

/// The audit `serve` runs on its own; a failing one alerts the admins.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct AuditSettings {
    /// Hours between audits (0: none scheduled; `warung audit` still runs one by hand).
    pub every_hours: u64,
}

impl Default for AuditSettings {
    fn default() -> Self {
        AuditSettings { every_hours: 24 }
    }
}

/// Scheduled backups from `serve` (`warung backup` takes one by hand).
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct BackupSettings {
    /// Where scheduled backups go; unset: no schedule.
    pub dir: Option<PathBuf>,
    pub every_hours: u64,
    /// Backups kept in `dir`; older ones are removed after each new one.
    pub keep: usize,
}

impl Default for BackupSettings {
    fn default() -> Self {
        BackupSettings { dir: None, every_hours: 24, keep: 7 }
    }
}

#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct LogSettings {
    /// `text` (the default) or `json`.
    pub format: LogFormat,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    #[default]
    Text,
    Json,
}
