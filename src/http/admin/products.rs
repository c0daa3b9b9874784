//! Products: create, list, see one, rename, take off sale and back, add stock (JSON, or a text
//! upload of one item per line). Stock and state change only through the product actor.

use actix_web::http::StatusCode;
use actix_web::{get, patch, post, web, HttpResponse};
use futures::StreamExt;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;
use warung_actors::domain::{ItemSecret, Money, ProductCode, Quantity, Reference};
use warung_actors::journal::StockKind;
use warung_actors::product::{ProductRejection, Restock, Restocked, RESTOCK_UNITS_MAX};

use super::schema::{self, CodePath, Guarded, JsonRefused, CORRUPT, UNAVAILABLE};
use super::views::{Movement, PriceRequestView, Product};
use super::{generated_reference, parse, store_down, AdminName};
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

pub fn configure(config: &mut ServiceConfig) {
    config
        .service(create_product)
        .service(list_products)
        .service(get_product)
        .service(edit_product)
        .service(restock)
        .service(upload_stock);
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct NewProduct {
    #[schema(value_type = schema::ProductCode)]
    code: String,
    #[schema(schema_with = schema::product_name)]
    name: String,
    #[schema(value_type = schema::Money)]
    price: String,
    /// Plain counted stock instead of deliverable items.
    #[serde(default)]
    counted: bool,
}

#[derive(Serialize, ToSchema)]
struct Created {
    #[schema(value_type = schema::ProductCode)]
    code: ProductCode,
}

/// Create a product.
#[utoipa::path(tag = "products", responses(
    (status = 201, body = Created, description = "created, with no stock"),
    (status = 400, body = ApiError, description = "bad_json, bad_code or bad_price"),
    (status = 409, body = ApiError, description = "product_exists"),
    (status = 422, body = ApiError, description = "bad_name or price_below_minimum"),
    (status = 500, body = ApiError, description = CORRUPT),
    (status = 503, body = ApiError, description = UNAVAILABLE),
    Guarded, JsonRefused,
))]
#[post("/products")]
async fn create_product(gateway: web::Data<Gateway>, body: web::Json<NewProduct>) -> Result<HttpResponse, ApiError> {
    let code = parse("code", ProductCode::parse(&body.code))?;
    let price: Money = parse("price", body.price.parse())?;
    let kind = if body.counted { StockKind::Counted } else { StockKind::Items };
    gateway.products.create(Asked { code: &code, name: &body.name, price, kind }).await?;
    Ok(HttpResponse::Created().json(Created { code }))
}

#[derive(Serialize, ToSchema)]
struct ProductList {
    products: Vec<Product>,
}

/// List products with stock available, reserved and sold.
#[utoipa::path(tag = "products", responses(
    (status = 200, body = ProductList, description = "the first 500 products by code"),
    (status = 500, body = ApiError, description = CORRUPT),
    (status = 503, body = ApiError, description = UNAVAILABLE),
    Guarded,
))]
#[get("/products")]
async fn list_products(engine: web::Data<Engine>) -> Result<HttpResponse, ApiError> {
    let codes: Vec<ProductCode> = engine.catalog.codes().into_iter().take(PRODUCTS_LISTED_MAX).collect();
    let mut products = Vec::with_capacity(codes.len());
    for code in codes {
        products.push(engine.catalog.snapshot(&code).await?.into());
    }
    Ok(HttpResponse::Ok().json(ProductList { products }))
}

#[derive(Serialize, ToSchema)]
struct ProductDetail {
    #[serde(flatten)]
    product: Product,
    price_requests: Vec<PriceRequestView>,
    /// The latest 50, newest first.
    stock_movements: Vec<Movement>,
}

/// One product's stock, prices, price requests and latest stock movements.
#[utoipa::path(tag = "products", params(CodePath), responses(
    (status = 200, body = ProductDetail, description = "the product"),
    (status = 400, body = ApiError, description = "bad_code"),
    (status = 404, body = ApiError, description = "not_found: no such product"),
    (status = 500, body = ApiError, description = CORRUPT),
    (status = 503, body = ApiError, description = UNAVAILABLE),
    Guarded,
))]
#[get("/products/{code}")]
async fn get_product(engine: web::Data<Engine>, code: web::Path<CodePath>) -> Result<HttpResponse, ApiError> {
    let code = parse("code", ProductCode::parse(&code.0))?;
    let snapshot = engine.catalog.snapshot(&code).await?;
    let requests = engine.store.price_requests(&code).await.map_err(store_down)?;
    let movements = engine.store.movements_of(&code, MOVEMENTS_SHOWN).await.map_err(store_down)?;
    Ok(HttpResponse::Ok().json(ProductDetail {
        product: snapshot.into(),
        price_requests: requests.into_iter().map(PriceRequestView::from).collect(),
        stock_movements: movements.iter().map(Movement::from).collect(),
    }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct Edit {
    #[schema(schema_with = schema::product_name)]
    name: Option<String>,
    /// `false` takes the product off sale, `true` puts it back.
    active: Option<bool>,
    /// Kept in the audit trail.
    #[serde(default)]
    reason: String,
}

/// Rename, take off sale or put back on sale.
///
/// Each change goes through the actor with its audit row stored in the same commit. Answers the
/// product as it is now.
#[utoipa::path(tag = "products", params(CodePath, AdminName), responses(
    (status = 200, body = Product, description = "the product as it is now"),
    (status = 400, body = ApiError, description = "bad_json, bad_code, bad_admin_name or nothing_to_change"),
    (status = 404, body = ApiError, description = "not_found: no such product"),
    (status = 422, body = ApiError, description = "name_must_be_short"),
    (status = 500, body = ApiError, description = CORRUPT),
    (status = 503, body = ApiError, description = UNAVAILABLE),
    Guarded, JsonRefused,
))]
#[patch("/products/{code}")]
async fn edit_product(
    gateway: web::Data<Gateway>,
    admin: AdminName,
    code: web::Path<CodePath>,
    body: web::Json<Edit>,
) -> Result<HttpResponse, ApiError> {
    let code = parse("code", ProductCode::parse(&code.0))?;
    let edit = ProductEdit { name: body.name.as_deref(), active: body.active, reason: &body.reason };
    Ok(HttpResponse::Ok().json(Product::from(gateway.products.edit(&code, edit, &admin).await?)))
}

/// Either `items` or `count`, not both.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct NewStock {
    /// The same reference with the same stock adds it once; with other stock it is refused.
    #[schema(value_type = schema::Reference)]
    reference: String,
    /// For an items product: one deliverable item per unit.
    #[serde(default)]
    #[schema(schema_with = schema::items)]
    items: Vec<String>,
    /// For a counted product: how many units.
    #[schema(value_type = Option<u32>)]
    count: Option<Quantity>,
}

#[derive(Serialize, ToSchema)]
struct StockAdded {
    #[schema(value_type = schema::Reference)]
    reference: Reference,
    #[schema(value_type = u32)]
    added: Quantity,
    /// Units available after the restock.
    available: i64,
}

/// Add stock: items (one per unit) or a count, once per reference.
#[utoipa::path(tag = "products", params(CodePath, AdminName), responses(
    (status = 200, body = StockAdded, description = "added, or added before under this reference"),
    (status = 400, body = ApiError, description = "bad_json, bad_code, bad_admin_name, bad_reference, bad_item or bad_stock"),
    (status = 404, body = ApiError, description = "not_found: no such product"),
    (status = 409, body = ApiError, description = "exists_with_different_content or duplicate_item"),
    (status = 422, body = ApiError, description = "restock_must_not_be_empty or restock_kind_mismatch"),
    (status = 500, body = ApiError, description = CORRUPT),
    (status = 503, body = ApiError, description = UNAVAILABLE),
    Guarded, JsonRefused,
))]
#[post("/products/{code}/stock")]
async fn restock(
    engine: web::Data<Engine>,
    admin: AdminName,
    code: web::Path<CodePath>,
    body: web::Json<NewStock>,
) -> Result<HttpResponse, ApiError> {
    let code = parse("code", ProductCode::parse(&code.0))?;
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

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct UploadQuery {
    /// Makes a retried upload add nothing twice; one is made up when absent.
    #[param(value_type = Option<schema::Reference>)]
    reference: Option<String>,
}

/// Add stock from text, one item per line; duplicates refused.
///
/// Blank lines and the space around an item are ignored. The upload is refused whole, naming the
/// line, when an item repeats within it or is already in stock.
#[utoipa::path(tag = "products", params(CodePath, UploadQuery, AdminName),
    request_body(content = String, content_type = "text/plain", description = "one item per line"),
    responses(
        (status = 200, body = StockAdded, description = "added, or added before under this reference"),
        (status = 400, body = ApiError,
            description = "bad_code, bad_admin_name, bad_query, bad_reference, bad_body (not UTF-8), bad_item or bad_stock"),
        (status = 404, body = ApiError, description = "not_found: no such product"),
        (status = 409, body = ApiError, description = "exists_with_different_content or duplicate_item (naming the line)"),
        (status = 413, body = ApiError, description = "body_too_large or too_many_items: split the upload"),
        (status = 422, body = ApiError, description = "restock_kind_mismatch: the product is counted"),
        (status = 500, body = ApiError, description = CORRUPT),
        (status = 503, body = ApiError, description = UNAVAILABLE),
        Guarded,
    ))]
#[post("/products/{code}/stock/upload")]
async fn upload_stock(
    engine: web::Data<Engine>,
    admin: AdminName,
    code: web::Path<CodePath>,
    query: web::Query<UploadQuery>,
    mut payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let code = parse("code", ProductCode::parse(&code.0))?;
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
        Ok(Restocked { added, available }) => Ok(HttpResponse::Ok().json(StockAdded { reference, added, available })),
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
