//! Doorstep's domain: the types and rules of orders, customers, couriers and
//! accounts, with no I/O. Everything that crosses an edge (CSV, JSON, a form)
//! is parsed into these types, so the rest of the program can trust them.
//!
//! Organised by business area: what every area shares (orders, money,
//! phones, roles, deployment settings, local time) at the top, and each
//! area in a folder of its own — [`survey`], [`helpdesk`], and the
//! contact center beside them.

pub mod calls;
pub mod helpdesk;
pub mod money;
pub mod order;
pub mod phone;
pub mod refusal;
pub mod role;
pub mod settings;
pub mod survey;
pub mod time;

pub use money::Money;
pub use order::{OrderInput, OrderNumber, OrderRecord, RowError, Segment};
pub use phone::{Country, Phone};
pub use role::{Role, TokenRole};
pub use settings::Deployment;
