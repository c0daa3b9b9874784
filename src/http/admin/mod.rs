//! The engine's admin API under `/admin/api`, behind `Authorization: Bearer <WARUNG_ADMIN__TOKEN>`.
//! With no token configured the admin API is off. Every change of stock, price or money goes
//! through the actors and is recorded with the admin's name (the `X-Admin-Name` header).
//!
//! - `products`: create, list, edit, deactivate, stock (JSON or a bulk text upload).
//! - `prices`: price changes with guard rails: a minimum, and a second confirming call for a
//!   large change.
//! - `orders`: list and filter, one order with its history, buy, pay, cancel, refund.
//! - `customers`: list, balance and ledger, adjustments, roles, the refund watch.
//! - `settings`: the shop's settings and the audit trail of admin changes.
//! - `reports`: the owner's overview (sales per WIB day, best sellers, stock, what waits) and
//!   CSV exports of orders and the ledger.
//! - `openapi`: the API's OpenAPI document, served at `/admin/api/openapi.json`, generated from
//!   the `#[utoipa::path]` of every handler as the scope registers it; `schema`: the schemas of
//!   the domain types in its bodies and the answers every operation shares; `views` and
//!   `order_views`: the bodies the API answers with.
//! - `page/`: the admin page at `/admin`, a phone-first page on top of this API in Bahasa
//!   Indonesia (English on a switch); the token is typed into it and kept in the tab's session
//!   storage.

mod customers;
mod openapi;
mod order_views;
mod orders;
mod prices;
mod products;
mod reports;
mod schema;
mod settings;
mod views;

use actix_web::dev::{ServiceFactory, ServiceRequest, ServiceResponse};
use actix_web::http::StatusCode;
use actix_web::middleware::{from_fn, Next};
use actix_web::{get, web, FromRequest, HttpRequest, HttpResponse};
use utoipa::openapi::path::{Parameter, ParameterBuilder, ParameterIn};
use utoipa::openapi::schema::{ObjectBuilder, Type};
use utoipa::openapi::Required;
use utoipa_actix_web::scope::Scope;

use super::errors::ApiError;
use crate::engine::Engine;

pub use openapi::serve as openapi_document;

/// The admin page, one document assembled from its parts in `page/`: markup, style, and a script
/// per area, each an inline block that the page's policy allows by its hash (so no part may hold
/// a `<script>`, `</script>`, `<style>` or `</style>` of its own). The scripts share one global
/// scope and run in this order.
static ADMIN_PAGE: crate::http::pages::Page = crate::http::pages::Page::new(concat!(
    include_str!("page/head.html"),
    "<style>",
    include_str!("page/style.css"),
    "</style>\n",
    include_str!("page/body.html"),
    "<script>",
    include_str!("page/lang_id.js"),
    "</script>\n<script>",
    include_str!("page/lang_en.js"),
    "</script>\n<script>",
    include_str!("page/i18n.js"),
    "</script>\n<script>",
    include_str!("page/format.js"),
    "</script>\n<script>",
    include_str!("page/api.js"),
    "</script>\n<script>",
    include_str!("page/charts.js"),
    "</script>\n<script>",
    include_str!("page/home.js"),
    "</script>\n<script>",
    include_str!("page/products.js"),
    "</script>\n<script>",
    include_str!("page/orders.js"),
    "</script>\n<script>",
    include_str!("page/customers.js"),
    "</script>\n<script>",
    include_str!("page/settings.js"),
    "</script>\n<script>",
    include_str!("page/app.js"),
    "</script>\n</body>\n</html>\n",
));

/// The admin page; it holds no data until the token is typed in.
#[get("/admin")]
pub async fn page() -> HttpResponse {
    ADMIN_PAGE.respond()
}

/// The admin's name when a call does not say it.
const ADMIN_NAME_DEFAULT: &str = "admin";

/// Longest admin name, in characters.
const ADMIN_NAME_CHARS_MAX: usize = 64;

/// The admin API behind its token. Each `service` call both routes a handler and adds its
/// `#[utoipa::path]` to the scope's document (`openapi::document`), so a route cannot be served
/// undescribed: a handler without one does not compile here.
pub fn scope() -> Scope<
    impl ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse<impl actix_web::body::MessageBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    routes(utoipa_actix_web::scope("/admin/api")).wrap(from_fn(require_token))
}

/// The admin routes on `scope`, without the token check (which needs an engine to read the token
/// from): the tests route requests through them alone.
fn routes<T>(scope: Scope<T>) -> Scope<T>
where
    T: ServiceFactory<ServiceRequest, Config = (), Error = actix_web::Error, InitError = ()>,
{
    scope
        .app_data(
            web::QueryConfig::default()
                .error_handler(|error, _| ApiError::bad_request("bad_query", error.to_string()).into()),
        )
        .configure(products::configure)
        .configure(prices::configure)
        .configure(orders::configure)
        .configure(customers::configure)
        .configure(settings::configure)
        .configure(reports::configure)
}

async fn require_token(
    req: ServiceRequest,
    next: Next<impl actix_web::body::MessageBody + 'static>,
) -> Result<ServiceResponse<actix_web::body::BoxBody>, actix_web::Error> {
    let engine = req.app_data::<web::Data<Engine>>().expect("engine data").clone();
    let Some(expected) = engine.settings.admin.token.as_ref() else {
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
    if !expected.matches(given) {
        return Err(ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", "missing or wrong bearer token").into());
    }
    let changes = req.method() != actix_web::http::Method::GET;
    let response = next.call(req).await?;
    // In a cluster the other nodes' caches of what an admin changes are reloaded at once.
    if changes && response.status().is_success() {
        engine.caches_changed().await;
    }
    Ok(response.map_into_boxed_body())
}

/// Who makes a change: the `X-Admin-Name` header (letters, digits, `.`, `_`, `-`, `@`), else
/// "admin". The token proves the caller may administer; the name is what the audit records.
pub use crate::flows::admin::Admin as AdminName;

impl FromRequest for AdminName {
    type Error = ApiError;
    type Future = std::future::Ready<Result<AdminName, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        let name = match req.headers().get("x-admin-name") {
            None => Ok(ADMIN_NAME_DEFAULT.to_string()),
            Some(value) => value
                .to_str()
                .ok()
                .map(str::trim)
                .filter(|v| {
                    !v.is_empty()
                        && v.chars().count() <= ADMIN_NAME_CHARS_MAX
                        && v.chars().all(|c| c.is_ascii_alphanumeric() || "._-@".contains(c))
                })
                .map(str::to_string)
                .ok_or_else(|| {
                    ApiError::bad_request(
                        "bad_admin_name",
                        format!("X-Admin-Name: 1 to {ADMIN_NAME_CHARS_MAX} letters, digits or . _ - @"),
                    )
                }),
        };
        std::future::ready(name.map(AdminName))
    }
}

/// The `X-Admin-Name` header as the extractor above reads it.
impl utoipa::IntoParams for AdminName {
    fn into_params(_: impl Fn() -> Option<ParameterIn>) -> Vec<Parameter> {
        let pattern = format!("^[A-Za-z0-9._@-]{{1,{ADMIN_NAME_CHARS_MAX}}}$");
        let header = ParameterBuilder::new()
            .name("X-Admin-Name")
            .parameter_in(ParameterIn::Header)
            .required(Required::False)
            .description(Some(format!("who makes the change, for the audit trail (default: {ADMIN_NAME_DEFAULT})")))
            .schema(Some(ObjectBuilder::new().schema_type(Type::String).pattern(Some(pattern)).examples(["siti"])));
        vec![header.build()]
    }
}

/// A field that did not parse: 400 with `bad_<field>`.
fn parse<T, E: std::fmt::Display>(field: &str, value: Result<T, E>) -> Result<T, ApiError> {
    value.map_err(|e| ApiError::bad_request(&format!("bad_{field}"), e.to_string()))
}

/// The store could not answer: 503, nothing changed.
fn store_down(error: crate::store::StoreError) -> ApiError {
    tracing::error!(%error, "admin store call failed");
    ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "store_unavailable", "the store could not be reached; try again")
}

/// The next page's cursor: taken from the last row, when the page came back full (a shorter page
/// is the last one).
fn next_cursor<T, C>(rows: &[T], limit: i64, cursor: impl Fn(&T) -> C) -> Option<C> {
    let full = rows.len() as i64 == limit.clamp(1, crate::store::admin::ADMIN_LIST_ROWS_MAX);
    rows.last().filter(|_| full).map(cursor)
}

/// A confirmed payment: an order's or a top-up's.
#[derive(serde::Deserialize, utoipa::ToSchema)]
#[schema(as = ConfirmedPayment)]
#[serde(deny_unknown_fields)]
struct Payment {
    /// The provider's id of the payment: the same id again is recorded once.
    #[schema(value_type = schema::Reference)]
    payment_id: String,
    #[schema(value_type = schema::Money)]
    amount: String,
}

/// A new reference for an admin command that did not bring one.
fn generated_reference(prefix: &str) -> warung_actors::domain::Reference {
    let random: u64 = rand::random();
    warung_actors::domain::Reference::parse(&format!("{prefix}-{random:016x}")).expect("a generated reference parses")
}
