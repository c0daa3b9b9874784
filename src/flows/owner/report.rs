//! Sales as an owner reads them: per WIB day, today and over the last 7 and 30 days, and the best
//! sellers. Pure: built from the store's groups (`store::reports::SalesGroup`), summed exactly.

use std::collections::BTreeMap;

use rust_decimal::Decimal;
use warung_actors::domain::{Money, ProductCode};

use crate::store::admin::CustomerLine;
use crate::store::reports::SalesGroup;

/// Best sellers a report names.
pub const BEST_SELLERS_SHOWN: usize = 5;

/// The longest range of days one overview covers.
pub const OVERVIEW_DAYS_MAX: i64 = 90;

/// Paid orders, the units they bought and what they brought in.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Sales {
    pub orders: i64,
    pub units: i64,
    pub revenue: Decimal,
}

impl Sales {
    fn add(&mut self, group: &SalesGroup) {
        self.orders += group.orders;
        self.units += group.units;
        self.revenue += group.total.amount() * Decimal::from(group.orders);
    }

    /// The revenue as Rupiah (`Rp150.000`).
    pub fn revenue_text(&self) -> String {
        rupiah_text(self.revenue)
    }
}

/// An amount as owners read it; a sum past what `Money` holds is still shown.
pub fn rupiah_text(amount: Decimal) -> String {
    Money::new(amount).map(|m| m.to_string()).unwrap_or_else(|_| format!("Rp{amount}"))
}

/// The refund watch's rule: a customer whose refunded share of paid orders is above `percent`.
pub fn is_flagged(line: &CustomerLine, percent: u32) -> bool {
    line.orders_refunded * 100 > line.orders_paid * i64::from(percent)
}

#[derive(Clone, Debug, PartialEq)]
pub struct BestSeller {
    pub product: ProductCode,
    pub sales: Sales,
}

/// The sales of the `days` WIB days up to and including `today`.
#[derive(Clone, Debug, PartialEq)]
pub struct SalesReport {
    pub today: i64,
    /// One entry per day, oldest first, days without sales included.
    pub days: Vec<(i64, Sales)>,
    pub best_sellers: Vec<BestSeller>,
}

impl SalesReport {
    /// `groups` must cover at least the days asked for; groups outside them are ignored.
    pub fn of(groups: &[SalesGroup], today: i64, days: i64) -> SalesReport {
        let first = today - days.clamp(1, OVERVIEW_DAYS_MAX) + 1;
        let mut by_day: BTreeMap<i64, Sales> = (first..=today).map(|d| (d, Sales::default())).collect();
        let mut by_product: BTreeMap<ProductCode, Sales> = BTreeMap::new();
        for group in groups.iter().filter(|g| (first..=today).contains(&g.day)) {
            by_day.entry(group.day).or_default().add(group);
            by_product.entry(group.product.clone()).or_default().add(group);
        }
        let mut best_sellers: Vec<BestSeller> =
            by_product.into_iter().map(|(product, sales)| BestSeller { product, sales }).collect();
        best_sellers.sort_by(|a, b| b.sales.units.cmp(&a.sales.units).then(b.sales.revenue.cmp(&a.sales.revenue)));
        best_sellers.truncate(BEST_SELLERS_SHOWN);
        SalesReport { today, days: by_day.into_iter().collect(), best_sellers }
    }

    /// The sales of the last `days` days (today included).
    pub fn last(&self, days: i64) -> Sales {
        let mut sum = Sales::default();
        for (_, sales) in self.days.iter().filter(|(day, _)| *day > self.today - days) {
            sum.orders += sales.orders;
            sum.units += sales.units;
            sum.revenue += sales.revenue;
        }
        sum
    }

    pub fn today(&self) -> Sales {
        self.last(1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn group(day: i64, product: &str, total: u64, orders: i64) -> SalesGroup {
        SalesGroup {
            day,
            product: ProductCode::parse(product).unwrap(),
            total: Money::rupiah(total),
            orders,
            units: orders * 2,
        }
    }

    #[test]
    fn days_without_sales_are_zero_and_sums_are_exact() {
        let groups = [group(100, "viu", 15_000, 3), group(100, "viu", 14_000, 1), group(98, "net", 50_000, 1)];
        let report = SalesReport::of(&groups, 100, 7);
        assert_eq!(report.days.len(), 7);
        assert_eq!(report.days.first().unwrap().0, 94);
        assert_eq!(report.today(), Sales { orders: 4, units: 8, revenue: Decimal::from(59_000) });
        assert_eq!(report.last(7).revenue, Decimal::from(109_000));
        assert_eq!(report.days[5].1, Sales::default(), "day 99 sold nothing");
        assert_eq!(report.best_sellers[0].product.as_str(), "viu", "most units first");
        assert_eq!(report.today().revenue_text(), "Rp59.000");
    }

    #[test]
    fn groups_outside_the_days_asked_for_are_left_out() {
        let report = SalesReport::of(&[group(50, "viu", 15_000, 3)], 100, 30);
        assert_eq!(report.last(30), Sales::default());
        assert!(report.best_sellers.is_empty());
    }
}
