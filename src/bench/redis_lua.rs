//! The Redis design: one Lua script checks the stock and the wallet, decrements, debits and
//! appends the order, atomically in Redis. Amounts are whole rupiah (Redis counts integers).
//!
//! - `redis-lua`: Redis with nothing on disk. Fast, and not durable: a crash loses every purchase.
//! - `redis-lua-fsync`: the same script on a Redis that appends every write to its log and fsyncs
//!   it before answering (`appendonly yes`, `appendfsync always`; Redis fsyncs once per turn of
//!   its event loop, so the clients of one turn share it: group commit). The durable peer. The
//!   lab asks the server (`CONFIG GET`) and reports the strategy not durable, loudly, if it is not
//!   so configured.

use std::collections::HashMap;

use anyhow::Context;
use async_trait::async_trait;
use rust_decimal::Decimal;

use super::sale::FlashSale;
use super::{Attempt, Contender, Verification};

/// Keys written or read per round trip while preparing and checking.
const KEYS_PER_CALL: u64 = 1_000;

/// Orders read back per round trip while checking: a long run sells millions, which in one reply
/// outlast the connection's response timeout.
const ORDERS_PER_CALL: usize = 50_000;

const PURCHASE: &str = r#"
local stock = tonumber(redis.call('GET', KEYS[1]))
if stock == nil or stock < 1 then return -1 end
local balance = tonumber(redis.call('GET', KEYS[2]))
local price = tonumber(ARGV[1])
if balance == nil or balance < price then return -2 end
local left = redis.call('DECR', KEYS[1])
redis.call('DECRBY', KEYS[2], price)
redis.call('RPUSH', KEYS[3], ARGV[2] .. ':' .. left)
return left
"#;

/// What a Redis keeps of a purchase it has answered.
#[derive(Clone, Debug, PartialEq)]
pub enum Durability {
    /// Nothing on disk: `redis-lua`, by design.
    Memory,
    /// Logged and fsynced before the answer.
    Fsync,
    /// Meant to be `Fsync` and is not: what the server said.
    NotAsConfigured(String),
}

pub struct RedisContender {
    durability: Durability,
    connection: redis::aio::ConnectionManager,
    script: redis::Script,
    prefix: String,
    price: u64,
    buyers: u64,
    products: u32,
    stock: u64,
}

/// `redis-lua` on `--redis-url`, or with `fsync` `redis-lua-fsync` on `--redis-fsync-url`.
pub async fn prepare(sale: &FlashSale, fsync: bool) -> anyhow::Result<RedisContender> {
    let (url, flag) =
        if fsync { (&sale.redis_fsync_url, "--redis-fsync-url") } else { (&sale.redis_url, "--redis-url") };
    let client = redis::Client::open(url.as_str()).context(flag)?;
    let mut connection = client.get_connection_manager().await.with_context(|| {
        let hint = if fsync {
            " (start one with `redis-server --port 6380 --appendonly yes --appendfsync always --dir <dir>`)"
        } else {
            ""
        };
        format!("connecting to Redis at {flag}{hint}")
    })?;
    let durability = if fsync { fsync_durability(&mut connection).await } else { Durability::Memory };
    if let Durability::NotAsConfigured(why) = &durability {
        eprintln!("redis-lua-fsync: NOT DURABLE: {why}");
    }
    let prefix = format!("warung:bench:{}", std::process::id());
    let contender = RedisContender {
        durability,
        connection: connection.clone(),
        script: redis::Script::new(PURCHASE),
        prefix,
        price: sale.price,
        buyers: sale.buyers(),
        products: sale.products,
        stock: sale.stock,
    };
    contender.clear().await?;
    let stock: Vec<(String, u64)> = (0..sale.products).map(|p| (contender.stock_key(p), sale.stock)).collect();
    let _: () = redis::cmd("MSET").arg(&stock).query_async(&mut connection).await?;
    let mut start = 0;
    while start < sale.buyers() {
        let end = (start + KEYS_PER_CALL).min(sale.buyers());
        let wallets: Vec<(String, u64)> = (start..end).map(|b| (contender.wallet_key(b), sale.wallet(b))).collect();
        let _: () = redis::cmd("MSET").arg(&wallets).query_async(&mut connection).await?;
        start = end;
    }
    Ok(contender)
}

/// Whether the server logs every write and fsyncs before it answers, as it says itself.
async fn fsync_durability(connection: &mut redis::aio::ConnectionManager) -> Durability {
    let mut found = Vec::new();
    for (parameter, wanted) in [("appendonly", "yes"), ("appendfsync", "always")] {
        let answer: Result<Vec<String>, _> =
            redis::cmd("CONFIG").arg("GET").arg(parameter).query_async(connection).await;
        match answer {
            Ok(pair) => {
                let value = pair.get(1).cloned().unwrap_or_default();
                if value != wanted {
                    found.push(format!("{parameter} is {value:?}, not {wanted:?}"));
                }
            }
            Err(error) => found.push(format!("CONFIG GET {parameter} failed ({error}), so durability is unknown")),
        }
    }
    if found.is_empty() {
        Durability::Fsync
    } else {
        Durability::NotAsConfigured(found.join("; "))
    }
}

impl RedisContender {
    fn stock_key(&self, product: u32) -> String {
        format!("{}:stock:{product}", self.prefix)
    }

    fn wallet_key(&self, buyer: u64) -> String {
        format!("{}:wallet:{buyer}", self.prefix)
    }

    fn orders_key(&self) -> String {
        format!("{}:orders", self.prefix)
    }

    async fn clear(&self) -> anyhow::Result<()> {
        let mut connection = self.connection.clone();
        let mut keys: Vec<String> = (0..self.products).map(|p| self.stock_key(p)).collect();
        keys.push(self.orders_key());
        let _: () = redis::cmd("DEL").arg(&keys).query_async(&mut connection).await?;
        let mut start = 0;
        while start < self.buyers {
            let end = (start + KEYS_PER_CALL).min(self.buyers);
            let wallets: Vec<String> = (start..end).map(|b| self.wallet_key(b)).collect();
            let _: () = redis::cmd("DEL").arg(&wallets).query_async(&mut connection).await?;
            start = end;
        }
        Ok(())
    }
}

#[async_trait]
impl Contender for RedisContender {
    fn not_durable(&self) -> Option<String> {
        match &self.durability {
            Durability::Fsync => None,
            Durability::Memory => Some("keeps its result in Redis memory only; a crash loses purchases".into()),
            Durability::NotAsConfigured(why) => Some(format!("the server is not configured to fsync: {why}")),
        }
    }

    async fn attempt(&self, buyer: u64, product: u32) -> Attempt {
        let mut connection = self.connection.clone();
        let outcome: Result<i64, _> = self
            .script
            .key(self.stock_key(product))
            .key(self.wallet_key(buyer))
            .key(self.orders_key())
            .arg(self.price)
            .arg(format!("{buyer}:{product}"))
            .invoke_async(&mut connection)
            .await;
        match outcome {
            Ok(-1) => Attempt::SoldOut,
            Ok(-2) => Attempt::Insufficient,
            Ok(_) => Attempt::Sold,
            Err(_) => Attempt::Failed,
        }
    }

    async fn verify(&self) -> anyhow::Result<Verification> {
        let mut connection = self.connection.clone();
        let mut orders: Vec<String> = Vec::new();
        loop {
            let from = orders.len();
            let chunk: Vec<String> = redis::cmd("LRANGE")
                .arg(self.orders_key())
                .arg(from)
                .arg(from + ORDERS_PER_CALL - 1)
                .query_async(&mut connection)
                .await?;
            let last = chunk.len() < ORDERS_PER_CALL;
            orders.extend(chunk);
            if last {
                break;
            }
        }
        let mut per_product: HashMap<u32, u64> = HashMap::new();
        let mut units: HashMap<(u32, i64), u64> = HashMap::new();
        for order in &orders {
            let mut parts = order.split(':');
            let (_buyer, product, unit) = (parts.next(), parts.next(), parts.next());
            let product: u32 = product.and_then(|p| p.parse().ok()).context("an order without a product")?;
            let unit: i64 = unit.and_then(|u| u.parse().ok()).context("an order without a unit")?;
            *per_product.entry(product).or_default() += 1;
            *units.entry((product, unit)).or_default() += 1;
        }
        let mut balances = Decimal::ZERO;
        let mut negative = 0;
        let mut start = 0;
        while start < self.buyers {
            let end = (start + KEYS_PER_CALL).min(self.buyers);
            let keys: Vec<String> = (start..end).map(|b| self.wallet_key(b)).collect();
            let values: Vec<Option<i64>> = redis::cmd("MGET").arg(&keys).query_async(&mut connection).await?;
            for value in values {
                let value = value.context("a wallet is missing")?;
                negative += u64::from(value < 0);
                balances += Decimal::from(value);
            }
            start = end;
        }
        let sold = orders.len() as u64;
        Ok(Verification {
            sold,
            oversold: per_product.values().map(|n| n.saturating_sub(self.stock)).sum(),
            negative_wallets: negative,
            money_now: balances + Decimal::from(sold) * Decimal::from(self.price),
            duplicate_deliveries: Some(units.values().map(|n| n - 1).sum()),
        })
    }

    async fn finish(&self) {
        if let Err(error) = self.clear().await {
            eprintln!("could not delete the bench keys under {}: {error:#}", self.prefix);
        }
    }
}
