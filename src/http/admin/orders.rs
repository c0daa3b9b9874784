//! Orders: list and filter, one order with its payment and history, buy with saldo, open an
//! order for an outside payment, confirm a payment, cancel an unpaid order, refund a paid one.

use actix_web::{get, post, web, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;
use warung_actors::domain::{CustomerId, Money, OrderId, ProductCode, Quantity, Reference};

use super::order_views::{Detail, Line, Paid, Qris};
use super::schema::{self, Guarded, JsonRefused, OrderPath, CORRUPT, OUTCOME_UNKNOWN, STORE_DOWN, UNAVAILABLE};
use super::views::{Balance, LedgerEntry, Movement};
use super::{next_cursor, parse, store_down, AdminName, Payment};
use crate::checkout::{CheckoutError, OrderState};
use crate::engine::Engine;
use crate::http::errors::ApiError;
use crate::infra::wib;
use crate::store::admin::OrderFilter;

/// Orders listed when the call does not say how many.
const ORDERS_LISTED_DEFAULT: i64 = 100;

pub fn configure(config: &mut ServiceConfig) {
    config
        .service(list_orders)
        .service(purchase)
        .service(open_order)
        .service(get_order)
        .service(pay_order)
        .service(cancel_order)
        .service(refund_order)
        .service(transfer_received);
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
struct ListQuery {
    #[param(value_type = Option<OrderState>)]
    state: Option<String>,
    #[param(value_type = Option<schema::CustomerId>)]
    customer: Option<String>,
    #[param(value_type = Option<schema::ProductCode>)]
    product: Option<String>,
    /// Created at or after: Unix ms or a WIB (UTC+7) date `YYYY-MM-DD`.
    from: Option<String>,
    /// Created before Unix ms (the next page's cursor), or on or before a WIB date `YYYY-MM-DD`.
    to: Option<String>,
    /// 100 when absent.
    #[param(schema_with = schema::list_limit)]
    limit: Option<i64>,
}

#[derive(Serialize, ToSchema)]
struct OrderList {
    orders: Vec<Line>,
    /// The `to` of the next page (the last order's `created_at_ms`); `null` on the last page.
    next_to: Option<i64>,
}

/// List orders, newest first, filtered by state, customer, product and date.
#[utoipa::path(tag = "orders", params(ListQuery), responses(
    (status = 200, body = OrderList, description = "a page of orders"),
    (status = 400, body = ApiError,
        description = "bad_query, bad_state, bad_customer, bad_product, bad_from or bad_to"),
    (status = 503, body = ApiError, description = STORE_DOWN),
    Guarded,
))]
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
    let next_to = next_cursor(&orders, filter.limit, |o| o.created_at);
    Ok(HttpResponse::Ok().json(OrderList { orders: orders.iter().map(Line::from).collect(), next_to }))
}

/// Unix ms, or a WIB date `YYYY-MM-DD`: as `from`, the day's start; as `to`, its end (the day
/// included).
fn time_ms(field: &str, text: &str) -> Result<i64, ApiError> {
    if let Ok(ms) = text.parse::<i64>() {
        return Ok(ms);
    }
    let day =
        wib::parse_date(text).map_err(|e| ApiError::bad_request(&format!("bad_{field}"), format!("{field}: {e}")))?;
    Ok(match field {
        "to" => wib::day_start(day + 1),
        _ => wib::day_start(day),
    })
}

/// One order with its payments, QRIS charge, stock movements and ledger entries.
#[utoipa::path(tag = "orders", params(OrderPath), responses(
    (status = 200, body = Detail, description = "the order"),
    (status = 400, body = ApiError, description = "bad_order"),
    (status = 404, body = ApiError, description = "order_not_found"),
    (status = 503, body = ApiError, description = STORE_DOWN),
    Guarded,
))]
#[get("/orders/{id}")]
async fn get_order(engine: web::Data<Engine>, id: web::Path<OrderPath>) -> Result<HttpResponse, ApiError> {
    let id = parse("order", OrderId::parse(&id.0))?;
    let row = engine.store.order(&id).await.map_err(store_down)?.ok_or(CheckoutError::OrderNotFound)?;
    let history = engine.store.order_history(&row).await.map_err(store_down)?;
    let charge = engine.store.charge(id.as_str()).await.map_err(store_down)?;
    Ok(HttpResponse::Ok().json(Detail {
        order: Line::from(&row),
        payments: history.payments.into_iter().map(Into::into).collect(),
        qris: charge.map(Qris::from),
        stock_movements: history.movements.iter().map(Movement::from).collect(),
        ledger: history.ledger.iter().map(LedgerEntry::from).collect(),
    }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct Buy {
    #[schema(value_type = schema::CustomerId)]
    customer: String,
    #[schema(value_type = schema::ProductCode)]
    product: String,
    #[serde(default = "one")]
    #[schema(schema_with = schema::order_quantity)]
    quantity: Quantity,
}

fn one() -> Quantity {
    1
}

#[derive(Serialize, ToSchema)]
struct Bought {
    #[schema(value_type = schema::OrderId)]
    order: OrderId,
    #[schema(value_type = u32)]
    quantity: Quantity,
    #[schema(value_type = schema::Money)]
    total: Money,
    /// The items delivered, one per unit; empty for a counted product.
    items: Vec<String>,
    balance: Balance,
}

/// Buy with saldo for a customer.
#[utoipa::path(tag = "orders", responses(
    (status = 200, body = Bought, description = "paid from the wallet and delivered"),
    (status = 400, body = ApiError, description = "bad_json, bad_customer or bad_product"),
    (status = 402, body = ApiError, description = "insufficient_balance"),
    (status = 404, body = ApiError, description = "product_not_found"),
    (status = 409, body = ApiError,
        description = "exceeds_available, product_inactive, earlier_purchase_unsettled or another order conflict"),
    (status = 422, body = ApiError,
        description = "quantity_must_not_be_zero, quantity_exceeds_order_limit, total_exceeds_money_limit"),
    (status = 500, body = ApiError, description = CORRUPT),
    (status = 503, body = ApiError, description = UNAVAILABLE),
    (status = 504, body = ApiError, description = OUTCOME_UNKNOWN),
    Guarded, JsonRefused,
))]
#[post("/purchases")]
async fn purchase(engine: web::Data<Engine>, body: web::Json<Buy>) -> Result<HttpResponse, ApiError> {
    let customer = parse("customer", CustomerId::parse(&body.customer))?;
    let product = parse("product", ProductCode::parse(&body.product))?;
    let bought = engine.checkout.buy_with_saldo(&customer, &product, body.quantity).await?;
    Ok(HttpResponse::Ok().json(Bought {
        order: bought.order,
        quantity: bought.quantity,
        total: bought.total,
        items: bought.items.iter().map(|i| i.expose().to_string()).collect(),
        balance: bought.balance.into(),
    }))
}

#[derive(Serialize, ToSchema)]
struct Opened {
    #[schema(value_type = schema::OrderId)]
    order: OrderId,
    #[schema(value_type = schema::Money)]
    total: Money,
    /// Unix ms: the stock is held until then.
    expires_at_ms: i64,
}

/// Open an order awaiting an outside payment.
#[utoipa::path(tag = "orders", responses(
    (status = 201, body = Opened, description = "the stock is held until the order expires"),
    (status = 400, body = ApiError, description = "bad_json, bad_customer or bad_product"),
    (status = 404, body = ApiError, description = "product_not_found"),
    (status = 409, body = ApiError, description = "exceeds_available, product_inactive or open_order_exists"),
    (status = 422, body = ApiError,
        description = "quantity_must_not_be_zero, quantity_exceeds_order_limit, total_exceeds_money_limit"),
    (status = 500, body = ApiError, description = CORRUPT),
    (status = 503, body = ApiError, description = UNAVAILABLE),
    (status = 504, body = ApiError, description = OUTCOME_UNKNOWN),
    Guarded, JsonRefused,
))]
#[post("/orders")]
async fn open_order(engine: web::Data<Engine>, body: web::Json<Buy>) -> Result<HttpResponse, ApiError> {
    let customer = parse("customer", CustomerId::parse(&body.customer))?;
    let product = parse("product", ProductCode::parse(&body.product))?;
    let pending = engine.checkout.buy_with_external(&customer, &product, body.quantity).await?;
    Ok(HttpResponse::Created().json(Opened {
        order: pending.order,
        total: pending.total,
        expires_at_ms: pending.expires_at,
    }))
}

/// Record a confirmed payment: delivers, or credits the wallet if too late.
#[utoipa::path(tag = "orders", params(OrderPath, AdminName), responses(
    (status = 200, body = Paid, description = "applied, or applied before under this payment id (`repeat`)"),
    (status = 400, body = ApiError, description = "bad_json, bad_order, bad_admin_name, bad_payment_id or bad_amount"),
    (status = 404, body = ApiError, description = "order_not_found"),
    (status = 409, body = ApiError,
        description = "not_an_external_order, transfer_takes_only_its_confirmation (use transfer-received), \
            payment_mismatch, order_conflict or another rule of the order's state"),
    (status = 422, body = ApiError, description = "payment_id_too_long, amount_must_not_be_zero or balance_limit_exceeded"),
    (status = 500, body = ApiError, description = CORRUPT),
    (status = 503, body = ApiError, description = UNAVAILABLE),
    (status = 504, body = ApiError, description = OUTCOME_UNKNOWN),
    Guarded, JsonRefused,
))]
#[post("/orders/{id}/payments")]
async fn pay_order(
    engine: web::Data<Engine>,
    gateway: web::Data<crate::flows::service::Gateway>,
    admin: AdminName,
    id: web::Path<OrderPath>,
    body: web::Json<Payment>,
) -> Result<HttpResponse, ApiError> {
    let id = parse("order", OrderId::parse(&id.0))?;
    let payment = parse("payment_id", Reference::parse(&body.payment_id))?;
    let amount = parse("amount", Money::parse_plain(&body.amount))?;
    let applied = engine.checkout.confirm_payment(&id, &payment, amount, &admin.actor()).await?;
    if let Some(row) = engine.store.order(&id).await.map_err(store_down)? {
        gateway.qris.tell_confirmed(&row.customer, &payment, &applied.outcome).await;
    }
    Ok(HttpResponse::Ok().json(Paid::from(applied)))
}

#[derive(Serialize, ToSchema)]
struct Cancelled {
    #[schema(value_type = schema::OrderId)]
    order: OrderId,
    /// `cancelled`.
    state: OrderState,
}

/// Cancel an unpaid order; its stock goes back on sale.
#[utoipa::path(tag = "orders", params(OrderPath, AdminName), responses(
    (status = 200, body = Cancelled, description = "cancelled: its stock is back on sale"),
    (status = 400, body = ApiError, description = "bad_order or bad_admin_name"),
    (status = 404, body = ApiError, description = "order_not_found"),
    (status = 409, body = ApiError, description = "order_not_open or order_conflict"),
    (status = 500, body = ApiError, description = CORRUPT),
    (status = 503, body = ApiError, description = UNAVAILABLE),
    (status = 504, body = ApiError, description = OUTCOME_UNKNOWN),
    Guarded,
))]
#[post("/orders/{id}/cancel")]
async fn cancel_order(
    engine: web::Data<Engine>,
    admin: AdminName,
    id: web::Path<OrderPath>,
) -> Result<HttpResponse, ApiError> {
    let id = parse("order", OrderId::parse(&id.0))?;
    engine.checkout.cancel_as(&id, Some(&admin.actor())).await?;
    Ok(HttpResponse::Ok().json(Cancelled { order: id, state: OrderState::Cancelled }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct Refund {
    /// Kept in the ledger; must not be blank.
    reason: String,
}

#[derive(Serialize, ToSchema)]
struct Refunded {
    #[schema(value_type = schema::OrderId)]
    order: OrderId,
    /// `refunded`.
    state: OrderState,
    balance: Balance,
}

/// Refund a paid order to saldo, with a reason.
#[utoipa::path(tag = "orders", params(OrderPath, AdminName), responses(
    (status = 200, body = Refunded, description = "the order's total is back in the wallet"),
    (status = 400, body = ApiError, description = "bad_json, bad_order, bad_admin_name or reason_required"),
    (status = 404, body = ApiError, description = "order_not_found or original_not_found"),
    (status = 409, body = ApiError, description = "order_not_paid, already_refunded or order_conflict"),
    (status = 422, body = ApiError, description = "balance_limit_exceeded"),
    (status = 500, body = ApiError, description = CORRUPT),
    (status = 503, body = ApiError, description = UNAVAILABLE),
    (status = 504, body = ApiError, description = OUTCOME_UNKNOWN),
    Guarded, JsonRefused,
))]
#[post("/orders/{id}/refund")]
async fn refund_order(
    engine: web::Data<Engine>,
    admin: AdminName,
    id: web::Path<OrderPath>,
    body: web::Json<Refund>,
) -> Result<HttpResponse, ApiError> {
    let id = parse("order", OrderId::parse(&id.0))?;
    if body.reason.trim().is_empty() {
        return Err(ApiError::bad_request("reason_required", "a refund needs a reason"));
    }
    let balance = engine.checkout.refund(&id, body.reason.trim(), &admin.actor()).await?;
    Ok(HttpResponse::Ok().json(Refunded { order: id, state: OrderState::Refunded, balance: balance.into() }))
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
enum TransferOutcome {
    Delivered,
    Credited,
}

#[derive(Serialize, ToSchema)]
struct TransferReceived {
    #[schema(value_type = schema::OrderId)]
    order: OrderId,
    /// `delivered`: the items went to the customer; `credited`: the order had expired or was
    /// cancelled, so the amount went to their wallet.
    outcome: TransferOutcome,
    /// The exact amount the customer was asked to transfer.
    #[schema(value_type = schema::Money)]
    amount: Money,
    /// Confirmed before: this call moved nothing.
    repeat: bool,
}

/// Confirm that an order's bank transfer arrived: delivers (or credits the wallet if too late).
///
/// The confirmation is the order's payment, under an id of its own (`transfer-<order>`): a second
/// confirmation, from here or from WhatsApp (`lunas`), records nothing again.
#[utoipa::path(tag = "orders", params(OrderPath, AdminName), responses(
    (status = 200, body = TransferReceived, description = "recorded, or recorded before (`repeat`)"),
    (status = 400, body = ApiError, description = "bad_order or bad_admin_name"),
    (status = 404, body = ApiError, description = "order_not_found"),
    (status = 409, body = ApiError, description = "not_a_transfer_order, charge_in_review or another rule of the order"),
    (status = 422, body = ApiError, description = "balance_limit_exceeded"),
    (status = 500, body = ApiError, description = CORRUPT),
    (status = 503, body = ApiError, description = UNAVAILABLE),
    (status = 504, body = ApiError, description = OUTCOME_UNKNOWN),
    Guarded,
))]
#[post("/orders/{id}/transfer-received")]
async fn transfer_received(
    gateway: web::Data<crate::flows::service::Gateway>,
    admin: AdminName,
    id: web::Path<OrderPath>,
) -> Result<HttpResponse, ApiError> {
    let id = parse("order", OrderId::parse(&id.0))?;
    let confirmed = gateway.qris.confirm_transfer(&id, &admin).await?;
    let outcome = match confirmed.outcome {
        crate::checkout::PaymentOutcome::Delivered { .. } => TransferOutcome::Delivered,
        crate::checkout::PaymentOutcome::CreditedToWallet { .. } => TransferOutcome::Credited,
    };
    Ok(HttpResponse::Ok().json(TransferReceived {
        order: id,
        outcome,
        amount: confirmed.amount,
        repeat: confirmed.repeat,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_whole_wib_days_and_numbers_are_unix_ms() {
        let day = wib::parse_date("2026-11-22").unwrap();
        assert_eq!(time_ms("from", "2026-11-22").unwrap(), wib::day_start(day));
        assert_eq!(time_ms("to", "2026-11-22").unwrap(), wib::day_start(day + 1));
        assert_eq!(time_ms("from", "2026-11-22").unwrap(), 1_795_280_400_000);
        assert_eq!(time_ms("to", "1700000000000").unwrap(), 1_700_000_000_000);
        assert!(time_ms("to", "22/11/2026").is_err());
        assert!(time_ms("to", "2026-13-01").is_err());
        assert!(time_ms("from", "2026-02-31").is_err(), "no 31 February");
    }
}
