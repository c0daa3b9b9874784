//! The shop's clock as its owner reads it: Western Indonesian Time (WIB, UTC+7, no daylight
//! saving). Days, date filters, the daily summary and every time shown to an owner are WIB.
//! A day is numbered as days since 1970-01-01 (WIB), so a range of days is plain integers.

use time::{Date, Month, OffsetDateTime, UtcOffset};
use warung_actors::domain::UnixMs;

/// WIB is seven hours ahead of UTC all year.
pub const WIB_OFFSET_MS: i64 = 7 * 3_600_000;

pub const DAY_MS: i64 = 86_400_000;

/// The Julian day of 1970-01-01, day 0 here.
const UNIX_EPOCH_JULIAN_DAY: i32 = 2_440_588;

/// Why a date was not read.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DateError {
    #[error("{given:?} is not a date: write YYYY-MM-DD")]
    NotADate { given: String },
    #[error("{given:?} is not a day of the calendar")]
    NoSuchDay { given: String },
}

/// The WIB day an instant falls on.
pub fn day_of(at: UnixMs) -> i64 {
    (at + WIB_OFFSET_MS).div_euclid(DAY_MS)
}

/// The instant a WIB day starts (its midnight, WIB).
pub fn day_start(day: i64) -> UnixMs {
    day * DAY_MS - WIB_OFFSET_MS
}

/// The hour of the day (0 to 23) in WIB.
pub fn hour_of(at: UnixMs) -> u8 {
    ((at + WIB_OFFSET_MS).rem_euclid(DAY_MS) / 3_600_000) as u8
}

/// Reads `YYYY-MM-DD` as a WIB day; a day the calendar does not have (31 February) is refused.
pub fn parse_date(given: &str) -> Result<i64, DateError> {
    let not_a_date = || DateError::NotADate { given: given.to_string() };
    let parts: Vec<&str> = given.trim().split('-').collect();
    let [year, month, day] = parts[..] else { return Err(not_a_date()) };
    if year.len() != 4 || month.len() != 2 || day.len() != 2 {
        return Err(not_a_date());
    }
    let number = |text: &str| text.parse::<u16>().map_err(|_| not_a_date());
    let (year, month, day) = (number(year)?, number(month)?, number(day)?);
    let month = Month::try_from(month as u8).map_err(|_| DateError::NoSuchDay { given: given.to_string() })?;
    let date = Date::from_calendar_date(i32::from(year), month, day as u8)
        .map_err(|_| DateError::NoSuchDay { given: given.to_string() })?;
    Ok(i64::from(date.to_julian_day() - UNIX_EPOCH_JULIAN_DAY))
}

/// `YYYY-MM-DD` of a WIB day.
pub fn date_text(day: i64) -> String {
    match Date::from_julian_day(day as i32 + UNIX_EPOCH_JULIAN_DAY) {
        Ok(date) => format!("{:04}-{:02}-{:02}", date.year(), date.month() as u8, date.day()),
        Err(_) => format!("day {day}"),
    }
}

/// An instant as an owner reads it: `02/12/2026 17:05 WIB`.
pub fn time_text(at: UnixMs) -> String {
    let offset = UtcOffset::from_hms(7, 0, 0).expect("WIB is a valid offset");
    match OffsetDateTime::from_unix_timestamp_nanos(i128::from(at) * 1_000_000) {
        Ok(utc) => {
            let t = utc.to_offset(offset);
            format!("{:02}/{:02}/{:04} {:02}:{:02} WIB", t.day(), t.month() as u8, t.year(), t.hour(), t.minute())
        }
        Err(_) => format!("{at} ms"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_wib_day_starts_at_five_in_the_afternoon_utc_the_day_before() {
        let day = parse_date("2026-12-02").unwrap();
        assert_eq!(date_text(day), "2026-12-02");
        // 2026-12-01T17:00:00Z
        assert_eq!(day_start(day), 1_796_144_400_000);
        assert_eq!(day_of(day_start(day)), day);
        assert_eq!(day_of(day_start(day) - 1), day - 1);
        assert_eq!(hour_of(day_start(day)), 0);
        assert_eq!(time_text(day_start(day) + 17 * 3_600_000 + 5 * 60_000), "02/12/2026 17:05 WIB");
    }

    #[test]
    fn dates_the_calendar_does_not_have_are_refused() {
        assert!(matches!(parse_date("2026-02-31"), Err(DateError::NoSuchDay { .. })));
        assert!(matches!(parse_date("2026-13-01"), Err(DateError::NoSuchDay { .. })));
        assert!(matches!(parse_date("2025-02-29"), Err(DateError::NoSuchDay { .. })));
        assert!(parse_date("2024-02-29").is_ok());
        assert!(matches!(parse_date("2/12/2026"), Err(DateError::NotADate { .. })));
        assert!(matches!(parse_date("2026-1-01"), Err(DateError::NotADate { .. })));
        assert_eq!(parse_date("1970-01-01"), Ok(0));
    }
}
