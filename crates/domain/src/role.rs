//! Who may do what: the roles of people and of machine tokens.

use std::fmt;
use std::str::FromStr;

/// A person's role in the console.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    /// Runs the deployment: settings, accounts, tokens, imports.
    Admin,
    /// Quality manager: surveys, metrics, reports.
    Quality,
    /// Takes incidents off the live queue and calls customers back.
    Dispatcher,
    /// Support operator: cases on every channel.
    Operator,
}

/// The role of a bearer token made by `doorstep token create`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TokenRole {
    /// The company's systems: orders and calls in, metrics out.
    Integration,
    /// A courier's door-survey terminal.
    Terminal,
    /// A mystery shopper's terminal: fills inspection surveys about the
    /// courier who delivered, and nothing else.
    Inspector,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{input:?} is not a role (expected one of: {expected})")]
pub struct RoleError {
    pub input: String,
    pub expected: &'static str,
}

impl Role {
    pub const ALL: [Role; 4] = [Role::Admin, Role::Quality, Role::Dispatcher, Role::Operator];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Quality => "quality",
            Role::Dispatcher => "dispatcher",
            Role::Operator => "operator",
        }
    }
}

impl TokenRole {
    pub fn as_str(self) -> &'static str {
        match self {
            TokenRole::Integration => "integration",
            TokenRole::Terminal => "terminal",
            TokenRole::Inspector => "inspector",
        }
    }
}

impl FromStr for Role {
    type Err = RoleError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str() == s.trim())
            .ok_or_else(|| RoleError {
                input: s.to_owned(),
                expected: "admin, quality, dispatcher, operator",
            })
    }
}

impl FromStr for TokenRole {
    type Err = RoleError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim() {
            "integration" => Ok(TokenRole::Integration),
            "terminal" => Ok(TokenRole::Terminal),
            "inspector" => Ok(TokenRole::Inspector),
            _ => Err(RoleError {
                input: s.to_owned(),
                expected: "integration, terminal, inspector",
            }),
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Display for TokenRole {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_round_trip() {
        for role in Role::ALL {
            assert_eq!(role.as_str().parse::<Role>(), Ok(role));
        }
        assert!("root"
            .parse::<Role>()
            .unwrap_err()
            .to_string()
            .contains("admin, quality"));
        assert_eq!("terminal".parse::<TokenRole>(), Ok(TokenRole::Terminal));
        assert_eq!("inspector".parse::<TokenRole>(), Ok(TokenRole::Inspector));
        assert!("admin".parse::<TokenRole>().is_err());
    }
}
