//! Alerts to the shop's admins on WhatsApp, through the outbox, so a restart neither loses nor
//! repeats one. A storm sends one message, not thousands: the same alert about the same subject
//! goes out at most once per its kind's window (the outbox's dedup key carries the window, so
//! this holds across restarts and nodes), and all alerts together at most `ALERTS_PER_HOUR_MAX`
//! an hour (the daily summary apart); what is held back is counted in the next one sent.
//!
//! `watch`: what raises them (stock, orders in review, the refund watch, the store, the journal,
//! Midtrans, the scheduled audit) and the daily summary, looked at on a timer.

pub mod watch;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use warung_actors::domain::{Clock, CustomerId, UnixMs};

use super::outbox::{OutboxSignal, WHATSAPP_KIND};
use crate::checkout::Checkout;
use crate::providers::whatsapp::Outbound;
use crate::shop::Shop;
use crate::store::{NewOutbox, Store, StoreError};

pub use watch::{AlertWatch, WatchParts, STORE_DOWN_ALERT_MS};

/// Alerts (all kinds, the daily summary apart) sent in one hour at most.
pub const ALERTS_PER_HOUR_MAX: u32 = 20;

const HOUR_MS: i64 = 3_600_000;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AlertKind {
    SoldOut,
    LowStock,
    Review,
    RefundWatch,
    StoreDown,
    JournalFailing,
    MidtransDown,
    AuditFailed,
    DailySummary,
}

impl AlertKind {
    pub fn as_str(self) -> &'static str {
        match self {
            AlertKind::SoldOut => "sold_out",
            AlertKind::LowStock => "low_stock",
            AlertKind::Review => "review",
            AlertKind::RefundWatch => "refund_watch",
            AlertKind::StoreDown => "store_down",
            AlertKind::JournalFailing => "journal_failing",
            AlertKind::MidtransDown => "midtrans_down",
            AlertKind::AuditFailed => "audit_failed",
            AlertKind::DailySummary => "daily_summary",
        }
    }

    /// How long the same alert about the same subject is not sent again.
    fn window_ms(self) -> i64 {
        match self {
            AlertKind::SoldOut | AlertKind::LowStock => 6 * HOUR_MS,
            AlertKind::Review => 24 * HOUR_MS,
            AlertKind::RefundWatch | AlertKind::AuditFailed | AlertKind::DailySummary => 24 * HOUR_MS,
            AlertKind::StoreDown | AlertKind::JournalFailing | AlertKind::MidtransDown => HOUR_MS / 2,
        }
    }
}

/// One thing to tell the admins.
#[derive(Clone, Debug, PartialEq)]
pub struct Alert {
    pub kind: AlertKind,
    /// What it is about (a product code, an order id, `journal`): the unit of deduplication.
    pub subject: String,
    pub text: String,
}

/// What raising an alert came to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Raised {
    /// Queued for every admin.
    Queued,
    /// Sent already within its window.
    Repeat,
    /// Over the hourly limit: counted, told with the next one sent.
    HeldBack,
    /// The shop has no admin numbers.
    NoAdmins,
}

#[derive(Clone)]
pub struct Alerts {
    inner: Arc<Inner>,
}

struct Inner {
    store: Arc<dyn Store>,
    shop: Arc<Shop>,
    /// Customers with the admin role.
    checkout: Checkout,
    outbox: OutboxSignal,
    clock: Clock,
    state: Mutex<Budget>,
}

/// The memory of what was sent: the last window each alert went out in, and this hour's count.
#[derive(Default)]
struct Budget {
    sent: HashMap<(AlertKind, String), i64>,
    hour: i64,
    sent_this_hour: u32,
    held_back: u32,
}

impl Alerts {
    pub fn new(
        store: Arc<dyn Store>,
        shop: Arc<Shop>,
        checkout: Checkout,
        outbox: OutboxSignal,
        clock: Clock,
    ) -> Alerts {
        let inner = Inner { store, shop, checkout, outbox, clock, state: Mutex::new(Budget::default()) };
        Alerts { inner: Arc::new(inner) }
    }

    /// Every admin: the admin numbers, and customers with the admin role.
    pub fn admins(&self) -> Vec<CustomerId> {
        let mut admins = self.inner.shop.values().admin_numbers;
        for admin in self.inner.checkout.admins() {
            if !admins.contains(&admin) {
                admins.push(admin);
            }
        }
        admins
    }

    /// Queues `alert` for every admin, unless it went out within its window or the hour's
    /// budget is spent. A store that cannot take it is an error: the caller raises it again.
    pub async fn raise(&self, alert: Alert) -> Result<Raised, StoreError> {
        let admins = self.admins();
        if admins.is_empty() {
            return Ok(Raised::NoAdmins);
        }
        let now = self.inner.clock.now();
        let window = now.div_euclid(alert.kind.window_ms());
        let key = (alert.kind, alert.subject.clone());
        let held_back = {
            let mut budget = self.inner.state.lock().expect("alert budget lock");
            if budget.sent.get(&key) == Some(&window) {
                return Ok(Raised::Repeat);
            }
            if budget.hour != now.div_euclid(HOUR_MS) {
                budget.hour = now.div_euclid(HOUR_MS);
                budget.sent_this_hour = 0;
                // What was sent in a window that has passed no longer holds anything back.
                budget.sent.retain(|(kind, _), window| *window == now.div_euclid(kind.window_ms()));
            }
            if alert.kind != AlertKind::DailySummary {
                if budget.sent_this_hour >= ALERTS_PER_HOUR_MAX {
                    budget.held_back += 1;
                    return Ok(Raised::HeldBack);
                }
                budget.sent_this_hour += 1;
            }
            std::mem::take(&mut budget.held_back)
        };
        let mut text = alert.text.clone();
        if held_back > 0 {
            text.push_str(&format!("\n\n({held_back} peringatan lain ditahan agar tidak membanjiri chat.)"));
        }
        let payload = serde_json::to_string(&Outbound::text(text)).expect("a reply serializes");
        let entries: Vec<NewOutbox> = admins
            .iter()
            .map(|admin| NewOutbox {
                dedup_key: format!("alert:{}:{}:{window}:{admin}", alert.kind.as_str(), alert.subject),
                kind: WHATSAPP_KIND.to_string(),
                destination: admin.as_str().to_string(),
                payload: payload.clone(),
            })
            .collect();
        if let Err(error) = self.inner.store.enqueue(now, &entries).await {
            let mut budget = self.inner.state.lock().expect("alert budget lock");
            budget.held_back += held_back;
            if alert.kind != AlertKind::DailySummary {
                budget.sent_this_hour = budget.sent_this_hour.saturating_sub(1);
            }
            return Err(error);
        }
        self.inner.state.lock().expect("alert budget lock").sent.insert(key, window);
        self.inner.outbox.wake();
        tracing::info!(kind = alert.kind.as_str(), subject = %alert.subject, admins = admins.len(), "alert queued");
        Ok(Raised::Queued)
    }

    pub fn now(&self) -> UnixMs {
        self.inner.clock.now()
    }
}
