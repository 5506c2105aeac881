//! Timestamps, dates and periods of SPEC §1, with real calendar checks and no clock.
//!
//! A [`Timestamp`] keeps the exact text it was parsed from, because signatures cover the
//! canonical JSON of what the signer wrote: re-formatting `…:00.50Z` as `…:00.5Z` would break
//! them. Comparisons use the parsed instant.

use std::cmp::Ordering;
use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::truncate_for_error;
use crate::error::FormatError;

/// A calendar date `YYYY-MM-DD` (years 0000–9999).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date {
    year: u16,
    month: u8,
    day: u8,
}

/// A month `YYYY-MM`.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Period {
    year: u16,
    month: u8,
}

/// A UTC instant `YYYY-MM-DDTHH:MM:SS[.f{1,9}]Z`, remembered with its exact text.
#[derive(Clone)]
pub struct Timestamp {
    text: String,
    /// Seconds since 1970-01-01T00:00:00Z (negative before).
    unix_seconds: i64,
    nanos: u32,
}

fn digits(bytes: &[u8]) -> Option<u32> {
    if bytes.is_empty() || !bytes.iter().all(u8::is_ascii_digit) {
        return None;
    }
    bytes.iter().try_fold(0u32, |acc, b| {
        acc.checked_mul(10)?.checked_add(u32::from(b - b'0'))
    })
}

fn is_leap(year: u16) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

fn days_in_month(year: u16, month: u8) -> u8 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if is_leap(year) => 29,
        2 => 28,
        _ => 0,
    }
}

impl Date {
    /// Builds a date from its parts, refusing impossible calendar values.
    pub fn new(year: u16, month: u8, day: u8) -> Option<Self> {
        if year > 9999 || !(1..=12).contains(&month) || day == 0 || day > days_in_month(year, month)
        {
            return None;
        }
        Some(Date { year, month, day })
    }

    /// Parses `YYYY-MM-DD`.
    ///
    /// # Errors
    /// [`FormatError::Field`] naming `date` when the text is not a real calendar date.
    pub fn try_parse(text: &str) -> Result<Self, FormatError> {
        let bad = || FormatError::Field {
            field: "date".into(),
            reason: format!(
                "{:?} is not a calendar date YYYY-MM-DD",
                truncate_for_error(text)
            ),
        };
        let b = text.as_bytes();
        if b.len() != 10 || b.get(4) != Some(&b'-') || b.get(7) != Some(&b'-') {
            return Err(bad());
        }
        let year = b.get(0..4).and_then(digits).ok_or_else(bad)?;
        let month = b.get(5..7).and_then(digits).ok_or_else(bad)?;
        let day = b.get(8..10).and_then(digits).ok_or_else(bad)?;
        Date::new(
            u16::try_from(year).map_err(|_| bad())?,
            u8::try_from(month).map_err(|_| bad())?,
            u8::try_from(day).map_err(|_| bad())?,
        )
        .ok_or_else(bad)
    }

    /// The year.
    pub fn year(&self) -> u16 {
        self.year
    }
    /// The month, 1–12.
    pub fn month(&self) -> u8 {
        self.month
    }
    /// The day of the month.
    pub fn day(&self) -> u8 {
        self.day
    }

    /// The date `days` days later (earlier when negative), if it is still a date.
    pub fn plus_days(&self, days: i64) -> Option<Date> {
        Date::from_days_since_epoch(self.days_since_epoch().checked_add(days)?)
    }

    /// The month this date falls in.
    pub fn period(&self) -> Period {
        Period {
            year: self.year,
            month: self.month,
        }
    }

    /// Days since 1970-01-01 (Howard Hinnant's `days_from_civil`).
    pub fn days_since_epoch(&self) -> i64 {
        let y = i64::from(self.year) - i64::from(self.month <= 2);
        let era = y.div_euclid(400);
        let yoe = y - era * 400;
        let m = i64::from(self.month);
        let mp = (m + 9) % 12;
        let doy = (153 * mp + 2) / 5 + i64::from(self.day) - 1;
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        era * 146_097 + doe - 719_468
    }

    /// The date `days` days after 1970-01-01, if it lies in years 0000–9999.
    pub fn from_days_since_epoch(days: i64) -> Option<Self> {
        let z = days.checked_add(719_468)?;
        let era = z.div_euclid(146_097);
        let doe = z - era * 146_097;
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = doy - (153 * mp + 2) / 5 + 1;
        let month = if mp < 10 { mp + 3 } else { mp - 9 };
        let year = yoe + era * 400 + i64::from(month <= 2);
        Date::new(
            u16::try_from(year).ok()?,
            u8::try_from(month).ok()?,
            u8::try_from(day).ok()?,
        )
    }
}

impl Period {
    /// The year.
    pub fn year(&self) -> u16 {
        self.year
    }

    /// The month, 1–12.
    pub fn month(&self) -> u8 {
        self.month
    }

    /// The period `months` months later, if it is still a period (year 9999 at most).
    pub fn plus_months(&self, months: u32) -> Option<Period> {
        let index = u32::from(self.year) * 12 + u32::from(self.month) - 1 + months;
        let year = u16::try_from(index / 12).ok()?;
        let month = u8::try_from(index % 12 + 1).ok()?;
        Period::new(year, month)
    }

    /// The first day of the month.
    pub fn first_day(&self) -> Date {
        Date {
            year: self.year,
            month: self.month,
            day: 1,
        }
    }

    /// The last day of the month.
    pub fn last_day(&self) -> Date {
        match self.plus_months(1) {
            Some(next) => Date::from_days_since_epoch(next.first_day().days_since_epoch() - 1)
                .unwrap_or(Date {
                    year: self.year,
                    month: self.month,
                    day: 28,
                }),
            None => Date {
                year: self.year,
                month: 12,
                day: 31,
            },
        }
    }

    /// Builds a period, refusing impossible values.
    pub fn new(year: u16, month: u8) -> Option<Self> {
        (year <= 9999 && (1..=12).contains(&month)).then_some(Period { year, month })
    }

    /// Parses `YYYY-MM`.
    ///
    /// # Errors
    /// [`FormatError::Field`] naming `period` when the text is not a real month.
    pub fn try_parse(text: &str) -> Result<Self, FormatError> {
        let bad = || FormatError::Field {
            field: "period".into(),
            reason: format!("{:?} is not a month YYYY-MM", truncate_for_error(text)),
        };
        let b = text.as_bytes();
        if b.len() != 7 || b.get(4) != Some(&b'-') {
            return Err(bad());
        }
        let year = b.get(0..4).and_then(digits).ok_or_else(bad)?;
        let month = b.get(5..7).and_then(digits).ok_or_else(bad)?;
        Period::new(
            u16::try_from(year).map_err(|_| bad())?,
            u8::try_from(month).map_err(|_| bad())?,
        )
        .ok_or_else(bad)
    }
}

impl Timestamp {
    /// Parses a SPEC §1 timestamp, keeping its exact text.
    ///
    /// # Errors
    /// [`FormatError::Timestamp`] when the text is not `YYYY-MM-DDTHH:MM:SS[.f{1,9}]Z` with real
    /// calendar values and seconds 00–59.
    pub fn try_parse(text: &str) -> Result<Self, FormatError> {
        let bad = || FormatError::Timestamp {
            found: truncate_for_error(text),
        };
        let b = text.as_bytes();
        if b.len() < 20 || b.last() != Some(&b'Z') || b.get(10) != Some(&b'T') {
            return Err(bad());
        }
        let date = Date::try_parse(text.get(0..10).ok_or_else(bad)?).map_err(|_| bad())?;
        if b.get(13) != Some(&b':') || b.get(16) != Some(&b':') {
            return Err(bad());
        }
        let hour = b.get(11..13).and_then(digits).ok_or_else(bad)?;
        let minute = b.get(14..16).and_then(digits).ok_or_else(bad)?;
        let second = b.get(17..19).and_then(digits).ok_or_else(bad)?;
        if hour > 23 || minute > 59 || second > 59 {
            return Err(bad());
        }
        let rest = b.get(19..b.len() - 1).ok_or_else(bad)?;
        let nanos = match rest {
            [] => 0,
            [b'.', fraction @ ..] if (1..=9).contains(&fraction.len()) => {
                let value = digits(fraction).ok_or_else(bad)?;
                let scale = 10u32.pow(9 - u32::try_from(fraction.len()).map_err(|_| bad())?);
                value.checked_mul(scale).ok_or_else(bad)?
            }
            _ => return Err(bad()),
        };
        let unix_seconds = date.days_since_epoch() * 86_400
            + i64::from(hour) * 3600
            + i64::from(minute) * 60
            + i64::from(second);
        Ok(Timestamp {
            text: text.to_owned(),
            unix_seconds,
            nanos,
        })
    }

    /// Formats an instant with millisecond precision, as the ledger writes `recorded_at`
    /// (e.g. `2026-11-29T07:51:41.120Z`).
    ///
    /// # Errors
    /// [`FormatError::Timestamp`] when the instant lies outside years 0000–9999.
    pub fn from_unix_millis(millis: i64) -> Result<Self, FormatError> {
        let seconds = millis.div_euclid(1000);
        let milli = millis.rem_euclid(1000);
        let days = seconds.div_euclid(86_400);
        let in_day = seconds.rem_euclid(86_400);
        let date = Date::from_days_since_epoch(days).ok_or(FormatError::Timestamp {
            found: format!("unix milliseconds {millis}"),
        })?;
        let text = format!(
            "{date}T{:02}:{:02}:{:02}.{:03}Z",
            in_day / 3600,
            (in_day / 60) % 60,
            in_day % 60,
            milli
        );
        Timestamp::try_parse(&text)
    }

    /// Formats whole seconds (`YYYY-MM-DDTHH:MM:SSZ`).
    ///
    /// # Errors
    /// [`FormatError::Timestamp`] when the instant lies outside years 0000–9999.
    pub fn from_unix_seconds(seconds: i64) -> Result<Self, FormatError> {
        let days = seconds.div_euclid(86_400);
        let in_day = seconds.rem_euclid(86_400);
        let date = Date::from_days_since_epoch(days).ok_or(FormatError::Timestamp {
            found: format!("unix seconds {seconds}"),
        })?;
        let text = format!(
            "{date}T{:02}:{:02}:{:02}Z",
            in_day / 3600,
            (in_day / 60) % 60,
            in_day % 60
        );
        Timestamp::try_parse(&text)
    }

    /// The exact text.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Whole seconds since the Unix epoch.
    pub fn unix_seconds(&self) -> i64 {
        self.unix_seconds
    }

    /// Nanoseconds since the Unix epoch.
    pub fn unix_nanos(&self) -> i128 {
        i128::from(self.unix_seconds) * 1_000_000_000 + i128::from(self.nanos)
    }

    /// The UTC date of this instant.
    pub fn date(&self) -> Date {
        // The text was parsed from a valid date, so the first ten bytes are one.
        Date::from_days_since_epoch(self.unix_seconds.div_euclid(86_400)).unwrap_or(Date {
            year: 1970,
            month: 1,
            day: 1,
        })
    }
}

impl PartialEq for Timestamp {
    fn eq(&self, other: &Self) -> bool {
        self.text == other.text
    }
}
impl Eq for Timestamp {}

impl PartialOrd for Timestamp {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Timestamp {
    /// Orders by instant; equal instants written differently are ordered by text so that
    /// `Ord` agrees with `Eq`.
    fn cmp(&self, other: &Self) -> Ordering {
        (self.unix_seconds, self.nanos, &self.text).cmp(&(
            other.unix_seconds,
            other.nanos,
            &other.text,
        ))
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}
impl fmt::Debug for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Date({self})")
    }
}
impl fmt::Display for Period {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}", self.year, self.month)
    }
}
impl fmt::Debug for Period {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Period({self})")
    }
}
impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}
impl fmt::Debug for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Timestamp({})", self.text)
    }
}

macro_rules! text_serde {
    ($ty:ty) => {
        impl Serialize for $ty {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.collect_str(self)
            }
        }
        impl<'de> Deserialize<'de> for $ty {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                crate::text::deserialize_parsed(deserializer, <$ty>::try_parse)
            }
        }
        impl std::str::FromStr for $ty {
            type Err = FormatError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                <$ty>::try_parse(s)
            }
        }
    };
}
text_serde!(Date);
text_serde!(Period);
text_serde!(Timestamp);

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        /// A month's last day is the day before the next month's first; stepping by months
        /// adds up; a date `n` days later is `n` days later.
        #[test]
        fn period_and_date_arithmetic_agree(
            year in 0u16..9999, month in 1u8..=12, months in 0u32..240, days in -5000i64..5000
        ) {
            let p = Period::new(year, month).unwrap();
            if let Some(next) = p.plus_months(1) {
                proptest::prop_assert_eq!(
                    p.last_day().plus_days(1), Some(next.first_day())
                );
            }
            if let Some(far) = p.plus_months(months) {
                let back = u32::from(far.year()) * 12 + u32::from(far.month());
                proptest::prop_assert_eq!(back, u32::from(year) * 12 + u32::from(month) + months);
            }
            let d = p.first_day();
            if let Some(moved) = d.plus_days(days) {
                proptest::prop_assert_eq!(moved.days_since_epoch() - d.days_since_epoch(), days);
            }
        }
    }

    #[test]
    fn periods_step_by_months_and_know_their_days() {
        let p = Period::try_parse("2026-11").unwrap();
        assert_eq!(p.plus_months(0), Some(p));
        assert_eq!(p.plus_months(2).unwrap().to_string(), "2027-01");
        assert_eq!(p.plus_months(14).unwrap().to_string(), "2028-01");
        assert_eq!(p.first_day().to_string(), "2026-11-01");
        assert_eq!(p.last_day().to_string(), "2026-11-30");
        assert_eq!(
            Period::try_parse("2028-02").unwrap().last_day().to_string(),
            "2028-02-29"
        );
        assert_eq!(
            Period::try_parse("2027-02").unwrap().last_day().to_string(),
            "2027-02-28"
        );
        assert_eq!(
            Period::try_parse("9999-12").unwrap().last_day().to_string(),
            "9999-12-31"
        );
        assert_eq!(Period::try_parse("9999-12").unwrap().plus_months(1), None);
        let d = Date::try_parse("2026-12-31").unwrap();
        assert_eq!(d.plus_days(1).unwrap().to_string(), "2027-01-01");
        assert_eq!(d.plus_days(-365).unwrap().to_string(), "2025-12-31");
        assert_eq!(Date::try_parse("9999-12-31").unwrap().plus_days(1), None);
    }

    #[test]
    fn parses_timestamps_with_and_without_fractions() {
        let t = Timestamp::try_parse("2026-11-29T07:51:40Z").unwrap();
        assert_eq!(t.unix_seconds(), 1_795_938_700);
        let f = Timestamp::try_parse("2026-11-29T07:51:41.120Z").unwrap();
        assert_eq!(f.unix_nanos(), 1_795_938_701_120_000_000);
        assert!(t < f);
        assert_eq!(f.date().to_string(), "2026-11-29");
        for bad in [
            "2026-11-29T07:51:60Z",
            "2026-02-29T00:00:00Z",
            "2026-11-29 07:51:40Z",
            "2026-11-29T07:51:40",
            "2026-11-29T07:51:40.Z",
            "2026-11-29T07:51:40.1234567890Z",
            "2026-11-29T07:51:40+00:00",
            "2026-13-01T00:00:00Z",
            "2026-11-29T24:00:00Z",
        ] {
            assert!(Timestamp::try_parse(bad).is_err(), "{bad}");
        }
        assert!(Timestamp::try_parse("2024-02-29T23:59:59.999999999Z").is_ok());
    }

    #[test]
    fn formats_millis_and_round_trips_days() {
        let t = Timestamp::from_unix_millis(1_795_938_701_120).unwrap();
        assert_eq!(t.as_str(), "2026-11-29T07:51:41.120Z");
        assert_eq!(
            Timestamp::from_unix_seconds(0).unwrap().as_str(),
            "1970-01-01T00:00:00Z"
        );
        for days in [-719_468i64, -1, 0, 1, 20_000, 2_932_896] {
            let d = Date::from_days_since_epoch(days).unwrap();
            assert_eq!(d.days_since_epoch(), days);
        }
    }

    #[test]
    fn dates_and_periods_are_real_calendar_values() {
        assert!(Date::try_parse("2024-02-29").is_ok());
        assert!(Date::try_parse("2023-02-29").is_err());
        assert!(Date::try_parse("2023-2-28").is_err());
        assert!(Period::try_parse("2026-12").is_ok());
        assert!(Period::try_parse("2026-00").is_err());
        assert!(Period::try_parse("2026-1").is_err());
        assert_eq!(
            Date::try_parse("2026-10-31").unwrap().period(),
            Period::try_parse("2026-10").unwrap()
        );
    }
}
