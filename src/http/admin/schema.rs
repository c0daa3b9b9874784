//! Schemas of the domain types that the admin API's bodies carry, and the answers that every
//! operation shares. The types live in `warung-actors`, which knows nothing of OpenAPI; each
//! schema here takes its pattern from the constant beside the type's parser, so the document
//! states what the parser accepts. A body field names its schema with
//! `#[schema(value_type = schema::ProductCode)]`.

use serde::Deserialize;
use utoipa::openapi::schema::{ArrayBuilder, KnownFormat, Object, ObjectBuilder, Schema, SchemaFormat, Type};
use utoipa::openapi::RefOr;
use utoipa::{IntoParams, IntoResponses, PartialSchema, ToSchema};
use warung_actors::domain::{
    CUSTOMER_ID_PATTERN, DELTA_PLAIN_PATTERN, ITEM_SECRET_LEN_MAX, MONEY_MAX_RUPIAH, MONEY_PLAIN_PATTERN,
    ORDER_ID_PATTERN, ORDER_QUANTITY_MAX, PRODUCT_CODE_PATTERN, REFERENCE_PATTERN,
};
use warung_actors::product::PRODUCT_NAME_CHARS_MAX;

use crate::http::errors::ApiError;

/// A string schema named after the marker type, built by `$build` from `ObjectBuilder` `$b`.
macro_rules! string_schema {
    ($(#[$doc:meta])* $name:ident, |$b:ident| $build:expr) => {
        $(#[$doc])*
        pub struct $name;

        impl PartialSchema for $name {
            fn schema() -> RefOr<Schema> {
                let $b = ObjectBuilder::new().schema_type(Type::String);
                $build.into()
            }
        }

        impl ToSchema for $name {}
    };
}

string_schema!(
    /// `ProductCode`: what `ProductCode::parse` accepts. The engine answers with the code lower case.
    ProductCode,
    |b| b
        .pattern(Some(PRODUCT_CODE_PATTERN))
        .description(Some("letters, digits, - or _; any case in a request, lower case in an answer"))
        .examples(["viu1b"])
);

string_schema!(
    /// `OrderId`: what `OrderId::parse` accepts.
    OrderId,
    |b| b.pattern(Some(ORDER_ID_PATTERN)).examples(["TRX-0a1b2c3d4e-1764000000000"])
);

string_schema!(
    /// `CustomerId`: what `CustomerId::parse` accepts.
    CustomerId,
    |b| b
        .pattern(Some(CUSTOMER_ID_PATTERN))
        .description(Some("a WhatsApp user id: visible characters, no space, at most 64 bytes"))
        .examples(["6281234567890"])
);

string_schema!(
    /// `Reference`: what `Reference::parse` accepts.
    Reference,
    |b| b
        .pattern(Some(REFERENCE_PATTERN))
        .description(Some(
            "chosen by the caller, the same one again does nothing twice: visible characters, no space, \
             at most 128 bytes",
        ))
        .examples(["restock-2026-11-22"])
);

string_schema!(
    /// `Money`: Rupiah as a decimal string, never a float.
    Money,
    |b| b
        .pattern(Some(MONEY_PLAIN_PATTERN))
        .description(Some(format!("Rupiah: digits, at most two decimals, at most {MONEY_MAX_RUPIAH}")))
        .examples(["15000"])
);

string_schema!(
    /// A signed amount of Rupiah: a change of a balance.
    SignedAmount,
    |b| b
        .pattern(Some(DELTA_PLAIN_PATTERN))
        .description(Some("Rupiah, negative when money leaves the wallet"))
        .examples(["-5000"])
);

/// A product's name: 1 to `PRODUCT_NAME_CHARS_MAX` characters once trimmed.
pub fn product_name() -> Object {
    let name = ObjectBuilder::new().schema_type(Type::String).min_length(Some(1));
    name.max_length(Some(PRODUCT_NAME_CHARS_MAX)).examples(["Viu 1 bulan"]).build()
}

/// Units of one order: 1 to `ORDER_QUANTITY_MAX`, 1 when absent.
pub fn order_quantity() -> Object {
    let quantity =
        ObjectBuilder::new().schema_type(Type::Integer).format(Some(SchemaFormat::KnownFormat(KnownFormat::Int32)));
    quantity.minimum(Some(1)).maximum(Some(ORDER_QUANTITY_MAX)).default(Some(1.into())).build()
}

/// Deliverable items, one per unit, each 1 to `ITEM_SECRET_LEN_MAX` bytes once trimmed.
pub fn items() -> utoipa::openapi::schema::Array {
    let item = ObjectBuilder::new().schema_type(Type::String).min_length(Some(1)).max_length(Some(ITEM_SECRET_LEN_MAX));
    ArrayBuilder::new().items(item).build()
}

/// How many rows a list answers: a larger number is cut to `ADMIN_LIST_ROWS_MAX`.
pub fn list_limit() -> Object {
    let rows_max = crate::store::admin::ADMIN_LIST_ROWS_MAX;
    let limit =
        ObjectBuilder::new().schema_type(Type::Integer).format(Some(SchemaFormat::KnownFormat(KnownFormat::Int64)));
    limit.description(Some(format!("at most {rows_max}; a larger limit is cut to it"))).build()
}

/// The code of a product in the path; parsed by the handler, whose 400 is `bad_code`.
#[derive(Deserialize, IntoParams)]
#[into_params(names("code"), parameter_in = Path)]
pub struct CodePath(#[param(value_type = ProductCode)] pub String);

/// The id of an order in the path.
#[derive(Deserialize, IntoParams)]
#[into_params(names("id"), parameter_in = Path)]
pub struct OrderPath(#[param(value_type = OrderId)] pub String);

/// The id of a customer in the path.
#[derive(Deserialize, IntoParams)]
#[into_params(names("id"), parameter_in = Path)]
pub struct CustomerPath(#[param(value_type = CustomerId)] pub String);

/// The customer of a wallet in the path.
#[derive(Deserialize, IntoParams)]
#[into_params(names("customer"), parameter_in = Path)]
pub struct WalletPath(#[param(value_type = CustomerId)] pub String);

/// The id of a price request in the path: any text (an unknown one is not found).
#[derive(Deserialize, IntoParams)]
#[into_params(names("id"), parameter_in = Path)]
pub struct RequestPath(#[param(example = "PR-00c0ffee0123")] pub String);

/// What the admin scope answers before any handler runs (`require_token`).
#[derive(IntoResponses)]
#[expect(dead_code, reason = "describes what require_token answers; never built")]
pub enum Guarded {
    /// `unauthorized`: the bearer token is missing or wrong.
    #[response(status = 401)]
    Unauthorized(ApiError),
    /// `admin_disabled`: no admin token is configured, so the admin API is off.
    #[response(status = 403)]
    Disabled(ApiError),
}

/// What the JSON body's extractor answers before the handler runs (`errors::json_error`); its
/// `bad_json` is a 400 each handler lists with its own.
#[derive(IntoResponses)]
#[expect(dead_code, reason = "describes what errors::json_error answers; never built")]
pub enum JsonRefused {
    /// `body_too_large`: the body is above `http.body_limit_bytes`.
    #[response(status = 413)]
    TooLarge(ApiError),
    /// `content_type`: the body is not sent as `application/json`.
    #[response(status = 415)]
    NotJson(ApiError),
}

/// An actor could not answer: nothing was done; try again.
pub const UNAVAILABLE: &str = "busy, stopped, quarantined, not_stored, store_unavailable or moving_between_nodes: \
                               nothing was done; try again";

/// An actor's stored state does not load; a person must look.
pub const CORRUPT: &str = "corrupt_state: an actor's stored state does not load";

/// The store could not be reached.
pub const STORE_DOWN: &str = "store_unavailable: the store could not be reached; nothing changed";

/// A purchase forwarded to the customer's node got no answer.
pub const OUTCOME_UNKNOWN: &str = "outcome_unknown: the customer's node did not answer; look before trying again";
