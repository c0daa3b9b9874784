//! Customers: list, one with balance, role and ledger, balance adjustments (a ledger entry with
//! the admin's name and reason, never an overwrite), top-ups, roles, and the refund watch.

use actix_web::http::StatusCode;
use actix_web::{get, post, put, web, HttpResponse};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;
use warung_actors::domain::{CustomerId, Money, Reference};

use super::schema::{
    self, CustomerPath, Guarded, JsonRefused, WalletPath, CORRUPT, OUTCOME_UNKNOWN, STORE_DOWN, UNAVAILABLE,
};
use super::views::{Balance, LedgerEntry};
use super::{next_cursor, parse, store_down, AdminName, Payment};
use crate::checkout::Role;
use crate::engine::Engine;
use crate::http::errors::ApiError;
use crate::store::admin::CustomerLine;

/// Customers and ledger entries listed when the call does not say how many.
const LISTED_DEFAULT: i64 = 100;

pub fn configure(config: &mut ServiceConfig) {
    config
        .service(list_customers)
        .service(refund_watch)
        .service(get_customer)
        .service(set_role)
        .service(top_up)
        .service(adjust)
        .service(get_wallet);
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
struct Page {
    /// The previous page's `next_after`.
    after: Option<String>,
    /// 100 when absent.
    #[param(schema_with = schema::list_limit)]
    limit: Option<i64>,
}

/// A customer as the list shows them.
#[derive(Serialize, ToSchema)]
struct Customer {
    #[schema(value_type = schema::CustomerId)]
    id: CustomerId,
    #[schema(value_type = schema::Money)]
    balance: Money,
    /// Written only as a `Role` (member when none was set).
    #[schema(value_type = Role)]
    role: String,
    /// Orders paid, counting those refunded since.
    orders_paid: i64,
    orders_refunded: i64,
}

impl From<CustomerLine> for Customer {
    fn from(CustomerLine { id, balance, role, orders_paid, orders_refunded }: CustomerLine) -> Customer {
        Customer { id, balance, role, orders_paid, orders_refunded }
    }
}

#[derive(Serialize, ToSchema)]
struct CustomerList {
    customers: Vec<Customer>,
    /// The `after` of the next page; `null` on the last page.
    #[schema(value_type = Option<schema::CustomerId>)]
    next_after: Option<CustomerId>,
}

/// List customers with balance, role and order counts, by id.
#[utoipa::path(tag = "customers", params(Page), responses(
    (status = 200, body = CustomerList, description = "a page of customers by id"),
    (status = 400, body = ApiError, description = "bad_query"),
    (status = 503, body = ApiError, description = STORE_DOWN),
    Guarded,
))]
#[get("/customers")]
async fn list_customers(engine: web::Data<Engine>, page: web::Query<Page>) -> Result<HttpResponse, ApiError> {
    let limit = page.limit.unwrap_or(LISTED_DEFAULT);
    let customers = engine.store.list_customers(page.after.as_deref(), limit).await.map_err(store_down)?;
    let next_after = next_cursor(&customers, limit, |c| c.id.clone());
    Ok(HttpResponse::Ok()
        .json(CustomerList { customers: customers.into_iter().map(Customer::from).collect(), next_after }))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
struct LedgerQuery {
    /// Ledger entries shown: 100 when absent.
    #[param(schema_with = schema::list_limit)]
    limit: Option<i64>,
}

#[derive(Serialize, ToSchema)]
struct CustomerDetail {
    #[schema(value_type = schema::CustomerId)]
    customer: CustomerId,
    role: Role,
    balance: Balance,
    orders_paid: i64,
    orders_refunded: i64,
    /// Newest first.
    ledger: Vec<LedgerEntry>,
}

/// One customer's balance, role and ledger.
///
/// The balance comes from the wallet actor (the truth while it is active), the ledger from the
/// store (every committed entry).
#[utoipa::path(tag = "customers", params(CustomerPath, LedgerQuery), responses(
    (status = 200, body = CustomerDetail, description = "the customer"),
    (status = 400, body = ApiError, description = "bad_customer or bad_query"),
    (status = 404, body = ApiError, description = "customer_not_found: no wallet for this id"),
    (status = 500, body = ApiError, description = CORRUPT),
    (status = 503, body = ApiError, description = UNAVAILABLE),
    Guarded,
))]
#[get("/customers/{id}")]
async fn get_customer(
    engine: web::Data<Engine>,
    id: web::Path<CustomerPath>,
    query: web::Query<LedgerQuery>,
) -> Result<HttpResponse, ApiError> {
    let customer = parse("customer", CustomerId::parse(&id.0))?;
    let line = engine.store.customer(&customer).await.map_err(store_down)?;
    let Some(line) = line else {
        return Err(ApiError::new(StatusCode::NOT_FOUND, "customer_not_found", format!("no wallet for {customer}")));
    };
    let balance = engine.checkout.balance(&customer).await?;
    let ledger = engine.store.ledger_of(&customer, query.limit.unwrap_or(LISTED_DEFAULT)).await.map_err(store_down)?;
    Ok(HttpResponse::Ok().json(CustomerDetail {
        role: engine.checkout.role_of(&customer),
        customer,
        balance: balance.into(),
        orders_paid: line.orders_paid,
        orders_refunded: line.orders_refunded,
        ledger: ledger.iter().map(LedgerEntry::from).collect(),
    }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct NewRole {
    #[schema(value_type = Role)]
    role: String,
}

#[derive(Serialize, ToSchema)]
struct RoleSet {
    #[schema(value_type = schema::CustomerId)]
    customer: CustomerId,
    role: Role,
}

/// Set a customer's role: member, reseller or admin.
#[utoipa::path(tag = "customers", params(CustomerPath, AdminName), responses(
    (status = 200, body = RoleSet, description = "the role is in force for later purchases"),
    (status = 400, body = ApiError, description = "bad_json, bad_customer, bad_admin_name or bad_role"),
    (status = 503, body = ApiError, description = STORE_DOWN),
    Guarded, JsonRefused,
))]
#[put("/customers/{id}/role")]
async fn set_role(
    engine: web::Data<Engine>,
    admin: AdminName,
    id: web::Path<CustomerPath>,
    body: web::Json<NewRole>,
) -> Result<HttpResponse, ApiError> {
    let customer = parse("customer", CustomerId::parse(&id.0))?;
    let role = Role::parse(&body.role)
        .ok_or_else(|| ApiError::bad_request("bad_role", "role is member, reseller or admin"))?;
    engine.checkout.set_role(&customer, role, &admin.0).await?;
    Ok(HttpResponse::Ok().json(RoleSet { customer, role }))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
struct WatchQuery {
    /// Percent, 0 to 100; the shop's `refund_watch_percent` when absent.
    threshold: Option<u32>,
    /// Customers with fewer paid orders are not judged (one refund of one order is 100%).
    min_orders: Option<i64>,
}

#[derive(Serialize, ToSchema)]
struct Watch {
    threshold_percent: u32,
    min_orders: i64,
    flagged: Vec<Flagged>,
}

#[derive(Serialize, ToSchema)]
struct Flagged {
    #[schema(value_type = schema::CustomerId)]
    customer: CustomerId,
    #[schema(value_type = Role)]
    role: String,
    orders_paid: i64,
    orders_refunded: i64,
    /// Refunded orders in percent of paid ones, to one decimal.
    #[schema(value_type = String, pattern = r"^[0-9]{1,3}(\.[0-9])?$", example = "33.3")]
    refund_percent: Decimal,
    #[schema(value_type = schema::Money)]
    balance: Money,
}

/// Customers whose refund rate is above the threshold.
#[utoipa::path(tag = "customers", params(WatchQuery), responses(
    (status = 200, body = Watch, description = "the customers flagged"),
    (status = 400, body = ApiError, description = "bad_query or bad_threshold"),
    (status = 503, body = ApiError, description = STORE_DOWN),
    Guarded,
))]
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
        .filter(|l| crate::flows::owner::report::is_flagged(l, threshold))
        .map(|l| {
            let rate = Decimal::from(l.orders_refunded * 100) / Decimal::from(l.orders_paid.max(1));
            Flagged {
                customer: l.id,
                role: l.role,
                orders_paid: l.orders_paid,
                orders_refunded: l.orders_refunded,
                refund_percent: rate.round_dp(1),
                balance: l.balance,
            }
        })
        .collect();
    Ok(HttpResponse::Ok().json(Watch { threshold_percent: threshold, min_orders, flagged }))
}

#[derive(Serialize, ToSchema)]
struct WalletView {
    balance: Balance,
}

/// Credit a confirmed top-up, once per payment id.
#[utoipa::path(tag = "wallets", params(WalletPath, AdminName), responses(
    (status = 200, body = WalletView, description = "credited, or credited before under this payment id"),
    (status = 400, body = ApiError, description = "bad_json, bad_customer, bad_admin_name, bad_payment_id or bad_amount"),
    (status = 409, body = ApiError, description = "payment_mismatch or exists_with_different_content"),
    (status = 422, body = ApiError, description = "payment_id_too_long, amount_must_not_be_zero or balance_limit_exceeded"),
    (status = 500, body = ApiError, description = CORRUPT),
    (status = 503, body = ApiError, description = UNAVAILABLE),
    (status = 504, body = ApiError, description = OUTCOME_UNKNOWN),
    Guarded, JsonRefused,
))]
#[post("/wallets/{customer}/top-ups")]
async fn top_up(
    engine: web::Data<Engine>,
    gateway: web::Data<crate::flows::service::Gateway>,
    admin: AdminName,
    customer: web::Path<WalletPath>,
    body: web::Json<Payment>,
) -> Result<HttpResponse, ApiError> {
    let customer = parse("customer", CustomerId::parse(&customer.0))?;
    let payment = parse("payment_id", Reference::parse(&body.payment_id))?;
    let amount = parse("amount", Money::parse_plain(&body.amount))?;
    let balance = engine.checkout.top_up_as(&customer, &payment, amount, &admin.actor()).await?;
    let credited = crate::checkout::PaymentOutcome::CreditedToWallet { order: None, amount, balance };
    gateway.qris.tell_confirmed(&customer, &payment, &credited).await;
    Ok(HttpResponse::Ok().json(WalletView { balance: balance.into() }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct Adjustment {
    /// The same reference with the same change applies it once.
    #[schema(value_type = schema::Reference)]
    reference: String,
    #[schema(value_type = schema::SignedAmount)]
    delta: String,
    /// Kept in the ledger; must not be blank.
    reason: String,
}

/// Adjust a balance with a reason (a ledger entry, never an overwrite).
#[utoipa::path(tag = "wallets", params(WalletPath, AdminName), responses(
    (status = 200, body = WalletView, description = "adjusted, or adjusted before under this reference"),
    (status = 400, body = ApiError, description = "bad_json, bad_customer, bad_admin_name, bad_reference or bad_delta"),
    (status = 402, body = ApiError, description = "insufficient_balance: the balance would go below zero"),
    (status = 409, body = ApiError, description = "exists_with_different_content"),
    (status = 422, body = ApiError,
        description = "reference_reserved, amount_must_not_be_zero, reason_required or balance_limit_exceeded"),
    (status = 500, body = ApiError, description = CORRUPT),
    (status = 503, body = ApiError, description = UNAVAILABLE),
    Guarded, JsonRefused,
))]
#[post("/wallets/{customer}/adjustments")]
async fn adjust(
    engine: web::Data<Engine>,
    admin: AdminName,
    customer: web::Path<WalletPath>,
    body: web::Json<Adjustment>,
) -> Result<HttpResponse, ApiError> {
    let customer = parse("customer", CustomerId::parse(&customer.0))?;
    let reference = parse("reference", Reference::parse(&body.reference))?;
    let delta = parse("delta", warung_actors::domain::parse_plain_delta(&body.delta))?;
    let balance = engine.checkout.adjust(&customer, &reference, delta, &body.reason, &admin.actor()).await?;
    Ok(HttpResponse::Ok().json(WalletView { balance: balance.into() }))
}

/// A wallet's balance and what a purchase may take; zero for a customer never seen.
#[utoipa::path(tag = "wallets", params(WalletPath), responses(
    (status = 200, body = WalletView, description = "the balance"),
    (status = 400, body = ApiError, description = "bad_customer"),
    (status = 500, body = ApiError, description = CORRUPT),
    (status = 503, body = ApiError, description = UNAVAILABLE),
    Guarded,
))]
#[get("/wallets/{customer}")]
async fn get_wallet(engine: web::Data<Engine>, customer: web::Path<WalletPath>) -> Result<HttpResponse, ApiError> {
    let customer = parse("customer", CustomerId::parse(&customer.0))?;
    // A customer the shop has never seen has nothing: answered without making them a wallet actor.
    let balance = engine.checkout.known_balance(&customer).await?.unwrap_or_default();
    Ok(HttpResponse::Ok().json(WalletView { balance: balance.into() }))
}
