//! Secure mail sent from Outlook (issue 18): a message the council's Exchange routes to the
//! intake, tagged `[secure]` in its subject, is parsed (`sealpost_mail::intake`) and sent through
//! the same use case as the browser's form: sealed, stored, queued and audited alike. The raw
//! message is only ever in memory.
//!
//! Only a member of staff may send this way, and only as themselves: the header From must be
//! the envelope sender, an active account. A refusal is permanent (5xx, so the sender gets a
//! bounce that says why) or, when the fault is ours and passing (the database, the disk), 4xx
//! so Exchange tries again.

use std::net::IpAddr;

use bytes::Bytes;
use sealpost_crypto::{ExposeSecret, secrets_match};
use sealpost_domain::api_messages::{SendMessage, Sent};
use sealpost_domain::{EmailAddress, Marking, UserId};
use sealpost_mail::intake::{Incoming, IncomingFile, IntakeRefusal};

use crate::app::audit::{self, Action, Actor, Object, Outcome, RequestMeta};
use crate::app::uploads::{Form, FormPart};
use crate::app::{notices, send};
use crate::error::AppError;
use crate::state::AppState;

/// What the SMTP session knows beyond the message itself.
pub struct Envelope {
    /// The connecting peer (the council's mail server).
    pub peer: IpAddr,
    /// MAIL FROM.
    pub from: String,
    /// RCPT TO, in order.
    pub to: Vec<String>,
}

/// Why a message was not taken: the SMTP reply the session gives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// The reply code: 4xx (try again) or 5xx (bounce).
    pub code: u16,
    /// The enhanced status code (RFC 3463).
    pub status: [u8; 3],
    /// One line for the sender's bounce.
    pub text: String,
    /// What the audit log records of a permanent refusal (a passing fault records nothing:
    /// nothing was decided).
    audit: Option<Action>,
}

impl Refusal {
    fn permanent(audit: Action, status: [u8; 3], text: impl Into<String>) -> Self {
        Self {
            code: 550,
            status,
            text: text.into(),
            audit: Some(audit),
        }
    }

    fn transient(text: impl Into<String>) -> Self {
        Self {
            code: 451,
            status: [4, 3, 0],
            text: text.into(),
            audit: None,
        }
    }
}

/// Takes one message in: its reference once it is sent. Every decision is on the audit record:
/// `intake.accepted`, or `intake.refused_*` naming the reason, on the envelope sender.
pub async fn take(state: &AppState, envelope: Envelope, raw: &[u8]) -> Result<String, Refusal> {
    let meta = RequestMeta {
        ip: Some(envelope.peer.to_string()),
        user_agent: Some("Sealpost mail intake (SMTP)".into()),
        request_id: None,
    };
    let sender_address = EmailAddress::parse(&envelope.from).ok();
    match take_in(state, &envelope, &meta, raw).await {
        Ok((sender, sent)) => {
            audit::record(
                state,
                &meta,
                &Actor::User(sender),
                Action::IntakeAccepted,
                Some(Object::Message(sent.id)),
                Outcome::Success,
            )
            .await
            .map_err(refused_by)?;
            Ok(sent.reference.to_string())
        }
        Err(refusal) => {
            if let Some(action) = refusal.audit {
                let actor = match &sender_address {
                    Some(address) => match state.store.user_by_email(address).await {
                        Ok(Some(user)) if !user.disabled => Actor::User(user.id),
                        _ => Actor::System,
                    },
                    None => Actor::System,
                };
                let object = sender_address.map(Object::Person);
                audit::record(state, &meta, &actor, action, object, Outcome::Failure)
                    .await
                    .map_err(refused_by)?;
            }
            Err(refusal)
        }
    }
}

async fn take_in(state: &AppState, envelope: &Envelope, meta: &RequestMeta, raw: &[u8]) -> Result<(UserId, Sent), Refusal> {
    let Some(settings) = state.settings.intake.as_ref() else {
        return Err(Refusal::transient("Intake is not set up."));
    };
    let incoming = sealpost_mail::intake::parse(raw).map_err(|e| match e {
        IntakeRefusal::Tnef => Refusal::permanent(Action::IntakeRefusedContent, [5, 6, 1], e.to_string()),
        IntakeRefusal::NotMime => Refusal::permanent(Action::IntakeRefusedContent, [5, 6, 0], e.to_string()),
    })?;
    if let Some(expected) = &settings.secret {
        let given = incoming.stamped_secret.as_deref().unwrap_or_default();
        if !secrets_match(given, expected.expose_secret()) {
            return Err(Refusal::permanent(
                Action::IntakeRefusedUntagged,
                [5, 7, 1],
                "The message did not come through the council's secure mail rule.",
            ));
        }
    }
    let sender = sender(state, envelope, &incoming).await?;
    let (marking, subject) = untagged(&incoming.subject, &settings.tag, &settings.sensitive_tag).ok_or_else(|| {
        Refusal::permanent(
            Action::IntakeRefusedUntagged,
            [5, 7, 1],
            format!("Sealpost takes only mail tagged [{}] in the subject.", settings.tag),
        )
    })?;
    let (to, cc, bcc) = addressees(&envelope.to, &incoming);
    if marking == Marking::OfficialSensitive && any_outside(state, to.iter().chain(&cc).chain(&bcc)).await? {
        return Err(Refusal::permanent(
            Action::IntakeRefusedPolicy,
            [5, 7, 1],
            "OFFICIAL-SENSITIVE mail to people outside the council needs a passphrase, which cannot travel by email: send it from Sealpost in your browser.",
        ));
    }
    let request = SendMessage {
        recipients: to,
        subject,
        body: incoming.text,
        marking,
        expires_in_days: None,
        passphrase: None,
        cc,
        bcc,
        keep_attachments: vec![],
        draft: None,
    };
    let json = serde_json::to_vec(&request).map_err(|e| refused_by(AppError::Internal(e.into())))?;
    let incoming_answers = incoming.answers;
    let form = IntakeForm {
        json: Some(Bytes::from(json)),
        files: incoming.files.into_iter().rev().collect(),
    };
    // An answer written in Outlook to one of Sealpost's notices about a message this sender
    // may read continues that conversation; anything else is a new one.
    let mut answering = None;
    for id in incoming_answers.iter().filter_map(|id| notices::message_about(id)) {
        if state
            .store
            .message_for(sender.id, id)
            .await
            .map_err(|e| refused_by(e.into()))?
            .is_some()
        {
            answering = Some(id);
            break;
        }
    }
    let sent = match answering {
        Some(id) => send::reply(state, &sender, id, meta, form).await,
        None => send::send(state, &sender, meta, form).await,
    }
    .map_err(refused_by)?;
    tracing::info!(message = %sent.id, "intake: message taken in and sent");
    Ok((sender.id, sent))
}

/// The member of staff sending: the envelope sender, who must also be the header From, with an
/// active account.
async fn sender(state: &AppState, envelope: &Envelope, incoming: &Incoming) -> Result<sealpost_storage::UserRecord, Refusal> {
    let not_staff = || {
        Refusal::permanent(
            Action::IntakeRefusedSender,
            [5, 7, 1],
            "The sender is not a member of staff with a Sealpost account.",
        )
    };
    let from = EmailAddress::parse(&envelope.from).map_err(|_| not_staff())?;
    let header = incoming.from.as_deref().and_then(|f| EmailAddress::parse(f).ok());
    if header.as_ref() != Some(&from) {
        return Err(Refusal::permanent(
            Action::IntakeRefusedSender,
            [5, 7, 1],
            "The From address must be the sender's own (the same as the envelope sender).",
        ));
    }
    let user = state.store.user_by_email(&from).await.map_err(|e| refused_by(e.into()))?;
    match user {
        Some(user) if !user.disabled && user.id != sealpost_storage::OUTSIDE_SENDER => Ok(user),
        _ => Err(not_staff()),
    }
}

/// The marking the subject's tag asks for and the subject without it, or `None` untagged.
/// `[secure sensitive]` is looked for before `[secure]`; case and spacing inside the brackets
/// do not matter.
fn untagged(subject: &str, tag: &str, sensitive_tag: &str) -> Option<(Marking, String)> {
    let mut rest = subject;
    let mut out = String::new();
    let mut found = None;
    while let Some(open) = rest.find('[') {
        let Some(close) = rest[open..].find(']').map(|c| open + c) else {
            break;
        };
        let words = rest[open + 1..close]
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
            .to_lowercase();
        let marking = if words == sensitive_tag {
            Some(Marking::OfficialSensitive)
        } else if words == tag {
            Some(Marking::Official)
        } else {
            None
        };
        out.push_str(&rest[..open]);
        match marking {
            Some(m) if found != Some(Marking::OfficialSensitive) => found = Some(m),
            Some(_) => {}
            None => out.push_str(&rest[open..=close]),
        }
        rest = &rest[close + 1..];
    }
    out.push_str(rest);
    let subject = out.split_whitespace().collect::<Vec<_>>().join(" ");
    found.map(|m| (m, subject))
}

/// To, Cc and blind copies: every envelope recipient gets the message; those the headers do
/// not show were Bcc.
fn addressees(envelope: &[String], incoming: &Incoming) -> (Vec<String>, Vec<String>, Vec<String>) {
    let (mut to, mut cc, mut bcc) = (vec![], vec![], vec![]);
    for address in envelope {
        let lower = address.to_lowercase();
        if incoming.to.contains(&lower) {
            to.push(address.clone());
        } else if incoming.cc.contains(&lower) {
            cc.push(address.clone());
        } else {
            bcc.push(address.clone());
        }
    }
    // A message only to blind copies still needs someone in To: the first of them.
    if to.is_empty() && cc.is_empty() && !bcc.is_empty() {
        to.push(bcc.remove(0));
    }
    (to, cc, bcc)
}

/// Whether any of `addresses` is not an active account here.
async fn any_outside<'a>(state: &AppState, addresses: impl Iterator<Item = &'a String>) -> Result<bool, Refusal> {
    for address in addresses {
        let Ok(parsed) = EmailAddress::parse(address) else {
            return Ok(true);
        };
        match state.store.user_by_email(&parsed).await.map_err(|e| refused_by(e.into()))? {
            Some(user) if !user.disabled => {}
            _ => return Ok(true),
        }
    }
    Ok(false)
}

/// The SMTP answer to the send use case's refusal.
fn refused_by(error: AppError) -> Refusal {
    match error {
        AppError::BadRequest { message, .. } => Refusal::permanent(Action::IntakeRefusedContent, [5, 6, 0], message),
        AppError::TooLarge(message) => Refusal {
            code: 552,
            status: [5, 3, 4],
            text: message,
            audit: Some(Action::IntakeRefusedContent),
        },
        AppError::DiskFull => Refusal {
            code: 452,
            status: [4, 3, 1],
            text: "Sealpost is short of disk space; try again later.".into(),
            audit: None,
        },
        AppError::Unavailable(_) | AppError::AuditUnavailable | AppError::DependencyDown(_) | AppError::Internal(_) => {
            if let AppError::Internal(e) = &error {
                tracing::error!(error = %e, "intake: a message could not be taken in");
            }
            Refusal::transient("Sealpost cannot take the message just now; it will be tried again.")
        }
        other => Refusal::permanent(Action::IntakeRefusedContent, [5, 7, 1], other.to_string()),
    }
}

/// The parsed message as the send use case's form: the message part, then each file.
struct IntakeForm {
    json: Option<Bytes>,
    /// Reversed, so the next is popped.
    files: Vec<IncomingFile>,
}

/// One part of an [`IntakeForm`], handed over whole.
struct IntakePart {
    name: &'static str,
    file_name: Option<String>,
    bytes: Option<Bytes>,
}

impl Form for IntakeForm {
    type Part<'a> = IntakePart;

    async fn next_part(&mut self) -> Result<Option<IntakePart>, AppError> {
        if let Some(json) = self.json.take() {
            return Ok(Some(IntakePart {
                name: "message",
                file_name: None,
                bytes: Some(json),
            }));
        }
        Ok(self.files.pop().map(|file| IntakePart {
            name: "attachment",
            file_name: Some(file.name),
            bytes: Some(Bytes::from(file.bytes)),
        }))
    }
}

impl FormPart for IntakePart {
    fn name(&self) -> Option<&str> {
        Some(self.name)
    }

    fn file_name(&self) -> Option<&str> {
        self.file_name.as_deref()
    }

    async fn chunk(&mut self) -> Result<Option<Bytes>, AppError> {
        Ok(self.bytes.take())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tag_sets_the_marking_and_leaves_the_subject() {
        let t = |s: &str| untagged(s, "secure", "secure sensitive");
        assert_eq!(t("[secure] Case 42"), Some((Marking::Official, "Case 42".into())));
        assert_eq!(t("RE: Case 42 [SECURE]"), Some((Marking::Official, "RE: Case 42".into())));
        assert_eq!(
            t("[Secure  Sensitive] [ref 7] Child protection"),
            Some((Marking::OfficialSensitive, "[ref 7] Child protection".into()))
        );
        assert_eq!(
            t("[secure] [secure sensitive] both"),
            Some((Marking::OfficialSensitive, "both".into()))
        );
        assert_eq!(t("Case 42 [not secure]"), None);
        assert_eq!(t("no tag"), None);
        assert_eq!(t("[secure"), None);
    }

    #[test]
    fn recipients_not_in_the_headers_are_blind_copies() {
        let incoming =
            sealpost_mail::intake::parse(b"From: a@x.gov.uk\r\nTo: b@x.gov.uk\r\nCc: c@nhs.net\r\nSubject: s\r\n\r\nhi").unwrap();
        let envelope = ["B@x.gov.uk".to_owned(), "c@nhs.net".into(), "d@police.uk".into()];
        let (to, cc, bcc) = addressees(&envelope, &incoming);
        assert_eq!(
            (to, cc, bcc),
            (
                vec!["B@x.gov.uk".to_owned()],
                vec!["c@nhs.net".to_owned()],
                vec!["d@police.uk".to_owned()]
            )
        );
    }
}
