//! Typed identifiers, so a user id can never be passed where another kind of id is expected.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// The id of a Sealpost account (staff, IG officer or admin).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct UserId(pub Uuid);

impl std::fmt::Display for UserId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}
