//! The log journal's connections, kept out of their pool between appends.
//!
//! sqlx tests every connection that goes back to its pool: a `Sync` and its `ReadyForQuery`, one
//! round trip. The journal took a connection from the pool for each append, so each append cost
//! a second round trip after its commit: a wake of a Postgres backend and of the journal's thread,
//! and the TLS records both ways, for nothing the journal needs. Kept here instead, a connection
//! goes straight to the next append. What the pool's test was for is kept another way:
//! - a connection whose append failed is not kept: it goes back to the pool, whose test closes
//!   it if it is broken (or rolls back what it left open);
//! - one idle longer than `ping_after_idle` is pinged before its next append, so one cut while
//!   the shop was quiet (a database restart) is replaced instead of failing a purchase.

use std::ops::{Deref, DerefMut};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use sqlx::pool::PoolConnection;
use sqlx::postgres::{PgConnection, PgPool, Postgres};

pub(crate) struct HeldConnections {
    pool: PgPool,
    ping_after_idle: Duration,
    /// The connections between two appends, with when each was last used; the last used on top.
    idle: Mutex<Vec<(PoolConnection<Postgres>, Instant)>>,
    /// Set by `release_all`: nothing is kept any more (the pool is closing and waits for every
    /// connection).
    released: AtomicBool,
}

/// A connection taken for one append. It goes back to the holder only once `keep` says its
/// statements all answered; dropped otherwise, it goes back to the pool.
pub(crate) struct Held<'a> {
    connection: Option<PoolConnection<Postgres>>,
    holder: &'a HeldConnections,
    keep: bool,
}

impl HeldConnections {
    pub(crate) fn new(pool: PgPool, ping_after_idle: Duration) -> HeldConnections {
        HeldConnections { pool, ping_after_idle, idle: Mutex::default(), released: AtomicBool::new(false) }
    }

    /// The connection used last if it is still usable, or one from the pool.
    pub(crate) async fn take(&self) -> Result<Held<'_>, sqlx::Error> {
        loop {
            let next = self.idle.lock().expect("held connections").pop();
            let Some((mut connection, since)) = next else {
                let connection = self.pool.acquire().await?;
                return Ok(Held { connection: Some(connection), holder: self, keep: false });
            };
            if since.elapsed() < self.ping_after_idle || sqlx::Connection::ping(&mut *connection).await.is_ok() {
                return Ok(Held { connection: Some(connection), holder: self, keep: false });
            }
            // Cut while idle: back to the pool, whose own test closes it; the next one is tried.
            drop(connection);
        }
    }

    /// Connections kept between appends.
    pub(crate) fn idle(&self) -> usize {
        self.idle.lock().expect("held connections").len()
    }

    /// Gives every kept connection back to the pool, which waits for them before it closes.
    pub(crate) fn release_all(&self) {
        let mut idle = self.idle.lock().expect("held connections");
        self.released.store(true, Ordering::Release);
        idle.clear();
    }
}

impl Held<'_> {
    /// Keeps the connection for the next append: its statements all answered.
    pub(crate) fn keep(mut self) {
        self.keep = true;
    }
}

impl Deref for Held<'_> {
    type Target = PgConnection;

    fn deref(&self) -> &PgConnection {
        self.connection.as_ref().expect("present until dropped")
    }
}

impl DerefMut for Held<'_> {
    fn deref_mut(&mut self) -> &mut PgConnection {
        self.connection.as_mut().expect("present until dropped")
    }
}

impl Drop for Held<'_> {
    fn drop(&mut self) {
        if let (true, Some(connection)) = (self.keep, self.connection.take()) {
            let mut idle = self.holder.idle.lock().expect("held connections");
            if !self.holder.released.load(Ordering::Acquire) {
                idle.push((connection, Instant::now()));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sqlx::postgres::PgPoolOptions;

    const URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";

    async fn holder(ping_after_idle: Duration) -> (PgPool, HeldConnections) {
        let pool = PgPoolOptions::new().max_connections(2).connect(URL).await.expect("the test's Postgres");
        (pool.clone(), HeldConnections::new(pool, ping_after_idle))
    }

    async fn backend_pid(connection: &mut PgConnection) -> i32 {
        sqlx::query_scalar("SELECT pg_backend_pid()").fetch_one(connection).await.unwrap()
    }

    /// Takes a connection, uses it and keeps it, as an append that succeeded: its backend.
    async fn append_on(holder: &HeldConnections) -> i32 {
        let mut connection = holder.take().await.unwrap();
        let pid = backend_pid(&mut connection).await;
        connection.keep();
        pid
    }

    async fn close(pool: PgPool, holder: HeldConnections) {
        holder.release_all();
        tokio::time::timeout(Duration::from_secs(10), pool.close()).await.expect("the pool closes: nothing is held");
    }

    #[tokio::test]
    async fn a_kept_connection_goes_to_the_next_append_without_passing_through_the_pool() {
        let (pool, holder) = holder(Duration::from_secs(60)).await;
        let first = append_on(&holder).await;
        assert_eq!(holder.idle(), 1);
        assert_eq!(pool.num_idle(), 0, "never given back to the pool, so never tested by it");
        assert_eq!(append_on(&holder).await, first, "the same connection");
        close(pool, holder).await;
    }

    #[tokio::test]
    async fn a_connection_whose_statement_failed_goes_back_to_the_pool() {
        let (pool, holder) = holder(Duration::from_secs(60)).await;
        let mut connection = holder.take().await.unwrap();
        assert!(sqlx::query("SELECT no_such_column").execute(&mut *connection).await.is_err());
        drop(connection);
        assert_eq!(holder.idle(), 0, "not kept");
        pool.close().await;
    }

    #[tokio::test]
    async fn a_connection_cut_while_idle_is_replaced_before_its_next_append() {
        let (pool, holder) = holder(Duration::from_millis(50)).await;
        let pid = append_on(&holder).await;
        let mut other = <PgConnection as sqlx::Connection>::connect(URL).await.unwrap();
        let cut: bool =
            sqlx::query_scalar("SELECT pg_terminate_backend($1)").bind(pid).fetch_one(&mut other).await.unwrap();
        assert!(cut);
        tokio::time::sleep(Duration::from_millis(200)).await;
        assert_ne!(append_on(&holder).await, pid, "the cut one was not handed out");
        close(pool, holder).await;
    }

    #[tokio::test]
    async fn once_released_nothing_is_kept_and_the_pool_closes() {
        let (pool, holder) = holder(Duration::from_secs(60)).await;
        let late = holder.take().await.unwrap();
        append_on(&holder).await;
        assert_eq!(holder.idle(), 1);
        holder.release_all();
        assert_eq!(holder.idle(), 0, "the kept one went back to the pool");
        late.keep();
        assert_eq!(holder.idle(), 0, "a connection kept after the release goes back to the pool");
        close(pool, holder).await;
    }
}
