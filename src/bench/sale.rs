//! The flash sale every strategy runs: the strategies, the stop, the products and the buyers'
//! wallets, checked before anything runs.

use rust_decimal::Decimal;
use serde::Serialize;

/// Buyers the wallets are made for when the run is timed (`--duration`): each may try again.
pub const TIMED_BUYERS_DEFAULT: u64 = 100_000;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Strategy {
    /// The engine on Postgres.
    Actor,
    /// The engine on SQLite, the embedded default.
    ActorSqlite,
    PgRowLock,
    PgAtomic,
    /// One SQLite transaction per purchase: the embedded default's lock-based peer.
    SqliteTx,
    /// Redis without a disk.
    RedisLua,
    /// Redis answering only after its log is fsynced (`appendfsync always`): the durable peer.
    RedisLuaFsync,
}

impl Strategy {
    pub const ALL: [Strategy; 7] = [
        Strategy::Actor,
        Strategy::ActorSqlite,
        Strategy::PgRowLock,
        Strategy::PgAtomic,
        Strategy::SqliteTx,
        Strategy::RedisLua,
        Strategy::RedisLuaFsync,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Strategy::Actor => "actor",
            Strategy::ActorSqlite => "actor-sqlite",
            Strategy::PgRowLock => "pg-row-lock",
            Strategy::PgAtomic => "pg-atomic",
            Strategy::SqliteTx => "sqlite-tx",
            Strategy::RedisLua => "redis-lua",
            Strategy::RedisLuaFsync => "redis-lua-fsync",
        }
    }

    /// Whether it sells on the Postgres of `--database-url`.
    pub fn on_postgres(self) -> bool {
        match self {
            Strategy::Actor | Strategy::PgRowLock | Strategy::PgAtomic => true,
            Strategy::ActorSqlite | Strategy::SqliteTx | Strategy::RedisLua | Strategy::RedisLuaFsync => false,
        }
    }

    /// Whether it sells on a SQLite file in `--sqlite-dir`.
    pub fn on_sqlite(self) -> bool {
        matches!(self, Strategy::ActorSqlite | Strategy::SqliteTx)
    }

    /// `actor,pg-row-lock` or `all`.
    pub fn parse_list(text: &str) -> Result<Vec<Strategy>, String> {
        if text.trim() == "all" {
            return Ok(Strategy::ALL.to_vec());
        }
        let mut strategies = Vec::new();
        for name in text.split(',').map(str::trim).filter(|n| !n.is_empty()) {
            let strategy = Strategy::ALL.into_iter().find(|s| s.name() == name).ok_or_else(|| {
                let names: Vec<&str> = Strategy::ALL.iter().map(|s| s.name()).collect();
                format!("unknown strategy {name:?}: use {} or all", names.join(", "))
            })?;
            if !strategies.contains(&strategy) {
                strategies.push(strategy);
            }
        }
        if strategies.is_empty() {
            return Err("no strategy named".into());
        }
        Ok(strategies)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Stop {
    /// After this many purchase attempts (each by a different buyer).
    Buyers(u64),
    /// After this many seconds, as pgbench -T.
    Seconds(u64),
}

#[derive(Clone, Debug, Serialize)]
pub struct FlashSale {
    pub strategies: Vec<Strategy>,
    pub stop: Stop,
    /// Units of stock per product.
    pub stock: u64,
    pub products: u32,
    pub concurrency: usize,
    /// Price in whole rupiah.
    pub price: u64,
    /// Share of buyers whose wallet holds the price; the others hold half of it.
    pub funded_fraction: f64,
    /// Purchases a funded buyer's wallet pays for (`--purchases-per-buyer`).
    pub purchases_per_buyer: u64,
    /// Whether the engine's journal runs with the cluster's fence, as one node of a cluster would
    /// (without the rest of the cluster): what the fence costs, alone.
    pub fence: FenceMode,
    /// How the engine on Postgres (`actor`) stores its journal.
    pub journal: crate::store::JournalMode,
    #[serde(skip)]
    pub database_url: String,
    #[serde(skip)]
    pub redis_url: String,
    /// The Redis of `redis-lua-fsync`, which must log every write and fsync before answering.
    #[serde(skip)]
    pub redis_fsync_url: String,
    /// Where the SQLite strategies keep their database files.
    #[serde(skip)]
    pub sqlite_dir: std::path::PathBuf,
}

/// The engine's fence in the lab (`--fence`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum FenceMode {
    /// One node, as without a cluster.
    #[default]
    Off,
    /// Every batch fenced.
    On,
    /// Fenced and not in turns (`FENCE_ALTERNATE_MS` each) within the run: the two are compared
    /// under the same conditions, so the host's drift from run to run cannot hide the cost.
    Alternate,
}

impl FlashSale {
    /// Buyers with a wallet: every attempt's buyer, or a pool the timed run cycles through.
    pub fn buyers(&self) -> u64 {
        match self.stop {
            Stop::Buyers(n) => n,
            Stop::Seconds(_) => TIMED_BUYERS_DEFAULT,
        }
    }

    /// Whether buyer `b` can pay: spread evenly, so any prefix of buyers has the same share.
    pub fn funded(&self, buyer: u64) -> bool {
        let per_thousand = (self.funded_fraction.clamp(0.0, 1.0) * 1000.0).round() as u64;
        (buyer * 7919) % 1000 < per_thousand
    }

    /// Whole rupiah in buyer `b`'s wallet at the start.
    pub fn wallet(&self, buyer: u64) -> u64 {
        if self.funded(buyer) {
            self.funded_wallet()
        } else {
            self.unfunded_wallet()
        }
    }

    /// What a buyer who can pay holds: `purchases_per_buyer` prices.
    pub fn funded_wallet(&self) -> u64 {
        self.price * self.purchases_per_buyer
    }

    /// What a buyer who cannot pay holds: half the price.
    pub fn unfunded_wallet(&self) -> u64 {
        self.price / 2
    }

    pub fn money_in(&self) -> Decimal {
        (0..self.buyers()).map(|b| Decimal::from(self.wallet(b))).sum()
    }

    pub fn check(&self) -> Result<(), String> {
        let mut problems = Vec::new();
        if self.stock == 0 || self.products == 0 || self.concurrency == 0 || self.price < 2 {
            problems.push("--stock, --products and --concurrency must be positive, --price at least 2".to_string());
        }
        match self.stop {
            Stop::Buyers(0) | Stop::Seconds(0) => problems.push("--buyers or --duration must be positive".into()),
            _ => {}
        }
        if self.purchases_per_buyer == 0 || self.price.checked_mul(self.purchases_per_buyer).is_none() {
            problems.push("--purchases-per-buyer must be positive, and times --price fit in 64 bits".into());
        }
        if !(0.0..=1.0).contains(&self.funded_fraction) {
            problems.push("--funded-fraction must be between 0 and 1".into());
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(problems.join("; "))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sale(fraction: f64) -> FlashSale {
        FlashSale {
            strategies: Strategy::ALL.to_vec(),
            stop: Stop::Buyers(1000),
            stock: 10,
            products: 1,
            concurrency: 4,
            price: 10_000,
            funded_fraction: fraction,
            purchases_per_buyer: 1,
            fence: FenceMode::Off,
            journal: crate::store::JournalMode::Tables,
            database_url: String::new(),
            redis_url: String::new(),
            redis_fsync_url: String::new(),
            sqlite_dir: std::path::PathBuf::new(),
        }
    }

    #[test]
    fn the_funded_share_is_what_was_asked_and_the_rest_hold_half() {
        let s = sale(0.8);
        let funded = (0..1000).filter(|b| s.funded(*b)).count();
        assert_eq!(funded, 800);
        assert_eq!(s.wallet((0..1000).find(|b| !s.funded(*b)).unwrap()), 5_000);
        assert_eq!(s.money_in(), Decimal::from(800 * 10_000 + 200 * 5_000));
    }

    #[test]
    fn a_funded_wallet_pays_for_the_purchases_per_buyer_asked() {
        let s = FlashSale { purchases_per_buyer: 20, ..sale(0.8) };
        assert_eq!(s.wallet((0..1000).find(|b| s.funded(*b)).unwrap()), 200_000);
        assert_eq!(s.wallet((0..1000).find(|b| !s.funded(*b)).unwrap()), 5_000);
        assert_eq!(s.money_in(), Decimal::from(800 * 200_000 + 200 * 5_000));
        assert!(FlashSale { purchases_per_buyer: 0, ..sale(0.8) }.check().is_err());
        assert!(FlashSale { purchases_per_buyer: u64::MAX, ..sale(0.8) }.check().is_err());
    }

    #[test]
    fn strategies_are_named_in_a_list_or_all() {
        assert_eq!(Strategy::parse_list("all").unwrap(), Strategy::ALL.to_vec());
        assert_eq!(Strategy::parse_list("redis-lua, actor").unwrap(), vec![Strategy::RedisLua, Strategy::Actor]);
        assert!(Strategy::parse_list("mysql").is_err());
    }
}
