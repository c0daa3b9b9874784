//! Products: create, list, see one, rename, take off sale and back, add stock (JSON, or a text
//! upload of one item per line). Stock and state change only through the product actor.

use actix_web::http::StatusCode;
use actix_web::{get, patch, post, web, HttpResponse};
use futures::StreamExt;
use serde::Deserialize;
use serde_json::json;
use warung_actors::domain::{ItemSecret, Money, ProductCode, Quantity, Reference};
use warung_actors::journal::StockKind;
use warung_actors::product::{ProductRejection, Restock, Restocked, RESTOCK_UNITS_MAX};

use super::{generated_reference, movement_json, parse, store_down, AdminName};
use crate::checkout::CheckoutError;
use crate::engine::Engine;
use crate::flows::admin::products::{NewProduct as Asked, ProductEdit};
use crate::flows::service::Gateway;
use crate::http::errors::ApiError;

/// Largest stock upload, in bytes: `RESTOCK_UNITS_MAX` items of a typical login line. A larger
/// upload is refused whole with 413; split it.
pub const STOCK_UPLOAD_BYTES_MAX: usize = 16 * 1024 * 1024;

/// Latest stock movements shown with a product.
const MOVEMENTS_SHOWN: i64 = 50;

/// Most products the list returns.
const PRODUCTS_LISTED_MAX: usize = 500;

pub fn configure(config: &mut web::ServiceConfig) {
    config
        .service(create_product)
        .service(list_products)
        .service(get_product)
        .service(edit_product)
        .service(restock)
        .service(upload_stock);
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewProduct {
    code: String,
    name: String,
    price: String,
    #[serde(default)]
    counted: bool,
}

#[post("/products")]
async fn create_product(gateway: web::Data<Gateway>, body: web::Json<NewProduct>) -> Result<HttpResponse, ApiError> {
    let code = parse("code", ProductCode::parse(&body.code))?;
    let price: Money = parse("price", body.price.parse())?;
    let kind = if body.counted { StockKind::Counted } else { StockKind::Items };
    gateway.products.create(Asked { code: &code, name: &body.name, price, kind }).await?;
    Ok(HttpResponse::Created().json(json!({"code": code})))
}

#[get("/products")]
async fn list_products(engine: web::Data<Engine>) -> Result<HttpResponse, ApiError> {
    let codes: Vec<ProductCode> = engine.catalog.codes().into_iter().take(PRODUCTS_LISTED_MAX).collect();
    let mut products = Vec::with_capacity(codes.len());
    for code in codes {
        products.push(engine.checkout.actors().product_snapshot(&code).await?);
    }
    Ok(HttpResponse::Ok().json(json!({ "products": products })))
}

#[get("/products/{code}")]
async fn get_product(engine: web::Data<Engine>, code: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let code = parse("code", ProductCode::parse(&code))?;
    let snapshot = engine.checkout.actors().product_snapshot(&code).await?;
    let requests = engine.store.price_requests(&code).await.map_err(store_down)?;
    let movements = engine.store.movements_of(&code, MOVEMENTS_SHOWN).await.map_err(store_down)?;
    let mut body = serde_json::to_value(&snapshot).expect("a snapshot serialises");
    body["price_requests"] = serde_json::to_value(requests).expect("requests serialise");
    body["stock_movements"] = movements.iter().map(movement_json).collect();
    Ok(HttpResponse::Ok().json(body))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Edit {
    name: Option<String>,
    active: Option<bool>,
    #[serde(default)]
    reason: String,
}

/// Renames and/or takes the product off sale (or back on), each through the actor with its
/// audit row stored in the same commit.
#[patch("/products/{code}")]
async fn edit_product(
    gateway: web::Data<Gateway>,
    admin: AdminName,
    code: web::Path<String>,
    body: web::Json<Edit>,
) -> Result<HttpResponse, ApiError> {
    let code = parse("code", ProductCode::parse(&code))?;
    let edit = ProductEdit { name: body.name.as_deref(), active: body.active, reason: &body.reason };
    Ok(HttpResponse::Ok().json(gateway.products.edit(&code, edit, &admin).await?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewStock {
    reference: String,
    #[serde(default)]
    items: Vec<String>,
    count: Option<Quantity>,
}

#[post("/products/{code}/stock")]
async fn restock(
    engine: web::Data<Engine>,
    admin: AdminName,
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
                .map(|i| ItemSecret::parse(i))
                .collect::<Result<_, _>>()
                .map_err(|e| ApiError::bad_request("bad_item", e.to_string()))?,
        ),
        _ => return Err(ApiError::bad_request("bad_stock", "give items (one per unit) or a count")),
    };
    restocked(&engine, &code, reference, stock, &admin, None).await
}

#[derive(Deserialize)]
struct UploadQuery {
    reference: Option<String>,
}

/// A text body, one item per line (blank lines and surrounding spaces ignored). Refused whole,
/// naming the line, when an item repeats within the upload or is already in stock.
#[post("/products/{code}/stock/upload")]
async fn upload_stock(
    engine: web::Data<Engine>,
    admin: AdminName,
    code: web::Path<String>,
    query: web::Query<UploadQuery>,
    mut payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let code = parse("code", ProductCode::parse(&code))?;
    let reference = match &query.reference {
        Some(text) => parse("reference", Reference::parse(text))?,
        None => generated_reference("upload"),
    };
    let mut body = web::BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|e| ApiError::bad_request("bad_body", e.to_string()))?;
        if body.len() + chunk.len() > STOCK_UPLOAD_BYTES_MAX {
            return Err(ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "body_too_large",
                format!("a stock upload holds at most {STOCK_UPLOAD_BYTES_MAX} bytes; split it"),
            ));
        }
        body.extend_from_slice(&chunk);
    }
    let text =
        std::str::from_utf8(&body).map_err(|_| ApiError::bad_request("bad_body", "the upload is not UTF-8 text"))?;
    let mut items = Vec::new();
    let mut lines = Vec::new();
    for (at, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let item =
            ItemSecret::parse(line).map_err(|e| ApiError::bad_request("bad_item", format!("line {}: {e}", at + 1)))?;
        items.push(item);
        lines.push(at + 1);
    }
    if items.is_empty() {
        return Err(ApiError::bad_request("bad_stock", "the upload holds no items: one item per line"));
    }
    if items.len() > RESTOCK_UNITS_MAX {
        return Err(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too_many_items",
            format!("one upload brings at most {RESTOCK_UNITS_MAX} items; split it"),
        ));
    }
    restocked(&engine, &code, reference, Restock::Items(items), &admin, Some(&lines)).await
}

/// Restocks through the actor. `lines` maps an upload's items to their line numbers, so a
/// duplicate is reported by line.
async fn restocked(
    engine: &Engine,
    code: &ProductCode,
    reference: Reference,
    stock: Restock,
    admin: &AdminName,
    lines: Option<&[usize]>,
) -> Result<HttpResponse, ApiError> {
    match engine.catalog.restock(code, reference.clone(), stock, &admin.actor()).await? {
        Ok(Restocked { added, available }) => {
            Ok(HttpResponse::Ok().json(json!({"reference": reference, "added": added, "available": available})))
        }
        Err(rejection) => {
            let line = match (&rejection, lines) {
                (ProductRejection::DuplicateItem { index }, Some(lines)) => lines.get(*index).copied(),
                _ => None,
            };
            let mut error = ApiError::from(CheckoutError::Product(rejection));
            if let Some(line) = line {
                error.message = format!("line {line} is already in stock or repeated in the upload; nothing was added");
            }
            Err(error)
        }
    }
}
