//! The exports as CSV (RFC 4180, UTF-8, CRLF), streamed a store page at a time. A cell that a
//! spreadsheet would run as a formula (`=`, `+`, `-`, `@` first) is written with a leading `'`,
//! unless it is a number: what a customer or an admin typed must never run on the owner's laptop.

use std::sync::Arc;

use actix_web::web::Bytes;
use actix_web::HttpResponse;
use futures::stream::{self, Stream};
use warung_actors::journal::LedgerRow;

use crate::infra::wib;
use crate::records::OrderRow;
use crate::store::reports::EXPORT_PAGE_ROWS;
use crate::store::{Store, StoreError};

const ORDER_HEADER: &str = "order_id,created_wib,customer,product,quantity,unit_price,total,method,state\r\n";
const LEDGER_HEADER: &str = "at_wib,customer,kind,amount,balance_after,reference,reason,actor\r\n";

pub fn respond(file: &str, body: impl Stream<Item = Result<Bytes, StoreError>> + 'static) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header(("Content-Disposition", format!("attachment; filename=\"{file}\"")))
        .streaming(stream::StreamExt::map(body, |chunk| {
            chunk.map_err(|error| {
                tracing::error!(%error, "an export stopped: the store failed mid-way");
                actix_web::error::ErrorServiceUnavailable("the store failed mid-export")
            })
        }))
}

/// Where an export is: the page in hand, and the cursor of the next.
enum Next<C> {
    Page(C),
    Done,
}

pub fn orders(
    store: Arc<dyn Store>,
    from: i64,
    to: i64,
    first: Vec<OrderRow>,
) -> impl Stream<Item = Result<Bytes, StoreError>> {
    let header = stream::once(async { Ok(Bytes::from_static(ORDER_HEADER.as_bytes())) });
    let pages = stream::unfold((Some(first), Next::Page(None)), move |(page, next)| {
        let store = store.clone();
        async move {
            let rows = match (page, next) {
                (Some(rows), _) => rows,
                (None, Next::Done) => return None,
                (None, Next::Page(after)) => match store.orders_page(from, to, after).await {
                    Ok(rows) => rows,
                    Err(error) => return Some((Err(error), (None, Next::Done))),
                },
            };
            if rows.is_empty() {
                return None;
            }
            let next = match rows.len() as i64 == EXPORT_PAGE_ROWS {
                true => Next::Page(rows.last().map(|o| (o.created_at, o.id.to_string()))),
                false => Next::Done,
            };
            let text: String = rows.iter().map(order_line).collect();
            Some((Ok(Bytes::from(text)), (None, next)))
        }
    });
    stream::StreamExt::chain(header, pages)
}

pub fn ledger(
    store: Arc<dyn Store>,
    from: i64,
    to: i64,
    first: Vec<(i64, LedgerRow)>,
) -> impl Stream<Item = Result<Bytes, StoreError>> {
    let header = stream::once(async { Ok(Bytes::from_static(LEDGER_HEADER.as_bytes())) });
    let pages = stream::unfold((Some(first), Next::Page(0)), move |(page, next)| {
        let store = store.clone();
        async move {
            let rows = match (page, next) {
                (Some(rows), _) => rows,
                (None, Next::Done) => return None,
                (None, Next::Page(after)) => match store.ledger_page(from, to, after).await {
                    Ok(rows) => rows,
                    Err(error) => return Some((Err(error), (None, Next::Done))),
                },
            };
            let (last, _) = rows.last()?;
            let next = match rows.len() as i64 == EXPORT_PAGE_ROWS {
                true => Next::Page(*last),
                false => Next::Done,
            };
            let text: String = rows.iter().map(|(_, entry)| ledger_line(entry)).collect();
            Some((Ok(Bytes::from(text)), (None, next)))
        }
    });
    stream::StreamExt::chain(header, pages)
}

fn order_line(o: &OrderRow) -> String {
    let cells = [
        text(o.id.as_str()),
        text(&wib::time_text(o.created_at)),
        text(o.customer.as_str()),
        // A share's sale is its product's.
        text(o.product.home().as_str()),
        o.quantity.to_string(),
        o.unit_price.amount().to_string(),
        o.total.amount().to_string(),
        text(o.method.as_str()),
        text(o.state.as_str()),
    ];
    cells.join(",") + "\r\n"
}

fn ledger_line(l: &LedgerRow) -> String {
    let cells = [
        text(&wib::time_text(l.at)),
        text(l.customer.as_str()),
        text(l.kind.as_str()),
        l.amount.to_string(),
        l.balance_after.amount().to_string(),
        text(l.reference.as_str()),
        text(&l.reason),
        text(&l.actor),
    ];
    cells.join(",") + "\r\n"
}

/// A text cell: never a formula, quoted when it holds a comma, a quote or a line break.
fn text(value: &str) -> String {
    let value = match value.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        true => format!("'{value}"),
        false => value.to_string(),
    };
    match value.contains([',', '"', '\n', '\r']) {
        true => format!("\"{}\"", value.replace('"', "\"\"")),
        false => value,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_cells_are_quoted_when_needed_and_never_formulas() {
        assert_eq!(text("plain"), "plain");
        assert_eq!(text("a,b"), "\"a,b\"");
        assert_eq!(text("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(text("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
        assert_eq!(text("-5 bonus"), "'-5 bonus");
        assert_eq!(text("two\nlines"), "\"two\nlines\"");
    }
}
