//! The engine's admin API under `/admin/api`, behind `Authorization: Bearer <WARUNG_ADMIN__TOKEN>`.
//! With no token configured the admin API is off. Every change goes through the actors.

use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::StatusCode;
use actix_web::middleware::{from_fn, Next};
use actix_web::{get, post, web, HttpResponse, Scope};
use rust_decimal::Decimal;
use serde::Deserialize;
use serde_json::json;
use warung_actors::domain::{CustomerId, Money, OrderId, ProductCode, Quantity, Reference};
use warung_actors::journal::StockKind;
use warung_actors::product::{ProductCommand, Restock};

use super::errors::ApiError;
use crate::checkout::PaymentOutcome;
use crate::engine::Engine;

/// Who the admin API records as the actor of a change.
const ADMIN_ACTOR: &str = "admin";

pub fn scope() -> Scope<
    impl actix_web::dev::ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse<impl actix_web::body::MessageBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    web::scope("/admin/api")
        .wrap(from_fn(require_token))
        .service(create_product)
        .service(restock)
        .service(get_product)
        .service(purchase)
        .service(open_order)
        .service(get_order)
        .service(pay_order)
        .service(cancel_order)
        .service(refund_order)
        .service(top_up)
        .service(adjust)
        .service(get_wallet)
}

async fn require_token(
    req: ServiceRequest,
    next: Next<impl actix_web::body::MessageBody + 'static>,
) -> Result<ServiceResponse<actix_web::body::BoxBody>, actix_web::Error> {
    let engine = req.app_data::<web::Data<Engine>>().expect("engine data").clone();
    let Some(expected) = engine.settings.admin.token.as_deref() else {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "admin_disabled",
            "the admin API is off: set WARUNG_ADMIN__TOKEN",
        )
        .into());
    };
    let given = req
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or("");
    if !constant_time_eq(given.as_bytes(), expected.as_bytes()) {
        return Err(ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", "missing or wrong bearer token").into());
    }
    Ok(next.call(req).await?.map_into_boxed_body())
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn parse<T, E: std::fmt::Display>(field: &str, value: Result<T, E>) -> Result<T, ApiError> {
    value.map_err(|e| ApiError::bad_request(&format!("bad_{field}"), e.to_string()))
}

#[derive(Deserialize)]
struct NewProduct {
    code: String,
    name: String,
    price: String,
    #[serde(default)]
    counted: bool,
}

#[post("/products")]
async fn create_product(engine: web::Data<Engine>, body: web::Json<NewProduct>) -> Result<HttpResponse, ApiError> {
    let code = parse("code", ProductCode::parse(&body.code))?;
    let price: Money = parse("price", body.price.parse())?;
    if price.is_zero() || body.name.trim().is_empty() {
        return Err(ApiError::bad_request("bad_product", "a product needs a name and a price above zero"));
    }
    match engine.supervisor.product_snapshot(&code).await {
        Ok(_) => return Err(ApiError::new(StatusCode::CONFLICT, "product_exists", format!("{code} exists"))),
        Err(warung_actors::supervisor::CallError::NotFound) => {}
        Err(error) => return Err(error.into()),
    }
    let kind = if body.counted { StockKind::Counted } else { StockKind::Items };
    let created = crate::catalog::create(&engine, &code, body.name.trim(), price, kind)
        .await
        .map_err(|e| ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "not_stored", e.to_string()))?;
    if !created {
        return Err(ApiError::new(StatusCode::CONFLICT, "product_exists", format!("{code} exists")));
    }
    Ok(HttpResponse::Created().json(json!({"code": code})))
}

#[derive(Deserialize)]
struct NewStock {
    reference: String,
    #[serde(default)]
    items: Vec<String>,
    count: Option<Quantity>,
}

#[post("/products/{code}/stock")]
async fn restock(
    engine: web::Data<Engine>,
    code: web::Path<String>,
    body: web::Json<NewStock>,
) -> Result<HttpResponse, ApiError> {
    let code = parse("code", ProductCode::parse(&code))?;
    let reference = parse("reference", Reference::parse(&body.reference))?;
    let stock = match (&body.items[..], body.count) {
        ([], Some(count)) => Restock::Count(count),
        (items, None) if !items.is_empty() => Restock::Items(
            items
                .iter()
                .map(|i| warung_actors::domain::ItemSecret::parse(i))
                .collect::<Result<_, _>>()
                .map_err(|e| ApiError::bad_request("bad_item", e.to_string()))?,
        ),
        _ => return Err(ApiError::bad_request("bad_stock", "give items (one per unit) or a count")),
    };
    let command = ProductCommand::Restock { reference, stock, actor: ADMIN_ACTOR.into() };
    let outcome = engine.supervisor.product(&code, command).await?.map_err(crate::checkout::CheckoutError::Product)?;
    Ok(HttpResponse::Ok().json(json!({"outcome": format!("{outcome:?}")})))
}

#[get("/products/{code}")]
async fn get_product(engine: web::Data<Engine>, code: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let code = parse("code", ProductCode::parse(&code))?;
    Ok(HttpResponse::Ok().json(engine.supervisor.product_snapshot(&code).await?))
}

#[derive(Deserialize)]
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

#[get("/orders/{id}")]
async fn get_order(engine: web::Data<Engine>, id: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let id = parse("order", OrderId::parse(&id))?;
    let row = engine.store.order(&id).await.map_err(crate::checkout::CheckoutError::from)?;
    let row = row.ok_or(crate::checkout::CheckoutError::OrderNotFound)?;
    Ok(HttpResponse::Ok().json(json!({
        "order": row.id, "customer": row.customer.masked(), "product": row.product, "quantity": row.quantity,
        "total": row.total, "method": row.method, "state": row.state, "expires_at_ms": row.expires_at, "note": row.note,
    })))
}

#[derive(Deserialize)]
struct Payment {
    payment_id: String,
    amount: String,
}

#[post("/orders/{id}/payments")]
async fn pay_order(
    engine: web::Data<Engine>,
    id: web::Path<String>,
    body: web::Json<Payment>,
) -> Result<HttpResponse, ApiError> {
    let id = parse("order", OrderId::parse(&id))?;
    let payment = parse("payment_id", Reference::parse(&body.payment_id))?;
    let amount: Money = parse("amount", body.amount.parse())?;
    let body = match engine.checkout.confirm_payment(&id, &payment, amount).await? {
        PaymentOutcome::Delivered { order, items } => {
            json!({"outcome": "delivered", "order": order, "items": items.iter().map(|i| i.expose()).collect::<Vec<_>>()})
        }
        PaymentOutcome::CreditedToWallet { order, amount, balance } => {
            json!({"outcome": "credited_to_wallet", "order": order, "amount": amount, "balance": balance})
        }
    };
    Ok(HttpResponse::Ok().json(body))
}

#[post("/orders/{id}/cancel")]
async fn cancel_order(engine: web::Data<Engine>, id: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let id = parse("order", OrderId::parse(&id))?;
    engine.checkout.cancel(&id).await?;
    Ok(HttpResponse::Ok().json(json!({"order": id, "state": "cancelled"})))
}

#[derive(Deserialize)]
struct Refund {
    reason: String,
}

#[post("/orders/{id}/refund")]
async fn refund_order(
    engine: web::Data<Engine>,
    id: web::Path<String>,
    body: web::Json<Refund>,
) -> Result<HttpResponse, ApiError> {
    let id = parse("order", OrderId::parse(&id))?;
    if body.reason.trim().is_empty() {
        return Err(ApiError::bad_request("reason_required", "a refund needs a reason"));
    }
    let balance = engine.checkout.refund(&id, body.reason.trim(), ADMIN_ACTOR).await?;
    Ok(HttpResponse::Ok().json(json!({"order": id, "state": "refunded", "balance": balance})))
}

#[post("/wallets/{customer}/top-ups")]
async fn top_up(
    engine: web::Data<Engine>,
    customer: web::Path<String>,
    body: web::Json<Payment>,
) -> Result<HttpResponse, ApiError> {
    let customer = parse("customer", CustomerId::parse(&customer))?;
    let payment = parse("payment_id", Reference::parse(&body.payment_id))?;
    let amount: Money = parse("amount", body.amount.parse())?;
    let balance = engine.checkout.top_up(&customer, &payment, amount).await?;
    Ok(HttpResponse::Ok().json(json!({"balance": balance})))
}

#[derive(Deserialize)]
struct Adjustment {
    reference: String,
    delta: String,
    reason: String,
}

#[post("/wallets/{customer}/adjustments")]
async fn adjust(
    engine: web::Data<Engine>,
    customer: web::Path<String>,
    body: web::Json<Adjustment>,
) -> Result<HttpResponse, ApiError> {
    let customer = parse("customer", CustomerId::parse(&customer))?;
    let reference = parse("reference", Reference::parse(&body.reference))?;
    let delta: Decimal = parse("delta", body.delta.trim().parse::<Decimal>())?;
    let balance = engine.checkout.adjust(&customer, &reference, delta, &body.reason, ADMIN_ACTOR).await?;
    Ok(HttpResponse::Ok().json(json!({"balance": balance})))
}

#[get("/wallets/{customer}")]
async fn get_wallet(engine: web::Data<Engine>, customer: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let customer = parse("customer", CustomerId::parse(&customer))?;
    Ok(HttpResponse::Ok().json(json!({"balance": engine.checkout.balance(&customer).await?})))
}
