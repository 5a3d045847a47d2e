//! The JSON shapes of `/api/v1/write`: someone outside the council starting a secure message
//! to a member of staff. They give their address and the council address, prove their address
//! with an emailed code, then write (a multipart POST like a send: a `message` part holding
//! [`WriteMessage`], then `attachment` parts).

use serde::{Deserialize, Serialize};

use crate::Reference;

/// `POST /api/v1/write/start`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WriteStart {
    /// The writer's own address, where the code goes.
    pub from: String,
    /// The council address they are writing to.
    pub to: String,
}

/// `POST /api/v1/write/verify`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WriteVerify {
    /// The six digits from the email.
    pub code: String,
}

/// Where a `/write` visit stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WriteState {
    /// The writer's address.
    pub from: String,
    /// The council address they are writing to.
    pub to: String,
    /// They have proved their address and may write.
    pub verified: bool,
    /// Minutes a code works for.
    pub code_minutes: u32,
}

/// The `message` part of `POST /api/v1/write/send`.
#[derive(Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WriteMessage {
    /// The subject.
    pub subject: String,
    /// The message text.
    pub body: String,
}

impl std::fmt::Debug for WriteMessage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WriteMessage").finish_non_exhaustive()
    }
}

/// The answer to `POST /api/v1/write/send`: the same whether or not the council address
/// belongs to someone (nobody learns who works at the council this way).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WriteSent {
    /// The reference to quote.
    pub reference: Reference,
}
