//! `/ops/actors`: every active actor's mailbox depth, capacity, messages handled, rate and p99
//! handling time, deepest (or busiest, `?sort=rate`) first; the journal's figures, and each lane's (`engine.lanes`).
//! `/ops/actors/{kind}/{id}`: one actor's state (never an item's contents). `/ops/gateway`: the
//! providers' modes, the purchase rate limit's counts, and the gateway's actors (conversations, outbox
//! sender, QRIS sweep). `/ops/shop`: sales and refusals so far. `/ops`: a page showing all this
//! live, with charts of the last minutes.

use std::sync::atomic::Ordering;
use std::time::Duration;

use actix_web::http::StatusCode;
use actix_web::{get, web, HttpResponse, Scope};
use serde::Deserialize;
use serde_json::json;
use warung_actors::domain::{CustomerId, ProductCode};
use warung_actors::runtime::CallError;

use super::ApiError;
use crate::cluster::membership;
use crate::engine::Engine;
use crate::flows::service::Gateway;
use crate::records::{Lanes, Supervisor};

/// The live ops page.
static OPS_PAGE: super::pages::Page = super::pages::Page::new(include_str!("ops_page.html"));

/// Actors listed at most in one answer; the deepest mailboxes come first.
const OPS_ACTORS_LISTED_MAX: usize = 1_000;

pub fn scope() -> Scope {
    web::scope("/ops")
        .service(page)
        .service(actors)
        .service(one_actor)
        .service(gateway_view)
        .service(cluster_view)
        .service(shop_view)
}

#[get("")]
async fn page() -> HttpResponse {
    OPS_PAGE.respond()
}

/// Events shown by `/ops/cluster`.
const OPS_CLUSTER_EVENTS_LISTED_MAX: i64 = 50;

/// The cluster as the tables show it: nodes with their heartbeat age and shard count, this node's
/// shards, the unowned ones, and the latest joins, takeovers, acquisitions and releases.
#[get("/cluster")]
async fn cluster_view(engine: web::Data<Engine>) -> Result<HttpResponse, ApiError> {
    let Some(joined) = &engine.cluster else {
        return Ok(HttpResponse::Ok().json(json!({ "enabled": false, "node": null })));
    };
    let pool = joined.node.pool();
    let unavailable = |e: crate::cluster::MembershipError| {
        ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "cluster_unavailable", e.to_string())
    };
    let nodes = membership::nodes(pool, Duration::ZERO).await.map_err(unavailable)?;
    let unowned = membership::unowned(pool).await.map_err(unavailable)?;
    let events = membership::recent_events(pool, OPS_CLUSTER_EVENTS_LISTED_MAX).await.map_err(unavailable)?;
    let shard_map = membership::shard_map(pool).await.map_err(unavailable)?;
    let me = joined.node.id();
    Ok(HttpResponse::Ok().json(json!({
        "enabled": true,
        "node": me.node,
        "incarnation": me.incarnation,
        "nodes": nodes,
        "shards_owned": joined.node.owned().count(),
        "shards_unowned": unowned,
        "shard_map": shard_map,
        "events": events,
    })))
}

#[derive(Deserialize)]
struct Listing {
    /// `depth` (the default) or `rate`.
    #[serde(default)]
    sort: Option<String>,
    #[serde(default)]
    limit: Option<usize>,
}

#[get("/actors")]
async fn actors(
    engine: web::Data<Engine>,
    gateway: web::Data<Gateway>,
    listing: web::Query<Listing>,
) -> Result<HttpResponse, ApiError> {
    let sup = &engine.lanes;
    let mut actors = sup.actors();
    actors.sort_by_key(|actor| std::cmp::Reverse(actor.mailbox_depth));
    match listing.sort.as_deref() {
        None | Some("depth") => {}
        Some("rate") => actors.sort_by(|a, b| b.messages_per_s.total_cmp(&a.messages_per_s)),
        Some(other) => {
            return Err(ApiError::bad_request("bad_sort", format!("sort by depth or rate, not {other:?}")));
        }
    }
    actors.truncate(listing.limit.unwrap_or(OPS_ACTORS_LISTED_MAX).min(OPS_ACTORS_LISTED_MAX));
    let journal = sup.journal_stats();
    let counters = sup.counters();
    Ok(HttpResponse::Ok().json(json!({
        "actors": actors,
        "active": {
            "products": sup.active_products(),
            "wallets": sup.active_wallets(),
            "conversations": gateway.inbox.report().active,
        },
        "lifecycle": {
            "activated": counters.activated.load(Ordering::Relaxed),
            "passivated": counters.passivated.load(Ordering::Relaxed),
            "restarted": sup.restarts(),
            "reloaded_after_failed_commit": counters.reloaded_after_failed_commit.load(Ordering::Relaxed),
        },
        "lanes": lanes(sup),
        "journal": {
            "queued_submissions": sup.journal_queued(),
            "batches_committed": journal.batches_committed.load(Ordering::Relaxed),
            "batches_failed": journal.batches_failed.load(Ordering::Relaxed),
            "events_committed": journal.events_committed.load(Ordering::Relaxed),
            "last_batch_events": journal.last_batch_events.load(Ordering::Relaxed),
            "last_commit_micros": journal.last_commit_micros.load(Ordering::Relaxed),
            "projection": engine.store.projection().map(|p| {
                let lag = p.lag();
                json!({
                    "lag_events": lag.events,
                    "lag_batches": lag.batches,
                    "lag_ms": lag.ms,
                    "lag_events_max": p.limits().lag_events_max,
                    "lag_ms_max": p.limits().lag_ms_max,
                    "defer_ms": p.limits().defer_ms,
                    "acknowledged_batches": lag.appended_seq,
                    "projected_batches": lag.projected_seq,
                    "failures": p.failures(),
                })
            }),
        },
    })))
}

/// What the shop has sold and refused since this process started (the counters `/metrics`
/// exports), for the ops page to chart as rates.
#[get("/shop")]
async fn shop_view(engine: web::Data<Engine>) -> HttpResponse {
    let counters = engine.store.counters();
    let refusals = counters.refusals();
    HttpResponse::Ok().json(json!({
        "sales": counters.sales.load(Ordering::Relaxed),
        "units_sold": counters.units_sold.load(Ordering::Relaxed),
        "revenue": crate::store::counters::rupiah_text(counters.revenue_sen()),
        "refusals": refusals.iter().map(|(_, n)| n).sum::<u64>(),
        "refusals_by_reason": refusals.iter().map(|(r, n)| (r.to_string(), *n)).collect::<std::collections::BTreeMap<_, _>>(),
        "top_ups": counters.top_ups.load(Ordering::Relaxed),
        "qris": {
            "opened": counters.qris_opened.load(Ordering::Relaxed),
            "paid": counters.qris_paid.load(Ordering::Relaxed),
            "expired": counters.qris_expired.load(Ordering::Relaxed),
        },
    }))
}

#[get("/gateway")]
async fn gateway_view(engine: web::Data<Engine>, gateway: web::Data<Gateway>) -> HttpResponse {
    let limiter = &gateway.limiter;
    HttpResponse::Ok().json(json!({
        "whatsapp": format!("{:?}", gateway.whatsapp.mode).to_lowercase(),
        "midtrans": format!("{:?}", gateway.midtrans.mode).to_lowercase(),
        "purchase_rate_limit": {
            "per_minute": engine.settings.shop.purchases_per_minute,
            "store": if limiter.shared() { "redis" } else { "in_process" },
            "allowed": limiter.counters.allowed.load(Ordering::Relaxed),
            "limited": limiter.counters.limited.load(Ordering::Relaxed),
            "failed_open": limiter.counters.failed_open.load(Ordering::Relaxed),
        },
        // The gateway's actors: one per customer being answered, the outbox sender, the QRIS sweep.
        "conversations": gateway.inbox.report(),
        "outbox_sender": gateway.outbox.report(),
        "qris_sweep": gateway.sweep.report(),
    }))
}

/// One actor's state. A product shows its counts and price, never its items; a wallet its
/// balance. Asking activates a passivated actor of a known product or customer, never one for an
/// id the store does not know.
#[get("/actors/{kind}/{id}")]
async fn one_actor(engine: web::Data<Engine>, path: web::Path<(String, String)>) -> Result<HttpResponse, ApiError> {
    let (kind, id) = path.into_inner();
    let sup = &engine.lanes;
    let not_found = || ApiError::new(StatusCode::NOT_FOUND, "actor_not_found", "no such actor");
    let unavailable = |e: CallError| ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "unavailable", e.to_string());
    let report = |kind: &str, shown: &str| sup.actors().into_iter().find(|r| r.kind == kind && r.id == shown);
    match kind.as_str() {
        "product" => {
            let code = ProductCode::parse(&id).map_err(|_| not_found())?;
            let s = engine.checkout.actors().product_snapshot(&code).await.map_err(|e| match e {
                CallError::NotFound => not_found(),
                other => unavailable(other),
            })?;
            Ok(HttpResponse::Ok().json(json!({
                "kind": "product", "id": code.as_str(), "actor": report("product", code.as_str()),
                "state": {"name": s.name, "price": s.price.amount().to_string(), "active": s.active,
                          "available": s.available, "reserved": s.reserved, "sold": s.sold, "removed": s.removed,
                          "received": s.received, "open_reservations": s.open_reservations, "next_expiry_ms": s.next_expiry},
            })))
        }
        "wallet" => {
            let customer = CustomerId::parse(&id).map_err(|_| not_found())?;
            let balance = engine.checkout.known_balance(&customer).await.map_err(unavailable)?.ok_or_else(not_found)?;
            Ok(HttpResponse::Ok().json(json!({
                "kind": "wallet", "id": customer.masked().to_string(), "actor": report("wallet", &customer.masked().to_string()),
                "state": {"balance": balance.balance.amount().to_string(),
                          "available": balance.available.amount().to_string()},
            })))
        }
        _ => Err(not_found()),
    }
}

/// Each lane's own figures (`engine.lanes`), so an uneven spread shows: its resident actors, its
/// journal's queue and commits.
fn lanes(lanes: &Lanes) -> Vec<serde_json::Value> {
    let lane = |(index, lane): (usize, &Supervisor)| {
        let journal = lane.journal();
        json!({
            "lane": index,
            "products": lane.active_products(),
            "wallets": lane.active_wallets(),
            "queued_submissions": journal.queued(),
            "batches_committed": journal.stats().batches_committed.load(Ordering::Relaxed),
            "events_committed": journal.stats().events_committed.load(Ordering::Relaxed),
        })
    };
    lanes.all().iter().enumerate().map(lane).collect()
}
