//! Time at the edges: offices write local times, Doorstep stores UTC.
//!
//! Stored timestamps are milliseconds since the Unix epoch (UTC). Text without
//! an offset is read in the deployment's time zone; days and weeks are counted
//! in that zone too.

use jiff::civil::{Date, DateTime};
use jiff::tz::TimeZone;
use jiff::{Timestamp, ToSpan};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{input:?} is not a date and time (expected dd.mm.yyyy HH:MM or ISO 8601, e.g. 2026-11-03T14:30:00+03:00)")]
pub struct TimeError {
    pub input: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{input:?} is not a date (expected YYYY-MM-DD, e.g. 2026-11-03)")]
pub struct DateError {
    pub input: String,
}

/// Milliseconds since the epoch, as stored.
pub fn to_millis(ts: Timestamp) -> i64 {
    ts.as_millisecond()
}

/// The inverse of [`to_millis`]; out-of-range values clamp to the nearest end.
pub fn from_millis(ms: i64) -> Timestamp {
    Timestamp::from_millisecond(ms).unwrap_or(if ms < 0 {
        Timestamp::MIN
    } else {
        Timestamp::MAX
    })
}

/// Parses a timestamp as offices export them: ISO 8601 / RFC 3339 with or
/// without an offset, or `dd.mm.yyyy HH:MM[:SS]`. Without an offset the time
/// is local to `tz`.
pub fn parse_timestamp(input: &str, tz: &TimeZone) -> Result<Timestamp, TimeError> {
    let err = || TimeError {
        input: input.to_owned(),
    };
    let s = input.trim();
    if s.len() < 10 {
        return Err(err());
    }
    let bytes = s.as_bytes();
    if bytes[4] == b'-' {
        if let Ok(ts) = s.parse::<Timestamp>() {
            return Ok(ts);
        }
        let civil: DateTime = s.parse().map_err(|_| err())?;
        return tz
            .to_ambiguous_zoned(civil)
            .compatible()
            .map(|z| z.timestamp())
            .map_err(|_| err());
    }
    if bytes[2] == b'.' && bytes[5] == b'.' {
        let (date_part, time_part) = s.split_once([' ', 'T']).ok_or_else(err)?;
        let date = jiff::fmt::strtime::parse("%d.%m.%Y", date_part)
            .and_then(|p| p.to_date())
            .map_err(|_| err())?;
        let time = parse_clock(time_part.trim()).ok_or_else(err)?;
        let civil = date.to_datetime(time);
        return tz
            .to_ambiguous_zoned(civil)
            .compatible()
            .map(|z| z.timestamp())
            .map_err(|_| err());
    }
    Err(err())
}

/// `H:MM`, `HH:MM` or `HH:MM:SS`.
fn parse_clock(s: &str) -> Option<jiff::civil::Time> {
    let mut parts = s.split(':');
    let hour: i8 = parts.next()?.parse().ok()?;
    let minute_text = parts.next()?;
    let second_text = parts.next();
    if parts.next().is_some() || minute_text.len() != 2 {
        return None;
    }
    let minute: i8 = minute_text.parse().ok()?;
    let second: i8 = match second_text {
        Some(text) if text.len() == 2 => text.parse().ok()?,
        Some(_) => return None,
        None => 0,
    };
    jiff::civil::Time::new(hour, minute, second, 0).ok()
}

/// Parses a `YYYY-MM-DD` date (query strings, forms).
pub fn parse_date(input: &str) -> Result<Date, DateError> {
    let s = input.trim();
    if s.len() != 10 {
        return Err(DateError {
            input: input.to_owned(),
        });
    }
    s.parse::<Date>().map_err(|_| DateError {
        input: input.to_owned(),
    })
}

/// The half-open UTC range `[start, end)` covering the local days `from..=to`.
pub fn day_range(from: Date, to: Date, tz: &TimeZone) -> (Timestamp, Timestamp) {
    let start = tz
        .to_ambiguous_zoned(from.to_datetime(jiff::civil::Time::midnight()))
        .compatible()
        .map_or(Timestamp::MIN, |z| z.timestamp());
    let next = to.checked_add(1.day()).unwrap_or(to);
    let end = tz
        .to_ambiguous_zoned(next.to_datetime(jiff::civil::Time::midnight()))
        .compatible()
        .map_or(Timestamp::MAX, |z| z.timestamp());
    (start, end)
}

/// Formats a stored instant in `tz` as `dd.mm.yyyy HH:MM`, the way people
/// here read times.
pub fn format_local(ts: Timestamp, tz: &TimeZone) -> String {
    ts.to_zoned(tz.clone())
        .strftime("%d.%m.%Y %H:%M")
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn moscow() -> TimeZone {
        TimeZone::get("Europe/Moscow").unwrap()
    }

    #[test]
    fn reads_russian_office_dates_in_the_deployment_zone() {
        let ts = parse_timestamp("03.11.2026 14:30", &moscow()).unwrap();
        assert_eq!(ts.to_string(), "2026-11-03T11:30:00Z");
        let ts = parse_timestamp("03.11.2026 9:05:07", &moscow()).unwrap();
        assert_eq!(ts.to_string(), "2026-11-03T06:05:07Z");
    }

    #[test]
    fn reads_iso_with_and_without_offset() {
        let tz = moscow();
        assert_eq!(
            parse_timestamp("2026-11-03T14:30:00+05:00", &tz)
                .unwrap()
                .to_string(),
            "2026-11-03T09:30:00Z"
        );
        assert_eq!(
            parse_timestamp("2026-11-03T14:30:00Z", &tz)
                .unwrap()
                .to_string(),
            "2026-11-03T14:30:00Z"
        );
        assert_eq!(
            parse_timestamp("2026-11-03 14:30", &tz)
                .unwrap()
                .to_string(),
            "2026-11-03T11:30:00Z"
        );
    }

    #[test]
    fn rejects_impossible_dates_with_the_expected_forms() {
        for input in [
            "31.02.2026 10:00",
            "2026-13-01T00:00",
            "03.11.2026",
            "yesterday",
            "03.11.2026 25:00",
            "3.11.2026 10:00",
        ] {
            let err = parse_timestamp(input, &moscow()).unwrap_err();
            assert!(
                err.to_string()
                    .contains("expected dd.mm.yyyy HH:MM or ISO 8601"),
                "{input}"
            );
        }
    }

    #[test]
    fn day_range_covers_local_days() {
        let from = parse_date("2026-11-03").unwrap();
        let (start, end) = day_range(from, from, &moscow());
        assert_eq!(start.to_string(), "2026-11-02T21:00:00Z");
        assert_eq!(end.to_string(), "2026-11-03T21:00:00Z");
        assert!(parse_date("03.11.2026").is_err());
    }
}

/// 1970-01-01, the day numbered 0.
const EPOCH_DAY: Date = Date::constant(1970, 1, 1);

/// A local date as a day number (days since 1970-01-01): how rollups key days.
pub fn day_number(date: Date) -> i64 {
    i64::from(
        date.since((jiff::Unit::Day, EPOCH_DAY))
            .map_or(0, |s| s.get_days()),
    )
}

/// The date of a day number.
pub fn date_of_day(day: i64) -> Date {
    EPOCH_DAY
        .checked_add(jiff::Span::new().days(day))
        .unwrap_or(EPOCH_DAY)
}

/// The local day number and month (`yyyymm`) of an instant in `tz`.
pub fn local_day(ms: i64, tz: &TimeZone) -> (i64, i64) {
    let date = from_millis(ms).to_zoned(tz.clone()).date();
    (
        day_number(date),
        i64::from(date.year()) * 100 + i64::from(date.month()),
    )
}

/// The Monday starting the week of a day number.
pub fn week_start(day: i64) -> i64 {
    // 1970-01-01 was a Thursday: Monday-based weekday is (day + 3) mod 7.
    day - (day + 3).rem_euclid(7)
}

#[cfg(test)]
mod day_tests {
    use super::*;

    #[test]
    fn days_weeks_and_months_in_local_time() {
        assert_eq!(day_number(Date::constant(1970, 1, 2)), 1);
        let d = Date::constant(2026, 11, 29);
        assert_eq!(date_of_day(day_number(d)), d);
        // Sunday 29 November 2026 belongs to the week of Monday the 23rd.
        assert_eq!(
            date_of_day(week_start(day_number(d))),
            Date::constant(2026, 11, 23)
        );
        assert_eq!(
            week_start(day_number(Date::constant(2026, 11, 23))),
            day_number(Date::constant(2026, 11, 23))
        );
        // 22:30 UTC on the 30th is already 1 December in Moscow.
        let moscow = TimeZone::get("Europe/Moscow").unwrap();
        let ms = "2026-11-30T22:30:00Z"
            .parse::<Timestamp>()
            .unwrap()
            .as_millisecond();
        assert_eq!(
            local_day(ms, &moscow),
            (day_number(Date::constant(2026, 12, 1)), 202_612)
        );
    }
}
