//! What raises alerts, looked at every few seconds (`alerts.watch_every_secs`): stock sold out or low, orders gone to
//! review, customers the refund watch flags, the store unreachable, journal commits failing,
//! Midtrans unreachable, a failing scheduled audit; and the daily summary at its hour (WIB).
//! Each check compares with what the last look saw, so a condition that lasts raises one alert,
//! and the alerts' own windows keep a restart from raising it again.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Mutex;
use warung_actors::domain::{CustomerId, OrderId, ProductCode, UnixMs};

use super::{Alert, AlertKind, Alerts, Raised};
use crate::flows::owner::report::is_flagged;
use crate::flows::owner::Desk;
use crate::infra::counters::GatewayCounters;
use crate::infra::wib;
use crate::records::Lanes;

/// How long the store may be unreachable before the admins are told.
pub const STORE_DOWN_ALERT_MS: i64 = 60_000;

/// A failing audit is run once more after this, so a batch committed between its reads is not
/// taken for a broken invariant.
const AUDIT_RECHECK_MS: u64 = 3_000;

/// The first scheduled audit runs this long after start, not during it.
const AUDIT_FIRST_AFTER_SECS: i64 = 10 * 60;

/// Orders in review named one by one in an alert; more are counted.
const REVIEWS_NAMED_MAX: usize = 3;

/// Orders in review read at one look.
const REVIEWS_READ_MAX: i64 = 100;

/// At start, reviews this recent are still news (the last run may have stopped before telling).
const REVIEWS_LOOKBACK_MS: i64 = 3_600_000;

/// Each look reads this far behind the last review it saw: journal batches and nodes commit out
/// of `updated_at` order, so a review may appear with a time just before one already seen.
const REVIEWS_OVERLAP_MS: i64 = 60_000;

/// The refund watch reads every customer's orders, so it looks this seldom.
const REFUND_WATCH_EVERY_MS: i64 = 10 * 60_000;

/// Looks in a row that saw Midtrans calls fail as unavailable, and none succeed, before the admins
/// are told: one failed call (its client retries within it) is not an outage.
const MIDTRANS_FAILING_LOOKS_MIN: u64 = 2;

/// What the watch reads.
pub struct WatchParts {
    pub alerts: Alerts,
    /// Products, the store and the report the summary sends.
    pub desk: Desk,
    /// The journals' counts of failed commits.
    pub lanes: Lanes,
    /// Midtrans calls, by outcome.
    pub counters: Arc<GatewayCounters>,
    /// Hours between scheduled audits; `None`: no schedule.
    pub audit_every_hours: Option<u64>,
    /// How long the store may be unreachable before the admins are told (`STORE_DOWN_ALERT_MS`).
    pub store_down_alert_after_ms: i64,
}

#[derive(Clone)]
pub struct AlertWatch {
    parts: Arc<WatchParts>,
    seen: Arc<Mutex<Seen>>,
}

/// What the last look saw.
struct Seen {
    /// Products alerted as sold out or low, until they are restocked above the threshold.
    stock: HashMap<ProductCode, AlertKind>,
    /// Reviews from here on are new (less the overlap).
    reviews_since: UnixMs,
    /// Reviews already told, with their time, within the overlap.
    reviews_told: HashMap<OrderId, UnixMs>,
    /// Customers the refund watch flagged, told already; and when it last looked.
    flagged: HashSet<CustomerId>,
    refund_watch_at: Option<UnixMs>,
    /// Looks in a row that saw Midtrans calls fail and none succeed.
    midtrans_failing_looks: u64,
    store_down_since: Option<UnixMs>,
    journal_failed: u64,
    midtrans: (u64, u64),
    summary_day: Option<i64>,
    next_audit_at: UnixMs,
}

impl AlertWatch {
    pub fn new(parts: WatchParts) -> AlertWatch {
        let now = parts.alerts.now();
        let stats = parts.lanes.journal_stats();
        let seen = Seen {
            stock: HashMap::new(),
            reviews_since: now - REVIEWS_LOOKBACK_MS,
            reviews_told: HashMap::new(),
            flagged: HashSet::new(),
            refund_watch_at: None,
            midtrans_failing_looks: 0,
            store_down_since: None,
            journal_failed: stats.batches_failed.load(Ordering::Relaxed),
            midtrans: midtrans_calls(&parts.counters),
            summary_day: None,
            next_audit_at: now + AUDIT_FIRST_AFTER_SECS * 1_000,
        };
        AlertWatch { parts: Arc::new(parts), seen: Arc::new(Mutex::new(seen)) }
    }

    /// Looks every `every` (the first time one `every` from now) until the process ends.
    pub fn spawn(&self, every: Duration) {
        let watch = self.clone();
        actix::spawn(async move {
            let mut every = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
            loop {
                every.tick().await;
                watch.look().await;
            }
        });
    }

    /// One look at everything; a check that cannot read the store is tried at the next look.
    pub async fn look(&self) {
        let mut seen = self.seen.lock().await;
        if !self.store_reachable(&mut seen).await {
            return;
        }
        self.journal(&mut seen).await;
        self.midtrans(&mut seen).await;
        self.stock(&mut seen).await;
        self.reviews(&mut seen).await;
        self.refund_watch(&mut seen).await;
        self.summary(&mut seen).await;
        if let Some(hours) = self.parts.audit_every_hours {
            let now = self.parts.alerts.now();
            if now >= seen.next_audit_at {
                seen.next_audit_at = now + hours as i64 * 3_600_000;
                self.audit().await;
            }
        }
    }

    async fn raise(&self, kind: AlertKind, subject: &str, text: String) -> bool {
        match self.parts.alerts.raise(Alert { kind, subject: subject.to_string(), text }).await {
            Ok(Raised::Queued | Raised::Repeat | Raised::NoAdmins | Raised::HeldBack) => true,
            Err(error) => {
                tracing::warn!(%error, kind = kind.as_str(), "an alert could not be queued; the next look raises it again");
                false
            }
        }
    }

    /// Whether the store answers. Down past `store_down_alert_after_ms`, the admins are told once it
    /// can take the alert again (the outbox is in the store): when and for how long it was down.
    async fn store_reachable(&self, seen: &mut Seen) -> bool {
        let now = self.parts.alerts.now();
        match self.parts.desk.store.ping().await {
            Ok(()) => {
                if let Some(since) = seen.store_down_since {
                    let down_secs = (now - since) / 1_000;
                    if now - since >= self.parts.store_down_alert_after_ms {
                        let text = format!(
                            "⚠️ Database tidak bisa dihubungi sejak {} (sekitar {} menit). Sekarang sudah pulih; \
                             pesanan selama itu ditolak dengan aman, tidak ada yang hilang.",
                            wib::time_text(since),
                            (down_secs + 59) / 60
                        );
                        if !self.raise(AlertKind::StoreDown, &since.to_string(), text).await {
                            return true;
                        }
                    }
                    seen.store_down_since = None;
                }
                true
            }
            Err(error) => {
                tracing::warn!(%error, "the store does not answer");
                seen.store_down_since.get_or_insert(now);
                false
            }
        }
    }

    async fn journal(&self, seen: &mut Seen) {
        let failed = self.parts.lanes.journal_stats().batches_failed.load(Ordering::Relaxed);
        let new = failed.saturating_sub(seen.journal_failed);
        if new > 0 {
            let text = format!(
                "⚠️ {new} penyimpanan ke database gagal sejak pengecekan terakhir. Pembeli yang terkena diminta \
                 mencoba lagi (tidak ada yang tertagih tanpa tersimpan). Periksa database dan log server."
            );
            if self.raise(AlertKind::JournalFailing, "journal", text).await {
                seen.journal_failed = failed;
            }
        }
    }

    async fn midtrans(&self, seen: &mut Seen) {
        let (ok, unavailable) = midtrans_calls(&self.parts.counters);
        let (ok_before, unavailable_before) = seen.midtrans;
        seen.midtrans = (ok, unavailable);
        if ok > ok_before || unavailable == unavailable_before {
            seen.midtrans_failing_looks = 0;
            return;
        }
        seen.midtrans_failing_looks += 1;
        if seen.midtrans_failing_looks == MIDTRANS_FAILING_LOOKS_MIN {
            let text = "⚠️ Midtrans (QRIS) tidak bisa dihubungi. Pembeli ditawari cara bayar lain (saldo, dan \
                        transfer bila diaktifkan); tidak ada yang tertagih."
                .to_string();
            if !self.raise(AlertKind::MidtransDown, "midtrans", text).await {
                seen.midtrans_failing_looks -= 1;
            }
        }
    }

    async fn stock(&self, seen: &mut Seen) {
        let threshold = i64::from(self.parts.desk.shop.values().stock_alert_threshold);
        for snapshot in self.parts.desk.snapshots().await.into_iter().filter(|s| s.active) {
            let level = match snapshot.available {
                0 => Some(AlertKind::SoldOut),
                n if n <= threshold => Some(AlertKind::LowStock),
                _ => None,
            };
            let Some(kind) = level else {
                seen.stock.remove(&snapshot.code);
                continue;
            };
            if seen.stock.get(&snapshot.code) == Some(&kind) {
                continue;
            }
            let text = match kind {
                AlertKind::SoldOut => format!(
                    "🔴 Stok {} ({}) habis. Tambah dengan *tambahstok {}*.",
                    snapshot.code, snapshot.name, snapshot.code
                ),
                _ => format!(
                    "🟡 Stok {} ({}) tinggal {}. Tambah dengan *tambahstok {}*.",
                    snapshot.code, snapshot.name, snapshot.available, snapshot.code
                ),
            };
            let subject = format!("{}:{}", snapshot.code, kind.as_str());
            if self.raise(kind, &subject, text).await {
                seen.stock.insert(snapshot.code.clone(), kind);
            }
        }
    }

    async fn reviews(&self, seen: &mut Seen) {
        let since = seen.reviews_since - REVIEWS_OVERLAP_MS;
        let read = match self.parts.desk.store.reviews_since(since, REVIEWS_READ_MAX).await {
            Ok(orders) => orders,
            Err(error) => return tracing::warn!(%error, "orders in review not read; the next look will"),
        };
        seen.reviews_told.retain(|_, at| *at >= since);
        let orders: Vec<_> = read.into_iter().filter(|o| !seen.reviews_told.contains_key(&o.id)).collect();
        let Some(last) = orders.last() else { return };
        let mut text = format!("🔎 {} pesanan perlu dicek (pembayaran telat atau tidak sesuai):", orders.len());
        for order in orders.iter().take(REVIEWS_NAMED_MAX) {
            text.push_str(&format!(
                "\n• {} — {} × {}, {}",
                order.id,
                order.product.home(),
                order.quantity,
                order.total
            ));
        }
        if orders.len() > REVIEWS_NAMED_MAX {
            text.push_str(&format!("\n…dan {} lagi.", orders.len() - REVIEWS_NAMED_MAX));
        }
        text.push_str("\nUangnya sudah masuk ke saldo pelanggan; cek di halaman admin.");
        let subject = orders[0].id.to_string();
        if self.raise(AlertKind::Review, &subject, text).await {
            seen.reviews_since = seen.reviews_since.max(last.updated_at);
            seen.reviews_told.extend(orders.iter().map(|o| (o.id.clone(), o.updated_at)));
        }
    }

    /// Customers newly flagged (a customer stays flagged until their share drops again).
    async fn refund_watch(&self, seen: &mut Seen) {
        let now = self.parts.alerts.now();
        if seen.refund_watch_at.is_some_and(|at| now - at < REFUND_WATCH_EVERY_MS) {
            return;
        }
        let percent = self.parts.desk.shop.values().refund_watch_percent;
        let lines = match self.parts.desk.store.refund_counts(1).await {
            Ok(lines) => lines,
            Err(error) => return tracing::warn!(%error, "refund watch not read; the next look will"),
        };
        seen.refund_watch_at = Some(now);
        let flagged: HashSet<CustomerId> =
            lines.iter().filter(|line| is_flagged(line, percent)).map(|line| line.id.clone()).collect();
        seen.flagged.retain(|customer| flagged.contains(customer));
        let new: Vec<_> =
            lines.iter().filter(|line| flagged.contains(&line.id) && !seen.flagged.contains(&line.id)).collect();
        for line in new {
            let text = format!(
                "🚩 Pelanggan {} sering minta refund: {} dari {} pesanan lunas dikembalikan. Cek di halaman admin.",
                line.id, line.orders_refunded, line.orders_paid
            );
            if self.raise(AlertKind::RefundWatch, line.id.as_str(), text).await {
                seen.flagged.insert(line.id.clone());
            }
        }
    }

    async fn summary(&self, seen: &mut Seen) {
        let now = self.parts.alerts.now();
        let today = wib::day_of(now);
        if seen.summary_day == Some(today) || wib::hour_of(now) < self.parts.desk.shop.values().daily_summary_hour {
            return;
        }
        let text = format!("Ringkasan harian\n{}", self.parts.desk.report().await);
        if self.raise(AlertKind::DailySummary, &wib::date_text(today), text).await {
            seen.summary_day = Some(today);
        }
    }

    /// Runs the audit now (and once more if it fails); a failure alerts the admins. Whether the
    /// store was found clean.
    pub async fn audit(&self) -> bool {
        let store = self.parts.desk.store.as_ref();
        let mut report = match crate::audit::audit(store).await {
            Ok(report) => report,
            Err(error) => {
                tracing::warn!(%error, "the scheduled audit could not read the store");
                return false;
            }
        };
        if !report.is_clean() {
            tokio::time::sleep(Duration::from_millis(AUDIT_RECHECK_MS)).await;
            match crate::audit::audit(store).await {
                Ok(again) => report = again,
                Err(error) => tracing::warn!(%error, "the audit's second look could not read the store"),
            }
        }
        if report.is_clean() {
            tracing::info!("scheduled audit: clean");
            return true;
        }
        let mut text = "❗ Audit otomatis menemukan ketidaksesuaian stok atau saldo:".to_string();
        for check in report.checks.iter().filter(|c| c.violations > 0) {
            text.push_str(&format!("\n• {} ({} temuan)", check.name, check.violations));
        }
        text.push_str("\nJalankan *warung audit* di server untuk rinciannya.");
        tracing::error!(report = %report, "scheduled audit found violations");
        let day = wib::date_text(wib::day_of(self.parts.alerts.now()));
        self.raise(AlertKind::AuditFailed, &day, text).await;
        false
    }
}

fn midtrans_calls(counters: &GatewayCounters) -> (u64, u64) {
    let calls = &counters.midtrans_calls;
    (calls.ok.load(Ordering::Relaxed), calls.unavailable.load(Ordering::Relaxed))
}
