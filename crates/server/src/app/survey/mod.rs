//! The survey half of Doorstep: what happens to an answer after the
//! customer gives it, and everything the quality team reads from the
//! answers.
//!
//! - [`responses`]: recording responses from terminals, systems and links.
//! - [`metrics`]: a metrics query turned into scores, per group and period.
//! - [`drivers`], [`causes`]: key drivers and root causes.
//! - [`links`]: survey links sent to customers.
//! - [`attachments`]: photos and audio, with consent and retention.
//! - [`report`], [`schedules`]: reports and their schedules.

pub mod attachments;
pub mod causes;
pub mod commit;
pub mod drivers;
pub mod embed;
pub mod inspections;
pub mod links;
pub mod metrics;
pub mod own_scores;
pub mod refusals;
pub mod report;
pub mod responses;
pub mod schedules;
