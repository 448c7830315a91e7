//! Calendar dates (`YYYY-MM-DD`, proleptic Gregorian), for waivers' `approved_on` and
//! `expires` and the day a vet is made on. The engine has no clock: the host passes the date.

use std::fmt;

/// A calendar date, held as days since 1970-01-01.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date(i64);

impl Date {
    /// Parse `YYYY-MM-DD` (four-digit year from 1970 to 9999, a real day of that month):
    /// nothing else, no time, no offset.
    pub fn parse(text: &str) -> Option<Date> {
        let b = text.as_bytes();
        if b.len() != 10 || b.get(4) != Some(&b'-') || b.get(7) != Some(&b'-') {
            return None;
        }
        let num = |r: std::ops::Range<usize>| -> Option<i64> {
            let digits = b.get(r)?;
            digits.iter().try_fold(0i64, |acc, d| {
                d.is_ascii_digit().then(|| acc * 10 + i64::from(d - b'0'))
            })
        };
        let (y, m, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
        if y < 1970 || !(1..=12).contains(&m) || d < 1 || d > days_in_month(y, m) {
            return None;
        }
        Some(Date(days_from_civil(y, m, d)))
    }

    /// [`Date::parse`] of the day a vet is made on (an argument of a vet call): an
    /// `invalid-argument` error that says what was given when it is not a date.
    pub fn parse_today(text: &str) -> crate::Result<Date> {
        Date::parse(text).ok_or_else(|| {
            let shown: String = text.chars().take(40).collect();
            crate::Error::new(
                crate::ErrorCode::InvalidArgument,
                format!("`today` is not a date `YYYY-MM-DD`: `{shown}`"),
            )
            .with_help("pass the day of the vet in UTC, e.g. `2026-12-03`")
        })
    }

    /// The date `days` days since 1970-01-01.
    pub fn from_days(days: i64) -> Date {
        Date(days)
    }

    /// Days since 1970-01-01.
    pub fn days(self) -> i64 {
        self.0
    }

    /// (year, month, day).
    pub fn ymd(self) -> (i64, i64, i64) {
        civil_from_days(self.0)
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (y, m, d) = self.ymd();
        write!(f, "{y:04}-{m:02}-{d:02}")
    }
}

fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        2 if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a civil date (Howard Hinnant's `days_from_civil`).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The civil date of days since 1970-01-01 (Howard Hinnant's `civil_from_days`).
fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn parses_and_prints_back() {
        for s in [
            "1970-01-01",
            "2000-02-29",
            "2026-12-03",
            "2027-03-01",
            "9999-12-31",
        ] {
            assert_eq!(Date::parse(s).unwrap().to_string(), s);
        }
        assert_eq!(Date::parse("1970-01-01").unwrap().days(), 0);
        assert_eq!(Date::parse("2026-12-03").unwrap().days(), 20_790);
    }

    #[test]
    fn day_arithmetic_crosses_months_and_leap_days() {
        let a = Date::parse("2028-02-28").unwrap();
        assert_eq!(Date::from_days(a.days() + 1).to_string(), "2028-02-29");
        assert_eq!(Date::from_days(a.days() + 2).to_string(), "2028-03-01");
        let b = Date::parse("2026-12-31").unwrap();
        assert_eq!(Date::from_days(b.days() + 1).to_string(), "2027-01-01");
    }

    #[test]
    fn refuses_what_is_not_a_day() {
        for s in [
            "",
            "2026-2-03",
            "2026-02-30",
            "2026-13-01",
            "2026-00-10",
            "2026-01-00",
            "1900-02-29",
            "2026-12-03T00:00:00Z",
            " 2026-12-03",
            "2026/12/03",
            "１２３４-12-03",
            "1969-12-31",
            "+202-12-03",
        ] {
            assert_eq!(Date::parse(s), None, "{s:?}");
        }
    }
}
