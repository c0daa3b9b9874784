//! Errors at the HTTP edge: `{"code": "...", "message": "..."}` with the status that fits. The
//! mapping from domain errors is one exhaustive match: a new variant breaks the build here.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, ResponseError};
use serde::Serialize;
use warung_actors::product::ProductRejection;
use warung_actors::runtime::CallError;
use warung_actors::wallet::WalletRejection;

use crate::checkout::CheckoutError;
use crate::flows::admin::{PriceError, ProductError};
use crate::flows::qris::{PaymentError, TransferError};

/// Every refusal's body: `code` names the rule, `message` says it in a sentence.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(example = json!({"code": "product_not_found", "message": "no such product"}))]
pub struct ApiError {
    #[serde(skip)]
    pub status: StatusCode,
    pub code: String,
    pub message: String,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &str, message: impl Into<String>) -> ApiError {
        ApiError { status, code: code.to_string(), message: message.into() }
    }

    pub fn bad_request(code: &str, message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, code, message)
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.status
    }

    fn error_response(&self) -> HttpResponse {
        HttpResponse::build(self.status).json(self)
    }
}

fn rule_code<T: Serialize>(rule: &T) -> String {
    serde_json::to_value(rule)
        .ok()
        .and_then(|v| v.get("rule").and_then(|r| r.as_str()).map(str::to_string))
        .unwrap_or_else(|| "rejected".into())
}

impl From<CheckoutError> for ApiError {
    fn from(error: CheckoutError) -> ApiError {
        let message = error.to_string();
        let (status, code) = match &error {
            CheckoutError::ProductNotFound => (StatusCode::NOT_FOUND, "product_not_found".to_string()),
            CheckoutError::Product(rule) => (product_status(rule), rule_code(rule)),
            CheckoutError::InsufficientBalance { .. } => {
                (StatusCode::PAYMENT_REQUIRED, "insufficient_balance".to_string())
            }
            CheckoutError::Wallet(rule) => (wallet_status(rule), rule_code(rule)),
            CheckoutError::EarlierPurchaseUnsettled { .. } => {
                (StatusCode::CONFLICT, "earlier_purchase_unsettled".to_string())
            }
            CheckoutError::OpenOrderExists { .. } => (StatusCode::CONFLICT, "open_order_exists".to_string()),
            CheckoutError::OrderNotFound => (StatusCode::NOT_FOUND, "order_not_found".to_string()),
            CheckoutError::OrderNotOpen { .. } => (StatusCode::CONFLICT, "order_not_open".to_string()),
            CheckoutError::OrderNotPaid { .. } => (StatusCode::CONFLICT, "order_not_paid".to_string()),
            CheckoutError::NotAnExternalOrder => (StatusCode::CONFLICT, "not_an_external_order".to_string()),
            CheckoutError::TransferTakesOnlyItsConfirmation => {
                (StatusCode::CONFLICT, "transfer_takes_only_its_confirmation".to_string())
            }
            CheckoutError::OrderConflict { .. } => (StatusCode::CONFLICT, "order_conflict".to_string()),
            CheckoutError::PaymentMismatch { .. } => (StatusCode::CONFLICT, "payment_mismatch".to_string()),
            CheckoutError::PaymentIdTooLong { .. } => {
                (StatusCode::UNPROCESSABLE_ENTITY, "payment_id_too_long".to_string())
            }
            CheckoutError::ReferenceReserved { .. } => {
                (StatusCode::UNPROCESSABLE_ENTITY, "reference_reserved".to_string())
            }
            CheckoutError::Unavailable(call) => return ApiError::from(call.clone()),
        };
        ApiError { status, code, message }
    }
}

impl From<CallError> for ApiError {
    fn from(error: CallError) -> ApiError {
        let message = error.to_string();
        let (status, code) = match error {
            CallError::Busy => (StatusCode::SERVICE_UNAVAILABLE, "busy"),
            CallError::NotFound => (StatusCode::NOT_FOUND, "not_found"),
            CallError::NotStored { .. } => (StatusCode::SERVICE_UNAVAILABLE, "not_stored"),
            CallError::StoreUnavailable { .. } => (StatusCode::SERVICE_UNAVAILABLE, "store_unavailable"),
            CallError::Quarantined { .. } => (StatusCode::SERVICE_UNAVAILABLE, "quarantined"),
            CallError::Stopped => (StatusCode::SERVICE_UNAVAILABLE, "stopped"),
            CallError::Corrupt { .. } => (StatusCode::INTERNAL_SERVER_ERROR, "corrupt_state"),
            CallError::NotOwner => (StatusCode::SERVICE_UNAVAILABLE, "moving_between_nodes"),
            CallError::OutcomeUnknown { .. } => (StatusCode::GATEWAY_TIMEOUT, "outcome_unknown"),
        };
        ApiError::new(status, code, message)
    }
}

impl From<PriceError> for ApiError {
    fn from(error: PriceError) -> ApiError {
        let message = error.to_string();
        let (status, code) = match error {
            PriceError::BelowMinimum { .. } => (StatusCode::UNPROCESSABLE_ENTITY, "price_below_minimum"),
            PriceError::RequestNotFound { .. } => (StatusCode::NOT_FOUND, "price_request_not_found"),
            PriceError::RequestClosed { .. } => (StatusCode::CONFLICT, "price_request_closed"),
            PriceError::RequestExpired => (StatusCode::CONFLICT, "price_request_expired"),
            PriceError::PriceChangedSinceRequest => (StatusCode::CONFLICT, "price_changed_since_request"),
            PriceError::RequestIdNotAReference(_) => (StatusCode::BAD_REQUEST, "bad_id"),
            PriceError::Store(error) => {
                tracing::error!(%error, "admin store call failed");
                let message = "the store could not be reached; try again";
                return ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "store_unavailable", message);
            }
            PriceError::Call(error) => return error.into(),
            PriceError::Checkout(error) => return error.into(),
        };
        ApiError::new(status, code, message)
    }
}

impl From<TransferError> for ApiError {
    fn from(error: TransferError) -> ApiError {
        let message = error.to_string();
        let (status, code) = match error {
            TransferError::OrderNotFound(_) => (StatusCode::NOT_FOUND, "order_not_found"),
            TransferError::NotATransferOrder(_) => (StatusCode::CONFLICT, "not_a_transfer_order"),
            TransferError::Charge(_) => (StatusCode::CONFLICT, "charge_in_review"),
            TransferError::Payment(PaymentError::Checkout(error)) => return error.into(),
            TransferError::Payment(PaymentError::Store(error)) => {
                tracing::error!(%error, "a transfer could not be recorded");
                let message = "the store could not be reached; try again";
                return ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "store_unavailable", message);
            }
            TransferError::Payment(PaymentError::Provider(_)) => (StatusCode::BAD_GATEWAY, "provider_unavailable"),
        };
        ApiError::new(status, code, message)
    }
}

impl From<ProductError> for ApiError {
    fn from(error: ProductError) -> ApiError {
        let message = error.to_string();
        let (status, code) = match error {
            ProductError::NameMustBeShort { .. } => (StatusCode::UNPROCESSABLE_ENTITY, "bad_name"),
            ProductError::NothingToChange => (StatusCode::BAD_REQUEST, "nothing_to_change"),
            ProductError::Exists { .. } => (StatusCode::CONFLICT, "product_exists"),
            ProductError::NotStored(_) => (StatusCode::SERVICE_UNAVAILABLE, "not_stored"),
            ProductError::Price(error) => return error.into(),
            ProductError::Call(error) => return error.into(),
            ProductError::Checkout(error) => return error.into(),
        };
        ApiError::new(status, code, message)
    }
}

fn product_status(rule: &ProductRejection) -> StatusCode {
    match rule {
        ProductRejection::ExceedsAvailable { .. } | ProductRejection::ProductInactive => StatusCode::CONFLICT,
        ProductRejection::ReservationNotFound => StatusCode::NOT_FOUND,
        ProductRejection::ReservationExpired
        | ProductRejection::ReservationReleased { .. }
        | ProductRejection::AlreadyCommitted
        | ProductRejection::ExistsWithDifferentQuantity { .. }
        | ProductRejection::ExistsWithDifferentContent
        | ProductRejection::DuplicateItem { .. } => StatusCode::CONFLICT,
        ProductRejection::QuantityMustNotBeZero
        | ProductRejection::QuantityExceedsOrderLimit { .. }
        | ProductRejection::TimeToLiveMustBePositive
        | ProductRejection::TotalExceedsMoneyLimit
        | ProductRejection::RestockMustNotBeEmpty
        | ProductRejection::RestockKindMismatch { .. }
        | ProductRejection::PriceMustNotBeZero
        | ProductRejection::NameMustBeShort { .. }
        | ProductRejection::MoveMustNotBeEmpty
        | ProductRejection::MoveBetweenUnrelatedProducts
        | ProductRejection::MoveKindMismatch { .. } => StatusCode::UNPROCESSABLE_ENTITY,
    }
}

fn wallet_status(rule: &WalletRejection) -> StatusCode {
    match rule {
        WalletRejection::InsufficientBalance { .. } => StatusCode::PAYMENT_REQUIRED,
        WalletRejection::OriginalNotFound => StatusCode::NOT_FOUND,
        WalletRejection::ExistsWithDifferentContent | WalletRejection::AlreadyRefunded => StatusCode::CONFLICT,
        WalletRejection::AmountMustNotBeZero
        | WalletRejection::ReasonRequired
        | WalletRejection::BalanceLimitExceeded => StatusCode::UNPROCESSABLE_ENTITY,
    }
}

pub fn json_error(error: actix_web::error::JsonPayloadError, _: &HttpRequest) -> actix_web::Error {
    use actix_web::error::JsonPayloadError;
    let api = match &error {
        JsonPayloadError::OverflowKnownLength { .. } | JsonPayloadError::Overflow { .. } => {
            ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "body_too_large", error.to_string())
        }
        JsonPayloadError::ContentType => {
            ApiError::new(StatusCode::UNSUPPORTED_MEDIA_TYPE, "content_type", "send application/json")
        }
        _ => ApiError::bad_request("bad_json", error.to_string()),
    };
    api.into()
}

pub fn path_error(error: actix_web::error::PathError, _: &HttpRequest) -> actix_web::Error {
    ApiError::bad_request("bad_path", error.to_string()).into()
}

pub async fn not_found() -> HttpResponse {
    ApiError::new(StatusCode::NOT_FOUND, "not_found", "no such endpoint").error_response()
}
