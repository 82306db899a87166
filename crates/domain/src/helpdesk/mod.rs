//! The helpdesk: what happens when a customer is unhappy — alert rules that
//! raise incidents for a dispatcher ([`alerts`], [`incidents`]), cases on
//! every channel ([`cases`]), the remedies a category's playbook offers and
//! the customer's bonus ledger ([`remedies`]), and the SLA clocks that
//! count deadlines in a line's business hours ([`sla`]).

pub mod alerts;
pub mod cases;
pub mod claims;
pub mod incidents;
pub mod late;
pub mod quiet;
pub mod recovery;
pub mod remedies;
pub mod sla;

/// A closed vocabulary written as snake_case words in JSON, forms and the
/// database: `as_str`, `parse` (`None` for any other word), `ALL` and the
/// list of words for error messages.
macro_rules! vocabulary {
    ($(#[$doc:meta])* $name:ident { $($(#[$vdoc:meta])* $variant:ident => $word:literal,)* }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($(#[$vdoc])* $variant,)* }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant,)*];

            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $word,)* }
            }

            pub fn parse(s: &str) -> Option<$name> {
                match s.trim() { $($word => Some($name::$variant),)* _ => None }
            }

            /// The words, for "expected one of …".
            pub fn words() -> String {
                [$($word),*].join(", ")
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}
pub(crate) use vocabulary;
