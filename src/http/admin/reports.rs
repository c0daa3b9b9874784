//! What the owner looks at first (`/reports/overview`: sales per WIB day, best sellers, stock,
//! what waits) and the bookkeeping exports (`/exports/orders.csv`, `/exports/ledger.csv`, a range
//! of WIB days, streamed page by page so a long range never sits whole in memory).

use actix_web::{get, web, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;
use warung_actors::journal::StockKind;

use super::schema::{self, Guarded, STORE_DOWN};
use super::store_down;
use crate::engine::Engine;
use crate::flows::owner::report::{is_flagged, Sales, SalesReport, OVERVIEW_DAYS_MAX};
use crate::http::errors::ApiError;
use crate::infra::wib;

mod csv;

pub fn configure(config: &mut ServiceConfig) {
    config.service(overview).service(orders_csv).service(ledger_csv);
}

/// Days an overview covers when not asked.
const OVERVIEW_DAYS_DEFAULT: i64 = 30;

/// Days one export may cover.
pub const EXPORT_DAYS_MAX: i64 = 366;

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
struct OverviewQuery {
    /// Days of the daily series, today (WIB) included: 1 to 90, 30 when absent.
    #[param(minimum = 1, maximum = 90)]
    days: Option<i64>,
}

#[derive(Serialize, ToSchema)]
struct SalesView {
    orders: i64,
    units: i64,
    #[schema(value_type = schema::Money)]
    revenue: String,
}

impl From<Sales> for SalesView {
    fn from(Sales { orders, units, revenue }: Sales) -> SalesView {
        SalesView { orders, units, revenue: revenue.round_dp(2).to_string() }
    }
}

#[derive(Serialize, ToSchema)]
struct DayView {
    /// A WIB date, `YYYY-MM-DD`.
    date: String,
    orders: i64,
    units: i64,
    #[schema(value_type = schema::Money)]
    revenue: String,
}

#[derive(Serialize, ToSchema)]
struct Totals {
    today: SalesView,
    last_7_days: SalesView,
    last_30_days: SalesView,
}

#[derive(Serialize, ToSchema)]
struct BestSellerView {
    #[schema(value_type = schema::ProductCode)]
    code: String,
    name: String,
    units: i64,
    #[schema(value_type = schema::Money)]
    revenue: String,
}

#[derive(Serialize, ToSchema)]
struct StockView {
    #[schema(value_type = schema::ProductCode)]
    code: String,
    name: String,
    active: bool,
    /// Stock is a count, not deliverable items.
    counted: bool,
    available: i64,
    reserved: i64,
    sold: i64,
    /// On sale and at or below the low-stock threshold.
    low: bool,
}

/// What an owner looks at first.
#[derive(Serialize, ToSchema)]
struct Overview {
    /// Today, a WIB date.
    today: String,
    /// One entry per day, oldest first, the last is today; days without sales are zeros.
    days: Vec<DayView>,
    totals: Totals,
    /// The five best sellers of the last 30 days, by units.
    best_sellers: Vec<BestSellerView>,
    stock: Vec<StockView>,
    awaiting_payment: i64,
    in_review: i64,
    /// Customers the refund watch flags (the list: `/refund-watch`).
    refund_watch: i64,
}

/// Sales per day, best sellers, stock and what waits.
#[utoipa::path(tag = "reports", params(OverviewQuery), responses(
    (status = 200, body = Overview, description = "the overview"),
    (status = 400, body = ApiError, description = "bad_query or bad_days"),
    (status = 503, body = ApiError, description = STORE_DOWN),
    Guarded,
))]
#[get("/reports/overview")]
async fn overview(engine: web::Data<Engine>, query: web::Query<OverviewQuery>) -> Result<HttpResponse, ApiError> {
    let days = query.days.unwrap_or(OVERVIEW_DAYS_DEFAULT);
    if !(1..=OVERVIEW_DAYS_MAX).contains(&days) {
        return Err(ApiError::bad_request("bad_days", format!("days: 1 to {OVERVIEW_DAYS_MAX}")));
    }
    let today = wib::day_of(engine.lanes.clock().now());
    let covered = days.max(OVERVIEW_DAYS_DEFAULT);
    let from = wib::day_start(today - covered + 1);
    let groups = engine.store.sales(from, wib::day_start(today + 1)).await.map_err(store_down)?;
    let month = SalesReport::of(&groups, today, OVERVIEW_DAYS_DEFAULT);
    let series = SalesReport::of(&groups, today, days);
    let waiting = engine.store.waiting().await.map_err(store_down)?;
    let shop = engine.shop.values();
    let flagged = engine.store.refund_counts(1).await.map_err(store_down)?;
    let refund_watch = flagged.iter().filter(|line| is_flagged(line, shop.refund_watch_percent)).count() as i64;
    let mut stock = Vec::new();
    let mut names = std::collections::HashMap::new();
    for code in engine.catalog.codes() {
        let Ok(s) = engine.catalog.snapshot(&code).await else { continue };
        names.insert(s.code.clone(), s.name.clone());
        stock.push(StockView {
            low: s.active && s.available <= i64::from(shop.stock_alert_threshold),
            code: s.code.to_string(),
            name: s.name,
            active: s.active,
            counted: s.kind == StockKind::Counted,
            available: s.available,
            reserved: s.reserved,
            sold: s.sold,
        });
    }
    let best_sellers = month
        .best_sellers
        .iter()
        .map(|b| BestSellerView {
            code: b.product.to_string(),
            name: names.get(&b.product).cloned().unwrap_or_default(),
            units: b.sales.units,
            revenue: b.sales.revenue.round_dp(2).to_string(),
        })
        .collect();
    Ok(HttpResponse::Ok().json(Overview {
        today: wib::date_text(today),
        days: series
            .days
            .iter()
            .map(|(day, s)| DayView {
                date: wib::date_text(*day),
                orders: s.orders,
                units: s.units,
                revenue: s.revenue.round_dp(2).to_string(),
            })
            .collect(),
        totals: Totals {
            today: month.today().into(),
            last_7_days: month.last(7).into(),
            last_30_days: month.last(30).into(),
        },
        best_sellers,
        stock,
        awaiting_payment: waiting.awaiting_payment,
        in_review: waiting.in_review,
        refund_watch,
    }))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
struct Range {
    /// The first WIB day, `YYYY-MM-DD`; 30 days before `to` when absent.
    #[param(value_type = Option<String>, format = Date)]
    from: Option<String>,
    /// The last WIB day, included; today when absent.
    #[param(value_type = Option<String>, format = Date)]
    to: Option<String>,
}

/// The range as `[from, to)` in Unix ms, and its name for the file.
fn range(engine: &Engine, range: &Range) -> Result<(i64, i64, String), ApiError> {
    let day = |field: &str, text: &str| {
        wib::parse_date(text).map_err(|e| ApiError::bad_request(&format!("bad_{field}"), format!("{field}: {e}")))
    };
    let to = match &range.to {
        Some(text) => day("to", text)?,
        None => wib::day_of(engine.lanes.clock().now()),
    };
    let from = match &range.from {
        Some(text) => day("from", text)?,
        None => to - 29,
    };
    if from > to {
        return Err(ApiError::bad_request("bad_range", "from is after to"));
    }
    if to - from + 1 > EXPORT_DAYS_MAX {
        return Err(ApiError::bad_request("bad_range", format!("one export covers at most {EXPORT_DAYS_MAX} days")));
    }
    Ok((wib::day_start(from), wib::day_start(to + 1), format!("{}_{}", wib::date_text(from), wib::date_text(to))))
}

/// Orders created in a range of WIB days, as CSV, oldest first.
#[utoipa::path(tag = "reports", params(Range), responses(
    (status = 200, content_type = "text/csv", body = String,
        description = "order_id, created_wib, customer, product, quantity, unit_price, total, method, state"),
    (status = 400, body = ApiError, description = "bad_query, bad_from, bad_to or bad_range"),
    (status = 503, body = ApiError, description = STORE_DOWN),
    Guarded,
))]
#[get("/exports/orders.csv")]
async fn orders_csv(engine: web::Data<Engine>, query: web::Query<Range>) -> Result<HttpResponse, ApiError> {
    let (from, to, name) = range(&engine, &query)?;
    // The first page is read before answering, so a dead store is a 503, not a cut file.
    let first = engine.store.orders_page(from, to, None).await.map_err(store_down)?;
    Ok(csv::respond(&format!("pesanan-{name}.csv"), csv::orders(engine.store.clone(), from, to, first)))
}

/// Ledger entries (every change of a balance) made in a range of WIB days, as CSV.
#[utoipa::path(tag = "reports", params(Range), responses(
    (status = 200, content_type = "text/csv", body = String,
        description = "at_wib, customer, kind, amount, balance_after, reference, reason, actor"),
    (status = 400, body = ApiError, description = "bad_query, bad_from, bad_to or bad_range"),
    (status = 503, body = ApiError, description = STORE_DOWN),
    Guarded,
))]
#[get("/exports/ledger.csv")]
async fn ledger_csv(engine: web::Data<Engine>, query: web::Query<Range>) -> Result<HttpResponse, ApiError> {
    let (from, to, name) = range(&engine, &query)?;
    let first = engine.store.ledger_page(from, to, 0).await.map_err(store_down)?;
    Ok(csv::respond(&format!("buku-saldo-{name}.csv"), csv::ledger(engine.store.clone(), from, to, first)))
}
