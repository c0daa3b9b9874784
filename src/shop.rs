//! The shop's settings an admin changes while it runs (name, messages, limits, guard rails).
//! Defaults come from the settings file and environment; values an admin stored in the
//! `settings` table win over them at start. Every change is validated as a whole and stored
//! with an audit row before it applies.

use std::sync::RwLock;

use serde::Serialize;
use warung_actors::domain::Money;

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
}

/// Setting keys, as stored and as the admin API names them.
pub const SHOP_KEYS: [&str; 7] = [
    "shop_name",
    "welcome_message",
    "purchases_per_minute",
    "price_minimum",
    "price_change_confirm_percent",
    "price_confirm_window_secs",
    "refund_watch_percent",
];

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum SettingError {
    #[error("unknown setting {0:?}; known: {known}", known = SHOP_KEYS.join(", "))]
    UnknownKey(String),
    #[error("{key}: {message}")]
    BadValue { key: String, message: String },
}

impl ShopValues {
    pub fn defaults(name: &str, purchases_per_minute: u32) -> ShopValues {
        ShopValues {
            shop_name: name.to_string(),
            welcome_message: String::new(),
            purchases_per_minute,
            price_minimum: Money::rupiah(PRICE_MINIMUM_DEFAULT_RUPIAH),
            price_change_confirm_percent: PRICE_CHANGE_CONFIRM_PERCENT_DEFAULT,
            price_confirm_window_secs: PRICE_CONFIRM_WINDOW_SECS_DEFAULT,
            refund_watch_percent: REFUND_WATCH_PERCENT_DEFAULT,
        }
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
            other => return Err(SettingError::UnknownKey(other.to_string())),
        }
        Ok(())
    }
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

    pub fn replace(&self, values: ShopValues) {
        *self.values.write().expect("shop settings lock") = values;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_round_trips_through_its_stored_text() {
        let mut values = ShopValues::defaults("Warung", 3);
        for key in SHOP_KEYS {
            let text = values.get(key).unwrap();
            values.set(key, &text).unwrap_or_else(|e| panic!("{key}: {e}"));
        }
        assert_eq!(values, ShopValues::defaults("Warung", 3));
    }

    #[test]
    fn bad_values_are_refused_with_the_rule() {
        let mut values = ShopValues::defaults("Warung", 3);
        assert!(matches!(values.set("shop_name", "  "), Err(SettingError::BadValue { .. })));
        assert!(matches!(values.set("purchases_per_minute", "0"), Err(SettingError::BadValue { .. })));
        assert!(matches!(values.set("refund_watch_percent", "101"), Err(SettingError::BadValue { .. })));
        assert!(matches!(values.set("price_minimum", "-5"), Err(SettingError::BadValue { .. })));
        assert_eq!(values.set("colour", "red"), Err(SettingError::UnknownKey("colour".into())));
        assert_eq!(values, ShopValues::defaults("Warung", 3), "nothing changed");
    }
}
