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
    /// Each restore from a backup on record, in words, oldest first: a restore rolls the log
    /// back, and a signed record of it is what tells it from tampering.
    #[serde(default)]
    pub restores: Vec<String>,
}

/// Every action the log records, with the words the console shows for it, in the order the
/// console's filter lists them.
pub const ACTIONS: &[(&str, &str)] = &[
    ("message.send", "Sent a message"),
    (
        "message.confirmed_lookalike",
        "Sent after confirming an address that looks like a known domain",
    ),
    (
        "message.confirmed_similar_address",
        "Sent after confirming an address close to one the sender had used",
    ),
    ("message.confirmed_webmail", "Sent after confirming a personal email address"),
    (
        "message.confirmed_organisations",
        "Sent OFFICIAL-SENSITIVE to several organisations after confirming",
    ),
    (
        "message.confirmed_content",
        "Sent as OFFICIAL after confirming content that looked sensitive",
    ),
    ("notification.sent", "Notification email accepted by the mail relay"),
    ("notification.failed", "Notification email could not be delivered"),
    ("notification.bounced", "Notification email bounced: the address does not take mail"),
    (
        "message.shredded",
        "Message deleted for good (retention or erasure): only its record remains",
    ),
    (
        "message.recalled",
        "Send undone by its sender in the undo window: nobody received it, and it is deleted",
    ),
    ("message.hold_placed", "Message put on legal hold: kept until the hold is lifted"),
    ("message.hold_lifted", "Legal hold lifted"),
    (
        "keys.rotated",
        "A new master key was made active; message keys are re-wrapped to it",
    ),
    ("keys.retired", "The old master keys were dropped: nothing needed them"),
    (
        "keys.upgraded",
        "Message keys were upgraded to the faster envelope; their fields re-sealed",
    ),
    (
        "audit.restored",
        "The database was restored from a backup: the log went back to the backup's end",
    ),
    ("portal.redeem", "Opened the secure link"),
    ("portal.code_sent", "One-time code emailed"),
    ("portal.code_failed", "Entered a wrong code"),
    ("portal.passphrase_failed", "Entered a wrong passphrase"),
    ("portal.lockout", "Locked out after too many attempts"),
    ("portal.verified", "Proved who they are"),
    ("portal.sign_out", "Signed out of the portal"),
    ("mailbox.list", "Viewed a list of messages"),
    ("mailbox.search", "Searched their mail"),
    ("message.read", "Opened a message"),
    ("attachment.download", "Downloaded a file"),
    (
        "attachment.view",
        "Viewed a file in the browser (the message's files are view-only)",
    ),
    ("attachment.forward", "Forwarded a file"),
    ("message.reply", "Sent a secure reply"),
    ("message.revoke", "Withdrew access"),
    ("message.regrant", "Gave access again"),
    ("auth.sign_in", "Signed in"),
    ("auth.sign_out", "Signed out"),
    ("auth.account_setup", "Set up their account"),
    ("audit.verify", "Verified the audit log"),
    ("audit.export", "Exported audit events"),
    ("audit.break_glass", "Opened the content by break-glass"),
    ("account.invite", "Invited someone to an account"),
    ("account.role", "Changed an account's role"),
    ("account.disable", "Disabled an account"),
    ("account.enable", "Enabled an account"),
    ("account.second_factor_reset", "Reset an account's second factor"),
    ("auth.second_factor_enrol", "Set up a second factor"),
    ("auth.recovery_code", "Signed in with a recovery code"),
    ("auth.password_accepted", "Gave the right password; a second factor was asked for"),
    ("auth.sso_sign_in", "Signed in through the council's identity provider"),
    (
        "auth.sso_linked",
        "Linked their account to the council's identity provider (a failure: it is linked to someone else)",
    ),
    ("account.sso_created", "Account created at its first single sign-on"),
    ("auth.sso_refused", "A single sign-on answer failed a check; nobody signed in"),
    ("intake.accepted", "Sent secure mail from Outlook (mail intake)"),
    (
        "intake.refused_sender",
        "Mail intake refused: not a member of staff, or not the From address",
    ),
    (
        "intake.refused_untagged",
        "Mail intake refused: no [secure] tag, or not through the council's mail rule",
    ),
    (
        "intake.refused_content",
        "Mail intake refused: the message's format, size or file type",
    ),
    (
        "intake.refused_policy",
        "Mail intake refused: not allowed by email under the council's policy",
    ),
    (
        "intake.held",
        "OFFICIAL-SENSITIVE mail from Outlook held until its sender adds a passphrase",
    ),
    ("intake.discarded", "Held mail from Outlook discarded: not sent within 24 hours"),
];

/// The console's words for `action` (the stored name itself if it is not known).
pub fn action_label(action: &str) -> &str {
    ACTIONS.iter().find(|(a, _)| *a == action).map_or(action, |(_, label)| label)
}

/// `GET /api/v1/audit/events` and `/audit/export`: what to look for. Every field is optional
/// and every one given must match.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditSearch {
    /// A message reference (`SP-…`): its whole history.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
    /// An email address: a member of staff or an external recipient.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub person: Option<String>,
    /// One of [`ACTIONS`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub action: Option<String>,
    /// `success` or `failure`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outcome: Option<String>,
    /// From this day (`YYYY-MM-DD`, UTC), inclusive.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    /// To this day (`YYYY-MM-DD`, UTC), inclusive.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<String>,
    /// The next page: events before this position.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub before: Option<i64>,
}

/// One event as the console shows it: metadata only.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEventView {
    /// Its position in the chain.
    pub seq: i64,
    /// When (Unix ms, UTC).
    pub at_ms: i64,
    /// The actor as stored (`user:<id>`, `recipient:<address>`, `signin:<address>`, `system`).
    pub actor: String,
    /// The actor in words: "Ann Example (ann@…)", an address, or "Sealpost".
    pub actor_label: String,
    /// The actor's email address, when there is one (for the per-person view).
    pub person: Option<String>,
    /// The action as stored.
    pub action: String,
    /// The action in words.
    pub action_label: String,
    /// The reference of the message it concerns, while the message exists.
    pub reference: Option<String>,
    /// What else it names: "file 3f2a…", "for pc@police…".
    pub detail: Option<String>,
    /// The object as stored.
    pub object: Option<String>,
    /// `success` or `failure`.
    pub outcome: String,
    /// Client address.
    pub ip: Option<String>,
    /// Client user agent.
    pub user_agent: Option<String>,
    /// The request id in the server's log.
    pub request_id: Option<String>,
}

/// A page of search results, newest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditPage {
    /// The events.
    pub events: Vec<AuditEventView>,
    /// Pass as `before` for the next page; `None` on the last one.
    pub next_before: Option<i64>,
    /// Who `person` turned out to be, when searching by person: "Ann Example, staff".
    pub person_label: Option<String>,
}

/// What happened for one recipient of a message, from the log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecipientTrail {
    /// Their address.
    pub address: String,
    /// A colleague (Sealpost inbox) rather than an external partner.
    pub internal: bool,
    /// When their notification email was accepted by the relay.
    pub notified_at_ms: Option<i64>,
    /// Their notification email failed.
    pub notification_failed: bool,
    /// When they first opened the message.
    pub first_opened_at_ms: Option<i64>,
    /// How many times they opened it.
    pub opens: u32,
    /// How many files they downloaded (counting repeats).
    pub downloads: u32,
    /// Which files, by attachment id, first download first: the sender's page shows their
    /// names (the sender's own files); the IG console shows only the count.
    #[serde(default)]
    pub downloaded: Vec<String>,
    /// Wrong codes, wrong passphrases and lockouts.
    pub failed_attempts: u32,
    /// When their access was withdrawn.
    pub revoked_at_ms: Option<i64>,
}

/// `GET /api/v1/audit/messages/{reference}`: a message's history at a glance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessageTimeline {
    /// Its reference.
    pub reference: String,
    /// Its protective marking, in words.
    pub marking: String,
    /// Who sent it, in words.
    pub sender: String,
    /// When.
    pub sent_at_ms: i64,
    /// When its links expire.
    pub expires_at_ms: i64,
    /// Per recipient: notified, opened, downloaded, failed attempts, revoked.
    pub recipients: Vec<RecipientTrail>,
    /// Every event about it, oldest first.
    pub events: Vec<AuditEventView>,
    /// More events exist than are shown (search by reference to page through them all).
    pub truncated: bool,
    /// Its legal hold, if IG placed one: it is not deleted, by retention or erasure, until
    /// the hold is lifted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub legal_hold: Option<LegalHoldView>,
    /// It was deleted for good (crypto-shredded): when, how, and IG's reason for an erasure.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deleted: Option<DeletionView>,
}

/// A message's legal hold, as the IG console shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LegalHoldView {
    /// Why, in the officer's words.
    pub reason: String,
    /// Who placed it, in words.
    pub placed_by: String,
    /// When (Unix ms).
    pub placed_at_ms: i64,
}

/// When and how a message was deleted for good.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeletionView {
    /// When (Unix ms).
    pub at_ms: i64,
    /// Erased by IG (else deleted under the retention schedule, or recalled).
    pub erased: bool,
    /// Cancelled by its sender in the undo window, before anyone received it.
    #[serde(default)]
    pub recalled: bool,
    /// IG's reason, for an erasure.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// `POST /api/v1/audit/messages/{reference}/hold` and `…/erase`: why, in words kept on the
/// record (an erasure's reason is also emailed to the DPO and the administrators).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LifecycleRequest {
    /// Why.
    pub reason: String,
}

/// `POST /api/v1/audit/break-glass/{reference}`: why, and the officer's password again.
/// `Debug` redacts the password.
#[derive(Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BreakGlassRequest {
    /// Why the content must be seen, in words the DPO will read.
    pub reason: String,
    /// The officer's own password, entered again.
    pub password: String,
}

impl std::fmt::Debug for BreakGlassRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BreakGlassRequest")
            .field("reason", &self.reason)
            .field("password", &"[redacted]")
            .finish()
    }
}

/// A message opened by break-glass, and until when the access lasts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BreakGlassAccess {
    /// The message as its sender sees it: body, files and every reply.
    pub detail: crate::api_messages::MessageDetail,
    /// The access ends then (Unix ms); each read until then is recorded too.
    pub until_ms: i64,
    /// The reason given.
    pub reason: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_action_has_words_and_unknown_ones_show_as_stored() {
        assert_eq!(action_label("message.read"), "Opened a message");
        assert_eq!(action_label("something.new"), "something.new");
        let mut names: Vec<&str> = ACTIONS.iter().map(|(a, _)| *a).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), ACTIONS.len(), "no action listed twice");
    }
}
