//! Orders: list and filter, one order with its payment and history, buy with saldo, open an
//! order for an outside payment, confirm a payment, cancel an unpaid order, refund a paid one.

use actix_web::{get, post, web, HttpResponse};
use serde::Deserialize;
use serde_json::json;
use warung_actors::domain::{CustomerId, Money, OrderId, ProductCode, Quantity, Reference};

use super::{ledger_json, movement_json, next_cursor, parse, store_down, AdminName, Payment};
use crate::checkout::{CheckoutError, OrderRow, OrderState, PaymentOutcome};
use crate::engine::Engine;
use crate::http::errors::ApiError;
use crate::store::admin::OrderFilter;

/// Orders listed when the call does not say how many.
const ORDERS_LISTED_DEFAULT: i64 = 100;

pub fn configure(config: &mut web::ServiceConfig) {
    config
        .service(list_orders)
        .service(purchase)
        .service(open_order)
        .service(get_order)
        .service(pay_order)
        .service(cancel_order)
        .service(refund_order);
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ListQuery {
    state: Option<String>,
    customer: Option<String>,
    product: Option<String>,
    /// Created at or after: Unix ms or a UTC date `YYYY-MM-DD`.
    from: Option<String>,
    /// Created before: Unix ms or a UTC date (the whole day excluded). The next page's cursor.
    to: Option<String>,
    limit: Option<i64>,
}

#[get("/orders")]
async fn list_orders(engine: web::Data<Engine>, query: web::Query<ListQuery>) -> Result<HttpResponse, ApiError> {
    let state = match &query.state {
        Some(text) => Some(
            OrderState::parse(text)
                .ok_or_else(|| ApiError::bad_request("bad_state", format!("no order state {text:?}")))?
                .as_str()
                .to_string(),
        ),
        None => None,
    };
    let filter = OrderFilter {
        state,
        customer: query.customer.as_deref().map(|c| parse("customer", CustomerId::parse(c))).transpose()?,
        product: query.product.as_deref().map(|p| parse("product", ProductCode::parse(p))).transpose()?,
        from_ms: query.from.as_deref().map(|t| time_ms("from", t)).transpose()?,
        to_ms: query.to.as_deref().map(|t| time_ms("to", t)).transpose()?,
        limit: query.limit.unwrap_or(ORDERS_LISTED_DEFAULT),
    };
    let orders = engine.store.list_orders(&filter).await.map_err(store_down)?;
    Ok(HttpResponse::Ok().json(json!({
        "orders": orders.iter().map(order_json).collect::<Vec<_>>(),
        "next_to": next_cursor(&orders, filter.limit, |o| o.created_at),
    })))
}

/// Unix ms, or `YYYY-MM-DD` as midnight UTC.
fn time_ms(field: &str, text: &str) -> Result<i64, ApiError> {
    if let Ok(ms) = text.parse::<i64>() {
        return Ok(ms);
    }
    let parts: Vec<&str> = text.split('-').collect();
    let numbers: Option<Vec<i64>> = parts.iter().map(|p| p.parse::<i64>().ok()).collect();
    match numbers.as_deref() {
        Some([y, m, d]) if parts[0].len() == 4 && (1..=12).contains(m) && (1..=31).contains(d) => {
            Ok(days_from_civil(*y, *m, *d) * 86_400_000)
        }
        _ => {
            Err(ApiError::bad_request(&format!("bad_{field}"), format!("{field}: Unix ms or YYYY-MM-DD, not {text:?}")))
        }
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn order_json(row: &OrderRow) -> serde_json::Value {
    json!({
        "order": row.id, "customer": row.customer, "product": row.product, "quantity": row.quantity,
        "unit_price": row.unit_price, "total": row.total, "method": row.method, "state": row.state,
        "expires_at_ms": row.expires_at, "note": row.note, "created_at_ms": row.created_at,
        "updated_at_ms": row.updated_at,
    })
}

#[get("/orders/{id}")]
async fn get_order(engine: web::Data<Engine>, id: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let id = parse("order", OrderId::parse(&id))?;
    let row = engine.store.order(&id).await.map_err(store_down)?.ok_or(CheckoutError::OrderNotFound)?;
    let history = engine.store.order_history(&row).await.map_err(store_down)?;
    let charge = engine.store.charge(id.as_str()).await.map_err(store_down)?;
    let mut body = order_json(&row);
    body["payments"] = serde_json::to_value(&history.payments).expect("payments serialise");
    body["qris"] = match charge {
        Some(c) => json!({"status": c.status.as_str(), "gross_amount": c.gross, "expires_at_ms": c.expires_at}),
        None => serde_json::Value::Null,
    };
    body["stock_movements"] = history.movements.iter().map(movement_json).collect();
    body["ledger"] = history.ledger.iter().map(ledger_json).collect();
    Ok(HttpResponse::Ok().json(body))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Buy {
    customer: String,
    product: String,
    #[serde(default = "one")]
    quantity: Quantity,
}

fn one() -> Quantity {
    1
}

#[post("/purchases")]
async fn purchase(engine: web::Data<Engine>, body: web::Json<Buy>) -> Result<HttpResponse, ApiError> {
    let customer = parse("customer", CustomerId::parse(&body.customer))?;
    let product = parse("product", ProductCode::parse(&body.product))?;
    let bought = engine.checkout.buy_with_saldo(&customer, &product, body.quantity).await?;
    Ok(HttpResponse::Ok().json(json!({
        "order": bought.order,
        "quantity": bought.quantity,
        "total": bought.total,
        "items": bought.items.iter().map(|i| i.expose()).collect::<Vec<_>>(),
        "balance": bought.balance,
    })))
}

#[post("/orders")]
async fn open_order(engine: web::Data<Engine>, body: web::Json<Buy>) -> Result<HttpResponse, ApiError> {
    let customer = parse("customer", CustomerId::parse(&body.customer))?;
    let product = parse("product", ProductCode::parse(&body.product))?;
    let pending = engine.checkout.buy_with_external(&customer, &product, body.quantity).await?;
    Ok(HttpResponse::Created()
        .json(json!({"order": pending.order, "total": pending.total, "expires_at_ms": pending.expires_at})))
}

#[post("/orders/{id}/payments")]
async fn pay_order(
    engine: web::Data<Engine>,
    gateway: web::Data<crate::flows::service::Gateway>,
    admin: AdminName,
    id: web::Path<String>,
    body: web::Json<Payment>,
) -> Result<HttpResponse, ApiError> {
    let id = parse("order", OrderId::parse(&id))?;
    let payment = parse("payment_id", Reference::parse(&body.payment_id))?;
    let amount = parse("amount", Money::parse_plain(&body.amount))?;
    let applied = engine.checkout.confirm_payment(&id, &payment, amount, &admin.actor()).await?;
    if let Some(row) = engine.store.order(&id).await.map_err(store_down)? {
        gateway.qris.tell_confirmed(&row.customer, &payment, &applied.outcome).await;
    }
    let mut body = match applied.outcome {
        PaymentOutcome::Delivered { order, items, surplus, balance } => json!({
            "outcome": "delivered", "order": order, "items": items.iter().map(|i| i.expose()).collect::<Vec<_>>(),
            "surplus": surplus, "balance": balance,
        }),
        PaymentOutcome::CreditedToWallet { order, amount, balance } => {
            json!({"outcome": "credited_to_wallet", "order": order, "amount": amount, "balance": balance})
        }
    };
    body["repeat"] = json!(applied.repeat);
    Ok(HttpResponse::Ok().json(body))
}

#[post("/orders/{id}/cancel")]
async fn cancel_order(
    engine: web::Data<Engine>,
    admin: AdminName,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = parse("order", OrderId::parse(&id))?;
    engine.checkout.cancel_as(&id, Some(&admin.actor())).await?;
    Ok(HttpResponse::Ok().json(json!({"order": id, "state": "cancelled"})))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Refund {
    reason: String,
}

#[post("/orders/{id}/refund")]
async fn refund_order(
    engine: web::Data<Engine>,
    admin: AdminName,
    id: web::Path<String>,
    body: web::Json<Refund>,
) -> Result<HttpResponse, ApiError> {
    let id = parse("order", OrderId::parse(&id))?;
    if body.reason.trim().is_empty() {
        return Err(ApiError::bad_request("reason_required", "a refund needs a reason"));
    }
    let balance = engine.checkout.refund(&id, body.reason.trim(), &admin.actor()).await?;
    Ok(HttpResponse::Ok().json(json!({"order": id, "state": "refunded", "balance": balance})))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_midnight_utc_and_numbers_are_unix_ms() {
        assert_eq!(time_ms("from", "1970-01-01").unwrap(), 0);
        assert_eq!(time_ms("from", "2026-11-22").unwrap(), 1_795_305_600_000);
        assert_eq!(time_ms("from", "2024-02-29").unwrap(), 1_709_164_800_000);
        assert_eq!(time_ms("to", "1700000000000").unwrap(), 1_700_000_000_000);
        assert!(time_ms("to", "22/11/2026").is_err());
        assert!(time_ms("to", "2026-13-01").is_err());
    }
}
