//! Customers: list, one with balance, role and ledger, balance adjustments (a ledger entry with
//! the admin's name and reason, never an overwrite), top-ups, roles, and the refund watch.

use actix_web::http::StatusCode;
use actix_web::{get, post, put, web, HttpResponse};
use rust_decimal::Decimal;
use serde::Deserialize;
use serde_json::json;
use warung_actors::domain::{CustomerId, Money, Reference};

use super::{ledger_json, next_cursor, parse, store_down, AdminName, Payment};
use crate::checkout::Role;
use crate::engine::Engine;
use crate::http::errors::ApiError;

/// Customers and ledger entries listed when the call does not say how many.
const LISTED_DEFAULT: i64 = 100;

pub fn configure(config: &mut web::ServiceConfig) {
    config
        .service(list_customers)
        .service(refund_watch)
        .service(get_customer)
        .service(set_role)
        .service(top_up)
        .service(adjust)
        .service(get_wallet);
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Page {
    /// The last id of the previous page.
    after: Option<String>,
    limit: Option<i64>,
}

#[get("/customers")]
async fn list_customers(engine: web::Data<Engine>, page: web::Query<Page>) -> Result<HttpResponse, ApiError> {
    let limit = page.limit.unwrap_or(LISTED_DEFAULT);
    let customers = engine.store.list_customers(page.after.as_deref(), limit).await.map_err(store_down)?;
    let next = next_cursor(&customers, limit, |c| c.id.clone());
    Ok(HttpResponse::Ok().json(json!({"customers": customers, "next_after": next})))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LedgerQuery {
    limit: Option<i64>,
}

/// The balance comes from the wallet actor (the truth while it is active), the ledger from the
/// store (every committed entry).
#[get("/customers/{id}")]
async fn get_customer(
    engine: web::Data<Engine>,
    id: web::Path<String>,
    query: web::Query<LedgerQuery>,
) -> Result<HttpResponse, ApiError> {
    let customer = parse("customer", CustomerId::parse(&id))?;
    let line = engine.store.customer(&customer).await.map_err(store_down)?;
    let Some(line) = line else {
        return Err(ApiError::new(StatusCode::NOT_FOUND, "customer_not_found", format!("no wallet for {customer}")));
    };
    let balance = engine.checkout.balance(&customer).await?;
    let ledger = engine.store.ledger_of(&customer, query.limit.unwrap_or(LISTED_DEFAULT)).await.map_err(store_down)?;
    Ok(HttpResponse::Ok().json(json!({
        "customer": customer,
        "role": engine.checkout.role_of(&customer),
        "balance": balance,
        "orders_paid": line.orders_paid,
        "orders_refunded": line.orders_refunded,
        "ledger": ledger.iter().map(ledger_json).collect::<Vec<_>>(),
    })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewRole {
    role: String,
}

#[put("/customers/{id}/role")]
async fn set_role(
    engine: web::Data<Engine>,
    admin: AdminName,
    id: web::Path<String>,
    body: web::Json<NewRole>,
) -> Result<HttpResponse, ApiError> {
    let customer = parse("customer", CustomerId::parse(&id))?;
    let role = Role::parse(&body.role)
        .ok_or_else(|| ApiError::bad_request("bad_role", "role is member, reseller or admin"))?;
    engine.checkout.set_role(&customer, role, &admin.0).await?;
    Ok(HttpResponse::Ok().json(json!({"customer": customer, "role": role})))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct WatchQuery {
    /// Percent; the shop's `refund_watch_percent` when absent.
    threshold: Option<u32>,
    /// Customers with fewer paid orders are not judged (one refund of one order is 100%).
    min_orders: Option<i64>,
}

/// Customers whose refunded share of their paid orders is above the threshold.
#[get("/refund-watch")]
async fn refund_watch(engine: web::Data<Engine>, query: web::Query<WatchQuery>) -> Result<HttpResponse, ApiError> {
    let threshold = query.threshold.unwrap_or(engine.shop.values().refund_watch_percent);
    if threshold > 100 {
        return Err(ApiError::bad_request("bad_threshold", "threshold is a percent, 0 to 100"));
    }
    let min_orders = query.min_orders.unwrap_or(1).max(1);
    let lines = engine.store.refund_counts(min_orders).await.map_err(store_down)?;
    let flagged: Vec<_> = lines
        .into_iter()
        .filter(|l| l.orders_refunded * 100 > l.orders_paid * i64::from(threshold))
        .map(|l| {
            let rate = Decimal::from(l.orders_refunded * 100) / Decimal::from(l.orders_paid.max(1));
            json!({"customer": l.id, "role": l.role, "orders_paid": l.orders_paid,
                   "orders_refunded": l.orders_refunded, "refund_percent": rate.round_dp(1), "balance": l.balance})
        })
        .collect();
    Ok(HttpResponse::Ok().json(json!({"threshold_percent": threshold, "min_orders": min_orders, "flagged": flagged})))
}

#[post("/wallets/{customer}/top-ups")]
async fn top_up(
    engine: web::Data<Engine>,
    gateway: web::Data<crate::flows::service::Gateway>,
    admin: AdminName,
    customer: web::Path<String>,
    body: web::Json<Payment>,
) -> Result<HttpResponse, ApiError> {
    let customer = parse("customer", CustomerId::parse(&customer))?;
    let payment = parse("payment_id", Reference::parse(&body.payment_id))?;
    let amount = parse("amount", Money::parse_plain(&body.amount))?;
    let balance = engine.checkout.top_up_as(&customer, &payment, amount, &admin.actor()).await?;
    let credited = crate::checkout::PaymentOutcome::CreditedToWallet { order: None, amount, balance };
    gateway.qris.tell_confirmed(&customer, &payment, &credited).await;
    Ok(HttpResponse::Ok().json(json!({"balance": balance})))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Adjustment {
    reference: String,
    delta: String,
    reason: String,
}

#[post("/wallets/{customer}/adjustments")]
async fn adjust(
    engine: web::Data<Engine>,
    admin: AdminName,
    customer: web::Path<String>,
    body: web::Json<Adjustment>,
) -> Result<HttpResponse, ApiError> {
    let customer = parse("customer", CustomerId::parse(&customer))?;
    let reference = parse("reference", Reference::parse(&body.reference))?;
    let delta = parse("delta", warung_actors::domain::parse_plain_delta(&body.delta))?;
    let balance = engine.checkout.adjust(&customer, &reference, delta, &body.reason, &admin.actor()).await?;
    Ok(HttpResponse::Ok().json(json!({"balance": balance})))
}

#[get("/wallets/{customer}")]
async fn get_wallet(engine: web::Data<Engine>, customer: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let customer = parse("customer", CustomerId::parse(&customer))?;
    // A customer the shop has never seen has nothing: answered without making them a wallet actor.
    let balance = engine.checkout.known_balance(&customer).await?.unwrap_or_default();
    Ok(HttpResponse::Ok().json(json!({"balance": balance})))
}
