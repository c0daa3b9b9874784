//! The shop's families: what it sold and refused (counters, for rates), the outbox's backlog,
//! the store's size, and the scheduled backups.

use std::sync::atomic::Ordering;

use super::Exposition;
use crate::backup::schedule::BACKUPS;
use crate::store::counters::{rupiah_text, ShopCounters};
use crate::store::{OutboxStatus, StoreCounts};

pub(super) fn sales(out: &mut Exposition, counters: &ShopCounters) {
    for (name, help, value) in [
        (
            "warung_sales_total",
            "Orders paid (saldo or external), counted when committed.",
            counters.sales.load(Ordering::Relaxed),
        ),
        ("warung_units_sold_total", "Units delivered by paid orders.", counters.units_sold.load(Ordering::Relaxed)),
        ("warung_top_ups_total", "Wallet top-ups credited.", counters.top_ups.load(Ordering::Relaxed)),
    ] {
        out.family(name, "counter", help);
        out.sample(name, &[], value);
    }
    out.family("warung_revenue_rupiah_total", "counter", "Rupiah of paid orders.");
    out.sample("warung_revenue_rupiah_total", &[], rupiah_text(counters.revenue_sen()));
    out.family("warung_top_up_rupiah_total", "counter", "Rupiah credited by top-ups.");
    out.sample("warung_top_up_rupiah_total", &[], rupiah_text(counters.top_up_sen()));
    out.family(
        "warung_orders_moved_total",
        "counter",
        "Orders that moved into a state (created, paid, expired...), by state.",
    );
    for (state, count) in counters.orders_into() {
        out.sample("warung_orders_moved_total", &[("state", state.as_str())], count);
    }
    out.family("warung_purchase_refusals_total", "counter", "Purchases refused, by the rule that refused them.");
    let mut refusals = counters.refusals();
    // Known from the start, so a rate exists before the first refusal.
    for reason in ["sold_out", "insufficient_balance"] {
        if !refusals.iter().any(|(r, _)| *r == reason) {
            refusals.push((reason, 0));
        }
    }
    for (reason, count) in refusals {
        out.sample("warung_purchase_refusals_total", &[("reason", reason)], count);
    }
    out.family("warung_qris_charges_total", "counter", "QRIS charges, by what happened to them.");
    for (event, counter) in
        [("opened", &counters.qris_opened), ("paid", &counters.qris_paid), ("expired", &counters.qris_expired)]
    {
        out.sample("warung_qris_charges_total", &[("event", event)], counter.load(Ordering::Relaxed));
    }
}

/// What the store was asked for (at most once a second, `StoreReads`).
pub(super) fn store_counts(out: &mut Exposition, counts: Result<StoreCounts, String>) {
    out.family(
        "warung_store_up",
        "gauge",
        "1 when the store answered its latest queries (read at most once a second).",
    );
    out.sample("warung_store_up", &[], u8::from(counts.is_ok()));
    let Ok(counts) = counts else { return };
    out.family(
        "warung_outbox_entries",
        "gauge",
        "Outbox entries not sent yet (pending, sending) or given up (failed).",
    );
    for status in [OutboxStatus::Pending, OutboxStatus::Sending, OutboxStatus::Failed] {
        let count = counts.outbox_unsent_by_status.iter().find(|(s, _)| s == status.as_str()).map_or(0, |(_, n)| *n);
        out.sample("warung_outbox_entries", &[("status", status.as_str())], count);
    }
    out.family(
        "warung_outbox_oldest_pending_timestamp_seconds",
        "gauge",
        "When the oldest unsent message was queued (0: none).",
    );
    out.sample(
        "warung_outbox_oldest_pending_timestamp_seconds",
        &[],
        counts.outbox_oldest_pending_ms.map_or(0.0, |ms| ms as f64 / 1e3),
    );
    if let Some(bytes) = counts.database_bytes {
        out.family(
            "warung_store_size_bytes",
            "gauge",
            "The database's size: the SQLite file with its log, or the Postgres database.",
        );
        out.sample("warung_store_size_bytes", &[], bytes);
    }
    if let Some(free) = counts.disk_free_bytes {
        out.family("warung_store_disk_free_bytes", "gauge", "Free space on the SQLite file's file system.");
        out.sample("warung_store_disk_free_bytes", &[], free);
    }
}

pub(super) fn backups(out: &mut Exposition) {
    out.family("warung_backups_total", "counter", "Scheduled backups, by outcome.");
    out.sample("warung_backups_total", &[("outcome", "ok")], BACKUPS.succeeded.load(Ordering::Relaxed));
    out.sample("warung_backups_total", &[("outcome", "failed")], BACKUPS.failed.load(Ordering::Relaxed));
    out.family(
        "warung_backup_last_success_timestamp_seconds",
        "gauge",
        "When this process last took a backup (0: never).",
    );
    out.sample("warung_backup_last_success_timestamp_seconds", &[], BACKUPS.last_success_unix.load(Ordering::Relaxed));
}
