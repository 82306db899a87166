//! Money in minor units (kopecks, tiyin): never a float.

use std::fmt;

/// An amount in minor units of the deployment's currency (1 unit = 100 minor).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Money(i64);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{input:?} is not an amount (expected a number such as 1234.50 or 1 234,50)")]
pub struct MoneyError {
    pub input: String,
}

impl Money {
    pub const fn from_minor(minor: i64) -> Self {
        Self(minor)
    }

    pub const fn minor(self) -> i64 {
        self.0
    }

    /// `1234.50`: no grouping, for JSON and CSV.
    pub fn plain(self) -> String {
        let sign = if self.0 < 0 { "-" } else { "" };
        let abs = self.0.unsigned_abs();
        format!("{sign}{}.{:02}", abs / 100, abs % 100)
    }

    /// Parses an amount as offices write it: `1234.50`, `1 234,50` (with a
    /// space or a no-break space between thousands), `1234`, `1,234.50`.
    /// The last `.` or `,` followed by one or two digits is the decimal
    /// separator; any other separator groups thousands.
    pub fn parse(input: &str) -> Result<Self, MoneyError> {
        let err = || MoneyError {
            input: input.to_owned(),
        };
        let trimmed = input.trim();
        let (negative, body) = match trimmed.strip_prefix('-') {
            Some(rest) => (true, rest.trim_start()),
            None => (false, trimmed),
        };
        let compact: String = body
            .chars()
            .filter(|c| !matches!(c, ' ' | '\u{a0}' | '\u{202f}' | '\''))
            .collect();
        if compact.is_empty() || !compact.chars().next().is_some_and(|c| c.is_ascii_digit()) {
            return Err(err());
        }
        let (int_part, frac_part) = match compact.rfind(['.', ',']) {
            Some(pos) if compact.len() - pos - 1 <= 2 && compact.len() - pos > 1 => {
                (&compact[..pos], &compact[pos + 1..])
            }
            _ => (compact.as_str(), ""),
        };
        let mut units: i64 = 0;
        let mut group_len = 0usize;
        let mut seen_separator = false;
        for c in int_part.chars() {
            match c {
                '0'..='9' => {
                    units = units
                        .checked_mul(10)
                        .and_then(|u| u.checked_add(i64::from(c as u8 - b'0')))
                        .ok_or_else(err)?;
                    group_len += 1;
                }
                // A thousands separator must be followed by exactly three digits.
                '.' | ',' => {
                    let group_ok = if seen_separator {
                        group_len == 3
                    } else {
                        (1..=3).contains(&group_len)
                    };
                    if !group_ok {
                        return Err(err());
                    }
                    seen_separator = true;
                    group_len = 0;
                }
                _ => return Err(err()),
            }
        }
        if seen_separator && group_len != 3 {
            return Err(err());
        }
        let mut minor_frac: i64 = 0;
        for (i, c) in frac_part.chars().enumerate() {
            let digit = c.to_digit(10).ok_or_else(err)?;
            minor_frac += i64::from(digit) * if i == 0 { 10 } else { 1 };
        }
        let minor = units
            .checked_mul(100)
            .and_then(|m| m.checked_add(minor_frac))
            .ok_or_else(err)?;
        Ok(Self(if negative { -minor } else { minor }))
    }
}

impl fmt::Display for Money {
    /// `1 234.50`: thousands grouped by a thin space, two decimals.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.0 < 0 { "-" } else { "" };
        let abs = self.0.unsigned_abs();
        let units = (abs / 100).to_string();
        let mut grouped = String::with_capacity(units.len() + units.len() / 3);
        for (i, c) in units.chars().enumerate() {
            if i > 0 && (units.len() - i).is_multiple_of(3) {
                grouped.push('\u{202f}');
            }
            grouped.push(c);
        }
        write!(f, "{sign}{grouped}.{:02}", abs % 100)
    }
}

#[cfg(test)]
mod tests {
    use super::Money;

    #[test]
    fn parses_office_formats() {
        for (input, minor) in [
            ("1234.50", 123_450),
            ("1 234,50", 123_450),
            ("1\u{a0}234,5", 123_450),
            ("1,234.50", 123_450),
            ("1.234,50", 123_450),
            ("1234", 123_400),
            ("0", 0),
            ("12,3", 1230),
            ("1 000 000", 100_000_000),
            ("-15.00", -1500),
        ] {
            assert_eq!(Money::parse(input), Ok(Money::from_minor(minor)), "{input}");
        }
    }

    #[test]
    fn rejects_what_is_not_an_amount() {
        for input in [
            "",
            "abc",
            "12.3.4x",
            "1,23,4",
            "₽100",
            "1e5",
            "--1",
            "1234,567,8",
        ] {
            assert!(Money::parse(input).is_err(), "{input} should be rejected");
        }
    }

    /// Property: what Doorstep writes, it reads back to the same amount.
    #[test]
    fn display_and_plain_round_trip() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand::rngs::StdRng::seed_from_u64(1);
        for _ in 0..10_000 {
            let minor = rng.gen_range(-10_000_000_000_i64..10_000_000_000);
            let m = Money::from_minor(minor);
            assert_eq!(Money::parse(&m.plain()), Ok(m), "{}", m.plain());
            assert_eq!(Money::parse(&m.to_string()), Ok(m), "{m}");
        }
    }

    #[test]
    fn displays_grouped() {
        assert_eq!(Money::from_minor(123_450).to_string(), "1\u{202f}234.50");
        assert_eq!(Money::from_minor(-5).to_string(), "-0.05");
        assert_eq!(Money::from_minor(123_450).plain(), "1234.50");
    }
}
