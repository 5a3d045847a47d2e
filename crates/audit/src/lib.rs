//! Audit events: who did what, to which object, with what outcome, from where (SECURITY F2).
//!
//! Pure types, no I/O: storage appends them, the server records them before it reveals content.
//! Actors, actions and objects are typed, so an event cannot name a free-form action, and none
//! of them can carry content, tokens, codes or passwords. [`chain`] holds the canonical
//! encoding, the hash chain and its verifier.

pub mod chain;
#[cfg(test)]
mod chain_tests;
pub mod checkpoint;
pub mod csv;

use sealpost_domain::{AttachmentId, EmailAddress, MessageId, UserId};

/// Who acted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Actor {
    /// A signed-in account.
    User(UserId),
    /// An external recipient, by address.
    Recipient(EmailAddress),
    /// Someone signing in as this address, before they have proved it (a failed sign-in, or
    /// one for an address with no account).
    SigningIn(EmailAddress),
    /// Sealpost itself (the outbox worker, retention).
    System,
}

/// What happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// A message was sent.
    MessageSend,
    /// An inbox or sent list (with subjects) was shown.
    MailboxList,
    /// A member of staff searched their own mail (what for is never recorded).
    MailboxSearch,
    /// A message was opened.
    MessageRead,
    /// An attachment was downloaded.
    AttachmentDownload,
    /// An attachment was forwarded: opened and sealed again into a new message.
    AttachmentForward,
    /// An attachment was shown in the browser, not downloaded (a view-only message's file).
    AttachmentView,
    /// Access was withdrawn.
    MessageRevoke,
    /// Access was given back after a withdrawal (a partner gets a new link).
    MessageRegrant,
    /// A notification email was accepted by the relay.
    NotificationSent,
    /// A notification email could not be delivered.
    NotificationFailed,
    /// A recipient redeemed their link (asked for a code).
    LinkRedeem,
    /// A one-time code was emailed.
    CodeSent,
    /// A wrong code was entered.
    CodeFailed,
    /// A wrong passphrase was entered.
    PassphraseFailed,
    /// A recipient proved who they are.
    PortalVerified,
    /// A recipient was locked out after too many attempts.
    PortalLockout,
    /// A recipient signed out of the portal.
    PortalSignOut,
    /// A recipient sent a secure reply.
    ReplySend,
    /// A member of staff signed in (or failed to).
    SignIn,
    /// A member of staff signed out.
    SignOut,
    /// A new account chose its first password through its set-up link.
    AccountSetup,
    /// An IG officer verified the audit chain.
    AuditVerify,
    /// Audit events were exported (by an IG officer, or by `sealpost audit export`).
    AuditExport,
    /// An IG officer opened a message's content by break-glass (SECURITY C3).
    BreakGlass,
    /// An administrator invited someone to an account (or sent the invitation again).
    AccountInvite,
    /// An administrator changed an account's role.
    AccountRole,
    /// An administrator disabled an account.
    AccountDisable,
    /// An administrator enabled an account again.
    AccountEnable,
    /// An administrator removed an account's second factor, so it sets one up again.
    SecondFactorReset,
    /// A member of staff set up a second factor (TOTP).
    SecondFactorEnrol,
    /// A member of staff signed in with one of their recovery codes.
    RecoveryCodeUsed,
    /// The right password was given; the sign-in waits for the second factor (or its set-up).
    PasswordAccepted,
    /// A member of staff signed in through the council's identity provider (single sign-on).
    SsoSignIn,
    /// An account was linked to the person's id at the identity provider, at its first
    /// single sign-on.
    SsoLinked,
    /// An account was created at its holder's first single sign-on (`SEALPOST_OIDC_AUTOCREATE`).
    SsoCreated,
    /// The identity provider's answer failed a check (signature, issuer, audience, expiry,
    /// nonce or tenant): nobody was signed in.
    SsoRefused,
    /// A message from the council's mail system was taken in and sent (the object is the
    /// message; its `message.send` follows).
    IntakeAccepted,
    /// Intake refused a message: the sender is not active staff, or not the From.
    IntakeRefusedSender,
    /// Intake refused a message without the subject tag, or without the transport rule's
    /// secret.
    IntakeRefusedUntagged,
    /// Intake refused a message's form or content: not MIME, winmail.dat, too large, a blocked
    /// file type.
    IntakeRefusedContent,
    /// Intake refused a message the policy does not allow by email (e.g. OFFICIAL-SENSITIVE
    /// mail to hold for a passphrase when its sender's drafts are full).
    IntakeRefusedPolicy,
    /// Intake kept an OFFICIAL-SENSITIVE message to people outside the council as its sender's
    /// draft, held for a passphrase (the object is the message it becomes when sent).
    IntakeHeld,
    /// A held message was not sent in time and was discarded, with its files.
    IntakeHeldDiscarded,
    /// A delivery report (bounce) came back for a notification: the recipient's address
    /// does not take mail.
    NotificationBounced,
    /// A message was crypto-shredded: its key and files deleted, its metadata kept (by the
    /// retention schedule, or erased by IG).
    MessageShredded,
    /// The sender cancelled a message in its undo window, before anyone received it: it was
    /// crypto-shredded and no notification left.
    MessageRecalled,
    /// IG put a message on legal hold: it is not shredded until the hold is lifted.
    MessageHoldPlaced,
    /// IG lifted a message's legal hold.
    MessageHoldLifted,
    /// A new master key was made active (`sealpost keys rotate`); keys are re-wrapped to it.
    KeysRotated,
    /// The old master keys were dropped once nothing needed them (`sealpost keys retire`).
    KeysRetired,
    /// The sender confirmed a send to an address one slip from one they have written to.
    ConfirmedSimilarAddress,
    /// The sender confirmed a send to an address whose domain looks like one the council
    /// writes to (the object is the message).
    ConfirmedLookalike,
    /// The sender confirmed a send to a personal webmail address.
    ConfirmedWebmail,
    /// The sender confirmed an OFFICIAL-SENSITIVE send to several organisations.
    ConfirmedOrganisations,
    /// The sender confirmed an OFFICIAL send whose content looked sensitive (NHS, National
    /// Insurance or bank numbers, or the council's keywords; never which).
    ConfirmedContent,
    /// Message keys of the envelope before v2 were upgraded and their fields re-sealed
    /// (`sealpost keys upgrade`).
    KeysUpgraded,
    /// The database was restored from a backup (`sealpost restore`): the log went back to
    /// the backup's head, and a signed restore record says so.
    AuditRestored,
}

/// What it happened to. Everything about a message names the message first
/// (`message:<id>…`), so its timeline is one indexed lookup even after the message is erased.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Object {
    /// A message.
    Message(MessageId),
    /// One of a message's attachments (its own or a reply's).
    Attachment(MessageId, AttachmentId),
    /// A message as it concerns one recipient (their notification email, their revocation).
    Recipient(MessageId, EmailAddress),
    /// A person, by address: whose activity an export covered.
    Person(EmailAddress),
}

/// How it ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// It worked.
    Success,
    /// It was refused or failed.
    Failure,
}

/// Where the request came from.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Origin {
    /// Client address.
    pub ip: Option<String>,
    /// User agent (truncated).
    pub user_agent: Option<String>,
    /// The request id tracing logged.
    pub request_id: Option<String>,
}

/// One event, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEvent {
    /// When (Unix ms, UTC).
    pub at_ms: i64,
    /// `user:<id>`, `recipient:<address>`, `signin:<address>` or `system`.
    pub actor: String,
    /// e.g. `message.read`.
    pub action: String,
    /// e.g. `message:<id>` or `message:<id>/attachment:<id>`.
    pub object: Option<String>,
    /// `success` or `failure`.
    pub outcome: String,
    /// Where from.
    pub origin: Origin,
}

impl AuditEvent {
    /// An event from typed parts.
    pub fn new(at_ms: i64, actor: &Actor, action: Action, object: Option<Object>, outcome: Outcome, origin: Origin) -> Self {
        Self {
            at_ms,
            actor: actor.to_string(),
            action: action.as_str().to_owned(),
            object: object.map(|o| o.to_string()),
            outcome: outcome.as_str().to_owned(),
            origin,
        }
    }
}

impl std::fmt::Display for Actor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Actor::User(id) => write!(f, "user:{id}"),
            Actor::Recipient(address) => write!(f, "recipient:{address}"),
            Actor::SigningIn(address) => write!(f, "signin:{address}"),
            Actor::System => f.write_str("system"),
        }
    }
}

impl std::fmt::Display for Object {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Object::Message(id) => write!(f, "message:{id}"),
            Object::Attachment(message, id) => write!(f, "message:{message}/attachment:{id}"),
            Object::Recipient(message, to) => write!(f, "message:{message}/to:{to}"),
            Object::Person(address) => write!(f, "person:{address}"),
        }
    }
}

/// Reads back the stored form; `None` for anything else (events written before today's forms).
impl std::str::FromStr for Object {
    type Err = ();

    fn from_str(text: &str) -> Result<Self, ()> {
        if let Some(address) = text.strip_prefix("person:") {
            return EmailAddress::parse(address).map(Object::Person).map_err(|_| ());
        }
        let rest = text.strip_prefix("message:").ok_or(())?;
        let (message, tail) = rest.split_once('/').map_or((rest, None), |(m, t)| (m, Some(t)));
        let message: MessageId = message.parse().map_err(|_| ())?;
        match tail {
            None => Ok(Object::Message(message)),
            Some(t) => match t.split_once(':') {
                Some(("attachment", id)) => Ok(Object::Attachment(message, id.parse().map_err(|_| ())?)),
                Some(("to", address)) => Ok(Object::Recipient(message, EmailAddress::parse(address).map_err(|_| ())?)),
                _ => Err(()),
            },
        }
    }
}

impl Action {
    /// The stable name stored and searched.
    pub fn as_str(self) -> &'static str {
        match self {
            Action::MessageSend => "message.send",
            Action::MailboxList => "mailbox.list",
            Action::MailboxSearch => "mailbox.search",
            Action::MessageRead => "message.read",
            Action::AttachmentDownload => "attachment.download",
            Action::AttachmentForward => "attachment.forward",
            Action::AttachmentView => "attachment.view",
            Action::MessageRevoke => "message.revoke",
            Action::MessageRegrant => "message.regrant",
            Action::NotificationSent => "notification.sent",
            Action::NotificationFailed => "notification.failed",
            Action::LinkRedeem => "portal.redeem",
            Action::CodeSent => "portal.code_sent",
            Action::CodeFailed => "portal.code_failed",
            Action::PassphraseFailed => "portal.passphrase_failed",
            Action::PortalVerified => "portal.verified",
            Action::PortalLockout => "portal.lockout",
            Action::PortalSignOut => "portal.sign_out",
            Action::ReplySend => "message.reply",
            Action::SignIn => "auth.sign_in",
            Action::SignOut => "auth.sign_out",
            Action::AccountSetup => "auth.account_setup",
            Action::AuditVerify => "audit.verify",
            Action::AuditExport => "audit.export",
            Action::BreakGlass => "audit.break_glass",
            Action::AccountInvite => "account.invite",
            Action::AccountRole => "account.role",
            Action::AccountDisable => "account.disable",
            Action::AccountEnable => "account.enable",
            Action::SecondFactorReset => "account.second_factor_reset",
            Action::SecondFactorEnrol => "auth.second_factor_enrol",
            Action::RecoveryCodeUsed => "auth.recovery_code",
            Action::PasswordAccepted => "auth.password_accepted",
            Action::SsoSignIn => "auth.sso_sign_in",
            Action::SsoLinked => "auth.sso_linked",
            Action::SsoCreated => "account.sso_created",
            Action::SsoRefused => "auth.sso_refused",
            Action::IntakeAccepted => "intake.accepted",
            Action::IntakeRefusedSender => "intake.refused_sender",
            Action::IntakeRefusedUntagged => "intake.refused_untagged",
            Action::IntakeRefusedContent => "intake.refused_content",
            Action::IntakeRefusedPolicy => "intake.refused_policy",
            Action::IntakeHeld => "intake.held",
            Action::IntakeHeldDiscarded => "intake.discarded",
            Action::NotificationBounced => "notification.bounced",
            Action::MessageShredded => "message.shredded",
            Action::MessageRecalled => "message.recalled",
            Action::MessageHoldPlaced => "message.hold_placed",
            Action::MessageHoldLifted => "message.hold_lifted",
            Action::KeysRotated => "keys.rotated",
            Action::KeysRetired => "keys.retired",
            Action::ConfirmedLookalike => "message.confirmed_lookalike",
            Action::ConfirmedSimilarAddress => "message.confirmed_similar_address",
            Action::ConfirmedWebmail => "message.confirmed_webmail",
            Action::ConfirmedOrganisations => "message.confirmed_organisations",
            Action::ConfirmedContent => "message.confirmed_content",
            Action::KeysUpgraded => "keys.upgraded",
            Action::AuditRestored => "audit.restored",
        }
    }

    /// Every action, for tests that must cover each one.
    pub const ALL: [Action; 58] = [
        Action::MessageSend,
        Action::MailboxList,
        Action::MailboxSearch,
        Action::MessageRead,
        Action::AttachmentDownload,
        Action::AttachmentForward,
        Action::AttachmentView,
        Action::MessageRevoke,
        Action::MessageRegrant,
        Action::NotificationSent,
        Action::NotificationFailed,
        Action::LinkRedeem,
        Action::CodeSent,
        Action::CodeFailed,
        Action::PassphraseFailed,
        Action::PortalVerified,
        Action::PortalLockout,
        Action::PortalSignOut,
        Action::ReplySend,
        Action::SignIn,
        Action::SignOut,
        Action::AccountSetup,
        Action::AuditVerify,
        Action::AuditExport,
        Action::BreakGlass,
        Action::AccountInvite,
        Action::AccountRole,
        Action::AccountDisable,
        Action::AccountEnable,
        Action::SecondFactorReset,
        Action::SecondFactorEnrol,
        Action::RecoveryCodeUsed,
        Action::PasswordAccepted,
        Action::SsoSignIn,
        Action::SsoLinked,
        Action::SsoCreated,
        Action::SsoRefused,
        Action::IntakeAccepted,
        Action::IntakeRefusedSender,
        Action::IntakeRefusedUntagged,
        Action::IntakeRefusedContent,
        Action::IntakeRefusedPolicy,
        Action::IntakeHeld,
        Action::IntakeHeldDiscarded,
        Action::NotificationBounced,
        Action::MessageShredded,
        Action::MessageRecalled,
        Action::MessageHoldPlaced,
        Action::MessageHoldLifted,
        Action::KeysRotated,
        Action::KeysRetired,
        Action::ConfirmedLookalike,
        Action::ConfirmedSimilarAddress,
        Action::ConfirmedWebmail,
        Action::ConfirmedOrganisations,
        Action::ConfirmedContent,
        Action::KeysUpgraded,
        Action::AuditRestored,
    ];
}

impl Outcome {
    /// The stable name stored and searched.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Success => "success",
            Outcome::Failure => "failure",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_action_has_words_in_the_console() {
        for a in Action::ALL {
            assert!(
                sealpost_domain::api_audit::ACTIONS.iter().any(|(name, _)| *name == a.as_str()),
                "{} has no label",
                a.as_str()
            );
        }
    }

    #[test]
    fn objects_read_back_from_their_stored_form() {
        let m = MessageId("6f1b2c9e-0000-4000-8000-000000000001".parse().unwrap());
        let a = AttachmentId("6f1b2c9e-0000-4000-8000-000000000002".parse().unwrap());
        let to = EmailAddress::parse("pc@police.example.uk").unwrap();
        for o in [
            Object::Message(m),
            Object::Attachment(m, a),
            Object::Recipient(m, to.clone()),
            Object::Person(to),
        ] {
            assert_eq!(o.to_string().parse::<Object>(), Ok(o));
        }
        for bad in [
            "",
            "message:",
            "attachment:6f1b2c9e-0000-4000-8000-000000000002",
            "message:nope",
            "message:6f1b2c9e-0000-4000-8000-000000000001/x:y",
        ] {
            assert!(bad.parse::<Object>().is_err(), "{bad}");
        }
    }

    #[test]
    fn events_name_actor_action_and_object_in_their_stored_form() {
        let id = MessageId("6f1b2c9e-0000-4000-8000-000000000001".parse().unwrap());
        let e = AuditEvent::new(
            5,
            &Actor::System,
            Action::NotificationSent,
            Some(Object::Message(id)),
            Outcome::Success,
            Origin::default(),
        );
        assert_eq!(
            (e.actor.as_str(), e.action.as_str(), e.outcome.as_str()),
            ("system", "notification.sent", "success")
        );
        assert_eq!(e.object.as_deref(), Some("message:6f1b2c9e-0000-4000-8000-000000000001"));
        let pc = Actor::Recipient(EmailAddress::parse("PC@Police.example.uk").unwrap());
        assert_eq!(pc.to_string(), "recipient:pc@police.example.uk");
    }
}
