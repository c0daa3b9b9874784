//! Prices with guard rails. A price below the shop's minimum is refused. A change larger than
//! the confirm threshold (percent of the price in force) is only requested: it applies when a
//! second call confirms it within the window, and the audit row records who asked and who
//! confirmed. Smaller changes apply at once. Every change goes through the product actor, with
//! its audit row in the same commit.

use actix_web::http::StatusCode;
use actix_web::{get, post, put, web, HttpResponse};
use rust_decimal::Decimal;
use serde::Deserialize;
use serde_json::json;
use warung_actors::domain::{Money, ProductCode, Reference};
use warung_actors::product::{PriceTier, ProductCommand};

use super::{generated_reference, parse, store_down, AdminName};
use crate::checkout::{AuditRow, CheckoutError, ShopRecord};
use crate::engine::Engine;
use crate::http::errors::ApiError;
use crate::store::admin::{PriceRequest, PriceRequestStatus};

pub fn configure(config: &mut web::ServiceConfig) {
    config.service(set_price).service(get_request).service(confirm_request);
}

/// 422 `price_below_minimum` for a price under the shop's minimum.
pub fn check_minimum(engine: &Engine, price: Money) -> Result<(), ApiError> {
    let minimum = engine.shop.values().price_minimum;
    if price < minimum {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "price_below_minimum",
            format!("a price must be at least {minimum}"),
        ));
    }
    Ok(())
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
    engine: web::Data<Engine>,
    admin: AdminName,
    code: web::Path<String>,
    body: web::Json<NewPrice>,
) -> Result<HttpResponse, ApiError> {
    let code = parse("code", ProductCode::parse(&code))?;
    let price: Money = parse("price", body.price.parse())?;
    let tier =
        PriceTier::parse(&body.tier).ok_or_else(|| ApiError::bad_request("bad_tier", "tier is member or reseller"))?;
    check_minimum(&engine, price)?;
    let current = price_in_force(&engine, &code, tier).await?;
    if current == Some(price) {
        return Ok(HttpResponse::Ok().json(json!({"status": "unchanged", "tier": tier, "price": price})));
    }
    let shop = engine.shop.values();
    let now = engine.supervisor.clock().now();
    if let Some(from) = current.filter(|from| changes_more_than(*from, price, shop.price_change_confirm_percent)) {
        let request = PriceRequest {
            id: format!("PR-{:012x}", rand::random::<u64>() >> 16),
            product: code.clone(),
            tier,
            from_price: Some(from),
            to_price: price,
            reason: body.reason.trim().to_string(),
            requested_by: admin.0.clone(),
            requested_at: now,
            expires_at: now + (shop.price_confirm_window_secs * 1_000) as i64,
            status: PriceRequestStatus::Pending,
            confirmed_by: None,
            confirmed_at: None,
        };
        engine.store.open_price_request(&request).await.map_err(store_down)?;
        let confirm = format!("/admin/api/price-requests/{}/confirm", request.id);
        return Ok(HttpResponse::Accepted().json(json!({
            "status": "pending_confirmation",
            "message": format!("a change of more than {}% needs a confirming call before it applies", shop.price_change_confirm_percent),
            "confirm": confirm,
            "request": request,
        })));
    }
    let reference = generated_reference("price");
    let audit = audit_row(&code, tier, current, price, &admin.0, None, body.reason.trim(), now);
    apply(&engine, &code, tier, price, reference, audit, &admin).await?;
    Ok(HttpResponse::Ok().json(json!({"status": "applied", "tier": tier, "price": price})))
}

#[get("/price-requests/{id}")]
async fn get_request(engine: web::Data<Engine>, id: web::Path<String>) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(find(&engine, &id).await?))
}

/// Applies a pending request. Refused once it is closed, expired, or the price it would change
/// has changed since it was asked.
#[post("/price-requests/{id}/confirm")]
async fn confirm_request(
    engine: web::Data<Engine>,
    admin: AdminName,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let request = find(&engine, &id).await?;
    let now = engine.supervisor.clock().now();
    let conflict = |code: &str, message: String| ApiError::new(StatusCode::CONFLICT, code, message);
    if request.status != PriceRequestStatus::Pending {
        return Err(conflict("price_request_closed", format!("the request is {}", request.status.as_str())));
    }
    if now > request.expires_at {
        engine
            .store
            .close_price_request(&request.id, PriceRequestStatus::Expired, None, now)
            .await
            .map_err(store_down)?;
        return Err(conflict("price_request_expired", "the confirmation window has passed; ask again".into()));
    }
    let current = price_in_force(&engine, &request.product, request.tier).await?;
    if current != request.from_price {
        engine
            .store
            .close_price_request(&request.id, PriceRequestStatus::Superseded, None, now)
            .await
            .map_err(store_down)?;
        return Err(conflict(
            "price_changed_since_request",
            "the price changed since this was asked; ask again".into(),
        ));
    }
    // The request id is the actor's idempotency reference: two confirmations apply it once.
    let reference = parse("id", Reference::parse(&request.id))?;
    let audit = audit_row(
        &request.product,
        request.tier,
        request.from_price,
        request.to_price,
        &request.requested_by,
        Some(&admin.0),
        &request.reason,
        now,
    );
    apply(&engine, &request.product, request.tier, request.to_price, reference, audit, &admin).await?;
    engine
        .store
        .close_price_request(&request.id, PriceRequestStatus::Confirmed, Some(&admin.0), now)
        .await
        .map_err(store_down)?;
    Ok(HttpResponse::Ok().json(find(&engine, &request.id).await?))
}

async fn find(engine: &Engine, id: &str) -> Result<PriceRequest, ApiError> {
    engine.store.price_request(id).await.map_err(store_down)?.ok_or_else(|| {
        ApiError::new(StatusCode::NOT_FOUND, "price_request_not_found", format!("no price request {id}"))
    })
}

/// The price a buyer of `tier` pays now; `None` for a reseller price never set.
async fn price_in_force(engine: &Engine, code: &ProductCode, tier: PriceTier) -> Result<Option<Money>, ApiError> {
    let snapshot = engine.supervisor.product_snapshot(code).await?;
    Ok(match tier {
        PriceTier::Member => Some(snapshot.price),
        PriceTier::Reseller => snapshot.reseller_price,
    })
}

/// Whether going from `from` to `to` changes the price by more than `percent` of `from`.
fn changes_more_than(from: Money, to: Money, percent: u32) -> bool {
    let change = (to.amount() - from.amount()).abs();
    change * Decimal::from(100) > from.amount() * Decimal::from(percent)
}

#[allow(clippy::too_many_arguments)]
fn audit_row(
    code: &ProductCode,
    tier: PriceTier,
    from: Option<Money>,
    to: Money,
    requested_by: &str,
    confirmed_by: Option<&str>,
    reason: &str,
    at: i64,
) -> AuditRow {
    let who = match confirmed_by {
        Some(confirmer) => format!("requested by {requested_by}, confirmed by {confirmer}"),
        None => format!("by {requested_by}"),
    };
    AuditRow {
        admin: confirmed_by.unwrap_or(requested_by).to_string(),
        action: format!("set_price:{}", tier.as_str()),
        subject: code.to_string(),
        before: from.map(|m| m.amount().to_string()).unwrap_or_default(),
        after: to.amount().to_string(),
        reason: if reason.is_empty() { who } else { format!("{reason} ({who})") },
        at,
    }
}

async fn apply(
    engine: &Engine,
    code: &ProductCode,
    tier: PriceTier,
    price: Money,
    reference: Reference,
    audit: AuditRow,
    admin: &AdminName,
) -> Result<(), ApiError> {
    let command = ProductCommand::SetPrice { reference, tier, price, actor: admin.actor() };
    engine
        .supervisor
        .product_with(code, command, vec![ShopRecord::Audit(audit)])
        .await?
        .map_err(CheckoutError::Product)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_change_beyond_the_threshold_needs_confirming_and_one_at_it_does_not() {
        let rp = Money::rupiah;
        assert!(!changes_more_than(rp(10_000), rp(15_000), 50), "exactly 50% up applies");
        assert!(changes_more_than(rp(10_000), rp(15_001), 50));
        assert!(!changes_more_than(rp(10_000), rp(5_000), 50), "exactly 50% down applies");
        assert!(changes_more_than(rp(10_000), rp(4_999), 50));
    }
}
