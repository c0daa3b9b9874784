//! Money in Rupiah: exact decimal, never a float, never negative.

use std::fmt;
use std::str::FromStr;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// Largest amount the engine accepts in one value: Rp1 trillion. Anything above is a typo or an
/// attack, and keeping sums far below `Decimal::MAX` makes every checked sum in a batch safe.
pub const MONEY_MAX_RUPIAH: i64 = 1_000_000_000_000;

/// Smallest fraction of a Rupiah kept: two decimal places (sen), as Midtrans reports amounts.
pub const MONEY_SCALE_MAX: u32 = 2;

/// What `Money::parse_plain` reads, as the API's documents state it (the limit,
/// `MONEY_MAX_RUPIAH`, is checked after). An amount the engine writes, normalised, matches it too.
pub const MONEY_PLAIN_PATTERN: &str = r"^[0-9]{1,15}(\.[0-9]{1,2})?$";

/// What `parse_plain_delta` reads: a plain amount, negative with a leading `-`.
pub const DELTA_PLAIN_PATTERN: &str = r"^-?[0-9]{1,15}(\.[0-9]{1,2})?$";

/// A non-negative amount of Rupiah with at most two decimal places.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "Decimal", into = "Decimal")]
pub struct Money(Decimal);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    #[error("an amount of money must not be negative")]
    MustNotBeNegative,
    #[error("an amount of money has at most {MONEY_SCALE_MAX} decimal places")]
    TooManyDecimals,
    #[error("an amount of money must not exceed Rp{MONEY_MAX_RUPIAH}")]
    TooLarge,
    #[error("not a number: {0}")]
    NotANumber(String),
    #[error("{0:?} is not a plain amount: digits, and at most {MONEY_SCALE_MAX} decimals after a point")]
    NotAPlainAmount(String),
}

impl Money {
    pub const ZERO: Money = Money(Decimal::ZERO);

    pub fn new(value: Decimal) -> Result<Money, MoneyError> {
        if value.is_sign_negative() && !value.is_zero() {
            return Err(MoneyError::MustNotBeNegative);
        }
        if value.normalize().scale() > MONEY_SCALE_MAX {
            return Err(MoneyError::TooManyDecimals);
        }
        if value > Decimal::from(MONEY_MAX_RUPIAH) {
            return Err(MoneyError::TooLarge);
        }
        Ok(Money(value.normalize()))
    }

    /// Whole Rupiah, the usual case in a shop. For a constant or an amount already within the
    /// limit; an amount from outside goes through `try_rupiah` or `parse_plain`.
    pub fn rupiah(amount: u64) -> Money {
        Money::try_rupiah(amount).expect("whole rupiah within the limit")
    }

    /// Whole Rupiah, refused above the limit.
    pub fn try_rupiah(amount: u64) -> Result<Money, MoneyError> {
        Money::new(Decimal::from(amount))
    }

    /// An amount as people and providers write it plainly: digits, optionally a point and one or
    /// two decimals (`15000`, `275000.00`). No sign, exponent, spaces or separators: what a
    /// lenient parser would read some other way (`1e3`) is refused.
    pub fn parse_plain(text: &str) -> Result<Money, MoneyError> {
        Money::new(plain_decimal(text)?)
    }

    pub fn amount(self) -> Decimal {
        self.0
    }

    pub fn is_zero(self) -> bool {
        self.0.is_zero()
    }

    pub fn checked_add(self, other: Money) -> Option<Money> {
        Money::new(self.0.checked_add(other.0)?).ok()
    }

    /// `None` when the result would be negative: a balance never goes below zero.
    pub fn checked_sub(self, other: Money) -> Option<Money> {
        Money::new(self.0.checked_sub(other.0)?).ok()
    }

    pub fn checked_mul(self, quantity: u32) -> Option<Money> {
        Money::new(self.0.checked_mul(Decimal::from(quantity))?).ok()
    }
}

/// A signed plain amount (`-5000`, `250.50`): a change of a balance, as an admin writes it.
pub fn parse_plain_delta(text: &str) -> Result<Decimal, MoneyError> {
    let (negative, digits) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let magnitude = plain_decimal(digits).map_err(|_| MoneyError::NotAPlainAmount(text.to_string()))?;
    Money::new(magnitude)?;
    Ok(if negative { -magnitude } else { magnitude })
}

fn plain_decimal(text: &str) -> Result<Decimal, MoneyError> {
    let refused = || MoneyError::NotAPlainAmount(text.to_string());
    let (whole, fraction) = match text.split_once('.') {
        Some((whole, fraction)) if !fraction.is_empty() && fraction.len() <= MONEY_SCALE_MAX as usize => {
            (whole, fraction)
        }
        Some(_) => return Err(refused()),
        None => (text, ""),
    };
    let digits = |part: &str| part.bytes().all(|b| b.is_ascii_digit());
    // Longer than the limit's digits means above the limit; stop before Decimal could overflow.
    if whole.is_empty() || whole.len() > 15 || !digits(whole) || !digits(fraction) {
        return Err(refused());
    }
    Decimal::from_str(text).map_err(|_| refused())
}

impl TryFrom<Decimal> for Money {
    type Error = MoneyError;
    fn try_from(value: Decimal) -> Result<Self, Self::Error> {
        Money::new(value)
    }
}

impl From<Money> for Decimal {
    fn from(money: Money) -> Decimal {
        money.0
    }
}

impl FromStr for Money {
    type Err = MoneyError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let value = Decimal::from_str(s.trim()).map_err(|_| MoneyError::NotANumber(s.to_string()))?;
        Money::new(value)
    }
}

/// Formats as Indonesians write Rupiah: `Rp15.000`, `Rp1.250,50`.
impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let whole = self.0.trunc();
        let fraction = (self.0 - whole) * Decimal::from(100);
        let digits = whole.to_string();
        let mut grouped = String::with_capacity(digits.len() + digits.len() / 3);
        for (i, ch) in digits.chars().enumerate() {
            if i > 0 && (digits.len() - i).is_multiple_of(3) {
                grouped.push('.');
            }
            grouped.push(ch);
        }
        if fraction.is_zero() {
            write!(f, "Rp{grouped}")
        } else {
            write!(f, "Rp{grouped},{:02}", fraction.trunc())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn negative_amounts_are_refused() {
        assert_eq!(Money::from_str("-1"), Err(MoneyError::MustNotBeNegative));
    }

    #[test]
    fn more_than_two_decimals_are_refused() {
        assert_eq!(Money::from_str("1.001"), Err(MoneyError::TooManyDecimals));
        assert!(Money::from_str("1.10").is_ok());
    }

    #[test]
    fn subtraction_below_zero_is_none() {
        assert_eq!(Money::rupiah(5).checked_sub(Money::rupiah(6)), None);
        assert_eq!(Money::rupiah(6).checked_sub(Money::rupiah(6)), Some(Money::ZERO));
    }

    #[test]
    fn displays_as_rupiah() {
        assert_eq!(Money::rupiah(15_000).to_string(), "Rp15.000");
        assert_eq!(Money::rupiah(500).to_string(), "Rp500");
        assert_eq!(Money::rupiah(1_234_567).to_string(), "Rp1.234.567");
        assert_eq!(Money::from_str("1250.5").unwrap().to_string(), "Rp1.250,50");
    }

    #[test]
    fn amounts_above_the_limit_are_refused() {
        assert_eq!(Money::from_str("1000000000001"), Err(MoneyError::TooLarge));
        assert_eq!(Money::try_rupiah(1_000_000_000_001), Err(MoneyError::TooLarge));
        assert!(Money::parse_plain("99999999999999999999999999999.00").is_err());
    }

    #[test]
    fn only_plain_amounts_parse_plainly() {
        assert_eq!(Money::parse_plain("275000.00"), Ok(Money::rupiah(275_000)));
        assert_eq!(Money::parse_plain("1000.5").unwrap().to_string(), "Rp1.000,50");
        for refused in ["1e3", "1E3", "-5", "+5", " 5", "5 ", "1_000", "1,000", "0x10", ".5", "5.", "5.001", "NaN", ""]
        {
            assert!(Money::parse_plain(refused).is_err(), "{refused:?}");
        }
        assert_eq!(parse_plain_delta("-500"), Ok(Decimal::from(-500)));
        assert_eq!(parse_plain_delta("250.50"), Ok(Decimal::new(25050, 2)));
        for refused in ["--5", "-", "- 5", "-1e3", "+5", "-1000000000001"] {
            assert!(parse_plain_delta(refused).is_err(), "{refused:?}");
        }
    }

    #[test]
    fn the_plain_patterns_accept_what_the_plain_parsers_accept_within_the_limit() {
        let plain = regex::Regex::new(MONEY_PLAIN_PATTERN).unwrap();
        let delta = regex::Regex::new(DELTA_PLAIN_PATTERN).unwrap();
        let samples = [
            "0",
            "15000",
            "275000.00",
            "1000.5",
            "000000000015000",
            "1000000000000",
            "1e3",
            "-5",
            "+5",
            " 5",
            "5 ",
            "1_000",
            "1,000",
            ".5",
            "5.",
            "5.001",
            "",
            "-",
            "--5",
            "-0.5",
            "-250.50",
            "5\n",
        ];
        for sample in samples {
            assert_eq!(plain.is_match(sample), Money::parse_plain(sample).is_ok(), "{sample:?}");
            assert_eq!(delta.is_match(sample), parse_plain_delta(sample).is_ok(), "{sample:?}");
        }
        let written = Money::parse_plain("1250.50").unwrap().amount().to_string();
        assert!(plain.is_match(&written), "{written}");
    }
}
