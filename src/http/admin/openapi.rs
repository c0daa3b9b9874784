//! The admin API's OpenAPI 3.1 description, served without a token at
//! `/admin/api/openapi.json` (it holds no data). Written by hand beside the routes; a test
//! checks that every route the admin scope serves is described.

use actix_web::{get, HttpResponse};
use serde_json::{json, Value};

#[get("/admin/api/openapi.json")]
pub async fn serve() -> HttpResponse {
    HttpResponse::Ok().json(document())
}

/// Every operation, as `(method, path under /admin/api, summary)`.
pub const OPERATIONS: &[(&str, &str, &str)] = &[
    ("get", "/products", "List products with stock available, reserved and sold"),
    ("post", "/products", "Create a product"),
    ("get", "/products/{code}", "One product's stock, prices and price requests"),
    ("patch", "/products/{code}", "Rename, take off sale or put back on sale"),
    ("post", "/products/{code}/stock", "Add stock: items (one per unit) or a count, once per reference"),
    ("post", "/products/{code}/stock/upload", "Add stock from text, one item per line; duplicates refused"),
    ("put", "/products/{code}/price", "Set a price; a large change waits for confirmation (202)"),
    ("get", "/price-requests/{id}", "One price change request"),
    ("post", "/price-requests/{id}/confirm", "Confirm a pending price change within its window"),
    ("get", "/orders", "List orders, newest first, filtered by state, customer, product and date"),
    ("post", "/orders", "Open an order awaiting an outside payment"),
    ("get", "/orders/{id}", "One order with its payments, stock movements and ledger entries"),
    ("post", "/orders/{id}/payments", "Record a confirmed payment: delivers, or credits the wallet if too late"),
    ("post", "/orders/{id}/cancel", "Cancel an unpaid order"),
    ("post", "/orders/{id}/refund", "Refund a paid order to saldo, with a reason"),
    ("post", "/purchases", "Buy with saldo for a customer"),
    ("get", "/customers", "List customers with balance, role and order counts"),
    ("get", "/customers/{id}", "One customer's balance, role and ledger"),
    ("put", "/customers/{id}/role", "Set a customer's role: member, reseller or admin"),
    ("get", "/refund-watch", "Customers whose refund rate is above the threshold"),
    ("get", "/wallets/{customer}", "A wallet's balance and what a purchase may take"),
    ("post", "/wallets/{customer}/top-ups", "Credit a confirmed top-up, once per payment id"),
    ("post", "/wallets/{customer}/adjustments", "Adjust a balance with a reason (a ledger entry)"),
    ("get", "/settings", "The shop's settings in force"),
    ("put", "/settings", "Change settings; every change is audited"),
    ("get", "/audit", "Admin changes of prices, names, roles and settings"),
];

fn body_schema(method: &str, path: &str) -> Option<Value> {
    let string = json!({"type": "string"});
    let schema = match (method, path) {
        ("post", "/products") => json!({"type": "object", "required": ["code", "name", "price"], "properties": {
            "code": {"type": "string", "pattern": "^[a-z0-9]{1,16}$"}, "name": string, "price": {"type": "string", "example": "15000"},
            "counted": {"type": "boolean", "description": "plain counted stock instead of deliverable items"}}}),
        ("patch", "/products/{code}") => json!({"type": "object", "properties": {
            "name": string, "active": {"type": "boolean"}, "reason": string}}),
        ("post", "/products/{code}/stock") => json!({"type": "object", "required": ["reference"], "properties": {
            "reference": string, "items": {"type": "array", "items": string}, "count": {"type": "integer", "minimum": 1}}}),
        ("post", "/products/{code}/stock/upload") => {
            return Some(json!({"required": true, "content": {"text/plain": {"schema": {"type": "string",
                "description": "one item per line; blank lines ignored"}}}}))
        }
        ("put", "/products/{code}/price") => json!({"type": "object", "required": ["price"], "properties": {
            "price": string, "tier": {"type": "string", "enum": ["member", "reseller"], "default": "member"}, "reason": string}}),
        ("post", "/orders") | ("post", "/purchases") => {
            json!({"type": "object", "required": ["customer", "product"], "properties": {
            "customer": string, "product": string, "quantity": {"type": "integer", "minimum": 1, "default": 1}}})
        }
        ("post", "/orders/{id}/payments") | ("post", "/wallets/{customer}/top-ups") => json!({"type": "object",
            "required": ["payment_id", "amount"], "properties": {"payment_id": string, "amount": string}}),
        ("post", "/orders/{id}/refund") => {
            json!({"type": "object", "required": ["reason"], "properties": {"reason": string}})
        }
        ("put", "/customers/{id}/role") => json!({"type": "object", "required": ["role"], "properties": {
            "role": {"type": "string", "enum": ["member", "reseller", "admin"]}}}),
        ("post", "/wallets/{customer}/adjustments") => {
            json!({"type": "object", "required": ["reference", "delta", "reason"],
            "properties": {"reference": string, "delta": {"type": "string", "example": "-5000"}, "reason": string}})
        }
        ("put", "/settings") => json!({"type": "object", "additionalProperties": {"type": ["string", "number"]},
            "propertyNames": {"enum": crate::shop::SHOP_KEYS}}),
        _ => return None,
    };
    Some(json!({"required": true, "content": {"application/json": {"schema": schema}}}))
}

fn query_parameters(method: &str, path: &str) -> Vec<Value> {
    let q = |name: &str, description: &str| json!({"name": name, "in": "query", "required": false, "schema": {"type": "string"}, "description": description});
    match (method, path) {
        ("get", "/orders") => vec![
            q("state", "pending, awaiting_payment, paid, failed, cancelled, expired, review, refunded"),
            q("customer", "a customer id"),
            q("product", "a product code"),
            q("from", "created at or after: Unix ms or YYYY-MM-DD (UTC)"),
            q("to", "created before: Unix ms or YYYY-MM-DD; the next page's cursor is `next_to`"),
            q("limit", "at most 500"),
        ],
        ("get", "/customers") => vec![q("after", "the previous page's `next_after`"), q("limit", "at most 500")],
        ("get", "/customers/{id}") => vec![q("limit", "ledger entries, at most 500")],
        ("get", "/refund-watch") => {
            vec![q("threshold", "percent; the shop's refund_watch_percent by default"), q("min_orders", "default 1")]
        }
        ("get", "/audit") => {
            vec![q("subject", "a product code, a customer id or setting:<key>"), q("limit", "at most 500")]
        }
        ("post", "/products/{code}/stock/upload") => vec![q("reference", "makes a retried upload add nothing twice")],
        _ => Vec::new(),
    }
}

pub fn document() -> Value {
    let error = json!({"description": "refused; nothing changed", "content": {"application/json": {"schema": {
        "$ref": "#/components/schemas/Error"}}}});
    let mut paths = serde_json::Map::new();
    for (method, path, summary) in OPERATIONS {
        let mut parameters: Vec<Value> = path
            .split('/')
            .filter_map(|s| s.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
            .map(|name| json!({"name": name, "in": "path", "required": true, "schema": {"type": "string"}}))
            .collect();
        parameters.extend(query_parameters(method, path));
        if *method != "get" {
            parameters.push(json!({"name": "X-Admin-Name", "in": "header", "required": false,
                "schema": {"type": "string"}, "description": "who makes the change, for the audit trail (default: admin)"}));
        }
        let mut operation = json!({
            "summary": summary,
            "parameters": parameters,
            "responses": {"200": {"description": "done"}, "400": error, "401": error, "404": error, "409": error,
                          "422": error, "503": error},
        });
        if let Some(body) = body_schema(method, path) {
            operation["requestBody"] = body;
        }
        let entry = paths.entry(path.to_string()).or_insert_with(|| json!({}));
        entry[*method] = operation;
    }
    json!({
        "openapi": "3.1.0",
        "info": {"title": "warung admin API", "version": env!("CARGO_PKG_VERSION"),
                 "description": "Every change of stock, price or money goes through the actors and is recorded with the admin's name."},
        "servers": [{"url": "/admin/api"}],
        "security": [{"bearer": []}],
        "paths": paths,
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer", "description": "WARUNG_ADMIN__TOKEN"}},
            "schemas": {"Error": {"type": "object", "required": ["code", "message"], "properties": {
                "code": {"type": "string"}, "message": {"type": "string"}}}},
        },
    })
}
