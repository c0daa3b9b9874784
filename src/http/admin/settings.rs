//! The shop's settings (name, messages, limits, guard rails) and the audit trail of admin
//! changes. A settings change is validated whole, stored with one audit row per changed key in
//! one transaction, and only then applied.

use std::collections::BTreeMap;

use actix_web::{get, put, web, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa::openapi::schema::{ObjectBuilder, Schema, SchemaType, Type};
use utoipa::openapi::RefOr;
use utoipa::{IntoParams, PartialSchema, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;

use super::schema::{self, Guarded, JsonRefused, STORE_DOWN};
use super::{store_down, AdminName};
use crate::checkout::AuditRow;
use crate::engine::Engine;
use crate::flows::service::Gateway;
use crate::http::errors::ApiError;
use crate::shop::{SettingError, ShopValues, SHOP_KEYS};

pub fn configure(config: &mut ServiceConfig) {
    config.service(get_settings).service(put_settings).service(audit_trail);
}

/// The shop's settings in force.
#[derive(Serialize, ToSchema)]
struct Settings {
    shop_name: String,
    /// Shown under the greeting of the menu; empty: nothing.
    welcome_message: String,
    purchases_per_minute: u32,
    #[schema(value_type = schema::Money)]
    price_minimum: warung_actors::domain::Money,
    price_change_confirm_percent: u32,
    price_confirm_window_secs: u64,
    refund_watch_percent: u32,
    /// WhatsApp numbers (comma-separated) that run the shop from the chat and get its alerts.
    #[schema(example = "6281234567890,6289876543210")]
    admin_numbers: String,
    /// Units left at or below which a product raises a low-stock alert.
    stock_alert_threshold: u32,
    /// The hour (0 to 23, WIB) of the daily summary.
    daily_summary_hour: u8,
}

impl From<ShopValues> for Settings {
    fn from(values: ShopValues) -> Settings {
        let ShopValues {
            shop_name,
            welcome_message,
            purchases_per_minute,
            price_minimum,
            price_change_confirm_percent,
            price_confirm_window_secs,
            refund_watch_percent,
            admin_numbers,
            stock_alert_threshold,
            daily_summary_hour,
        } = values;
        Settings {
            shop_name,
            welcome_message,
            purchases_per_minute,
            price_minimum,
            price_change_confirm_percent,
            price_confirm_window_secs,
            refund_watch_percent,
            admin_numbers: admin_numbers.iter().map(|n| n.as_str()).collect::<Vec<_>>().join(","),
            stock_alert_threshold,
            daily_summary_hour,
        }
    }
}

/// The shop's settings in force.
#[utoipa::path(tag = "settings", responses((status = 200, body = Settings, description = "the settings"), Guarded))]
#[get("/settings")]
async fn get_settings(engine: web::Data<Engine>) -> HttpResponse {
    HttpResponse::Ok().json(Settings::from(engine.shop.values()))
}

/// Settings to change: keys of `SHOP_KEYS` to their new values, as text or numbers. Each value
/// is checked by `ShopValues::set`; an unknown key is refused by name rather than by the parser.
#[derive(Deserialize)]
#[serde(transparent)]
struct SettingsChange(BTreeMap<String, serde_json::Value>);

impl PartialSchema for SettingsChange {
    fn schema() -> RefOr<Schema> {
        let value = ObjectBuilder::new().schema_type(SchemaType::Array(vec![Type::String, Type::Number]));
        let key = ObjectBuilder::new().schema_type(Type::String).enum_values(Some(SHOP_KEYS));
        ObjectBuilder::new()
            .schema_type(Type::Object)
            .min_properties(Some(1))
            .property_names(Some(key))
            .additional_properties(Some(value))
            .examples([serde_json::json!({"shop_name": "Toko Budi", "purchases_per_minute": 5})])
            .into()
    }
}

impl ToSchema for SettingsChange {}

#[derive(Serialize, ToSchema)]
struct SettingsChanged {
    settings: Settings,
    /// The keys whose value changed; the others were already so.
    changed: Vec<String>,
}

/// Change settings; every change is audited.
///
/// The change is validated whole, stored with one audit row per changed key in one
/// transaction, and only then applied.
#[utoipa::path(tag = "settings", params(AdminName), responses(
    (status = 200, body = SettingsChanged, description = "stored, audited and in force"),
    (status = 400, body = ApiError,
        description = "bad_json, bad_admin_name, nothing_to_change, unknown_setting or bad_setting"),
    (status = 503, body = ApiError, description = STORE_DOWN),
    Guarded, JsonRefused,
))]
#[put("/settings")]
async fn put_settings(
    engine: web::Data<Engine>,
    gateway: web::Data<Gateway>,
    admin: AdminName,
    body: web::Json<SettingsChange>,
) -> Result<HttpResponse, ApiError> {
    let body = &body.0 .0;
    if body.is_empty() {
        return Err(ApiError::bad_request("nothing_to_change", "give at least one setting"));
    }
    let before = engine.shop.values();
    let mut after = before.clone();
    let now = engine.lanes.clock().now();
    let (mut values, mut audit) = (Vec::new(), Vec::new());
    for (key, value) in body.iter() {
        let text = match value {
            serde_json::Value::String(s) => s.clone(),
            serde_json::Value::Number(n) => n.to_string(),
            _ => return Err(ApiError::bad_request("bad_setting", format!("{key}: give a string or a number"))),
        };
        after.set(key, &text).map_err(|error| match error {
            SettingError::UnknownKey(_) => ApiError::bad_request("unknown_setting", error.to_string()),
            SettingError::BadValue { .. } => ApiError::bad_request("bad_setting", error.to_string()),
        })?;
        let (old, new) = (before.get(key).unwrap_or_default(), after.get(key).unwrap_or_default());
        if old != new {
            values.push((key.clone(), new.clone()));
            audit.push(AuditRow {
                admin: admin.0.clone(),
                action: "set_setting".into(),
                subject: format!("setting:{key}"),
                before: old,
                after: new,
                reason: String::new(),
                at: now,
            });
        }
    }
    if !values.is_empty() {
        engine.store.put_settings(&values, &audit).await.map_err(store_down)?;
        gateway.limiter.set_per_minute(after.purchases_per_minute);
        engine.shop.replace(after.clone());
    }
    let changed = values.into_iter().map(|(key, _)| key).collect();
    Ok(HttpResponse::Ok().json(SettingsChanged { settings: after.into(), changed }))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
struct AuditQuery {
    /// A product code, a customer id, or `setting:<key>`.
    subject: Option<String>,
    /// 100 when absent.
    #[param(schema_with = schema::list_limit)]
    limit: Option<i64>,
}

/// One admin change, as the audit trail keeps it.
#[derive(Serialize, ToSchema)]
struct AuditEntry {
    admin: String,
    action: String,
    subject: String,
    before: String,
    after: String,
    reason: String,
    at_ms: i64,
}

impl From<AuditRow> for AuditEntry {
    fn from(AuditRow { admin, action, subject, before, after, reason, at }: AuditRow) -> AuditEntry {
        AuditEntry { admin, action, subject, before, after, reason, at_ms: at }
    }
}

#[derive(Serialize, ToSchema)]
struct AuditTrail {
    /// Newest first.
    audit: Vec<AuditEntry>,
}

/// Admin changes of prices, names, roles and settings.
///
/// Stock changes are in each product's movements, money in each customer's ledger.
#[utoipa::path(tag = "settings", params(AuditQuery), responses(
    (status = 200, body = AuditTrail, description = "the latest changes"),
    (status = 400, body = ApiError, description = "bad_query"),
    (status = 503, body = ApiError, description = STORE_DOWN),
    Guarded,
))]
#[get("/audit")]
async fn audit_trail(engine: web::Data<Engine>, query: web::Query<AuditQuery>) -> Result<HttpResponse, ApiError> {
    let rows =
        engine.store.audit_trail(query.subject.as_deref(), query.limit.unwrap_or(100)).await.map_err(store_down)?;
    Ok(HttpResponse::Ok().json(AuditTrail { audit: rows.into_iter().map(AuditEntry::from).collect() }))
}
