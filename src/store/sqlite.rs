//! SQLite, the embedded default: WAL with `synchronous = FULL`, so a committed batch survives a
//! crash or power loss as on Postgres. The journal is the only writer; a batch is one transaction
//! of prepared statements (cached per connection), or with the log (`database.journal = "log"`)
//! one log row, the tables written by the projector in larger transactions (`store::log`).

use std::str::FromStr;
use std::time::Duration;

use futures::future::BoxFuture;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteConnection, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use warung_actors::journal::{after, Earlier, Entry, Sink, SinkError};

use super::batch::{item_list, Batch};
use super::log::projector::{self, LogJournal};
use super::log::sqlite as log_sqlite;
use super::sql::sqlite_money as money;
use super::{sink_error, JournalMode, StoreError};
use crate::records::ShopRecord;

/// Connections: one writer (the journal) and readers for activations and queries.
const SQLITE_CONNECTIONS_MAX: u32 = 4;

/// How long a statement waits for SQLite's write lock before failing.
const SQLITE_BUSY_TIMEOUT_SECS: u64 = 10;

/// The journal's side of a SQLite store: the one writer, on the same pool as the reads.
pub(crate) struct SqliteJournal {
    pool: SqlitePool,
    /// With `database.journal = "log"`: the projection, the projector and the writer lock (a
    /// database in memory has none).
    pub(crate) log: Option<LogJournal<Option<std::fs::File>>>,
}

/// Opens the one pool the reads and the journal share; with the log, takes its writer lock and
/// starts the projector.
pub(crate) async fn connect(url: &str, mode: JournalMode) -> Result<(SqlitePool, SqliteJournal), StoreError> {
    let url = if url.starts_with("sqlite:") { url.to_string() } else { format!("sqlite://{url}") };
    let options = SqliteConnectOptions::from_str(&url)?
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Full)
        .busy_timeout(Duration::from_secs(SQLITE_BUSY_TIMEOUT_SECS));
    let log_lock = match mode {
        JournalMode::Log => {
            let in_memory = url.contains(":memory:") || url.contains("mode=memory");
            Some(log_sqlite::lock_writer(&options, in_memory)?)
        }
        JournalMode::Tables => None,
    };
    let pool = SqlitePoolOptions::new().max_connections(SQLITE_CONNECTIONS_MAX).connect_with(options).await?;
    let log = log_lock.map(|lock| LogJournal::start(pool.clone(), lock));
    Ok((pool.clone(), SqliteJournal { pool, log }))
}

impl SqliteJournal {
    /// One transaction: the stock rows, the money rows, then the shop's records.
    async fn write(&self, batch: Batch<'_>) -> Result<(), sqlx::Error> {
        let mut tx = self.pool.begin().await?;
        write_tables(&mut tx, &batch).await?;
        tx.commit().await
    }

    /// With the log: lets the projector finish, and releases the writer lock.
    pub(crate) async fn close(&self) {
        if let Some(log) = &self.log {
            drop(log.stop().await);
        }
    }

    /// With the log: projects what a crash left in it, before anything reads the tables.
    pub(crate) async fn project_leftovers(&self) -> Result<(), StoreError> {
        if self.log.is_some() {
            projector::project_leftovers(&self.pool).await?;
        }
        Ok(())
    }
}

/// Every table a batch writes: the stock rows, the money rows, then the shop's records.
pub(crate) async fn write_tables(conn: &mut SqliteConnection, batch: &Batch<'_>) -> Result<(), sqlx::Error> {
    write_stock(conn, batch).await?;
    write_money(conn, batch).await?;
    write_records(conn, batch).await?;
    write_payments(conn, batch).await
}

async fn write_stock(conn: &mut SqliteConnection, batch: &Batch<'_>) -> Result<(), sqlx::Error> {
    for r in &batch.products.rows {
        sqlx::query(
            "INSERT INTO products (code, name, price, kind, active, received, available, reserved, sold, removed, next_item_no, created_at, updated_at, reseller_price) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12, $13) \
             ON CONFLICT (code) DO UPDATE SET name = excluded.name, price = excluded.price, reseller_price = excluded.reseller_price, active = excluded.active, \
               received = excluded.received, available = excluded.available, reserved = excluded.reserved, sold = excluded.sold, \
               removed = excluded.removed, next_item_no = excluded.next_item_no, updated_at = excluded.updated_at",
        )
        .bind(r.code.as_str()).bind(&r.name).bind(money(r.price)).bind(r.kind.as_str()).bind(i64::from(r.active))
        .bind(r.received).bind(r.available).bind(r.reserved).bind(r.sold).bind(r.removed).bind(r.next_item_no).bind(r.updated_at)
        .bind(r.reseller_price.map(money))
        .execute(&mut *conn)
        .await?;
    }
    for i in &batch.new_items {
        sqlx::query(
            "INSERT INTO items (product, item_no, secret, status, order_id, created_at, updated_at) VALUES ($1, $2, $3, 'available', NULL, $4, $4)",
        )
        .bind(i.product).bind(i.no).bind(i.secret.expose()).bind(i.at)
        .execute(&mut *conn)
        .await?;
    }
    for i in &batch.item_statuses.rows {
        sqlx::query("UPDATE items SET status = $1, order_id = $2, updated_at = $3 WHERE product = $4 AND item_no = $5")
            .bind(i.status.as_str())
            .bind(i.order.as_ref().map(|o| o.to_string()))
            .bind(i.at)
            .bind(i.product)
            .bind(i.no)
            .execute(&mut *conn)
            .await?;
    }
    for r in &batch.reservations.rows {
        sqlx::query(
            "INSERT INTO reservations (order_id, product, quantity, unit_price, items, expires_at, status, release_reason, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
             ON CONFLICT (order_id) DO UPDATE SET status = excluded.status, release_reason = excluded.release_reason, \
               items = excluded.items, expires_at = excluded.expires_at, updated_at = excluded.updated_at",
        )
        .bind(r.order.as_str()).bind(r.product.as_str()).bind(i64::from(r.quantity)).bind(money(r.unit_price))
        .bind(item_list(&r.items)).bind(r.expires_at).bind(r.status.as_str()).bind(&r.release_reason).bind(r.updated_at)
        .execute(&mut *conn)
        .await?;
    }
    for m in &batch.movements {
        sqlx::query(
            "INSERT INTO inventory_movements (product, quantity, from_state, to_state, reason, reference, actor, at, content_hash) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(m.product.as_str()).bind(m.quantity).bind(m.from.as_str()).bind(m.to.as_str()).bind(&m.reason).bind(&m.reference).bind(&m.actor).bind(m.at)
        .bind(m.content_hash.map(crate::store::rows::fingerprint_text))
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

async fn write_money(conn: &mut SqliteConnection, batch: &Batch<'_>) -> Result<(), sqlx::Error> {
    for w in &batch.wallets.rows {
        sqlx::query(
            "INSERT INTO customers (id, balance, created_at, updated_at) VALUES ($1, $2, $4, $3) \
             ON CONFLICT (id) DO UPDATE SET balance = excluded.balance, updated_at = excluded.updated_at",
        )
        .bind(w.customer.as_str())
        .bind(money(w.balance))
        .bind(w.updated_at)
        .bind(batch.wallet_created_at(w))
        .execute(&mut *conn)
        .await?;
    }
    for l in &batch.ledger {
        sqlx::query(
            "INSERT INTO ledger_entries (customer, reference, kind, amount, balance_after, reason, actor, at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(l.customer.as_str()).bind(l.reference.as_str()).bind(l.kind.as_str()).bind(l.amount.normalize().to_string())
        .bind(money(l.balance_after)).bind(&l.reason).bind(&l.actor).bind(l.at)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

async fn write_records(conn: &mut SqliteConnection, batch: &Batch<'_>) -> Result<(), sqlx::Error> {
    for o in &batch.orders.rows {
        sqlx::query(
            "INSERT INTO orders (id, customer, product, quantity, unit_price, total, method, state, expires_at, note, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) \
             ON CONFLICT (id) DO UPDATE SET state = excluded.state, note = excluded.note, expires_at = excluded.expires_at, updated_at = excluded.updated_at",
        )
        .bind(o.id.as_str()).bind(o.customer.as_str()).bind(o.product.as_str()).bind(i64::from(o.quantity))
        .bind(money(o.unit_price)).bind(money(o.total)).bind(o.method.as_str()).bind(o.state.as_str())
        .bind(o.expires_at).bind(&o.note).bind(o.created_at).bind(o.updated_at)
        .execute(&mut *conn)
        .await?;
    }
    for a in &batch.audit {
        sqlx::query("INSERT INTO admin_audit (admin, action, subject, before, after, reason, at) VALUES ($1, $2, $3, $4, $5, $6, $7)")
            .bind(&a.admin).bind(&a.action).bind(&a.subject).bind(&a.before).bind(&a.after).bind(&a.reason).bind(a.at)
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

/// A plain insert: a payment id is stored once (see the Postgres writer), unless the batch's
/// payments were stored with its log record: then a stored one is kept.
pub(crate) async fn write_payments(conn: &mut SqliteConnection, batch: &Batch<'_>) -> Result<(), sqlx::Error> {
    let insert = if batch.payments_stored {
        "INSERT INTO payments (id, customer, order_id, purpose, amount, status, surplus, at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (id) DO NOTHING"
    } else {
        "INSERT INTO payments (id, customer, order_id, purpose, amount, status, surplus, at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
    };
    for p in &batch.payments {
        sqlx::query(insert)
            .bind(p.id.as_str())
            .bind(p.customer.as_str())
            .bind(p.order.as_ref().map(|o| o.to_string()))
            .bind(p.purpose.as_str())
            .bind(money(p.amount))
            .bind(p.applied.as_str())
            .bind(money(p.surplus))
            .bind(p.at)
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

impl Sink<ShopRecord> for SqliteJournal {
    /// One writer: a batch waits for the one before it, then writes.
    fn commit<'a>(
        &'a self,
        entries: &'a [Entry<ShopRecord>],
        earlier: Earlier,
    ) -> BoxFuture<'a, Result<(), SinkError>> {
        Box::pin(async move {
            if let Some(log) = &self.log {
                return log_sqlite::append(&self.pool, &log.projection, entries, earlier).await;
            }
            after(earlier).await?;
            self.write(Batch::of(entries)).await.map_err(sink_error)
        })
    }
}
