//! The tables' writer on Postgres: a batch's rows, one `UNNEST` statement per table, sent as the
//! parts of one `WITH` statement (`Combined`). The tables' journal runs it for each batch, the
//! log's projector for many batches at once.

use std::sync::LazyLock;

use rust_decimal::Decimal;
use sqlx::postgres::PgConnection;
use warung_actors::journal::ReservationRow;

use crate::records::{OrderRow, OrderState};
use crate::store::batch::{item_list, Batch, OrderWrites};
use crate::store::combined::Combined;
use crate::store::fence::Fenced;
use crate::store::journal_writer::Writer;

/// Whether `write_all` sends the batch as one statement (see there).
pub(super) fn is_one_statement(batch: &Batch<'_>) -> bool {
    batch.new_items.is_empty()
}

/// Writes a batch's rows in one round trip where it can: every table's statement is a part of
/// one `WITH` statement. Item status changes go in a second statement when the batch also adds
/// items (all parts of one statement see the same snapshot, so an update could miss a row
/// inserted beside it); no other two parts touch the same row (rows are merged by key). The
/// writer's check, if any, is the first statement's, and is sent even when the batch has no rows
/// here.
pub(crate) async fn write_all(
    conn: &mut PgConnection,
    batch: &Batch<'_>,
    check: Option<(Writer<'_>, Fenced)>,
) -> Result<(), sqlx::Error> {
    let mut first = Combined::default();
    if let Some((writer, fenced)) = check {
        first.check(writer, fenced);
    }
    write_products(&mut first, batch);
    write_new_items(&mut first, batch);
    write_reservations(&mut first, batch);
    write_movements(&mut first, batch);
    write_wallets(&mut first, batch);
    write_orders(&mut first, batch);
    write_audit(&mut first, batch);
    if is_one_statement(batch) {
        write_moved_items(&mut first, batch);
        first.execute(conn).await
    } else {
        first.execute(conn).await?;
        let mut second = Combined::default();
        write_moved_items(&mut second, batch);
        second.execute(conn).await
    }
}

fn money(m: warung_actors::domain::Money) -> Decimal {
    m.amount()
}

fn write_products(c: &mut Combined, batch: &Batch<'_>) {
    let rows = &batch.products.rows;
    if rows.is_empty() {
        return;
    }
    c.part(
        "INSERT INTO products (code, name, price, kind, active, received, available, reserved, sold, removed, next_item_no, created_at, updated_at, reseller_price) \
         SELECT * FROM UNNEST($1::text[], $2::text[], $3::numeric[], $4::text[], $5::bigint[], $6::bigint[], $7::bigint[], $8::bigint[], \
                              $9::bigint[], $10::bigint[], $11::bigint[], $12::bigint[], $12::bigint[], $13::numeric[]) \
         ON CONFLICT (code) DO UPDATE SET name = EXCLUDED.name, price = EXCLUDED.price, reseller_price = EXCLUDED.reseller_price, active = EXCLUDED.active, \
           received = EXCLUDED.received, available = EXCLUDED.available, reserved = EXCLUDED.reserved, sold = EXCLUDED.sold, \
           removed = EXCLUDED.removed, next_item_no = EXCLUDED.next_item_no, updated_at = EXCLUDED.updated_at",
    )
    .bind(rows.iter().map(|r| r.code.as_str()).collect::<Vec<_>>())
    .bind(rows.iter().map(|r| r.name.as_str()).collect::<Vec<_>>())
    .bind(rows.iter().map(|r| money(r.price)).collect::<Vec<_>>())
    .bind(rows.iter().map(|r| r.kind.as_str()).collect::<Vec<_>>())
    .bind(rows.iter().map(|r| i64::from(r.active)).collect::<Vec<_>>())
    .bind(rows.iter().map(|r| r.received).collect::<Vec<_>>())
    .bind(rows.iter().map(|r| r.available).collect::<Vec<_>>())
    .bind(rows.iter().map(|r| r.reserved).collect::<Vec<_>>())
    .bind(rows.iter().map(|r| r.sold).collect::<Vec<_>>())
    .bind(rows.iter().map(|r| r.removed).collect::<Vec<_>>())
    .bind(rows.iter().map(|r| r.next_item_no).collect::<Vec<_>>())
    .bind(rows.iter().map(|r| r.updated_at).collect::<Vec<_>>())
    .bind(rows.iter().map(|r| r.reseller_price.map(money)).collect::<Vec<_>>());
}

fn write_audit(c: &mut Combined, batch: &Batch<'_>) {
    let rows = &batch.audit;
    if rows.is_empty() {
        return;
    }
    c.part(
        "INSERT INTO admin_audit (admin, action, subject, before, after, reason, at) \
         SELECT * FROM UNNEST($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::bigint[])",
    )
    .bind(rows.iter().map(|r| r.admin.as_str()).collect::<Vec<_>>())
    .bind(rows.iter().map(|r| r.action.as_str()).collect::<Vec<_>>())
    .bind(rows.iter().map(|r| r.subject.as_str()).collect::<Vec<_>>())
    .bind(rows.iter().map(|r| r.before.as_str()).collect::<Vec<_>>())
    .bind(rows.iter().map(|r| r.after.as_str()).collect::<Vec<_>>())
    .bind(rows.iter().map(|r| r.reason.as_str()).collect::<Vec<_>>())
    .bind(rows.iter().map(|r| r.at).collect::<Vec<_>>());
}

fn write_new_items(c: &mut Combined, batch: &Batch<'_>) {
    let new = &batch.new_items;
    if !new.is_empty() {
        c.part(
            "INSERT INTO items (product, item_no, secret, status, order_id, created_at, updated_at) \
             SELECT p, n, s, 'available', NULL, a, a FROM UNNEST($1::text[], $2::bigint[], $3::text[], $4::bigint[]) AS u(p, n, s, a)",
        )
        .bind(new.iter().map(|i| i.product).collect::<Vec<_>>())
        .bind(new.iter().map(|i| i.no).collect::<Vec<_>>())
        .bind(new.iter().map(|i| i.secret.expose()).collect::<Vec<_>>())
        .bind(new.iter().map(|i| i.at).collect::<Vec<_>>());
    }
}

fn write_moved_items(c: &mut Combined, batch: &Batch<'_>) {
    let moved = &batch.item_statuses.rows;
    if !moved.is_empty() {
        c.part(
            "UPDATE items AS i SET status = u.status, order_id = u.order_id, updated_at = u.at \
             FROM UNNEST($1::text[], $2::bigint[], $3::text[], $4::text[], $5::bigint[]) AS u(product, item_no, status, order_id, at) \
             WHERE i.product = u.product AND i.item_no = u.item_no",
        )
        .bind(moved.iter().map(|i| i.product).collect::<Vec<_>>())
        .bind(moved.iter().map(|i| i.no).collect::<Vec<_>>())
        .bind(moved.iter().map(|i| i.status.as_str()).collect::<Vec<_>>())
        .bind(moved.iter().map(|i| i.holder).collect::<Vec<_>>())
        .bind(moved.iter().map(|i| i.at).collect::<Vec<_>>());
    }
}

/// The columns each table's rows are given in, by the inserts here and by the projector's `COPY`
/// (`copy.rs`): one list per table, so the two never disagree on an order.
pub(super) const RESERVATION_COLUMNS: &str =
    "order_id, product, quantity, unit_price, items, expires_at, status, release_reason, updated_at";
pub(super) const MOVEMENT_COLUMNS: &str =
    "product, quantity, from_state, to_state, reason, reference, actor, at, content_hash";
pub(super) const LEDGER_COLUMNS: &str = "customer, reference, kind, amount, balance_after, reason, actor, at";
pub(super) const ORDER_COLUMNS: &str =
    "id, customer, product, quantity, unit_price, total, method, state, expires_at, note, created_at, updated_at, sold_items";

static RESERVATIONS_INSERT: LazyLock<String> = LazyLock::new(|| {
    format!(
        "INSERT INTO reservations ({RESERVATION_COLUMNS}) \
         SELECT * FROM UNNEST($1::text[], $2::text[], $3::bigint[], $4::numeric[], $5::text[], $6::bigint[], $7::text[], $8::text[], $9::bigint[])"
    )
});
/// What an upsert of reservations adds to `RESERVATIONS_INSERT`.
const RESERVATIONS_ON_CONFLICT: &str =
    " ON CONFLICT (order_id) DO UPDATE SET status = EXCLUDED.status, release_reason = EXCLUDED.release_reason, \
       items = EXCLUDED.items, expires_at = EXCLUDED.expires_at, updated_at = EXCLUDED.updated_at";

/// Built once: the writer runs it in every batch that changes a known reservation.
static RESERVATIONS_UPSERT: LazyLock<String> =
    LazyLock::new(|| format!("{}{RESERVATIONS_ON_CONFLICT}", *RESERVATIONS_INSERT));

/// New reservations are plainly inserted (no conflict to look for first); the rest upserted.
fn write_reservations(c: &mut Combined, batch: &Batch<'_>) {
    let (new, known) = batch.reservations.by_creation();
    put_reservations(c, &RESERVATIONS_INSERT, &new);
    put_reservations(c, &RESERVATIONS_UPSERT, &known);
}

fn put_reservations(c: &mut Combined, statement: &str, rows: &[&&ReservationRow]) {
    if rows.is_empty() {
        return;
    }
    c.part(statement)
        .bind(rows.iter().map(|r| r.order.as_str()).collect::<Vec<_>>())
        .bind(rows.iter().map(|r| r.product.as_str()).collect::<Vec<_>>())
        .bind(rows.iter().map(|r| i64::from(r.quantity)).collect::<Vec<_>>())
        .bind(rows.iter().map(|r| money(r.unit_price)).collect::<Vec<_>>())
        .bind(rows.iter().map(|r| item_list(&r.items)).collect::<Vec<_>>())
        .bind(rows.iter().map(|r| r.expires_at).collect::<Vec<_>>())
        .bind(rows.iter().map(|r| r.status.as_str()).collect::<Vec<_>>())
        .bind(rows.iter().map(|r| r.release_reason.as_str()).collect::<Vec<_>>())
        .bind(rows.iter().map(|r| r.updated_at).collect::<Vec<_>>());
}

static MOVEMENTS_INSERT: LazyLock<String> = LazyLock::new(|| {
    format!(
        "INSERT INTO inventory_movements ({MOVEMENT_COLUMNS}) \
         SELECT * FROM UNNEST($1::text[], $2::bigint[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::bigint[], $9::text[])"
    )
});

static LEDGER_INSERT: LazyLock<String> = LazyLock::new(|| {
    format!(
        "INSERT INTO ledger_entries ({LEDGER_COLUMNS}) \
         SELECT * FROM UNNEST($1::text[], $2::text[], $3::text[], $4::numeric[], $5::numeric[], $6::text[], $7::text[], $8::bigint[])"
    )
});

fn write_movements(c: &mut Combined, batch: &Batch<'_>) {
    let rows = &batch.movements;
    if rows.is_empty() {
        return;
    }
    c.part(&MOVEMENTS_INSERT)
        .bind(rows.iter().map(|r| r.product.as_str()).collect::<Vec<_>>())
        .bind(rows.iter().map(|r| r.quantity).collect::<Vec<_>>())
        .bind(rows.iter().map(|r| r.from.as_str()).collect::<Vec<_>>())
        .bind(rows.iter().map(|r| r.to.as_str()).collect::<Vec<_>>())
        .bind(rows.iter().map(|r| &*r.reason).collect::<Vec<&str>>())
        .bind(rows.iter().map(|r| &*r.reference).collect::<Vec<&str>>())
        .bind(rows.iter().map(|r| r.actor.as_str()).collect::<Vec<_>>())
        .bind(rows.iter().map(|r| r.at).collect::<Vec<_>>())
        .bind(rows.iter().map(|r| r.content_hash.map(crate::store::rows::fingerprint_text)).collect::<Vec<_>>());
}

fn write_wallets(c: &mut Combined, batch: &Batch<'_>) {
    let wallets = &batch.wallets.rows;
    if !wallets.is_empty() {
        // An update of the customers who have a row, then an insert of the others (what the
        // update did not return), rather than one `INSERT ... ON CONFLICT DO UPDATE`: its
        // speculative insertion cost about 11 µs a customer against 8.6 (docs/benchmarks.md).
        // Both parts see the same snapshot, so the insert must not meet a row the update
        // touched; no other writer makes customers' rows (the journal's rows are split so two
        // batches never write the same customer at once).
        let ids: Vec<&str> = wallets.iter().map(|w| w.customer.as_str()).collect();
        let balances: Vec<Decimal> = wallets.iter().map(|w| money(w.balance)).collect();
        let updated_at: Vec<i64> = wallets.iter().map(|w| w.updated_at).collect();
        let updated = c.next_part_name();
        c.part(
            "UPDATE customers AS c SET balance = u.b, updated_at = u.a \
             FROM UNNEST($1::text[], $2::numeric[], $3::bigint[]) AS u(id, b, a) WHERE c.id = u.id RETURNING c.id",
        )
        .bind(&ids)
        .bind(&balances)
        .bind(&updated_at);
        c.part(&format!(
            "INSERT INTO customers (id, balance, created_at, updated_at) \
             SELECT id, b, c, a FROM UNNEST($1::text[], $2::numeric[], $3::bigint[], $4::bigint[]) AS u(id, b, a, c) \
             WHERE u.id NOT IN (SELECT id FROM {updated})"
        ))
        .bind(&ids)
        .bind(&balances)
        .bind(&updated_at)
        .bind(wallets.iter().map(|w| batch.wallet_created_at(w)).collect::<Vec<_>>());
    }
    let ledger = &batch.ledger;
    if !ledger.is_empty() {
        c.part(&LEDGER_INSERT)
            .bind(ledger.iter().map(|l| l.customer.as_str()).collect::<Vec<_>>())
            .bind(ledger.iter().map(|l| l.reference.as_str()).collect::<Vec<_>>())
            .bind(ledger.iter().map(|l| l.kind.as_str()).collect::<Vec<_>>())
            .bind(ledger.iter().map(|l| l.amount).collect::<Vec<_>>())
            .bind(ledger.iter().map(|l| money(l.balance_after)).collect::<Vec<_>>())
            .bind(ledger.iter().map(|l| l.reason.as_str()).collect::<Vec<_>>())
            .bind(ledger.iter().map(|l| l.actor.as_str()).collect::<Vec<_>>())
            .bind(ledger.iter().map(|l| l.at).collect::<Vec<_>>());
    }
}

static ORDERS_INSERT: LazyLock<String> = LazyLock::new(|| {
    format!(
        "INSERT INTO orders ({ORDER_COLUMNS}) \
         SELECT * FROM UNNEST($1::text[], $2::text[], $3::text[], $4::bigint[], $5::numeric[], $6::numeric[], $7::text[], $8::text[], \
                              $9::bigint[], $10::text[], $11::bigint[], $12::bigint[], $13::text[])"
    )
});
/// What an upsert of orders adds to `ORDERS_INSERT`. A row without a sale's items keeps those
/// stored (`Batch::sold`: only the batch that made the sale has them).
const ORDERS_ON_CONFLICT: &str =
    " ON CONFLICT (id) DO UPDATE SET state = EXCLUDED.state, note = EXCLUDED.note, expires_at = EXCLUDED.expires_at, \
       updated_at = EXCLUDED.updated_at, sold_items = COALESCE(EXCLUDED.sold_items, orders.sold_items)";

/// Built once: the writer runs it in every batch that changes a known order.
static ORDERS_UPSERT: LazyLock<String> = LazyLock::new(|| format!("{}{ORDERS_ON_CONFLICT}", *ORDERS_INSERT));

/// `OrderWrites::UpsertForward`: a row replaces the stored one only if it is as far along
/// (`OrderState::progress`) and as recent. In a cluster one order's rows come from two nodes'
/// records, each node projecting its own, so the earlier row may reach the table last. A sale's
/// items are kept whichever comes first: the row that carries them may be the earlier one (the
/// paid order, reaching the table after its refund's row).
static ORDERS_FORWARD_UPSERT: LazyLock<String> = LazyLock::new(|| {
    let progress = |column: &str| {
        let steps: String =
            OrderState::ALL.iter().map(|s| format!(" WHEN '{}' THEN {}", s.as_str(), s.progress())).collect();
        format!("CASE {column}{steps} END")
    };
    let ahead = format!(
        "({}, orders.updated_at) <= ({}, EXCLUDED.updated_at)",
        progress("orders.state"),
        progress("EXCLUDED.state")
    );
    let newer = |column: &str| format!("{column} = CASE WHEN {ahead} THEN EXCLUDED.{column} ELSE orders.{column} END");
    format!(
        "{} ON CONFLICT (id) DO UPDATE SET {}, {}, {}, {}, sold_items = COALESCE(orders.sold_items, EXCLUDED.sold_items) \
         WHERE {ahead} OR (orders.sold_items IS NULL AND EXCLUDED.sold_items IS NOT NULL)",
        *ORDERS_INSERT,
        newer("state"),
        newer("note"),
        newer("expires_at"),
        newer("updated_at"),
    )
});

/// As `Batch::order_writes` says: new orders plainly inserted (no conflict to look for first,
/// and a second creation of an id refuses its batch) and the rest upserted, or every one
/// upserted only as far along as it goes.
pub(crate) fn write_orders(c: &mut Combined, batch: &Batch<'_>) {
    match batch.order_writes {
        OrderWrites::InsertNew => {
            let (new, known) = batch.orders.by_creation();
            put_orders(c, &ORDERS_INSERT, &new, batch);
            put_orders(c, &ORDERS_UPSERT, &known, batch);
        }
        OrderWrites::UpsertForward => {
            // By id: two nodes' projections lock the orders they share in one order, never
            // waiting on each other in a cycle.
            let mut rows: Vec<_> = batch.orders.rows.iter().collect();
            rows.sort_unstable_by_key(|o| o.id.as_str());
            put_orders(c, &ORDERS_FORWARD_UPSERT, &rows, batch);
        }
    }
    let payments = &batch.payments;
    if !payments.is_empty() {
        // A plain insert: a payment id is stored once. A second row for an id refuses its batch
        // (its neighbours are committed one by one), never overwrites the first. The log's
        // projection writes payments its record's transaction already stored: it keeps those.
        let insert = "INSERT INTO payments (id, customer, order_id, purpose, amount, status, surplus, at) \
             SELECT * FROM UNNEST($1::text[], $2::text[], $3::text[], $4::text[], $5::numeric[], $6::text[], $7::numeric[], $8::bigint[])";
        let statement =
            if batch.payments_stored { format!("{insert} ON CONFLICT (id) DO NOTHING") } else { insert.into() };
        c.part(&statement)
            .bind(payments.iter().map(|p| p.id.as_str()).collect::<Vec<_>>())
            .bind(payments.iter().map(|p| p.customer.as_str()).collect::<Vec<_>>())
            .bind(payments.iter().map(|p| p.order.as_ref().map(|o| o.as_str())).collect::<Vec<_>>())
            .bind(payments.iter().map(|p| p.purpose.as_str()).collect::<Vec<_>>())
            .bind(payments.iter().map(|p| money(p.amount)).collect::<Vec<_>>())
            .bind(payments.iter().map(|p| p.applied.as_str()).collect::<Vec<_>>())
            .bind(payments.iter().map(|p| money(p.surplus)).collect::<Vec<_>>())
            .bind(payments.iter().map(|p| p.at).collect::<Vec<_>>());
    }
}

fn put_orders(c: &mut Combined, statement: &str, orders: &[&&OrderRow], batch: &Batch<'_>) {
    if orders.is_empty() {
        return;
    }
    c.part(statement)
        .bind(orders.iter().map(|o| o.id.as_str()).collect::<Vec<_>>())
        .bind(orders.iter().map(|o| o.customer.as_str()).collect::<Vec<_>>())
        .bind(orders.iter().map(|o| o.product.as_str()).collect::<Vec<_>>())
        .bind(orders.iter().map(|o| i64::from(o.quantity)).collect::<Vec<_>>())
        .bind(orders.iter().map(|o| money(o.unit_price)).collect::<Vec<_>>())
        .bind(orders.iter().map(|o| money(o.total)).collect::<Vec<_>>())
        .bind(orders.iter().map(|o| o.method.as_str()).collect::<Vec<_>>())
        .bind(orders.iter().map(|o| o.state.as_str()).collect::<Vec<_>>())
        .bind(orders.iter().map(|o| o.expires_at).collect::<Vec<_>>())
        .bind(orders.iter().map(|o| o.note.as_str()).collect::<Vec<_>>())
        .bind(orders.iter().map(|o| o.created_at).collect::<Vec<_>>())
        .bind(orders.iter().map(|o| o.updated_at).collect::<Vec<_>>())
        .bind(orders.iter().map(|o| batch.sold_items(o.id.as_str())).collect::<Vec<_>>());
}

#[cfg(test)]
mod sold_items_tests;
