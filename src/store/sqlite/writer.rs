//! A batch's rows on SQLite, one statement per table: the rows travel as one JSON array of arrays
//! (`jsonb_each`), so a batch of a thousand rows is a handful of statements, not a thousand. Each
//! statement through sqlx's SQLite driver is a round trip to its worker thread (measured about
//! 30-60 µs each, which was most of a batch's commit time), and SQLite binds no arrays.
//!
//! `jsonb_each`, not `json_each`: the array is parsed once and each row comes out in SQLite's
//! binary JSON, so each of the row's values is a lookup. `json_each` hands each row out as text
//! again, and every `->>` parsed it anew: the SQLite worker spent a sixth more a sale in a flash sale
//! (docs/benchmarks.md, issue 19, thirty-second part).
//!
//! Values keep their stored types: text stays text (money is exact decimal text), integers stay
//! integers, `null` is NULL. `WHERE true` ends each `SELECT` so SQLite reads a following
//! `ON CONFLICT` as the upsert's, not as a join's.

use serde::Serialize;
use sqlx::sqlite::SqliteConnection;

use crate::store::batch::{item_list, Batch};
use crate::store::rows::fingerprint_text;
use crate::store::sql::sqlite_money as money;

/// Every table a batch writes: the stock rows, the money rows, then the shop's records.
pub(crate) async fn write_tables(conn: &mut SqliteConnection, batch: &Batch<'_>) -> Result<(), sqlx::Error> {
    write_stock(conn, batch).await?;
    write_money(conn, batch).await?;
    write_records(conn, batch).await?;
    write_payments(conn, batch).await
}

/// Runs `sql` with `rows` as its one parameter, unless there are none.
async fn run<T: Serialize>(conn: &mut SqliteConnection, sql: &'static str, rows: Vec<T>) -> Result<(), sqlx::Error> {
    if rows.is_empty() {
        return Ok(());
    }
    let json = serde_json::to_string(&rows).map_err(|error| sqlx::Error::Encode(error.into()))?;
    sqlx::query(sql).bind(json).execute(conn).await?;
    Ok(())
}

async fn write_stock(conn: &mut SqliteConnection, batch: &Batch<'_>) -> Result<(), sqlx::Error> {
    let products: Vec<_> = batch
        .products
        .rows
        .iter()
        .map(|r| {
            (
                (r.code.as_str(), &r.name, money(r.price), r.kind.as_str(), i64::from(r.active), r.received),
                (r.available, r.reserved, r.sold, r.removed, r.next_item_no, r.updated_at, r.reseller_price.map(money)),
            )
        })
        .collect();
    run(
        conn,
        "INSERT INTO products (code, name, price, kind, active, received, available, reserved, sold, removed, next_item_no, created_at, updated_at, reseller_price) \
         SELECT value->>'$[0][0]', value->>'$[0][1]', value->>'$[0][2]', value->>'$[0][3]', value->>'$[0][4]', value->>'$[0][5]', \
                value->>'$[1][0]', value->>'$[1][1]', value->>'$[1][2]', value->>'$[1][3]', value->>'$[1][4]', value->>'$[1][5]', value->>'$[1][5]', value->>'$[1][6]' \
         FROM jsonb_each($1) WHERE true \
         ON CONFLICT (code) DO UPDATE SET name = excluded.name, price = excluded.price, reseller_price = excluded.reseller_price, active = excluded.active, \
           received = excluded.received, available = excluded.available, reserved = excluded.reserved, sold = excluded.sold, \
           removed = excluded.removed, next_item_no = excluded.next_item_no, updated_at = excluded.updated_at",
        products,
    )
    .await?;
    let new_items: Vec<_> = batch.new_items.iter().map(|i| (i.product, i.no, i.secret.expose(), i.at)).collect();
    run(
        conn,
        "INSERT INTO items (product, item_no, secret, status, order_id, created_at, updated_at) \
         SELECT value->>0, value->>1, value->>2, 'available', NULL, value->>3, value->>3 FROM jsonb_each($1) WHERE true",
        new_items,
    )
    .await?;
    let moved: Vec<_> =
        batch.item_statuses.rows.iter().map(|i| (i.product, i.no, i.status.as_str(), i.holder, i.at)).collect();
    run(
        conn,
        "UPDATE items SET status = u.value->>2, order_id = u.value->>3, updated_at = u.value->>4 \
         FROM jsonb_each($1) AS u WHERE items.product = u.value->>0 AND items.item_no = u.value->>1",
        moved,
    )
    .await?;
    let reservations: Vec<_> = batch
        .reservations
        .rows
        .iter()
        .map(|r| {
            let stored = (r.order.as_str(), r.product.as_str(), i64::from(r.quantity), money(r.unit_price));
            (stored, item_list(&r.items), r.expires_at, r.status.as_str(), &r.release_reason, r.updated_at)
        })
        .collect();
    run(
        conn,
        "INSERT INTO reservations (order_id, product, quantity, unit_price, items, expires_at, status, release_reason, updated_at) \
         SELECT value->>'$[0][0]', value->>'$[0][1]', value->>'$[0][2]', value->>'$[0][3]', value->>1, value->>2, value->>3, value->>4, value->>5 \
         FROM jsonb_each($1) WHERE true \
         ON CONFLICT (order_id) DO UPDATE SET status = excluded.status, release_reason = excluded.release_reason, \
           items = excluded.items, expires_at = excluded.expires_at, updated_at = excluded.updated_at",
        reservations,
    )
    .await?;
    let movements: Vec<_> = batch
        .movements
        .iter()
        .map(|m| {
            let state = (m.from.as_str(), m.to.as_str());
            (
                m.product.as_str(),
                m.quantity,
                state,
                &m.reason,
                &m.reference,
                &m.actor,
                m.at,
                m.content_hash.map(fingerprint_text),
            )
        })
        .collect();
    run(
        conn,
        "INSERT INTO inventory_movements (product, quantity, from_state, to_state, reason, reference, actor, at, content_hash) \
         SELECT value->>0, value->>1, value->>'$[2][0]', value->>'$[2][1]', value->>3, value->>4, value->>5, value->>6, value->>7 \
         FROM jsonb_each($1) WHERE true",
        movements,
    )
    .await
}

async fn write_money(conn: &mut SqliteConnection, batch: &Batch<'_>) -> Result<(), sqlx::Error> {
    let wallets: Vec<_> = batch
        .wallets
        .rows
        .iter()
        .map(|w| (w.customer.as_str(), money(w.balance), batch.wallet_created_at(w), w.updated_at))
        .collect();
    run(
        conn,
        "INSERT INTO customers (id, balance, created_at, updated_at) \
         SELECT value->>0, value->>1, value->>2, value->>3 FROM jsonb_each($1) WHERE true \
         ON CONFLICT (id) DO UPDATE SET balance = excluded.balance, updated_at = excluded.updated_at",
        wallets,
    )
    .await?;
    let ledger: Vec<_> = batch
        .ledger
        .iter()
        .map(|l| {
            let amount = l.amount.normalize().to_string();
            (
                l.customer.as_str(),
                l.reference.as_str(),
                l.kind.as_str(),
                amount,
                money(l.balance_after),
                &l.reason,
                &l.actor,
                l.at,
            )
        })
        .collect();
    run(
        conn,
        "INSERT INTO ledger_entries (customer, reference, kind, amount, balance_after, reason, actor, at) \
         SELECT value->>0, value->>1, value->>2, value->>3, value->>4, value->>5, value->>6, value->>7 FROM jsonb_each($1) WHERE true",
        ledger,
    )
    .await
}

async fn write_records(conn: &mut SqliteConnection, batch: &Batch<'_>) -> Result<(), sqlx::Error> {
    let orders: Vec<_> = batch
        .orders
        .rows
        .iter()
        .map(|o| {
            let what = (o.id.as_str(), o.customer.as_str(), o.product.as_str(), i64::from(o.quantity));
            let how = (money(o.unit_price), money(o.total), o.method.as_str(), o.state.as_str());
            let sold_items = batch.sold_items(o.id.as_str());
            (what, how, o.expires_at, &o.note, (o.created_at, o.updated_at), sold_items)
        })
        .collect();
    // A row without a sale's items keeps those stored (only the batch that made the sale has
    // them: `Batch::sold`).
    run(
        conn,
        "INSERT INTO orders (id, customer, product, quantity, unit_price, total, method, state, expires_at, note, created_at, updated_at, sold_items) \
         SELECT value->>'$[0][0]', value->>'$[0][1]', value->>'$[0][2]', value->>'$[0][3]', \
                value->>'$[1][0]', value->>'$[1][1]', value->>'$[1][2]', value->>'$[1][3]', value->>2, value->>3, \
                value->>'$[4][0]', value->>'$[4][1]', value->>5 \
         FROM jsonb_each($1) WHERE true \
         ON CONFLICT (id) DO UPDATE SET state = excluded.state, note = excluded.note, expires_at = excluded.expires_at, \
           updated_at = excluded.updated_at, sold_items = COALESCE(excluded.sold_items, orders.sold_items)",
        orders,
    )
    .await?;
    let audit: Vec<_> =
        batch.audit.iter().map(|a| (&a.admin, &a.action, &a.subject, &a.before, &a.after, &a.reason, a.at)).collect();
    run(
        conn,
        "INSERT INTO admin_audit (admin, action, subject, before, after, reason, at) \
         SELECT value->>0, value->>1, value->>2, value->>3, value->>4, value->>5, value->>6 FROM jsonb_each($1) WHERE true",
        audit,
    )
    .await
}

/// A plain insert: a payment id is stored once (see the Postgres writer), unless the batch's
/// payments were stored with its log record: then a stored one is kept.
pub(crate) async fn write_payments(conn: &mut SqliteConnection, batch: &Batch<'_>) -> Result<(), sqlx::Error> {
    let payments: Vec<_> = batch
        .payments
        .iter()
        .map(|p| {
            let whose = (p.id.as_str(), p.customer.as_str(), p.order.as_ref().map(|o| o.as_str()), p.purpose.as_str());
            (whose, money(p.amount), p.applied.as_str(), money(p.surplus), p.at)
        })
        .collect();
    let insert = if batch.payments_stored {
        "INSERT INTO payments (id, customer, order_id, purpose, amount, status, surplus, at) \
         SELECT value->>'$[0][0]', value->>'$[0][1]', value->>'$[0][2]', value->>'$[0][3]', value->>1, value->>2, value->>3, value->>4 \
         FROM jsonb_each($1) WHERE true ON CONFLICT (id) DO NOTHING"
    } else {
        "INSERT INTO payments (id, customer, order_id, purpose, amount, status, surplus, at) \
         SELECT value->>'$[0][0]', value->>'$[0][1]', value->>'$[0][2]', value->>'$[0][3]', value->>1, value->>2, value->>3, value->>4 \
         FROM jsonb_each($1) WHERE true"
    };
    run(conn, insert, payments).await
}
