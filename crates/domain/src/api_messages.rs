//! The JSON shapes of `/api/v1/messages`, shared by the server and the web app.
//!
//! Sending is one `multipart/form-data` POST: first a part named `message` holding
//! [`SendMessage`] as JSON, then zero or more parts named `attachment`, each a file. The server
//! seals everything as it streams in; nothing is stored in the clear.

use serde::{Deserialize, Serialize};

use crate::{AttachmentId, EmailAddress, Limits, Marking, MessageId, Reference, ReplyId};

/// The `message` part of a send.
#[derive(Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SendMessage {
    /// Addresses as typed. Those with a Sealpost account are internal; all others external.
    pub recipients: Vec<String>,
    /// The subject (sealed at rest).
    pub subject: String,
    /// Plain text body (sealed at rest).
    pub body: String,
    /// The protective marking.
    #[serde(default)]
    pub marking: Marking,
    /// Days until the links expire; the default applies when absent.
    #[serde(default)]
    pub expires_in_days: Option<u32>,
    /// For external recipients: a passphrase the sender will give by phone (required for
    /// OFFICIAL-SENSITIVE). Stored only as an argon2id hash.
    #[serde(default)]
    pub passphrase: Option<String>,
    /// Copied to: seen by every recipient, like the To list.
    #[serde(default)]
    pub cc: Vec<String>,
    /// Blind copies: each of these receives the message, and nobody but the sender ever learns
    /// of them (not the other recipients, the portal, the notifications or the API).
    #[serde(default)]
    pub bcc: Vec<String>,
    /// Answering or forwarding: files of the original (its own, or of a reply the sender may
    /// see) to send on, sealed again with the new message's key. Empty for a new message.
    #[serde(default)]
    pub keep_attachments: Vec<AttachmentId>,
    /// The draft this message was written in, if any: its files go with the message (sealed
    /// once, when uploaded), and the draft is gone once the message is sent.
    #[serde(default)]
    pub draft: Option<crate::api_drafts::DraftId>,
    /// The kinds of concern the sender has seen and confirmed (e.g. `lookalike_domain`), after
    /// a send answered 409 `confirm_concerns` listing them.
    #[serde(default)]
    pub confirmed: Vec<String>,
}

/// A reason to look again before a send (409 `confirm_concerns` lists them): a lookalike of
/// a domain the council writes to, a personal webmail address, several organisations on one
/// OFFICIAL-SENSITIVE message, or sensitive numbers in an OFFICIAL one. It names addresses the
/// sender typed and counts of what was found, never the values found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Concern {
    /// `lookalike_domain`, `personal_webmail`, `several_organisations` or `sensitive_content`.
    pub kind: String,
    /// A sentence for the sender.
    pub message: String,
}

impl std::fmt::Debug for SendMessage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SendMessage")
            .field("recipients", &self.recipients.len())
            .field("cc", &self.cc.len())
            .field("bcc", &self.bcc.len())
            .field("marking", &self.marking)
            .finish_non_exhaustive()
    }
}

/// Which list to fetch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MailBox {
    /// Messages to me (not archived or deleted).
    Inbox,
    /// Messages from me (not deleted).
    Sent,
    /// Messages I archived: out of the Inbox, kept.
    Archive,
    /// Messages I deleted, until the Deleted box is emptied (after the configured days).
    Deleted,
}

/// Where a person files a message they can read (their own filing; nobody else's view changes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Folder {
    /// Back where it came from: the Inbox (or Sent).
    Inbox,
    /// Out of the Inbox, kept.
    Archive,
    /// The Deleted box.
    Deleted,
}

/// `POST /api/v1/messages/{id}/move`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MoveRequest {
    /// Where to.
    pub to: Folder,
}

/// One row of a list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessageSummary {
    /// The message.
    pub id: MessageId,
    /// Its reference code.
    pub reference: Reference,
    /// Who sent it.
    pub sender_name: String,
    /// The subject.
    pub subject: String,
    /// Its marking.
    pub marking: Marking,
    /// When it was sent (Unix ms).
    pub sent_at: i64,
    /// Inbox: not yet opened by me.
    pub unread: bool,
    /// How many files are attached (to the message itself).
    pub attachments: u32,
    /// Sent: each recipient and where delivery stands.
    pub recipients: Vec<RecipientStatus>,
    /// How many secure replies the viewer can see in the thread.
    pub replies: u32,
    /// Inbox, for a thread the viewer sent: who wrote the newest reply.
    pub last_reply_from: Option<EmailAddress>,
    /// When the thread last changed: the newest reply, else when it was sent (Unix ms).
    pub last_activity: i64,
    /// Written outside the council through `/write`: the sender is the address they proved
    /// with a code, not a member of staff.
    #[serde(default)]
    pub from_outside: bool,
    /// Deleted for good (retention or erasure) at this time (Unix ms): the subject and body then
    /// say when and why, and nothing else of it opens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deleted_at: Option<i64>,
}

/// A file attached to a message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttachmentInfo {
    /// For the download URL.
    pub id: AttachmentId,
    /// The file name (sealed at rest).
    pub name: String,
    /// Size in bytes.
    pub size: u64,
}

/// Where delivery to one recipient stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DeliveryStatus {
    /// Internal: in their inbox.
    Delivered,
    /// Internal: opened.
    Read,
    /// External: the notification is waiting to be sent (or retried).
    Queued,
    /// External: the relay accepted the notification.
    Sent,
    /// External: the relay refused it for good; see `detail`.
    Failed,
    /// Access was withdrawn by the sender.
    Revoked,
}

impl DeliveryStatus {
    /// The word stored and sent for it.
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryStatus::Delivered => "delivered",
            DeliveryStatus::Read => "read",
            DeliveryStatus::Queued => "queued",
            DeliveryStatus::Sent => "sent",
            DeliveryStatus::Failed => "failed",
            DeliveryStatus::Revoked => "revoked",
        }
    }

    /// The status `text` names; `None` for anything else.
    pub fn parse(text: &str) -> Option<Self> {
        [Self::Delivered, Self::Read, Self::Queued, Self::Sent, Self::Failed, Self::Revoked]
            .into_iter()
            .find(|s| s.as_str() == text)
    }
}

/// Which line of the envelope a recipient is on.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Addressed {
    /// To.
    #[default]
    To,
    /// Copied (CC): seen by all.
    Cc,
    /// Blind copy (BCC): seen by the sender only.
    Bcc,
}

impl Addressed {
    /// The word stored and sent for it.
    pub fn as_str(self) -> &'static str {
        match self {
            Addressed::To => "to",
            Addressed::Cc => "cc",
            Addressed::Bcc => "bcc",
        }
    }

    /// The line `text` names; `None` for anything else.
    pub fn parse(text: &str) -> Option<Self> {
        [Self::To, Self::Cc, Self::Bcc].into_iter().find(|a| a.as_str() == text)
    }
}

/// One recipient of a sent message, as the sender sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecipientStatus {
    /// Their address.
    pub address: EmailAddress,
    /// To, CC or BCC.
    #[serde(default)]
    pub addressed: Addressed,
    /// True for colleagues with a Sealpost account.
    pub internal: bool,
    /// Where delivery stands.
    pub status: DeliveryStatus,
    /// Why it failed, or when it was read, in words.
    pub detail: Option<String>,
    /// What the audit log shows they did (on the message page only: opens, downloads,
    /// failed attempts).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub activity: Option<crate::api_audit::RecipientTrail>,
}

/// A whole message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessageDetail {
    /// The summary fields.
    pub summary: MessageSummary,
    /// Sender's address.
    pub sender_email: EmailAddress,
    /// The body.
    pub body: String,
    /// The HTML body, for mail taken in from Outlook that had one: cleaned (SECURITY D1), to be
    /// shown only inside a sandboxed frame under its own CSP (D2), beside the text `body`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub html: Option<String>,
    /// Attached files.
    pub attachments: Vec<AttachmentInfo>,
    /// When links stop working (Unix ms).
    pub expires_at: i64,
    /// Only for the sender: per-recipient delivery, blind copies included.
    pub recipients: Vec<RecipientStatus>,
    /// Whom it was sent to, as every reader sees it (never a blind copy).
    #[serde(default)]
    pub to: Vec<EmailAddress>,
    /// Whom it was copied to, as every reader sees it.
    #[serde(default)]
    pub cc: Vec<EmailAddress>,
    /// The reader was sent a blind copy: the others do not know they have it.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub blind_copy: bool,
    /// The secure replies the viewer may see, oldest first: all of them for the sender, their
    /// own for an external recipient.
    pub replies: Vec<ReplyDetail>,
    /// The conversation this message is part of, oldest first, as far as this reader may see
    /// it (the parts sent by them or to them; this one included). Metadata only: each part's
    /// content opens, and is recorded, from its own page. Empty for a message that is neither
    /// answered nor an answer, and in the portal.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub thread: Vec<ThreadPart>,
    /// For a partner: its files can only be viewed in the browser, not downloaded.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub view_only: bool,
    /// For its sender, while the send can still be undone: until when (Unix ms).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub held_until: Option<i64>,
}

/// One part of a conversation, without its content.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ThreadPart {
    /// The part.
    pub id: MessageId,
    /// Its reference.
    pub reference: Reference,
    /// Who sent it.
    pub sender_name: String,
    /// When (Unix ms).
    pub sent_at: i64,
    /// The part it answers.
    pub in_reply_to: Option<MessageId>,
}

/// A secure reply from an external recipient.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReplyDetail {
    /// The reply.
    pub id: ReplyId,
    /// Who wrote it.
    pub from: EmailAddress,
    /// When (Unix ms).
    pub sent_at: i64,
    /// The text (sealed at rest).
    pub body: String,
    /// Its files; they download through the message's attachment URLs.
    pub attachments: Vec<AttachmentInfo>,
}

/// The `reply` part of `POST /api/v1/portal/reply` (multipart, like a send: this part first,
/// then zero or more `attachment` parts).
#[derive(Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SendReply {
    /// Plain text (sealed at rest). May be empty when files are attached.
    #[serde(default)]
    pub body: String,
}

impl std::fmt::Debug for SendReply {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SendReply([redacted])")
    }
}

/// The answer to a reply.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReplySent {
    /// The new reply.
    pub id: ReplyId,
}

/// The answer to a send.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sent {
    /// The new message.
    pub id: MessageId,
    /// Its reference code.
    pub reference: Reference,
    /// Until when (Unix ms) nobody receives it and the sender may undo the send
    /// (`POST /api/v1/messages/{id}/recall`); absent when the council has no undo window.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub held_until: Option<i64>,
}

/// `POST /api/v1/messages/{id}/revoke`: one recipient, or everyone when `recipient` is absent.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RevokeRequest {
    /// The address to revoke.
    #[serde(default)]
    pub recipient: Option<String>,
}

/// `GET /api/v1/info` for a signed-in client: limits and what the compose page needs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ComposeInfo {
    /// Content limits.
    pub limits: Limits,
    /// Addresses this user has sent to before (for autocomplete and the new-address warning).
    pub known_recipients: Vec<EmailAddress>,
    /// The council's policy for each marking.
    #[serde(default)]
    pub policy: crate::Policy,
}

/// `GET /api/v1/portal/links/{token}`: what the link page shows. Never the subject, body or
/// file names; looking it up changes nothing (SECURITY B2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkView {
    /// Who sent it.
    pub sender_name: String,
    /// Their address: whom to contact about the message.
    pub sender_email: String,
    /// Their telephone number, if IT has set one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sender_phone: Option<String>,
    /// Their council.
    pub organisation: String,
    /// The marking.
    pub marking: Marking,
    /// The reference code, as in the notification.
    pub reference: Reference,
    /// When the link stops working (Unix ms).
    pub expires_at: i64,
    /// The recipient will also need the passphrase the sender gives by phone.
    pub passphrase_required: bool,
    /// Set while the recipient is locked out after too many attempts: until when (Unix ms).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub locked_until: Option<i64>,
}

/// `POST /api/v1/messages/{id}/regrant`: the withdrawn recipient to give access back to.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegrantRequest {
    /// Their address.
    pub recipient: String,
}

/// `POST /api/v1/portal/redeem`: the link's token, from the address bar of `/s/{token}`.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RedeemRequest {
    /// The token.
    pub token: String,
}

/// `POST /api/v1/portal/verify`: the emailed code, and the passphrase when the message needs one.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VerifyRequest {
    /// Six digits.
    pub code: String,
    /// The passphrase the sender gave by phone.
    #[serde(default)]
    pub passphrase: Option<String>,
}

impl std::fmt::Debug for RedeemRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RedeemRequest([redacted])")
    }
}

impl std::fmt::Debug for VerifyRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("VerifyRequest([redacted])")
    }
}

/// `GET /api/v1/portal/messages`: one message to the verified recipient's address.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PortalItem {
    /// The message.
    pub id: MessageId,
    /// Its reference code.
    pub reference: Reference,
    /// Who sent it.
    pub sender_name: String,
    /// Its marking.
    pub marking: Marking,
    /// The subject; `None` while it needs its own passphrase (open it from its own email).
    pub subject: Option<String>,
    /// When it was sent (Unix ms).
    pub sent_at: i64,
    /// When its link stops working (Unix ms).
    pub expires_at: i64,
    /// Not yet opened.
    pub unread: bool,
    /// The message whose link opened this session.
    pub current: bool,
}

/// `GET /api/v1/portal/session` and the answer to redeem: where the recipient stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PortalState {
    /// The link page's details.
    pub link: LinkView,
    /// The recipient has proved who they are.
    pub verified: bool,
    /// Minutes an emailed code works for.
    pub code_minutes: u32,
    /// Content limits, for the reply form.
    pub limits: Limits,
}
