//! `GET /metrics` in the Prometheus text format: the actors (messages, handling time, mailbox
//! depth of the deepest, lifecycle), the journal, the database pools, Redis, the gateway
//! (webhooks, provider calls, rate limit), the shop's sales and refusals (`shop`), HTTP requests
//! (`requests`), the process (`process`) and the build. Counters only go up; label sets stay
//! bounded (the deepest mailboxes only, by id; routes by pattern). A scrape reads no table that
//! grows with the shop's history.

mod process;
mod requests;
mod shop;

use std::fmt::Display;
use std::fmt::Write as _;
use std::sync::atomic::Ordering;

use actix_web::{get, web, HttpResponse};
use warung_actors::runtime::{KindTotals, LATENCY_BUCKETS};

use crate::engine::Engine;
use crate::flows::service::Gateway;
use crate::infra::counters::{read, CallCounts, WebhookCounts};

/// Mailboxes listed by actor id: the deepest this many.
pub const METRICS_DEEPEST_MAILBOXES: usize = 20;

/// Upper bounds of the mailbox depth distribution.
const DEPTH_BOUNDS: [i64; 5] = [0, 1, 10, 100, 1_000];

#[derive(Default)]
pub(super) struct Exposition(String);

impl Exposition {
    pub(super) fn family(&mut self, name: &str, kind: &str, help: &str) {
        let _ = writeln!(self.0, "# HELP {name} {help}\n# TYPE {name} {kind}");
    }

    pub(super) fn sample(&mut self, name: &str, labels: &[(&str, &str)], value: impl Display) {
        self.0.push_str(name);
        if !labels.is_empty() {
            let labels: Vec<String> = labels.iter().map(|(k, v)| format!("{k}=\"{}\"", escape(v))).collect();
            let _ = write!(self.0, "{{{}}}", labels.join(","));
        }
        let _ = writeln!(self.0, " {value}");
    }

    /// A family of one sample without labels.
    pub(super) fn single(&mut self, name: &str, kind: &str, help: &str, value: impl Display) {
        self.family(name, kind, help);
        self.sample(name, &[], value);
    }
}

fn escape(value: &str) -> String {
    value.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

#[get("/metrics")]
pub async fn metrics(
    engine: web::Data<Engine>,
    gateway: web::Data<Gateway>,
    reads: web::Data<super::StoreReads>,
    requests: web::Data<super::HttpCounters>,
) -> HttpResponse {
    let mut out = Exposition::default();
    actors(&mut out, &engine);
    journal(&mut out, &engine);
    cluster(&mut out, &engine);
    pools(&mut out, &engine, &gateway);
    gateway_counts(&mut out, &gateway);
    let counts = reads.counts.get(|| async { engine.store.counts().await.map_err(|e| e.to_string()) }).await;
    shop::store_counts(&mut out, counts);
    shop::sales(&mut out, engine.store.counters());
    shop::backups(&mut out);
    requests::families(&mut out, &requests);
    process::families(&mut out, &engine);
    HttpResponse::Ok().content_type("text/plain; version=0.0.4; charset=utf-8").body(out.0)
}

fn actors(out: &mut Exposition, engine: &Engine) {
    let sup = &engine.lanes;
    let counters = sup.counters();
    let kinds: [(&str, &KindTotals); 2] = [("product", &counters.products), ("wallet", &counters.wallets)];
    out.family("warung_actor_messages_handled_total", "counter", "Messages actors handled, by actor kind.");
    for (kind, totals) in kinds {
        out.sample("warung_actor_messages_handled_total", &[("kind", kind)], totals.handled());
    }
    out.family("warung_actor_handling_seconds", "histogram", "Time an actor took to handle one message.");
    for (kind, totals) in kinds {
        let buckets = totals.latency_buckets();
        let mut cumulative = 0;
        for (i, count) in buckets.iter().enumerate().take(LATENCY_BUCKETS - 1) {
            cumulative += count;
            let le = format!("{}", (1u64 << i) as f64 / 1e6);
            out.sample("warung_actor_handling_seconds_bucket", &[("kind", kind), ("le", &le)], cumulative);
        }
        out.sample("warung_actor_handling_seconds_bucket", &[("kind", kind), ("le", "+Inf")], totals.handled());
        out.sample("warung_actor_handling_seconds_sum", &[("kind", kind)], totals.micros_sum() as f64 / 1e6);
        out.sample("warung_actor_handling_seconds_count", &[("kind", kind)], totals.handled());
    }
    out.family("warung_actors_active", "gauge", "Actors resident now, by kind.");
    out.sample("warung_actors_active", &[("kind", "product")], sup.active_products());
    out.sample("warung_actors_active", &[("kind", "wallet")], sup.active_wallets());
    for (name, help, value) in [
        (
            "warung_actors_activated_total",
            "Actors activated (loaded from the store).",
            counters.activated.load(Ordering::Relaxed),
        ),
        (
            "warung_actors_passivated_total",
            "Actors stopped after being idle.",
            counters.passivated.load(Ordering::Relaxed),
        ),
        ("warung_actors_restarted_total", "Actors restarted after a crash.", sup.restarts()),
        (
            "warung_actors_reloaded_after_failed_commit_total",
            "Actors reloaded from the store because a commit of their changes failed.",
            counters.reloaded_after_failed_commit.load(Ordering::Relaxed),
        ),
    ] {
        out.family(name, "counter", help);
        out.sample(name, &[], value);
    }

    let mut reports = sup.actors();
    reports.sort_by_key(|r| std::cmp::Reverse(r.mailbox_depth));
    out.family("warung_mailbox_depth", "gauge", "Messages waiting in the deepest mailboxes, by actor.");
    for report in reports.iter().take(METRICS_DEEPEST_MAILBOXES) {
        out.sample("warung_mailbox_depth", &[("kind", report.kind), ("id", &report.id)], report.mailbox_depth);
    }
    out.family(
        "warung_mailbox_depth_peak",
        "gauge",
        "The deepest each listed mailbox has been since its actor activated: a burst drained between two scrapes.",
    );
    for report in reports.iter().take(METRICS_DEEPEST_MAILBOXES) {
        out.sample("warung_mailbox_depth_peak", &[("kind", report.kind), ("id", &report.id)], report.mailbox_peak);
    }
    out.family(
        "warung_mailbox_depth_actors",
        "gauge",
        "Active actors whose mailbox holds at most `depth_at_most` messages.",
    );
    for bound in DEPTH_BOUNDS {
        let count = reports.iter().filter(|r| r.mailbox_depth <= bound).count();
        out.sample("warung_mailbox_depth_actors", &[("depth_at_most", &bound.to_string())], count);
    }
    out.sample("warung_mailbox_depth_actors", &[("depth_at_most", "any")], reports.len());
}

/// The cluster's families, when this node is one of a cluster.
fn cluster(out: &mut Exposition, engine: &Engine) {
    let Some(joined) = &engine.cluster else { return };
    let remote = &joined.remote_counters;
    out.family("warung_cluster_remote_calls_total", "counter", "Calls to actors on other nodes, by outcome.");
    for (outcome, count) in [
        ("done", &remote.done),
        ("not_owner", &remote.not_owner),
        ("no_responders", &remote.no_responders),
        ("busy", &remote.busy),
        ("timed_out", &remote.timed_out),
        ("failed", &remote.failed),
    ] {
        out.sample("warung_cluster_remote_calls_total", &[("outcome", outcome)], count.load(Ordering::Relaxed));
    }
    let node = joined.node.counters();
    out.family("warung_cluster_shards_owned", "gauge", "Shards this node owns.");
    out.sample("warung_cluster_shards_owned", &[], joined.node.owned().count());
    out.family("warung_cluster_takeovers_total", "counter", "Nodes this node took over after their heartbeat expired.");
    out.sample("warung_cluster_takeovers_total", &[], node.takeovers.load(Ordering::Relaxed));
    out.family("warung_cluster_shards_acquired_total", "counter", "Shards this node acquired.");
    out.sample("warung_cluster_shards_acquired_total", &[], node.acquired.load(Ordering::Relaxed));
    out.family("warung_cluster_shards_handed_off_total", "counter", "Shards this node handed off.");
    out.sample("warung_cluster_shards_handed_off_total", &[], node.handed_off.load(Ordering::Relaxed));
    out.family("warung_cluster_hand_off_seconds_total", "counter", "Time spent handing shards off.");
    out.sample(
        "warung_cluster_hand_off_seconds_total",
        &[],
        node.hand_off_millis_total.load(Ordering::Relaxed) as f64 / 1e3,
    );
    out.family(
        "warung_cluster_heartbeat_failures_total",
        "counter",
        "Upkeep rounds that could not reach the database.",
    );
    out.sample("warung_cluster_heartbeat_failures_total", &[], node.heartbeat_failures.load(Ordering::Relaxed));
    out.family("warung_cluster_fenced", "gauge", "1 once the database refused this node as a writer (it then exits).");
    out.sample("warung_cluster_fenced", &[], u8::from(joined.node.fence().is_tripped()));
}

fn journal(out: &mut Exposition, engine: &Engine) {
    let stats = engine.lanes.journal_stats();
    out.family("warung_journal_batches_total", "counter", "Journal batches, by outcome.");
    out.sample(
        "warung_journal_batches_total",
        &[("outcome", "committed")],
        stats.batches_committed.load(Ordering::Relaxed),
    );
    out.sample("warung_journal_batches_total", &[("outcome", "failed")], stats.batches_failed.load(Ordering::Relaxed));
    out.family("warung_journal_events_committed_total", "counter", "Changes committed by the journal.");
    out.sample("warung_journal_events_committed_total", &[], stats.events_committed.load(Ordering::Relaxed));
    out.family("warung_journal_commit_seconds_total", "counter", "Time spent committing batches.");
    out.sample(
        "warung_journal_commit_seconds_total",
        &[],
        stats.commit_micros_total.load(Ordering::Relaxed) as f64 / 1e6,
    );
    out.family("warung_journal_last_batch_events", "gauge", "Changes in the last committed batch.");
    out.sample("warung_journal_last_batch_events", &[], stats.last_batch_events.load(Ordering::Relaxed));
    out.family("warung_journal_last_commit_seconds", "gauge", "How long the last commit took.");
    out.sample(
        "warung_journal_last_commit_seconds",
        &[],
        stats.last_commit_micros.load(Ordering::Relaxed) as f64 / 1e6,
    );
    out.family("warung_journal_waiting_submissions", "gauge", "Changes waiting for their batch (the persistence lag).");
    out.sample("warung_journal_waiting_submissions", &[], engine.lanes.journal_queued());
    if let Some(projection) = engine.store.projection() {
        let (lag, limits) = (projection.lag(), projection.limits());
        let families = [
            (
                "warung_journal_projection_lag_events",
                "gauge",
                "Changes acknowledged (in the journal's log) and not yet in the tables.",
                lag.events.to_string(),
            ),
            (
                "warung_journal_projection_lag_seconds",
                "gauge",
                "Age of the oldest acknowledged batch not yet in the tables.",
                (lag.ms as f64 / 1e3).to_string(),
            ),
            (
                "warung_journal_projection_lag_events_max",
                "gauge",
                "The lag's bound in changes (database.projection_lag_events_max): past it, sales wait.",
                limits.lag_events_max.to_string(),
            ),
            (
                "warung_journal_projection_lag_seconds_max",
                "gauge",
                "The lag's bound in age (database.projection_lag_ms_max): past it, sales wait.",
                (limits.lag_ms_max as f64 / 1e3).to_string(),
            ),
            (
                "warung_journal_projection_failures_total",
                "counter",
                "Projection transactions that failed and were tried again.",
                projection.failures().to_string(),
            ),
        ];
        for (name, kind, help, value) in families {
            out.single(name, kind, help, value);
        }
    }
}

fn pools(out: &mut Exposition, engine: &Engine, gateway: &Gateway) {
    out.family("warung_db_pool_connections", "gauge", "Database connections, by pool and state.");
    for pool in engine.store.pools() {
        let in_use = (pool.open as usize).saturating_sub(pool.idle);
        out.sample("warung_db_pool_connections", &[("pool", pool.pool), ("state", "in_use")], in_use);
        out.sample("warung_db_pool_connections", &[("pool", pool.pool), ("state", "idle")], pool.idle);
    }
    if let Some(up) = gateway.limiter.redis_up() {
        out.family("warung_redis_up", "gauge", "1 when the last Redis call worked.");
        out.sample("warung_redis_up", &[], u8::from(up));
    }
}

fn gateway_counts(out: &mut Exposition, gateway: &Gateway) {
    let counters = &gateway.counters;
    out.family("warung_webhooks_total", "counter", "Webhook deliveries, by provider and outcome.");
    let webhooks: [(&str, &WebhookCounts); 2] =
        [("whatsapp", &counters.whatsapp_webhooks), ("midtrans", &counters.midtrans_webhooks)];
    for (provider, counts) in webhooks {
        for (outcome, counter) in [
            ("received", &counts.received),
            ("bad_signature", &counts.bad_signature),
            ("bad_payload", &counts.bad_payload),
            ("duplicate", &counts.duplicates),
        ] {
            out.sample("warung_webhooks_total", &[("provider", provider), ("outcome", outcome)], read(counter));
        }
    }
    out.family("warung_provider_calls_total", "counter", "Calls to the providers' APIs, by provider and outcome.");
    let calls: [(&str, &CallCounts); 2] =
        [("whatsapp", &counters.whatsapp_sends), ("midtrans", &counters.midtrans_calls)];
    for (provider, counts) in calls {
        for (outcome, counter) in [
            ("ok", &counts.ok),
            ("unavailable", &counts.unavailable),
            ("throttled", &counts.throttled),
            ("refused", &counts.refused),
        ] {
            out.sample("warung_provider_calls_total", &[("provider", provider), ("outcome", outcome)], read(counter));
        }
    }
    out.family(
        "warung_provider_errors_total",
        "counter",
        "Failed calls to the providers' APIs, by provider and the provider's error code (transient: none given).",
    );
    for (provider, counts) in calls {
        let mut errors = counts.errors();
        // Known from the start, so the series exists before the first failure.
        if !errors.iter().any(|(code, _)| code == "transient") {
            errors.push(("transient".to_string(), 0));
        }
        for (code, count) in errors {
            out.sample("warung_provider_errors_total", &[("provider", provider), ("code", &code)], count);
        }
    }
    let limiter = &gateway.limiter.counters;
    out.family("warung_purchase_rate_limit_total", "counter", "Purchase rate limit checks, by outcome.");
    for (outcome, counter) in
        [("allowed", &limiter.allowed), ("limited", &limiter.limited), ("failed_open", &limiter.failed_open)]
    {
        out.sample("warung_purchase_rate_limit_total", &[("outcome", outcome)], read(counter));
    }
}
