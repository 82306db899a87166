//! The helpdesk's use cases: opening cases and adding contacts from any
//! channel ([`cases`]), applying remedies and writing the bonus ledger
//! ([`remedies`]). The API, the console and the demo all go through here.

pub mod bot;
pub mod cases;
pub mod channels;
pub mod email;
pub mod file;
pub mod late;
pub mod mass;
pub mod notices;
pub mod remedies;
pub mod reports;
pub mod status;
pub mod support;

use doorstep_domain::Phone;

use super::{problem, App, Problem};

/// A phone as the company or an operator wrote it, in E.164, or what is
/// wrong with it (under `field`).
pub fn parse_phone(app: &App, field: &str, input: &str) -> Result<String, Problem> {
    Phone::parse(input, app.deployment().country())
        .map(Phone::into_string)
        .map_err(|e| problem(field, e.to_string()))
}

/// An optional text field: trimmed, `None` when blank, at most `max`
/// characters.
pub fn optional_text(
    field: &str,
    value: Option<&str>,
    max: usize,
) -> Result<Option<String>, Problem> {
    match value.map(str::trim).filter(|v| !v.is_empty()) {
        None => Ok(None),
        Some(v) if v.chars().count() > max => Err(problem(
            field,
            format!("at most {max} characters, this has {}", v.chars().count()),
        )),
        Some(v) => Ok(Some(v.to_owned())),
    }
}
