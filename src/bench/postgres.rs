//! The database-lock designs (the row-lock and atomic-update shops, docs/benchmarks.md), made correct: each purchase is one Postgres
//! transaction that refuses when the stock is gone or the wallet cannot pay, and rolls back.
//!
//! - `pg-row-lock`: `SELECT ... FOR UPDATE` on the product row, then decrement, debit, insert.
//! - `pg-atomic`: a conditional `UPDATE ... WHERE stock >= 1`, then a conditional debit, insert.
//!
//! Each sale records the stock left after it as its unit number, so a unit sold twice shows.
//! Each strategy gets its own schema, dropped after the run.

use std::time::Duration;

use anyhow::Context;
use async_trait::async_trait;
use rust_decimal::Decimal;
use sqlx::postgres::{PgPool, PgPoolOptions};

use super::sale::{FlashSale, Strategy};
use super::{Attempt, Contender, Verification};

/// Connections beyond the concurrency: the checks after the run.
const SPARE_CONNECTIONS: u32 = 2;

/// How long an attempt waits for a connection or a lock before it counts as failed.
const ATTEMPT_TIMEOUT_SECS: u64 = 30;

pub struct PgContender {
    strategy: Strategy,
    pool: PgPool,
    admin: PgPool,
    schema: String,
    price: Decimal,
}

pub async fn prepare(sale: &FlashSale, strategy: Strategy) -> anyhow::Result<PgContender> {
    let schema = format!("bench_{}", strategy.name().replace('-', "_"));
    let options =
        crate::store::postgres_options(&sale.database_url).context("--database-url")?.application_name("warung-bench");
    let admin = PgPoolOptions::new()
        .max_connections(1)
        .connect_with(options.clone())
        .await
        .context("connecting to Postgres")?;
    for statement in [format!("DROP SCHEMA IF EXISTS {schema} CASCADE"), format!("CREATE SCHEMA {schema}")] {
        sqlx::query(sqlx::AssertSqlSafe(statement)).execute(&admin).await?;
    }
    let pool = PgPoolOptions::new()
        .max_connections(sale.concurrency as u32 + SPARE_CONNECTIONS)
        .acquire_timeout(Duration::from_secs(ATTEMPT_TIMEOUT_SECS))
        .connect_with(options.options([("search_path", schema.as_str()), ("lock_timeout", "30s")]))
        .await?;
    let ddl = [
        "CREATE TABLE products (id int PRIMARY KEY, price numeric(18,2) NOT NULL, stock int NOT NULL, initial_stock int NOT NULL)",
        "CREATE TABLE users (id int PRIMARY KEY, balance numeric(18,2) NOT NULL)",
        "CREATE TABLE orders (id bigserial PRIMARY KEY, user_id int NOT NULL, product_id int NOT NULL, unit int NOT NULL, \
         amount numeric(18,2) NOT NULL, created_at timestamptz NOT NULL DEFAULT now())",
    ];
    for statement in ddl {
        sqlx::query(statement).execute(&pool).await?;
    }
    let stock = i32::try_from(sale.stock).context("--stock is too large for this strategy")?;
    sqlx::query("INSERT INTO products SELECT g, $1, $2, $2 FROM generate_series(0, $3 - 1) g")
        .bind(Decimal::from(sale.price))
        .bind(stock)
        .bind(sale.products as i32)
        .execute(&pool)
        .await?;
    let per_thousand = (sale.funded_fraction.clamp(0.0, 1.0) * 1000.0).round() as i64;
    sqlx::query(
        "INSERT INTO users SELECT g, CASE WHEN (g::bigint * 7919) % 1000 < $1 THEN $2 ELSE $3 END \
         FROM generate_series(0, $4 - 1) g",
    )
    .bind(per_thousand)
    .bind(Decimal::from(sale.funded_wallet()))
    .bind(Decimal::from(sale.unfunded_wallet()))
    .bind(i64::try_from(sale.buyers()).context("too many buyers")?)
    .execute(&pool)
    .await?;
    sqlx::query("VACUUM ANALYZE").execute(&pool).await.ok();
    Ok(PgContender { strategy, pool, admin, schema, price: Decimal::from(sale.price) })
}

enum Refusal {
    SoldOut,
    Insufficient,
}

impl PgContender {
    async fn purchase(&self, buyer: i32, product: i32) -> Result<Result<(), Refusal>, sqlx::Error> {
        let mut tx = self.pool.begin().await?;
        let left: i32 = match self.strategy {
            Strategy::PgRowLock => {
                let (stock,): (i32,) = sqlx::query_as("SELECT stock FROM products WHERE id = $1 FOR UPDATE")
                    .bind(product)
                    .fetch_one(&mut *tx)
                    .await?;
                if stock < 1 {
                    tx.rollback().await?;
                    return Ok(Err(Refusal::SoldOut));
                }
                if !self.debit(&mut tx, buyer).await? {
                    tx.rollback().await?;
                    return Ok(Err(Refusal::Insufficient));
                }
                sqlx::query_scalar("UPDATE products SET stock = stock - 1 WHERE id = $1 RETURNING stock")
                    .bind(product)
                    .fetch_one(&mut *tx)
                    .await?
            }
            _ => {
                let left: Option<i32> = sqlx::query_scalar(
                    "UPDATE products SET stock = stock - 1 WHERE id = $1 AND stock >= 1 RETURNING stock",
                )
                .bind(product)
                .fetch_optional(&mut *tx)
                .await?;
                let Some(left) = left else {
                    tx.rollback().await?;
                    return Ok(Err(Refusal::SoldOut));
                };
                if !self.debit(&mut tx, buyer).await? {
                    tx.rollback().await?;
                    return Ok(Err(Refusal::Insufficient));
                }
                left
            }
        };
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

    async fn debit(&self, tx: &mut sqlx::Transaction<'_, sqlx::Postgres>, buyer: i32) -> Result<bool, sqlx::Error> {
        let done = sqlx::query("UPDATE users SET balance = balance - $1 WHERE id = $2 AND balance >= $1")
            .bind(self.price)
            .bind(buyer)
            .execute(&mut **tx)
            .await?;
        Ok(done.rows_affected() == 1)
    }
}

#[async_trait]
impl Contender for PgContender {
    fn not_durable(&self) -> Option<String> {
        None
    }

    async fn attempt(&self, buyer: u64, product: u32) -> Attempt {
        match self.purchase(buyer as i32, product as i32).await {
            Ok(Ok(())) => Attempt::Sold,
            Ok(Err(Refusal::SoldOut)) => Attempt::SoldOut,
            Ok(Err(Refusal::Insufficient)) => Attempt::Insufficient,
            Err(_) => Attempt::Failed,
        }
    }

    async fn verify(&self) -> anyhow::Result<Verification> {
        let (sold,): (i64,) = sqlx::query_as("SELECT count(*) FROM orders").fetch_one(&self.pool).await?;
        let (oversold,): (i64,) = sqlx::query_as(
            "SELECT COALESCE(SUM(GREATEST(0, o.c - p.initial_stock)), 0)::bigint FROM products p \
             JOIN (SELECT product_id, count(*) c FROM orders GROUP BY product_id) o ON o.product_id = p.id",
        )
        .fetch_one(&self.pool)
        .await?;
        let (negative,): (i64,) =
            sqlx::query_as("SELECT count(*) FROM users WHERE balance < 0").fetch_one(&self.pool).await?;
        let (money_now,): (Decimal,) = sqlx::query_as(
            "SELECT (SELECT COALESCE(SUM(balance), 0) FROM users) + (SELECT COALESCE(SUM(amount), 0) FROM orders)",
        )
        .fetch_one(&self.pool)
        .await?;
        let (duplicates,): (i64,) = sqlx::query_as(
            "SELECT COALESCE(SUM(c - 1), 0)::bigint FROM (SELECT count(*) c FROM orders GROUP BY product_id, unit \
             HAVING count(*) > 1) d",
        )
        .fetch_one(&self.pool)
        .await?;
        Ok(Verification {
            sold: sold as u64,
            oversold: oversold as u64,
            negative_wallets: negative as u64,
            money_now,
            duplicate_deliveries: Some(duplicates as u64),
        })
    }

    async fn finish(&self) {
        self.pool.close().await;
        let drop = format!("DROP SCHEMA IF EXISTS {} CASCADE", self.schema);
        if let Err(error) = sqlx::query(sqlx::AssertSqlSafe(drop)).execute(&self.admin).await {
            eprintln!("could not drop schema {}: {error}", self.schema);
        }
        self.admin.close().await;
    }
}
