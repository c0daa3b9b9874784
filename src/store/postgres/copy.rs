//! The projector's appends by `COPY ... FROM STDIN`: the rows a projection only adds (ledger
//! entries, stock movements, and the orders and reservations its batches create) are streamed in
//! Postgres's text format instead of sent as arrays to `UNNEST`, which spares the server the
//! arrays' decoding (in psql, 90,000 ledger rows: 300-350 ms against 400-520 ms; the rows'
//! own cost is the same either way, docs/benchmarks.md). A `COPY` costs two round trips of its
//! own, so it is used only by the projector, whose large transactions are off every reply's
//! path, and only for a table with at least `PROJECTION_COPY_ROWS_MIN` rows in the transaction
//! (the rest go in the writer's one statement).

use std::io::Write;
use std::sync::LazyLock;

use rust_decimal::Decimal;
use sqlx::postgres::PgConnection;
use warung_actors::journal::{LedgerRow, MovementRow, ReservationRow};

use crate::records::OrderRow;
use crate::store::batch::{item_list, Batch, LastWins, OrderWrites};
use crate::store::rows::fingerprint_text;

use super::writer::{LEDGER_COLUMNS, MOVEMENT_COLUMNS, ORDER_COLUMNS, RESERVATION_COLUMNS};

/// A table's rows in one projection transaction, at least, for them to go by `COPY`; below it
/// the two round trips cost more than the rows save.
pub const PROJECTION_COPY_ROWS_MIN: usize = 64;

/// The rows taken out of a batch to be copied, each table's in its order.
#[derive(Default)]
pub(crate) struct Appends<'a> {
    ledger: Vec<&'a LedgerRow>,
    movements: Vec<&'a MovementRow>,
    /// With the items of the sale each one's row carries, if any (`Batch::sold`).
    new_orders: Vec<(&'a OrderRow, Option<String>)>,
    new_reservations: Vec<&'a ReservationRow>,
}

impl<'a> Appends<'a> {
    /// Moves out of `batch` the appends of every table that has `min_rows` of them or more; the
    /// batch keeps the rest (and is written as before). New orders are taken only when they are
    /// plainly inserted (`OrderWrites::InsertNew`): a second creation of an id then fails the
    /// `COPY` as it fails the insert.
    pub(crate) fn take(batch: &mut Batch<'a>, min_rows: usize) -> Appends<'a> {
        let mut appends = Appends::default();
        if batch.ledger.len() >= min_rows {
            appends.ledger = std::mem::take(&mut batch.ledger);
        }
        if batch.movements.len() >= min_rows {
            appends.movements = std::mem::take(&mut batch.movements);
        }
        if batch.order_writes == OrderWrites::InsertNew && batch.orders.created_count() >= min_rows {
            let created = take_created(&mut batch.orders);
            appends.new_orders = created.into_iter().map(|o| (o, batch.sold_items(o.id.as_str()))).collect();
        }
        if batch.reservations.created_count() >= min_rows {
            appends.new_reservations = take_created(&mut batch.reservations);
        }
        appends
    }

    /// Copies every table's rows, in the caller's transaction.
    pub(crate) async fn write(&self, conn: &mut PgConnection) -> Result<(), sqlx::Error> {
        copy_rows(conn, &LEDGER, &self.ledger, |row, r| {
            row.text(r.customer.as_str())
                .text(r.reference.as_str())
                .text(r.kind.as_str())
                .decimal(r.amount)
                .decimal(r.balance_after.amount())
                .text(&r.reason)
                .text(&r.actor)
                .int(r.at);
        })
        .await?;
        copy_rows(conn, &MOVEMENTS, &self.movements, |row, r| {
            row.text(r.product.as_str())
                .int(r.quantity)
                .text(r.from.as_str())
                .text(r.to.as_str())
                .text(&r.reason)
                .text(&r.reference)
                .text(&r.actor)
                .int(r.at)
                .optional_text(r.content_hash.map(fingerprint_text).as_deref());
        })
        .await?;
        copy_rows(conn, &ORDERS, &self.new_orders, |row, (o, sold_items)| {
            row.text(o.id.as_str())
                .text(o.customer.as_str())
                .text(o.product.as_str())
                .int(i64::from(o.quantity))
                .decimal(o.unit_price.amount())
                .decimal(o.total.amount())
                .text(o.method.as_str())
                .text(o.state.as_str())
                .int(o.expires_at)
                .text(&o.note)
                .int(o.created_at)
                .int(o.updated_at)
                .optional_text(sold_items.as_deref());
        })
        .await?;
        copy_rows(conn, &RESERVATIONS, &self.new_reservations, |row, r| {
            row.text(r.order.as_str())
                .text(r.product.as_str())
                .int(i64::from(r.quantity))
                .decimal(r.unit_price.amount())
                .text(&item_list(&r.items))
                .int(r.expires_at)
                .text(r.status.as_str())
                .text(&r.release_reason)
                .int(r.updated_at);
        })
        .await
    }
}

/// Each table's columns as the writer's inserts give them (`writer.rs`).
static LEDGER: LazyLock<String> = LazyLock::new(|| format!("COPY ledger_entries ({LEDGER_COLUMNS}) FROM STDIN"));
static MOVEMENTS: LazyLock<String> =
    LazyLock::new(|| format!("COPY inventory_movements ({MOVEMENT_COLUMNS}) FROM STDIN"));
static ORDERS: LazyLock<String> = LazyLock::new(|| format!("COPY orders ({ORDER_COLUMNS}) FROM STDIN"));
static RESERVATIONS: LazyLock<String> =
    LazyLock::new(|| format!("COPY reservations ({RESERVATION_COLUMNS}) FROM STDIN"));

/// The rows the batch creates, as of their last change; the batch keeps the others.
fn take_created<K: Eq + std::hash::Hash + Copy, V: Copy>(rows: &mut LastWins<K, V>) -> Vec<V> {
    let (created, known) = std::mem::take(rows).split_created();
    *rows = known;
    created.rows
}

async fn copy_rows<R>(
    conn: &mut PgConnection,
    statement: &str,
    rows: &[R],
    put: impl Fn(&mut CopyRow<'_>, &R),
) -> Result<(), sqlx::Error> {
    if rows.is_empty() {
        return Ok(());
    }
    let mut data = Vec::with_capacity(rows.len() * 128);
    for r in rows {
        let mut row = CopyRow { data: &mut data, fields: 0 };
        put(&mut row, r);
        data.push(b'\n');
    }
    let mut copy = conn.copy_in_raw(statement).await?;
    copy.send(data).await?;
    match copy.finish().await? {
        copied if copied == rows.len() as u64 => Ok(()),
        // Not expected (a COPY stores every row it is sent, or fails): the projection's
        // transaction fails and is tried again, rather than count rows it did not write.
        copied => Err(sqlx::Error::Protocol(format!("a COPY of {} rows stored {copied}", rows.len()))),
    }
}

/// One row of `COPY`'s text format: fields apart by tabs, `\N` for null, and in text a
/// backslash, tab, newline or carriage return escaped by a backslash (nothing else is special).
pub(crate) struct CopyRow<'d> {
    data: &'d mut Vec<u8>,
    fields: usize,
}

impl CopyRow<'_> {
    fn separate(&mut self) {
        if self.fields > 0 {
            self.data.push(b'\t');
        }
        self.fields += 1;
    }

    pub(crate) fn text(&mut self, value: &str) -> &mut Self {
        self.separate();
        let special = |byte: &u8| matches!(byte, b'\\' | b'\t' | b'\n' | b'\r');
        let bytes = value.as_bytes();
        if !bytes.iter().any(special) {
            // Ids, names and references: nearly every field has nothing to escape.
            self.data.extend_from_slice(bytes);
            return self;
        }
        for &byte in bytes {
            match byte {
                b'\\' => self.data.extend_from_slice(b"\\\\"),
                b'\t' => self.data.extend_from_slice(b"\\t"),
                b'\n' => self.data.extend_from_slice(b"\\n"),
                b'\r' => self.data.extend_from_slice(b"\\r"),
                other => self.data.push(other),
            }
        }
        self
    }

    pub(crate) fn optional_text(&mut self, value: Option<&str>) -> &mut Self {
        match value {
            Some(value) => self.text(value),
            None => {
                self.separate();
                self.data.extend_from_slice(b"\\N");
                self
            }
        }
    }

    pub(crate) fn int(&mut self, value: i64) -> &mut Self {
        self.separate();
        write!(self.data, "{value}").expect("writing to a Vec cannot fail");
        self
    }

    /// Exact: a decimal's text is its digits, never a float's.
    pub(crate) fn decimal(&mut self, value: Decimal) -> &mut Self {
        self.separate();
        write!(self.data, "{value}").expect("writing to a Vec cannot fail");
        self
    }
}

#[cfg(test)]
mod tests {
    use warung_actors::journal::{Entry, Event};

    use super::*;
    use crate::records::ShopRecord;

    fn row(put: impl Fn(&mut CopyRow<'_>)) -> String {
        let mut data = Vec::new();
        put(&mut CopyRow { data: &mut data, fields: 0 });
        String::from_utf8(data).unwrap()
    }

    #[test]
    fn text_that_copy_reads_as_markup_is_escaped_and_nothing_else() {
        let line = row(|r| {
            r.text("a\tb\nc\\d\re").text("Rp 15.000 · lunas").optional_text(None).int(-3);
        });
        assert_eq!(line, "a\\tb\\nc\\\\d\\re\tRp 15.000 · lunas\t\\N\t-3");
    }

    fn ledger(n: usize) -> Entry<ShopRecord> {
        use warung_actors::domain::{CustomerId, Money, Reference};
        use warung_actors::journal::LedgerKind;
        Entry::Event(Event::Ledger(LedgerRow {
            customer: CustomerId::parse("6281100").unwrap(),
            reference: Reference::parse(&format!("ref-{n}")).unwrap(),
            kind: LedgerKind::TopUp,
            amount: Decimal::new(5_000, 0),
            balance_after: Money::rupiah(5_000 * (n as u64 + 1)),
            reason: "top up".into(),
            actor: "test".into(),
            at: 1,
        }))
    }

    fn movement() -> Entry<ShopRecord> {
        use warung_actors::domain::{ProductCode, StockState};
        Entry::Event(Event::Movement(MovementRow {
            product: ProductCode::parse("kopi").unwrap(),
            quantity: 1,
            from: StockState::Available,
            to: StockState::Sold,
            reason: "commit".into(),
            reference: "order".into(),
            actor: "test".into(),
            at: 1,
            content_hash: None,
        }))
    }

    #[test]
    fn only_the_tables_with_enough_appends_are_copied_and_the_batch_keeps_the_rest() {
        let mut entries: Vec<Entry<ShopRecord>> = (0..5).map(ledger).collect();
        entries.extend((0..3).map(|_| movement()));
        let mut batch = Batch::of(&entries);
        let appends = Appends::take(&mut batch, 5);
        assert_eq!((appends.ledger.len(), batch.ledger.len()), (5, 0), "five ledger entries: copied");
        assert_eq!((appends.movements.len(), batch.movements.len()), (0, 3), "three movements: left in the batch");
        let copied: Vec<&str> = appends.ledger.iter().map(|l| l.reference.as_str()).collect();
        assert_eq!(copied, ["ref-0", "ref-1", "ref-2", "ref-3", "ref-4"], "in the journal's order");
    }

    #[test]
    fn a_decimal_is_written_with_its_exact_digits() {
        let line = row(|r| {
            r.decimal(Decimal::new(-1_500_050, 2)).decimal(Decimal::new(7, 0));
        });
        assert_eq!(line, "-15000.50\t7");
    }
}
