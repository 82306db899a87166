//! The application layer: Doorstep's use cases, with no HTTP types. The
//! API's handlers, the console's pages and the command line are thin
//! adapters over these. Organised by business area, like the domain and
//! the store: what every area shares at the top, each area in a folder.
//!
//! - [`accounts`]: the rules for a new account, API tokens, enrolment codes.
//! - [`survey`]: recording responses, the scores and their breakdowns, key
//!   drivers, root causes, customer links, attachments, reports.
//! - Webhook subscriptions: [`crate::webhooks::subscribe`].

pub mod accounts;
pub mod survey;
