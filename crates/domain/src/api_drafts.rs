//! The JSON shapes of `/api/v1/drafts`: what a member of staff is still writing. A draft is
//! seen by its author alone; its fields are sealed at rest like a message's. Saving is lenient
//! (half-typed addresses and an empty subject are fine), and everything is checked when the
//! draft is sent: a send names its draft in [`crate::api_messages::SendMessage::draft`].

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::api_messages::AttachmentInfo;
use crate::{AttachmentId, Marking, MessageId};

/// The id of a draft. Sending the draft makes the message with the same id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct DraftId(pub Uuid);

impl DraftId {
    /// The message the draft becomes when it is sent.
    pub fn message(self) -> MessageId {
        MessageId(self.0)
    }
}

impl std::fmt::Display for DraftId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl std::str::FromStr for DraftId {
    type Err = uuid::Error;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Uuid::parse_str(s).map(Self)
    }
}

/// What a draft is written from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "message", rename_all = "lowercase")]
pub enum DraftBasis {
    /// An answer, in the conversation of this message.
    Answer(MessageId),
    /// A forward of this message.
    Forward(MessageId),
}

/// The fields of a draft, as the compose page holds them: the body of `POST /api/v1/drafts`
/// and `PUT /api/v1/drafts/{id}`. The passphrase is never kept in a draft (the page asks for it
/// at sending); files are uploaded to the draft on their own.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DraftContent {
    /// The To line, as typed.
    #[serde(default)]
    pub to: Vec<String>,
    /// The Cc line.
    #[serde(default)]
    pub cc: Vec<String>,
    /// The Bcc line.
    #[serde(default)]
    pub bcc: Vec<String>,
    /// The subject.
    #[serde(default)]
    pub subject: String,
    /// The message text.
    #[serde(default)]
    pub body: String,
    /// The marking chosen.
    #[serde(default)]
    pub marking: Marking,
    /// The link lifetime chosen, in days.
    #[serde(default)]
    pub expires_in_days: Option<u32>,
    /// The message answered or forwarded, if any.
    #[serde(default)]
    pub basis: Option<DraftBasis>,
    /// Answering or forwarding: the original's files ticked to be sent on.
    #[serde(default)]
    pub keep_attachments: Vec<AttachmentId>,
}

impl std::fmt::Debug for DraftContent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DraftContent")
            .field("to", &self.to.len())
            .field("cc", &self.cc.len())
            .field("bcc", &self.bcc.len())
            .field("marking", &self.marking)
            .finish_non_exhaustive()
    }
}

/// A draft as its author opens it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Draft {
    /// The draft.
    pub id: DraftId,
    /// Its fields.
    pub content: DraftContent,
    /// Files uploaded to it.
    pub attachments: Vec<AttachmentInfo>,
    /// When it was last saved (Unix ms).
    pub saved_at: i64,
    /// Mail from Outlook held for a passphrase: when it is discarded unless sent (Unix ms).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub held_until: Option<i64>,
}

/// One row of the Drafts box.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DraftSummary {
    /// The draft.
    pub id: DraftId,
    /// Everyone on its To, Cc and Bcc lines so far.
    pub recipients: Vec<String>,
    /// Its subject so far.
    pub subject: String,
    /// How many files are uploaded to it.
    pub attachments: u32,
    /// When it was last saved (Unix ms).
    pub saved_at: i64,
    /// Mail from Outlook held for a passphrase: when it is discarded unless sent (Unix ms).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub held_until: Option<i64>,
}

/// The answer to a save.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct DraftSaved {
    /// The draft (new, for `POST`).
    pub id: DraftId,
    /// When it was saved (Unix ms).
    pub saved_at: i64,
}
