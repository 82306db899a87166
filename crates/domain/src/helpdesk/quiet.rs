//! Quiet hours: when no notice goes to a customer (at night, in their
//! city's time).

use jiff::civil::Time;
use jiff::tz::TimeZone;

use super::sla::parse_hours;

/// Local minutes `[start, end)` with nothing sent; it may span midnight
/// (22:00–08:00).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QuietHours {
    pub start: u16,
    pub end: u16,
}

impl QuietHours {
    /// The default: from ten at night to eight in the morning.
    pub const NIGHT: QuietHours = QuietHours {
        start: 22 * 60,
        end: 8 * 60,
    };

    /// Reads `22:00-08:00` (blank: no quiet hours). An interval may end
    /// the next morning.
    pub fn parse(text: &str) -> Result<Option<QuietHours>, String> {
        let text = text.trim();
        if text.is_empty() {
            return Ok(None);
        }
        let (a, b) = text
            .split_once(['-', '–', '—'])
            .ok_or_else(|| format!("{text:?} is not an interval (write 22:00-08:00)"))?;
        // Each end read as the start of an interval of its own.
        let minute = |t: &str| -> Result<u16, String> {
            parse_hours(&format!("{}-24:00", t.trim()))
                .map_err(|_| format!("{:?} is not a time of day (write 22:00)", t.trim()))?
                .first()
                .map(|(m, _)| *m)
                .ok_or_else(|| format!("{t:?} is not a time of day"))
        };
        let (start, end) = (minute(a)?, minute(b)?);
        if start == end {
            return Err(
                "quiet hours that start when they end are no hours at all; leave the field empty"
                    .to_owned(),
            );
        }
        Ok(Some(QuietHours { start, end }))
    }

    fn contains(self, minute: u16) -> bool {
        if self.start < self.end {
            (self.start..self.end).contains(&minute)
        } else {
            minute >= self.start || minute < self.end
        }
    }

    /// The first instant at or after `at` (ms) outside the quiet hours in
    /// `tz`.
    pub fn next_allowed(self, tz: &TimeZone, at: i64) -> i64 {
        let Ok(ts) = jiff::Timestamp::from_millisecond(at) else {
            return at;
        };
        let local = ts.to_zoned(tz.clone());
        let minute =
            u16::try_from(i32::from(local.hour()) * 60 + i32::from(local.minute())).unwrap_or(0);
        if !self.contains(minute) {
            return at;
        }
        let date = if minute >= self.end && self.start > self.end {
            local.date().tomorrow().unwrap_or(local.date())
        } else {
            local.date()
        };
        let end = Time::new(
            i8::try_from(self.end / 60).unwrap_or(0),
            i8::try_from(self.end % 60).unwrap_or(0),
            0,
            0,
        )
        .unwrap_or(Time::midnight());
        tz.to_ambiguous_zoned(date.to_datetime(end))
            .compatible()
            .map_or(at, |z| z.timestamp().as_millisecond())
    }
}

impl std::fmt::Display for QuietHours {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{:02}:{:02}-{:02}:{:02}",
            self.start / 60,
            self.start % 60,
            self.end / 60,
            self.end % 60
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> i64 {
        let dt: jiff::civil::DateTime = text.parse().unwrap();
        dt.to_zoned(TimeZone::get("Asia/Tashkent").unwrap())
            .unwrap()
            .timestamp()
            .as_millisecond()
    }

    #[test]
    fn nothing_is_sent_at_night_in_the_customers_city() {
        let tz = TimeZone::get("Asia/Tashkent").unwrap();
        let q = QuietHours::parse("22:00-08:00").unwrap().unwrap();
        assert_eq!(q, QuietHours::NIGHT);
        assert_eq!(
            q.next_allowed(&tz, at("2026-12-06T12:00")),
            at("2026-12-06T12:00")
        );
        assert_eq!(
            q.next_allowed(&tz, at("2026-12-06T23:10")),
            at("2026-12-07T08:00")
        );
        assert_eq!(
            q.next_allowed(&tz, at("2026-12-07T07:59")),
            at("2026-12-07T08:00")
        );
        assert_eq!(
            q.next_allowed(&tz, at("2026-12-06T22:00")),
            at("2026-12-07T08:00")
        );
        assert_eq!(
            q.next_allowed(&tz, at("2026-12-07T08:00")),
            at("2026-12-07T08:00")
        );
        // Within one day.
        let lunch = QuietHours::parse("13:00-14:00").unwrap().unwrap();
        assert_eq!(
            lunch.next_allowed(&tz, at("2026-12-06T13:30")),
            at("2026-12-06T14:00")
        );
        assert_eq!(lunch.to_string(), "13:00-14:00");
        assert_eq!(QuietHours::parse(" "), Ok(None));
        assert!(QuietHours::parse("22:00-22:00").is_err());
        assert!(QuietHours::parse("late").is_err());
    }
}
