//! The helpdesk: what happens when a customer is unhappy — alert rules that
//! raise incidents for a dispatcher ([`alerts`]); cases, remedies and the
//! bonus ledger follow.

pub mod alerts;
