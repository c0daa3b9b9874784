//! `/ops/actors`: every active actor's mailbox depth, capacity, messages handled and p99 handling
//! time, deepest first; and the journal's figures. `/ops/gateway`: the providers' modes and the
//! purchase rate limit's counts (including purchases let through because Redis was down).

use std::sync::atomic::Ordering;

use actix_web::{get, web, HttpResponse, Scope};
use serde_json::json;

use crate::engine::Engine;

/// Actors listed at most in one answer; the deepest mailboxes come first.
const OPS_ACTORS_LISTED_MAX: usize = 1_000;

pub fn scope() -> Scope {
    web::scope("/ops").service(actors).service(gateway)
}

#[get("/actors")]
async fn actors(engine: web::Data<Engine>) -> HttpResponse {
    let sup = &engine.supervisor;
    let mut actors = sup.actors();
    actors.truncate(OPS_ACTORS_LISTED_MAX);
    let journal = sup.journal().stats();
    let counters = sup.counters();
    HttpResponse::Ok().json(json!({
        "actors": actors,
        "active": {"products": sup.active_products(), "wallets": sup.active_wallets()},
        "lifecycle": {
            "activated": counters.activated.load(Ordering::Relaxed),
            "passivated": counters.passivated.load(Ordering::Relaxed),
            "restarted": sup.restarts(),
            "reloaded_after_failed_commit": counters.reloaded_after_failed_commit.load(Ordering::Relaxed),
        },
        "journal": {
            "queued_submissions": sup.journal().queued(),
            "batches_committed": journal.batches_committed.load(Ordering::Relaxed),
            "batches_failed": journal.batches_failed.load(Ordering::Relaxed),
            "events_committed": journal.events_committed.load(Ordering::Relaxed),
            "last_batch_events": journal.last_batch_events.load(Ordering::Relaxed),
            "last_commit_micros": journal.last_commit_micros.load(Ordering::Relaxed),
        },
    }))
}

#[get("/gateway")]
async fn gateway(engine: web::Data<Engine>) -> HttpResponse {
    let limiter = &engine.limiter;
    HttpResponse::Ok().json(json!({
        "whatsapp": format!("{:?}", engine.whatsapp.mode).to_lowercase(),
        "midtrans": format!("{:?}", engine.midtrans.mode).to_lowercase(),
        "purchase_rate_limit": {
            "per_minute": engine.settings.shop.purchases_per_minute,
            "store": if limiter.shared() { "redis" } else { "in_process" },
            "allowed": limiter.counters.allowed.load(Ordering::Relaxed),
            "limited": limiter.counters.limited.load(Ordering::Relaxed),
            "failed_open": limiter.counters.failed_open.load(Ordering::Relaxed),
        },
    }))
}
