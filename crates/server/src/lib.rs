//! Doorstep's server crate: the `doorstep` binary's command line, HTTP
//! server, import and demo. A library too, so that the integration tests in
//! `tests/` can start the real application in-process.

pub mod attachments;
pub mod causes;
pub mod charts;
pub mod cli;
pub mod demo;
pub mod drivers;
pub mod http;
pub mod i18n;
pub mod import;
pub mod links;
pub mod mail;
pub mod metrics;
pub mod report;
pub mod schedules;
pub mod security;
