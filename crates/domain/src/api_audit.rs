//! The JSON shapes of `/api/v1/audit/*`, for information governance officers.

use serde::{Deserialize, Serialize};

/// `POST /api/v1/audit/verify`: the result of walking the whole chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditVerification {
    /// Every event is where it should be and unaltered.
    pub intact: bool,
    /// How many events were checked (up to the head, or up to the break).
    pub events: i64,
    /// The head reached, `SEQ:HASH`: keep it, and a later verify can prove nothing up to it
    /// was rewritten.
    pub head: Option<String>,
    /// How many signed checkpoints the chain was checked against.
    pub checkpoints: usize,
    /// What is wrong, in words, when the chain is not intact.
    pub problem: Option<String>,
}
