//! Typed settings: the defaults in `sections.rs`, then a TOML file (`--config FILE` or
//! `WARUNG_CONFIG`, else `./warung.toml` when present), then `WARUNG_` environment variables with
//! `__` between levels (`WARUNG_DATABASE__URL`), then the command line. Validated once, at
//! startup, with one clear message per bad value. `warung.toml.example` documents every setting.
//!
//! Values arrive exactly as written: an environment variable is text, and text becomes a number
//! or a boolean only where the field is one (`0000111122223333` stays that admin token, `True`
//! stays that shop name). An unknown key is refused, so a typo is not silently ignored.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use warung_actors::journal::JournalSettings;
use warung_actors::supervisor::{RestartBudget, SupervisorSettings};

mod checks;
mod cluster;
pub mod secret;
mod sections;

pub use cluster::ClusterSettings;
pub use secret::{Secret, SecretUrl};
pub use sections::*;

/// The file read when no `--config` is given, if it exists.
pub const CONFIG_FILE_DEFAULT: &str = "warung.toml";

/// The prefix of every setting's environment variable; `__` separates the levels.
pub const ENV_PREFIX: &str = "WARUNG_";

#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct Settings {
    pub database: DatabaseSettings,
    pub http: HttpSettings,
    pub engine: EngineSettings,
    pub redis: RedisSettings,
    pub admin: AdminSettings,
    pub whatsapp: WhatsAppSettings,
    pub midtrans: MidtransSettings,
    pub simulator: SimulatorSettings,
    pub shop: ShopSettings,
    pub log: LogSettings,
    pub cluster: ClusterSettings,
    pub backup: BackupSettings,
    pub transfer: TransferSettings,
    pub audit: AuditSettings,
    pub alerts: AlertsSettings,
}

#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    #[error("could not read settings: {0}")]
    Read(#[from] config::ConfigError),
    #[error("the settings file {0} does not exist (given by --config or WARUNG_CONFIG)")]
    MissingFile(PathBuf),
    #[error("invalid settings:\n{}", .0.join("\n"))]
    Invalid(Vec<String>),
}

/// Where settings come from, in the order they override one another.
#[derive(Clone, Debug, Default)]
pub struct Sources {
    /// A file that must exist (`--config`); `None` reads `./warung.toml` when it exists.
    pub file: Option<PathBuf>,
    /// The process's environment, or a test's.
    pub environment: HashMap<String, String>,
    /// The command line's `--database-url`, which wins over the rest.
    pub database_url: Option<String>,
}

impl Sources {
    /// The given file (if any), this process's environment and the command line's database URL.
    pub fn from_process(file: Option<PathBuf>, database_url: Option<String>) -> Sources {
        Sources { file, environment: std::env::vars().collect(), database_url }
    }
}

impl Settings {
    /// Reads and validates the settings from their sources.
    pub fn load(sources: Sources) -> Result<Settings, SettingsError> {
        let settings = Settings::read(sources)?;
        settings.validate()?;
        Ok(settings)
    }

    /// `./warung.toml` if present and the environment: what a test or tool that takes no
    /// command line wants.
    pub fn from_environment() -> Result<Settings, SettingsError> {
        Settings::load(Sources::from_process(None, None))
    }

    /// One file's settings over the defaults, validated; no environment. For tests and tools.
    pub fn from_file(file: &Path) -> Result<Settings, SettingsError> {
        Settings::load(Sources { file: Some(file.to_path_buf()), ..Sources::default() })
    }

    /// The settings as the sources give them, before validation.
    pub fn read(sources: Sources) -> Result<Settings, SettingsError> {
        let file = match sources.file {
            Some(file) if !file.exists() => return Err(SettingsError::MissingFile(file)),
            Some(file) => config::File::from(file.as_path()).required(true),
            None => config::File::from(Path::new(CONFIG_FILE_DEFAULT)).required(false),
        };
        let settings = config::Config::builder()
            .add_source(file.format(config::FileFormat::Toml))
            .add_source(
                config::Environment::with_prefix(ENV_PREFIX.trim_end_matches('_'))
                    .prefix_separator("_")
                    .separator("__")
                    .source(Some(setting_variables(sources.environment))),
            )
            .set_override_option("database.url", sources.database_url)?
            .build()?
            .try_deserialize()?;
        Ok(settings)
    }

    pub fn supervisor(&self) -> SupervisorSettings {
        let defaults = SupervisorSettings::default();
        SupervisorSettings {
            mailbox_capacity: self.engine.mailbox_capacity,
            actor_threads: self.engine.actor_threads,
            passivate_after: Duration::from_secs(self.engine.passivate_after_secs),
            passivation_sweep_every: defaults.passivation_sweep_every,
            restart_budget: RestartBudget { ..defaults.restart_budget },
            journal: JournalSettings {
                batch_events_max: self.engine.journal_batch_events_max,
                batch_window: Duration::from_micros(self.engine.journal_batch_window_micros),
                writer_thread_events_min: self.engine.journal_writer_thread_events_min,
            },
        }
    }
}

/// The environment variables that name a setting: `WARUNG_<SECTION>__<KEY>`. Others with the
/// prefix (`WARUNG_CONFIG`, the lab's `WARUNG_BENCH_*`) are not settings and are left out, so
/// that an unknown setting can be refused.
fn setting_variables(environment: HashMap<String, String>) -> config::Map<String, String> {
    environment
        .into_iter()
        .filter(|(name, _)| name.strip_prefix(ENV_PREFIX).is_some_and(|rest| rest.contains("__")))
        .collect()
}

/// The environment variable of a setting's dotted key: `database.url` → `WARUNG_DATABASE__URL`.
pub fn env_var(key: &str) -> String {
    format!("{ENV_PREFIX}{}", key.replace('.', "__").to_uppercase())
}

#[cfg(test)]
mod example_tests;
#[cfg(test)]
mod tests;
