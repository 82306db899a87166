//! Doorstep's domain: the types and rules of orders, customers, couriers and
//! accounts, with no I/O. Everything that crosses an edge (CSV, JSON, a form)
//! is parsed into these types, so the rest of the program can trust them.

pub mod causes;
pub mod drivers;
pub mod metrics;
pub mod money;
pub mod order;
pub mod phone;
pub mod role;
pub mod settings;
pub mod signals;
pub mod survey;
pub mod time;

pub use money::Money;
pub use order::{OrderInput, OrderNumber, OrderRecord, RowError, Segment};
pub use phone::{Country, Phone};
pub use role::{Role, TokenRole};
pub use settings::Deployment;
