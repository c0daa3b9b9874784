//! Prices with guard rails, as the admin API asks for them: the rules are `flows::admin::prices`.

use actix_web::{get, post, put, web, HttpResponse};
use serde::Deserialize;
use serde_json::json;
use warung_actors::domain::{Money, ProductCode};
use warung_actors::product::PriceTier;

use super::{parse, AdminName};
use crate::flows::admin::prices::NewPrice as PriceAsked;
use crate::flows::admin::PriceChange;
use crate::flows::service::Gateway;
use crate::http::errors::ApiError;

pub fn configure(config: &mut web::ServiceConfig) {
    config.service(set_price).service(get_request).service(confirm_request);
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewPrice {
    price: String,
    #[serde(default = "member")]
    tier: String,
    #[serde(default)]
    reason: String,
}

fn member() -> String {
    "member".into()
}

#[put("/products/{code}/price")]
async fn set_price(
    gateway: web::Data<Gateway>,
    admin: AdminName,
    code: web::Path<String>,
    body: web::Json<NewPrice>,
) -> Result<HttpResponse, ApiError> {
    let code = parse("code", ProductCode::parse(&code))?;
    let price: Money = parse("price", body.price.parse())?;
    let tier =
        PriceTier::parse(&body.tier).ok_or_else(|| ApiError::bad_request("bad_tier", "tier is member or reseller"))?;
    let asked = PriceAsked { code: &code, tier, price, reason: &body.reason };
    Ok(match gateway.prices.set(asked, &admin).await? {
        PriceChange::Unchanged { tier, price } => {
            HttpResponse::Ok().json(json!({"status": "unchanged", "tier": tier, "price": price}))
        }
        PriceChange::Applied { tier, price } => {
            HttpResponse::Ok().json(json!({"status": "applied", "tier": tier, "price": price}))
        }
        PriceChange::Pending { request, confirm_percent } => {
            let confirm = format!("/admin/api/price-requests/{}/confirm", request.id);
            HttpResponse::Accepted().json(json!({
                "status": "pending_confirmation",
                "message": format!("a change of more than {confirm_percent}% needs a confirming call before it applies"),
                "confirm": confirm,
                "request": request,
            }))
        }
    })
}

#[get("/price-requests/{id}")]
async fn get_request(gateway: web::Data<Gateway>, id: web::Path<String>) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(gateway.prices.request(&id).await?))
}

/// Applies a pending request. Refused once it is closed, expired, or the price it would change
/// has changed since it was asked.
#[post("/price-requests/{id}/confirm")]
async fn confirm_request(
    gateway: web::Data<Gateway>,
    admin: AdminName,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(gateway.prices.confirm(&id, &admin).await?))
}
