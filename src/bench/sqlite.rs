//! The embedded default's lock-based peer (`sqlite-tx`): each purchase is one SQLite transaction
//! that checks the stock and the wallet, decrements, debits and inserts the order, or rolls back.
//! The database is durable as the engine's is on SQLite: WAL with `synchronous = FULL`.
//!
//! One connection: SQLite admits one writer at a time, so more connections would only wait on
//! its lock (busy-waiting, at that). Amounts are whole rupiah. The file is removed after the run.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use async_trait::async_trait;
use rust_decimal::Decimal;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous};

use super::sale::FlashSale;
use super::{Attempt, Contender, Verification};

/// The peer's database file in `--sqlite-dir`.
const SQLITE_PEER_FILE: &str = "sqlite_tx.db";

/// How long an attempt waits for the connection before it counts as failed.
const ATTEMPT_TIMEOUT_SECS: u64 = 30;

pub struct SqliteContender {
    pool: SqlitePool,
    path: PathBuf,
    price: i64,
}

/// Removes a SQLite database, its WAL files and its log's writer lock file, if there.
pub fn remove_database(path: &std::path::Path) {
    for suffix in ["", "-wal", "-shm", crate::store::lone_writer::LOCK_FILE_SUFFIX] {
        let mut file = path.as_os_str().to_owned();
        file.push(suffix);
        let _ = std::fs::remove_file(file);
    }
}

pub async fn prepare(sale: &FlashSale) -> anyhow::Result<SqliteContender> {
    std::fs::create_dir_all(&sale.sqlite_dir).with_context(|| format!("creating {}", sale.sqlite_dir.display()))?;
    let path = sale.sqlite_dir.join(SQLITE_PEER_FILE);
    remove_database(&path);
    let options = SqliteConnectOptions::new()
        .filename(&path)
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Full);
    let pool = SqlitePoolOptions::new()
        .max_connections(1)
        .acquire_timeout(Duration::from_secs(ATTEMPT_TIMEOUT_SECS))
        .connect_with(options)
        .await
        .with_context(|| format!("opening {}", path.display()))?;
    let ddl = [
        "CREATE TABLE products (id INTEGER PRIMARY KEY, price INTEGER NOT NULL, stock INTEGER NOT NULL, initial_stock INTEGER NOT NULL)",
        "CREATE TABLE users (id INTEGER PRIMARY KEY, balance INTEGER NOT NULL)",
        "CREATE TABLE orders (id INTEGER PRIMARY KEY, user_id INTEGER NOT NULL, product_id INTEGER NOT NULL, \
         unit INTEGER NOT NULL, amount INTEGER NOT NULL, created_at INTEGER NOT NULL DEFAULT (unixepoch()))",
    ];
    for statement in ddl {
        sqlx::query(statement).execute(&pool).await?;
    }
    let price = i64::try_from(sale.price).context("--price is too large")?;
    let stock = i64::try_from(sale.stock).context("--stock is too large")?;
    let mut tx = pool.begin().await?;
    for product in 0..sale.products {
        sqlx::query("INSERT INTO products VALUES ($1, $2, $3, $3)")
            .bind(i64::from(product))
            .bind(price)
            .bind(stock)
            .execute(&mut *tx)
            .await?;
    }
    for buyer in 0..sale.buyers() {
        sqlx::query("INSERT INTO users VALUES ($1, $2)")
            .bind(buyer as i64)
            .bind(sale.wallet(buyer) as i64)
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    Ok(SqliteContender { pool, path, price })
}

enum Refusal {
    SoldOut,
    Insufficient,
}

impl SqliteContender {
    async fn purchase(&self, buyer: i64, product: i64) -> Result<Result<(), Refusal>, sqlx::Error> {
        let mut tx = self.pool.begin().await?;
        let left: Option<i64> =
            sqlx::query_scalar("UPDATE products SET stock = stock - 1 WHERE id = $1 AND stock >= 1 RETURNING stock")
                .bind(product)
                .fetch_optional(&mut *tx)
                .await?;
        let Some(left) = left else {
            tx.rollback().await?;
            return Ok(Err(Refusal::SoldOut));
        };
        let debited = sqlx::query("UPDATE users SET balance = balance - $1 WHERE id = $2 AND balance >= $1")
            .bind(self.price)
            .bind(buyer)
            .execute(&mut *tx)
            .await?;
        if debited.rows_affected() != 1 {
            tx.rollback().await?;
            return Ok(Err(Refusal::Insufficient));
        }
        sqlx::query("INSERT INTO orders (user_id, product_id, unit, amount) VALUES ($1, $2, $3, $4)")
            .bind(buyer)
            .bind(product)
            .bind(left)
            .bind(self.price)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(Ok(()))
    }
}

#[async_trait]
impl Contender for SqliteContender {
    fn not_durable(&self) -> Option<String> {
        None
    }

    async fn attempt(&self, buyer: u64, product: u32) -> Attempt {
        match self.purchase(buyer as i64, i64::from(product)).await {
            Ok(Ok(())) => Attempt::Sold,
            Ok(Err(Refusal::SoldOut)) => Attempt::SoldOut,
            Ok(Err(Refusal::Insufficient)) => Attempt::Insufficient,
            Err(_) => Attempt::Failed,
        }
    }

    async fn verify(&self) -> anyhow::Result<Verification> {
        let sold: i64 = sqlx::query_scalar("SELECT count(*) FROM orders").fetch_one(&self.pool).await?;
        let oversold: i64 = sqlx::query_scalar(
            "SELECT COALESCE(SUM(MAX(0, o.c - p.initial_stock)), 0) FROM products p \
             JOIN (SELECT product_id, count(*) c FROM orders GROUP BY product_id) o ON o.product_id = p.id",
        )
        .fetch_one(&self.pool)
        .await?;
        let negative: i64 =
            sqlx::query_scalar("SELECT count(*) FROM users WHERE balance < 0").fetch_one(&self.pool).await?;
        let money_now: i64 = sqlx::query_scalar(
            "SELECT (SELECT COALESCE(SUM(balance), 0) FROM users) + (SELECT COALESCE(SUM(amount), 0) FROM orders)",
        )
        .fetch_one(&self.pool)
        .await?;
        let duplicates: i64 = sqlx::query_scalar(
            "SELECT COALESCE(SUM(c - 1), 0) FROM (SELECT count(*) c FROM orders GROUP BY product_id, unit \
             HAVING count(*) > 1)",
        )
        .fetch_one(&self.pool)
        .await?;
        Ok(Verification {
            sold: sold as u64,
            oversold: oversold as u64,
            negative_wallets: negative as u64,
            money_now: Decimal::from(money_now),
            duplicate_deliveries: Some(duplicates as u64),
        })
    }

    async fn finish(&self) {
        self.pool.close().await;
        remove_database(&self.path);
    }
}
