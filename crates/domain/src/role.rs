//! Account roles. A role decides which parts of the app and API an account may use.

use serde::{Deserialize, Serialize};

/// What an account is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Council staff who send and receive secure mail.
    Staff,
    /// Information governance officers: read the audit log, never content.
    Ig,
    /// Council IT: manage accounts and keys, never content.
    Admin,
}

/// The text did not name a role.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("role must be one of: staff, ig, admin")]
pub struct RoleError;

impl Role {
    /// The stable lower-case name used in the database, CLI and API.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Staff => "staff",
            Role::Ig => "ig",
            Role::Admin => "admin",
        }
    }
}

impl std::str::FromStr for Role {
    type Err = RoleError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "staff" => Ok(Role::Staff),
            "ig" => Ok(Role::Ig),
            "admin" => Ok(Role::Admin),
            _ => Err(RoleError),
        }
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_role_round_trips_through_its_name() {
        for role in [Role::Staff, Role::Ig, Role::Admin] {
            assert_eq!(role.as_str().parse::<Role>(), Ok(role));
        }
        assert_eq!("root".parse::<Role>(), Err(RoleError));
    }
}
