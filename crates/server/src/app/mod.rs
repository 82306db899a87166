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
