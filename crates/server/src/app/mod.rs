//! The application layer: Doorstep's use cases, with no HTTP types. The
//! API's handlers, the console's pages and the command line are thin
//! adapters over these. Organised by business area, like the domain and
//! the store: what every area shares at the top, each area in a folder.
//!
//! - [`App`]: the state of the application in one process (the store and
//!   the caches that follow the event stream); [`events`]: its fan-out of
//!   committed events.
//! - [`accounts`]: the rules for a new account, API tokens, enrolment codes.
//! - [`helpdesk`]: cases from every channel, remedies and the bonus
//!   ledger.
//! - [`survey`]: recording responses, the scores and their breakdowns, key
//!   drivers, root causes, customer links, attachments, reports.
//! - Webhook subscriptions: [`crate::webhooks::subscribe`].

pub mod accounts;
pub mod calls;
pub mod events;
pub mod helpdesk;
mod state;
pub mod survey;

pub use state::{App, AppState};

/// What is wrong with one field of a request: the field's name (as the
/// client wrote it: `answers.nps`, `group_by`) and what to do about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub field: String,
    pub message: String,
}

/// A [`Problem`] with `field`.
pub fn problem(field: &str, message: impl Into<String>) -> Problem {
    Problem {
        field: field.to_owned(),
        message: message.into(),
    }
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.field, self.message)
    }
}

/// A period as the API and the CLI take it: `from` and `to` (local days,
/// `YYYY-MM-DD`, `to` inclusive), `to` today and `from` 29 days before it
/// when left out, in order, at most three years long. Problems name the
/// parameter.
pub fn period(
    from: Option<&str>,
    to: Option<&str>,
    today: jiff::civil::Date,
) -> Result<(jiff::civil::Date, jiff::civil::Date), Problem> {
    let date = |name: &str, v: Option<&str>| {
        v.map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|s| doorstep_domain::time::parse_date(s).map_err(|e| problem(name, e.to_string())))
            .transpose()
    };
    let to = date("to", to)?.unwrap_or(today);
    let from = match date("from", from)? {
        Some(d) => d,
        None => to.checked_sub(jiff::Span::new().days(29)).unwrap_or(to),
    };
    if from > to {
        return Err(problem("from", format!("{from} is after to ({to})")));
    }
    if from.until(to).map_or(0, |s| s.get_days()) > 3 * 366 {
        return Err(problem("from", "a period may be at most three years long"));
    }
    Ok((from, to))
}
