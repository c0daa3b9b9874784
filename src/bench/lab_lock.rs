//! One lab run at a time on a Postgres database. A run makes its own databases and schemas
//! afresh (the engine's with `DROP DATABASE ... WITH (FORCE)`), so a second run started beside
//! the first would end the first's connections, and the first, its pools reconnecting, would sell
//! into the second's database: both runs wrong, the first fenced out (docs/benchmarks.md,
//! 2026-12-07). The second is refused instead, before it touches anything.

use anyhow::Context;
use sqlx::postgres::PgConnection;
use sqlx::ConnectOptions;

/// A Postgres advisory lock key ("warungLB"), held by a lab run on `--database-url`'s database
/// (advisory locks belong to one database: runs on other databases make other databases).
const LAB_LOCK: i64 = 0x7761_7275_6e67_4c42;

/// Held for the whole run; the lock goes with its connection, however the run ends.
pub struct LabLock {
    _connection: PgConnection,
}

/// Takes the lock on the database `database_url` names; refused while another run holds it.
pub async fn take(database_url: &str) -> anyhow::Result<LabLock> {
    let options = crate::store::postgres_options(database_url).context("--database-url")?;
    let mut connection = options.connect().await.context("connecting to Postgres")?;
    let locked: bool =
        sqlx::query_scalar("SELECT pg_try_advisory_lock($1)").bind(LAB_LOCK).fetch_one(&mut connection).await?;
    anyhow::ensure!(
        locked,
        "another `warung bench flash-sale` is running on this database: each run makes its databases afresh, \
         so two at once would break each other; wait until it has finished"
    );
    Ok(LabLock { _connection: connection })
}
