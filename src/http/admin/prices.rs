//! Prices with guard rails, as the admin API asks for them: the rules are `flows::admin::prices`.

use actix_web::{get, post, put, web, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;
use warung_actors::domain::{Money, ProductCode};
use warung_actors::product::PriceTier;

use super::schema::{self, CodePath, Guarded, JsonRefused, RequestPath, CORRUPT, STORE_DOWN, UNAVAILABLE};
use super::views::{PriceRequestView, Tier};
use super::{parse, AdminName};
use crate::flows::admin::prices::NewPrice as PriceAsked;
use crate::flows::admin::PriceChange;
use crate::flows::service::Gateway;
use crate::http::errors::ApiError;

pub fn configure(config: &mut ServiceConfig) {
    config.service(set_price).service(get_request).service(confirm_request);
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct NewPrice {
    #[schema(value_type = schema::Money)]
    price: String,
    #[serde(default = "member")]
    #[schema(value_type = Tier, default = "member")]
    tier: String,
    /// Kept in the audit trail.
    #[serde(default)]
    reason: String,
}

fn member() -> String {
    "member".into()
}

/// A price in force: set now, or already the price.
#[derive(Serialize, ToSchema)]
struct PriceSet {
    status: PriceStatus,
    tier: Tier,
    #[schema(value_type = schema::Money)]
    price: Money,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
enum PriceStatus {
    /// It was the price already.
    Unchanged,
    Applied,
}

/// A change too large to apply at once: it waits for the confirming call.
#[derive(Serialize, ToSchema)]
struct PricePending {
    status: Awaiting,
    message: String,
    /// Where to POST the confirmation.
    confirm: String,
    request: PriceRequestView,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
enum Awaiting {
    PendingConfirmation,
}

/// Set a price; a large change waits for confirmation (202).
#[utoipa::path(tag = "prices", params(CodePath, AdminName), responses(
    (status = 200, body = PriceSet, description = "applied, or unchanged"),
    (status = 202, body = PricePending, description = "a change beyond the shop's confirm percent, to be confirmed"),
    (status = 400, body = ApiError, description = "bad_json, bad_code, bad_admin_name, bad_price or bad_tier"),
    (status = 404, body = ApiError, description = "not_found: no such product"),
    (status = 409, body = ApiError, description = "exists_with_different_content"),
    (status = 422, body = ApiError, description = "price_below_minimum or price_must_not_be_zero"),
    (status = 500, body = ApiError, description = CORRUPT),
    (status = 503, body = ApiError, description = UNAVAILABLE),
    Guarded, JsonRefused,
))]
#[put("/products/{code}/price")]
async fn set_price(
    gateway: web::Data<Gateway>,
    admin: AdminName,
    code: web::Path<CodePath>,
    body: web::Json<NewPrice>,
) -> Result<HttpResponse, ApiError> {
    let code = parse("code", ProductCode::parse(&code.0))?;
    let price: Money = parse("price", body.price.parse())?;
    let tier =
        PriceTier::parse(&body.tier).ok_or_else(|| ApiError::bad_request("bad_tier", "tier is member or reseller"))?;
    let asked = PriceAsked { code: &code, tier, price, reason: &body.reason };
    Ok(match gateway.prices.set(asked, &admin).await? {
        PriceChange::Unchanged { tier, price } => {
            HttpResponse::Ok().json(PriceSet { status: PriceStatus::Unchanged, tier: tier.into(), price })
        }
        PriceChange::Applied { tier, price } => {
            HttpResponse::Ok().json(PriceSet { status: PriceStatus::Applied, tier: tier.into(), price })
        }
        PriceChange::Pending { request, confirm_percent } => HttpResponse::Accepted().json(PricePending {
            status: Awaiting::PendingConfirmation,
            message: format!("a change of more than {confirm_percent}% needs a confirming call before it applies"),
            confirm: format!("/admin/api/price-requests/{}/confirm", request.id),
            request: request.into(),
        }),
    })
}

/// One price change request.
#[utoipa::path(tag = "prices", params(RequestPath), responses(
    (status = 200, body = PriceRequestView, description = "the request"),
    (status = 404, body = ApiError, description = "price_request_not_found"),
    (status = 503, body = ApiError, description = STORE_DOWN),
    Guarded,
))]
#[get("/price-requests/{id}")]
async fn get_request(gateway: web::Data<Gateway>, id: web::Path<RequestPath>) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(PriceRequestView::from(gateway.prices.request(&id.0).await?)))
}

/// Confirm a pending price change within its window.
///
/// Refused once the request is closed, expired, or the price it would change has changed since
/// it was asked.
#[utoipa::path(tag = "prices", params(RequestPath, AdminName), responses(
    (status = 200, body = PriceRequestView, description = "confirmed: the price is in force"),
    (status = 400, body = ApiError, description = "bad_admin_name or bad_id"),
    (status = 404, body = ApiError, description = "price_request_not_found, or not_found: the product"),
    (status = 409, body = ApiError, description =
        "price_request_closed, price_request_expired, price_changed_since_request or exists_with_different_content"),
    (status = 422, body = ApiError, description = "price_must_not_be_zero"),
    (status = 500, body = ApiError, description = CORRUPT),
    (status = 503, body = ApiError, description = UNAVAILABLE),
    Guarded,
))]
#[post("/price-requests/{id}/confirm")]
async fn confirm_request(
    gateway: web::Data<Gateway>,
    admin: AdminName,
    id: web::Path<RequestPath>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(PriceRequestView::from(gateway.prices.confirm(&id.0, &admin).await?)))
}
