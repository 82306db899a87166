//! The application layer: Doorstep's use cases, with no HTTP types. The
//! API's handlers, the console's pages and the command line are thin
//! adapters over these.
//!
//! - [`responses`]: recording survey responses (terminals, systems, links).
//! - [`accounts`]: the rules for a new account, API tokens, enrolment codes.
//! - Webhook subscriptions: [`crate::webhooks::subscribe`].

pub mod accounts;
pub mod responses;
