//! The admin API's OpenAPI 3.1 document, served without a token at `/admin/api/openapi.json` (it
//! holds no data). It is generated: the admin scope collects each handler's `#[utoipa::path]`
//! (method, path, parameters, request body, every status it answers) as it registers the
//! handler, and the bodies' schemas come from the types the handlers serialise. It cannot
//! describe an API other than the one served.

use std::sync::OnceLock;

use actix_web::{get, HttpResponse};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme};
use utoipa::openapi::{ComponentsBuilder, InfoBuilder, OpenApi, OpenApiBuilder};
use utoipa_actix_web::OpenApiFactory;

use super::schema;
use crate::http::errors::ApiError;

#[get("/admin/api/openapi.json")]
pub async fn serve() -> HttpResponse {
    static DOCUMENT: OnceLock<String> = OnceLock::new();
    let text = DOCUMENT.get_or_init(|| document().to_json().expect("the document serialises"));
    HttpResponse::Ok().content_type("application/json").body(text.as_str())
}

/// The document of the admin scope as `super::scope` builds it.
pub fn document() -> OpenApi {
    let scope = super::scope();
    let paths = scope.paths();
    let mut schemas = Vec::new();
    scope.schemas(&mut schemas);
    let bearer = HttpBuilder::new().scheme(HttpAuthScheme::Bearer).description(Some("WARUNG_ADMIN__TOKEN"));
    // Schemas that only parameters or shared answers (`schema::Guarded`) name are not collected
    // from the handlers' bodies.
    let components = ComponentsBuilder::new()
        .security_scheme("bearer", SecurityScheme::Http(bearer.build()))
        .schema_from::<ApiError>()
        .schema_from::<schema::ProductCode>()
        .schema_from::<schema::OrderId>()
        .schema_from::<schema::CustomerId>()
        .schema_from::<schema::Reference>()
        .schema_from::<crate::checkout::OrderState>()
        .schemas_from_iter(schemas);
    let info = InfoBuilder::new().title("warung admin API").version(env!("CARGO_PKG_VERSION")).description(Some(
        "Every change of stock, price or money goes through the actors and is recorded with the admin's name \
         (the X-Admin-Name header). A refusal answers an ApiError: its code names the rule.",
    ));
    OpenApiBuilder::new()
        .info(info)
        .paths(paths)
        .components(Some(components.build()))
        .security(Some(vec![SecurityRequirement::new("bearer", Vec::<String>::new())]))
        .build()
}

#[cfg(test)]
mod tests;
