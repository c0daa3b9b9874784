//! The shop's settings an admin changes while it runs (name, messages, limits, guard rails).
//! Defaults come from the settings file and environment; values an admin stored in the
//! `settings` table win over them at start. Every change is validated as a whole and stored
//! with an audit row before it applies.

use std::sync::RwLock;

use serde::Serialize;
use warung_actors::domain::{CustomerId, Money};

use crate::settings::ShopSettings;

/// Longest shop name or chat message an admin may set, in characters (a WhatsApp text body
/// holds 4,096; the menu adds the product list after them).
pub const SHOP_TEXT_CHARS_MAX: usize = 1_000;

/// Prices below this are refused unless an admin lowers it (Rp1.000).
pub const PRICE_MINIMUM_DEFAULT_RUPIAH: u64 = 1_000;

/// A price change larger than this (percent of the old price) needs a second, confirming call.
pub const PRICE_CHANGE_CONFIRM_PERCENT_DEFAULT: u32 = 50;

/// How long a price change waits for its confirming call.
pub const PRICE_CONFIRM_WINDOW_SECS_DEFAULT: u64 = 15 * 60;

/// Customers whose refunded share of paid orders is above this (percent) are flagged.
pub const REFUND_WATCH_PERCENT_DEFAULT: u32 = 30;

/// Purchases per customer per minute an admin may set at most.
pub const PURCHASES_PER_MINUTE_MAX: u32 = 600;

/// Admin numbers one shop may have: each gets every alert.
pub const ADMIN_NUMBERS_MAX: usize = 10;

/// The low-stock threshold an admin may set at most.
pub const STOCK_ALERT_THRESHOLD_MAX: u32 = 100_000;

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ShopValues {
    pub shop_name: String,
    /// Shown under the greeting of the menu; empty: nothing.
    pub welcome_message: String,
    pub purchases_per_minute: u32,
    pub price_minimum: Money,
    pub price_change_confirm_percent: u32,
    pub price_confirm_window_secs: u64,
    pub refund_watch_percent: u32,
    /// WhatsApp numbers that run the shop from the chat and get its alerts.
    pub admin_numbers: Vec<CustomerId>,
    /// Units left at or below which a product raises a low-stock alert.
    pub stock_alert_threshold: u32,
    /// The hour (WIB) of the daily summary.
    pub daily_summary_hour: u8,
}

/// Setting keys, as stored and as the admin API names them.
pub const SHOP_KEYS: [&str; 10] = [
    "shop_name",
    "welcome_message",
    "purchases_per_minute",
    "price_minimum",
    "price_change_confirm_percent",
    "price_confirm_window_secs",
    "refund_watch_percent",
    "admin_numbers",
    "stock_alert_threshold",
    "daily_summary_hour",
];

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum SettingError {
    #[error("unknown setting {0:?}; known: {known}", known = SHOP_KEYS.join(", "))]
    UnknownKey(String),
    #[error("{key}: {message}")]
    BadValue { key: String, message: String },
}

impl ShopValues {
    /// The configured values; the admin numbers are checked with the rest of the settings.
    pub fn defaults(shop: &ShopSettings) -> ShopValues {
        ShopValues {
            shop_name: shop.name.clone(),
            welcome_message: String::new(),
            purchases_per_minute: shop.purchases_per_minute,
            price_minimum: Money::rupiah(PRICE_MINIMUM_DEFAULT_RUPIAH),
            price_change_confirm_percent: PRICE_CHANGE_CONFIRM_PERCENT_DEFAULT,
            price_confirm_window_secs: PRICE_CONFIRM_WINDOW_SECS_DEFAULT,
            refund_watch_percent: REFUND_WATCH_PERCENT_DEFAULT,
            admin_numbers: parse_admin_numbers(&shop.admin_numbers).unwrap_or_default(),
            stock_alert_threshold: shop.stock_alert_threshold,
            daily_summary_hour: shop.daily_summary_hour.min(23),
        }
    }

    /// Whether `customer` is one of the admin numbers.
    pub fn is_admin_number(&self, customer: &CustomerId) -> bool {
        self.admin_numbers.contains(customer)
    }

    /// The stored text of one setting.
    pub fn get(&self, key: &str) -> Option<String> {
        Some(match key {
            "shop_name" => self.shop_name.clone(),
            "welcome_message" => self.welcome_message.clone(),
            "purchases_per_minute" => self.purchases_per_minute.to_string(),
            "price_minimum" => self.price_minimum.amount().to_string(),
            "price_change_confirm_percent" => self.price_change_confirm_percent.to_string(),
            "price_confirm_window_secs" => self.price_confirm_window_secs.to_string(),
            "refund_watch_percent" => self.refund_watch_percent.to_string(),
            "admin_numbers" => self.admin_numbers.iter().map(CustomerId::as_str).collect::<Vec<_>>().join(","),
            "stock_alert_threshold" => self.stock_alert_threshold.to_string(),
            "daily_summary_hour" => self.daily_summary_hour.to_string(),
            _ => return None,
        })
    }

    /// Sets one setting from its text, validated.
    pub fn set(&mut self, key: &str, value: &str) -> Result<(), SettingError> {
        let bad = |message: &str| SettingError::BadValue { key: key.to_string(), message: message.to_string() };
        let number = |max: u64| -> Result<u64, SettingError> {
            value
                .trim()
                .parse::<u64>()
                .ok()
                .filter(|n| (1..=max).contains(n))
                .ok_or_else(|| bad(&format!("a whole number from 1 to {max}")))
        };
        match key {
            "shop_name" => self.shop_name = text(value, false).map_err(|m| bad(&m))?,
            "welcome_message" => self.welcome_message = text(value, true).map_err(|m| bad(&m))?,
            "purchases_per_minute" => self.purchases_per_minute = number(u64::from(PURCHASES_PER_MINUTE_MAX))? as u32,
            "price_minimum" => {
                self.price_minimum = value
                    .trim()
                    .parse::<Money>()
                    .ok()
                    .filter(|m| !m.is_zero())
                    .ok_or_else(|| bad("an amount above zero"))?
            }
            "price_change_confirm_percent" => self.price_change_confirm_percent = number(1_000)? as u32,
            "price_confirm_window_secs" => self.price_confirm_window_secs = number(7 * 24 * 3_600)?,
            "refund_watch_percent" => self.refund_watch_percent = number(100)? as u32,
            "admin_numbers" => self.admin_numbers = parse_admin_numbers(value).map_err(|m| bad(&m))?,
            "stock_alert_threshold" => {
                self.stock_alert_threshold = value
                    .trim()
                    .parse::<u32>()
                    .ok()
                    .filter(|n| *n <= STOCK_ALERT_THRESHOLD_MAX)
                    .ok_or_else(|| bad(&format!("a whole number from 0 to {STOCK_ALERT_THRESHOLD_MAX}")))?
            }
            "daily_summary_hour" => {
                self.daily_summary_hour = value
                    .trim()
                    .parse::<u8>()
                    .ok()
                    .filter(|h| *h <= 23)
                    .ok_or_else(|| bad("an hour from 0 to 23 (WIB)"))?
            }
            other => return Err(SettingError::UnknownKey(other.to_string())),
        }
        Ok(())
    }
}

/// WhatsApp numbers, comma-separated (spaces and a leading `+` are allowed and dropped): digits
/// only, 8 to 15 of them (E.164), at most `ADMIN_NUMBERS_MAX`, none twice. Empty: none.
pub fn parse_admin_numbers(text: &str) -> Result<Vec<CustomerId>, String> {
    let mut numbers: Vec<CustomerId> = Vec::new();
    for given in text.split(',').map(str::trim).filter(|t| !t.is_empty()) {
        let digits: String = given.trim_start_matches('+').chars().filter(|c| *c != ' ' && *c != '-').collect();
        if !(8..=15).contains(&digits.len()) || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(format!("{given:?} is not a WhatsApp number (8 to 15 digits, e.g. 6281234567890)"));
        }
        let number = CustomerId::parse(&digits).map_err(|e| e.to_string())?;
        if numbers.contains(&number) {
            return Err(format!("{given:?} is listed twice"));
        }
        numbers.push(number);
    }
    if numbers.len() > ADMIN_NUMBERS_MAX {
        return Err(format!("at most {ADMIN_NUMBERS_MAX} admin numbers"));
    }
    Ok(numbers)
}

fn text(value: &str, may_be_empty: bool) -> Result<String, String> {
    let value = value.trim();
    if value.is_empty() && !may_be_empty {
        return Err("must not be empty".into());
    }
    if value.chars().count() > SHOP_TEXT_CHARS_MAX {
        return Err(format!("at most {SHOP_TEXT_CHARS_MAX} characters"));
    }
    Ok(value.to_string())
}

/// The values in force, read by the chat, the rate limit and the admin guard rails.
pub struct Shop {
    values: RwLock<ShopValues>,
}

impl Shop {
    pub fn new(values: ShopValues) -> Shop {
        Shop { values: RwLock::new(values) }
    }

    pub fn values(&self) -> ShopValues {
        self.values.read().expect("shop settings lock").clone()
    }

    /// Whether `customer` is an admin number, read in place: every chat message asks.
    pub fn is_admin_number(&self, customer: &CustomerId) -> bool {
        self.values.read().expect("shop settings lock").is_admin_number(customer)
    }

    pub fn replace(&self, values: ShopValues) {
        *self.values.write().expect("shop settings lock") = values;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_round_trips_through_its_stored_text() {
        let mut values = ShopValues::defaults(&ShopSettings::default());
        for key in SHOP_KEYS {
            let text = values.get(key).unwrap();
            values.set(key, &text).unwrap_or_else(|e| panic!("{key}: {e}"));
        }
        assert_eq!(values, ShopValues::defaults(&ShopSettings::default()));
    }

    #[test]
    fn admin_numbers_are_read_as_people_write_them() {
        let numbers = parse_admin_numbers(" +62 812-3456-7890, 6289876543210 ,").unwrap();
        let numbers: Vec<&str> = numbers.iter().map(CustomerId::as_str).collect();
        assert_eq!(numbers, ["6281234567890", "6289876543210"]);
        assert!(parse_admin_numbers("6281234567890,6281234567890").is_err(), "twice");
        assert!(parse_admin_numbers("0812").is_err(), "too short");
        assert_eq!(parse_admin_numbers("").unwrap(), Vec::<CustomerId>::new());
    }

    #[test]
    fn bad_values_are_refused_with_the_rule() {
        let mut values = ShopValues::defaults(&ShopSettings::default());
        assert!(matches!(values.set("shop_name", "  "), Err(SettingError::BadValue { .. })));
        assert!(matches!(values.set("purchases_per_minute", "0"), Err(SettingError::BadValue { .. })));
        assert!(matches!(values.set("refund_watch_percent", "101"), Err(SettingError::BadValue { .. })));
        assert!(matches!(values.set("price_minimum", "-5"), Err(SettingError::BadValue { .. })));
        assert!(matches!(values.set("admin_numbers", "62812,abc"), Err(SettingError::BadValue { .. })));
        assert!(matches!(values.set("daily_summary_hour", "24"), Err(SettingError::BadValue { .. })));
        assert_eq!(values.set("colour", "red"), Err(SettingError::UnknownKey("colour".into())));
        assert_eq!(values, ShopValues::defaults(&ShopSettings::default()), "nothing changed");
    }
}
