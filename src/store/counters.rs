//! What the shop has durably done, counted when it is committed, for `/metrics` to graph as
//! rates: sales, units sold, revenue, orders by the state they moved into, top-ups, QRIS charges
//! opened, paid and expired; and purchases refused, by reason (counted by checkout, which
//! decides them). Counters only go up and are per process: Prometheus adds the nodes up. A scrape
//! reads these, never a table that grows with the shop's history.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use rust_decimal::prelude::ToPrimitive;
use warung_actors::domain::Money;

use crate::records::{ChargePurpose, OrderState, ShopRecord};

/// Every order state, in the order the metrics list them.
pub const ORDER_STATES: [OrderState; 8] = OrderState::ALL;

/// Distinct refusal reasons counted; any beyond are counted as `other`. The reasons are the
/// checkout's rule names, a short fixed list; this bounds a mistake.
pub const REFUSAL_REASONS_MAX: usize = 32;

#[derive(Debug, Default)]
pub struct ShopCounters {
    /// Orders that moved into `Paid`.
    pub sales: AtomicU64,
    pub units_sold: AtomicU64,
    /// In hundredths of a rupiah (exact; printed as rupiah).
    revenue_sen: AtomicU64,
    orders_into: [AtomicU64; ORDER_STATES.len()],
    pub top_ups: AtomicU64,
    top_up_sen: AtomicU64,
    pub qris_opened: AtomicU64,
    pub qris_paid: AtomicU64,
    pub qris_expired: AtomicU64,
    refusals: Mutex<BTreeMap<&'static str, u64>>,
}

fn sen(money: Money) -> u64 {
    (money.amount() * rust_decimal::Decimal::ONE_HUNDRED).trunc().to_u64().unwrap_or(0)
}

/// Hundredths as a decimal number of rupiah: `1500050` is `15000.50`.
pub fn rupiah_text(sen: u64) -> String {
    format!("{}.{:02}", sen / 100, sen % 100)
}

impl ShopCounters {
    /// Counts what a batch the journal has just committed records.
    pub fn committed<'a>(&self, records: impl Iterator<Item = &'a ShopRecord>) {
        for record in records {
            match record {
                ShopRecord::Order(row) => {
                    let moved_in =
                        if row.creates { true } else { row.moved_from.is_some_and(|from| from != row.state) };
                    if !moved_in {
                        continue;
                    }
                    let index = ORDER_STATES.iter().position(|s| *s == row.state).expect("every state is listed");
                    self.orders_into[index].fetch_add(1, Ordering::Relaxed);
                    if row.state == OrderState::Paid {
                        self.sales.fetch_add(1, Ordering::Relaxed);
                        self.units_sold.fetch_add(u64::from(row.quantity), Ordering::Relaxed);
                        self.revenue_sen.fetch_add(sen(row.total), Ordering::Relaxed);
                    }
                }
                ShopRecord::Payment(row) if row.purpose == ChargePurpose::TopUp => {
                    self.top_ups.fetch_add(1, Ordering::Relaxed);
                    self.top_up_sen.fetch_add(sen(row.amount), Ordering::Relaxed);
                }
                ShopRecord::Payment(_) | ShopRecord::Audit(_) => {}
            }
        }
    }

    /// A purchase (or top-up) refused, by the rule that refused it.
    pub fn refused(&self, reason: &'static str) {
        let mut refusals = self.refusals.lock().expect("refusals lock");
        let key = if refusals.contains_key(reason) || refusals.len() < REFUSAL_REASONS_MAX { reason } else { "other" };
        *refusals.entry(key).or_default() += 1;
    }

    pub fn refusals(&self) -> Vec<(&'static str, u64)> {
        self.refusals.lock().expect("refusals lock").iter().map(|(k, v)| (*k, *v)).collect()
    }

    /// Orders that moved into each state, in `ORDER_STATES` order.
    pub fn orders_into(&self) -> Vec<(OrderState, u64)> {
        ORDER_STATES.iter().zip(&self.orders_into).map(|(s, n)| (*s, n.load(Ordering::Relaxed))).collect()
    }

    pub fn revenue_sen(&self) -> u64 {
        self.revenue_sen.load(Ordering::Relaxed)
    }

    pub fn top_up_sen(&self) -> u64 {
        self.top_up_sen.load(Ordering::Relaxed)
    }
}
