//! The shop's settings (name, messages, limits, guard rails) and the audit trail of admin
//! changes. A settings change is validated whole, stored with one audit row per changed key in
//! one transaction, and only then applied.

use std::collections::BTreeMap;

use actix_web::{get, put, web, HttpResponse};
use serde::Deserialize;
use serde_json::json;

use super::{store_down, AdminName};
use crate::checkout::AuditRow;
use crate::engine::Engine;
use crate::flows::service::Gateway;
use crate::http::errors::ApiError;
use crate::shop::SettingError;

pub fn configure(config: &mut web::ServiceConfig) {
    config.service(get_settings).service(put_settings).service(audit_trail);
}

#[get("/settings")]
async fn get_settings(engine: web::Data<Engine>) -> HttpResponse {
    HttpResponse::Ok().json(engine.shop.values())
}

/// A JSON object of keys to values (strings or numbers), e.g. `{"shop_name": "Toko Budi"}`.
#[put("/settings")]
async fn put_settings(
    engine: web::Data<Engine>,
    gateway: web::Data<Gateway>,
    admin: AdminName,
    body: web::Json<BTreeMap<String, serde_json::Value>>,
) -> Result<HttpResponse, ApiError> {
    if body.is_empty() {
        return Err(ApiError::bad_request("nothing_to_change", "give at least one setting"));
    }
    let before = engine.shop.values();
    let mut after = before.clone();
    let now = engine.supervisor.clock().now();
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
    Ok(HttpResponse::Ok()
        .json(json!({"settings": after, "changed": values.iter().map(|(k, _)| k).collect::<Vec<_>>()})))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AuditQuery {
    /// A product code, a customer id, or `setting:<key>`.
    subject: Option<String>,
    limit: Option<i64>,
}

/// Admin changes that are neither stock nor money: prices, names, on sale, roles, settings.
/// Stock changes are in each product's inventory movements, money in each customer's ledger.
#[get("/audit")]
async fn audit_trail(engine: web::Data<Engine>, query: web::Query<AuditQuery>) -> Result<HttpResponse, ApiError> {
    let rows =
        engine.store.audit_trail(query.subject.as_deref(), query.limit.unwrap_or(100)).await.map_err(store_down)?;
    let rows: Vec<_> = rows
        .iter()
        .map(|r| {
            json!({"admin": r.admin, "action": r.action, "subject": r.subject, "before": r.before,
                   "after": r.after, "reason": r.reason, "at_ms": r.at})
        })
        .collect();
    Ok(HttpResponse::Ok().json(json!({ "audit": rows })))
}
