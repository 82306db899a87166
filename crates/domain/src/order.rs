//! Orders as the company's systems send them, checked field by field.

use std::fmt;

use jiff::tz::TimeZone;
use jiff::Timestamp;

use crate::money::Money;
use crate::phone::{Country, Phone};
use crate::time::parse_timestamp;

/// The company's order number: the order's key everywhere.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct OrderNumber(String);

impl OrderNumber {
    pub const MAX_LEN: usize = 64;

    pub fn parse(input: &str) -> Result<OrderNumber, String> {
        let s = input.trim();
        if s.is_empty() {
            return Err("is empty (every order needs its number)".to_owned());
        }
        if s.chars().count() > Self::MAX_LEN {
            return Err(format!("is longer than {} characters", Self::MAX_LEN));
        }
        if s.chars().any(char::is_control) {
            return Err(format!("{s:?} contains control characters"));
        }
        Ok(OrderNumber(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for OrderNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Whether the order was the customer's first (`new`) or a later one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Segment {
    New,
    Repeat,
}

impl Segment {
    /// `new` for the customer's first order, `repeat` for every later one.
    pub fn of_order(is_first_order: bool) -> Segment {
        if is_first_order {
            Segment::New
        } else {
            Segment::Repeat
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Segment::New => "new",
            Segment::Repeat => "repeat",
        }
    }

    /// A segment by its name; `None` for any other word.
    pub fn parse(s: &str) -> Option<Segment> {
        [Segment::New, Segment::Repeat]
            .into_iter()
            .find(|g| g.as_str() == s)
    }
}

/// One order as text, the way CSV rows and JSON items arrive. Every field is
/// optional here; [`OrderInput::validate`] says what is missing or wrong.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OrderInput {
    pub order_number: Option<String>,
    pub customer_phone: Option<String>,
    pub customer_name: Option<String>,
    pub customer_email: Option<String>,
    pub city: Option<String>,
    pub partner: Option<String>,
    pub courier_id: Option<String>,
    pub courier_name: Option<String>,
    pub promised_from: Option<String>,
    pub promised_to: Option<String>,
    pub delivered_at: Option<String>,
    pub amount: Option<String>,
    /// `yes`/`no` (also true/false, 1/0, да/нет): the customer is a VIP
    /// (a survey timed out at their door can raise an incident).
    pub customer_vip: Option<String>,
}

/// A checked order, ready to store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderRecord {
    pub order_number: OrderNumber,
    pub customer_phone: Phone,
    pub customer_name: Option<String>,
    pub customer_email: Option<String>,
    pub city: String,
    pub partner: Option<String>,
    pub courier_id: Option<String>,
    pub courier_name: Option<String>,
    pub promised_from: Timestamp,
    pub promised_to: Timestamp,
    pub delivered_at: Option<Timestamp>,
    pub amount: Option<Money>,
    /// `None`: not said (what is stored stays).
    pub customer_vip: Option<bool>,
}

/// What is wrong with one field of one order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowError {
    pub column: &'static str,
    pub message: String,
}

impl fmt::Display for RowError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.column, self.message)
    }
}

/// The columns an orders file must have.
pub const REQUIRED_COLUMNS: [&str; 5] = [
    "order_number",
    "customer_phone",
    "city",
    "promised_from",
    "promised_to",
];

/// Every column Doorstep reads from an orders file, in contract order.
pub const ALL_COLUMNS: [&str; 13] = [
    "order_number",
    "customer_phone",
    "customer_name",
    "customer_email",
    "city",
    "partner",
    "courier_id",
    "courier_name",
    "promised_from",
    "promised_to",
    "delivered_at",
    "amount",
    "customer_vip",
];

fn present(value: Option<&String>) -> Option<&str> {
    value.map(|v| v.trim()).filter(|v| !v.is_empty())
}

fn short_text(
    errors: &mut Vec<RowError>,
    column: &'static str,
    value: Option<&String>,
    max: usize,
) -> Option<String> {
    let v = present(value)?;
    if v.chars().count() > max {
        errors.push(RowError {
            column,
            message: format!("is longer than {max} characters"),
        });
        return None;
    }
    if v.chars().any(char::is_control) {
        errors.push(RowError {
            column,
            message: "contains control characters".to_owned(),
        });
        return None;
    }
    Some(v.to_owned())
}

fn required<'a>(
    errors: &mut Vec<RowError>,
    column: &'static str,
    value: Option<&'a String>,
) -> Option<&'a str> {
    let v = present(value);
    if v.is_none() {
        errors.push(RowError {
            column,
            message: "is empty (this column is required)".to_owned(),
        });
    }
    v
}

fn timestamp(
    errors: &mut Vec<RowError>,
    column: &'static str,
    value: &str,
    tz: &TimeZone,
) -> Option<Timestamp> {
    parse_timestamp(value, tz)
        .map_err(|e| {
            errors.push(RowError {
                column,
                message: e.to_string(),
            });
        })
        .ok()
}

impl OrderInput {
    /// Checks every field and returns the order, or every problem found.
    pub fn validate(&self, tz: &TimeZone, country: Country) -> Result<OrderRecord, Vec<RowError>> {
        let mut errors = Vec::new();
        let order_number = required(&mut errors, "order_number", self.order_number.as_ref())
            .and_then(|v| {
                OrderNumber::parse(v)
                    .map_err(|message| {
                        errors.push(RowError {
                            column: "order_number",
                            message,
                        });
                    })
                    .ok()
            });
        let customer_phone = required(&mut errors, "customer_phone", self.customer_phone.as_ref())
            .and_then(|v| {
                Phone::parse(v, country)
                    .map_err(|e| {
                        errors.push(RowError {
                            column: "customer_phone",
                            message: e.to_string(),
                        });
                    })
                    .ok()
            });
        let customer_name = short_text(
            &mut errors,
            "customer_name",
            self.customer_name.as_ref(),
            200,
        );
        let customer_email = short_text(
            &mut errors,
            "customer_email",
            self.customer_email.as_ref(),
            254,
        );
        if let Some(email) = &customer_email {
            let plausible = email.split_once('@').is_some_and(|(local, domain)| {
                !local.is_empty() && domain.contains('.') && !email.contains(' ')
            });
            if !plausible {
                errors.push(RowError {
                    column: "customer_email",
                    message: format!(
                        "{email:?} is not an e-mail address (expected name@example.com)"
                    ),
                });
            }
        }
        let city = required(&mut errors, "city", self.city.as_ref());
        let city = city.and_then(|_| short_text(&mut errors, "city", self.city.as_ref(), 100));
        let partner = short_text(&mut errors, "partner", self.partner.as_ref(), 200);
        let courier_id = short_text(&mut errors, "courier_id", self.courier_id.as_ref(), 64);
        let courier_name = short_text(&mut errors, "courier_name", self.courier_name.as_ref(), 200);
        if courier_name.is_some() && courier_id.is_none() {
            errors.push(RowError {
                column: "courier_id",
                message: "is empty but courier_name is given (a courier is known by its id)"
                    .to_owned(),
            });
        }
        let promised_from = required(&mut errors, "promised_from", self.promised_from.as_ref())
            .and_then(|v| timestamp(&mut errors, "promised_from", v, tz));
        let promised_to = required(&mut errors, "promised_to", self.promised_to.as_ref())
            .and_then(|v| timestamp(&mut errors, "promised_to", v, tz));
        if let (Some(from), Some(to)) = (promised_from, promised_to) {
            if to < from {
                errors.push(RowError {
                    column: "promised_to",
                    message: "is before promised_from (the promised window must not end before it starts)".to_owned(),
                });
            }
        }
        let delivered_at = present(self.delivered_at.as_ref())
            .and_then(|v| timestamp(&mut errors, "delivered_at", v, tz));
        let amount = present(self.amount.as_ref()).and_then(|v| match Money::parse(v) {
            Ok(m) if m.minor() < 0 => {
                errors.push(RowError {
                    column: "amount",
                    message: format!("{v:?} is negative (an order amount is zero or more)"),
                });
                None
            }
            Ok(m) => Some(m),
            Err(e) => {
                errors.push(RowError {
                    column: "amount",
                    message: e.to_string(),
                });
                None
            }
        });
        let customer_vip =
            present(self.customer_vip.as_ref()).and_then(|v| match v.to_lowercase().as_str() {
                "yes" | "y" | "true" | "1" | "да" | "vip" => Some(true),
                "no" | "n" | "false" | "0" | "нет" => Some(false),
                _ => {
                    errors.push(RowError {
                        column: "customer_vip",
                        message: format!("{v:?} is not yes or no"),
                    });
                    None
                }
            });
        match (
            order_number,
            customer_phone,
            city,
            promised_from,
            promised_to,
        ) {
            (
                Some(order_number),
                Some(customer_phone),
                Some(city),
                Some(promised_from),
                Some(promised_to),
            ) if errors.is_empty() => Ok(OrderRecord {
                order_number,
                customer_phone,
                customer_name,
                customer_email,
                city,
                partner,
                courier_id,
                courier_name,
                promised_from,
                promised_to,
                delivered_at,
                amount,
                customer_vip,
            }),
            _ => Err(errors),
        }
    }
}

impl OrderRecord {
    /// Delivered inside the promised window (METRICS.md, on-time rate).
    pub fn on_time(&self) -> Option<bool> {
        self.delivered_at
            .map(|d| d >= self.promised_from && d <= self.promised_to)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input() -> OrderInput {
        OrderInput {
            order_number: Some(" A-1001 ".into()),
            customer_phone: Some("8 (916) 123-45-67".into()),
            customer_name: Some("Анна Петрова".into()),
            customer_email: Some("anna@example.ru".into()),
            city: Some("Москва".into()),
            partner: Some("Перекрёсток".into()),
            courier_id: Some("C-7".into()),
            courier_name: Some("Иван Смирнов".into()),
            promised_from: Some("03.11.2026 14:00".into()),
            promised_to: Some("03.11.2026 15:00".into()),
            delivered_at: Some("03.11.2026 14:42".into()),
            amount: Some("1 234,50".into()),
            customer_vip: None,
        }
    }

    fn check(i: &OrderInput) -> Result<OrderRecord, Vec<RowError>> {
        i.validate(
            &TimeZone::get("Europe/Moscow").unwrap(),
            Country::from_code("RU").unwrap(),
        )
    }

    #[test]
    fn a_good_row_becomes_a_record() {
        let r = check(&input()).unwrap();
        assert_eq!(r.order_number.as_str(), "A-1001");
        assert_eq!(r.customer_phone.as_str(), "+79161234567");
        assert_eq!(r.amount, Some(Money::from_minor(123_450)));
        assert_eq!(r.on_time(), Some(true));
    }

    #[test]
    fn every_problem_is_named_with_its_column() {
        let bad = OrderInput {
            order_number: Some("  ".into()),
            customer_phone: Some("12".into()),
            promised_from: Some("31.02.2026 10:00".into()),
            amount: Some("-5".into()),
            courier_id: None,
            customer_email: Some("anna at example".into()),
            ..input()
        };
        let errors = check(&bad).unwrap_err();
        let columns: Vec<&str> = errors.iter().map(|e| e.column).collect();
        assert_eq!(
            columns,
            [
                "order_number",
                "customer_phone",
                "customer_email",
                "courier_id",
                "promised_from",
                "amount"
            ]
        );
        assert!(errors[4]
            .to_string()
            .starts_with("promised_from: \"31.02.2026 10:00\" is not a date"));
    }

    #[test]
    fn the_window_must_not_end_before_it_starts() {
        let bad = OrderInput {
            promised_to: Some("03.11.2026 13:00".into()),
            ..input()
        };
        assert_eq!(check(&bad).unwrap_err()[0].column, "promised_to");
    }

    #[test]
    fn segment_follows_the_first_order() {
        assert_eq!(Segment::of_order(true), Segment::New);
        assert_eq!(Segment::of_order(false), Segment::Repeat);
    }

    #[test]
    fn a_customer_is_a_vip_by_yes_or_no() {
        let with = |vip: &str| OrderInput {
            customer_vip: Some(vip.into()),
            ..input()
        };
        assert_eq!(check(&with("да")).unwrap().customer_vip, Some(true));
        assert_eq!(check(&with("No")).unwrap().customer_vip, Some(false));
        assert_eq!(
            check(&with("")).unwrap().customer_vip,
            None,
            "not said: kept"
        );
        let errors = check(&with("maybe")).unwrap_err();
        assert_eq!(errors[0].column, "customer_vip");
    }
}
