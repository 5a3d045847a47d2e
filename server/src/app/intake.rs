//! Secure mail sent from Outlook (issue 18): a message the council's Exchange routes to the
//! intake, tagged `[secure]` in its subject, is parsed (`sealpost_mail::intake`) and sent through
//! the same use case as the browser's form: sealed, stored, queued and audited alike. The raw
//! message is only ever in memory.
//!
//! Only a member of staff may send this way, and only as themselves: the header From must be
//! the envelope sender, an active account. A refusal is permanent (5xx, so the sender gets a
//! bounce that says why) or, when the fault is ours and passing (the database, the disk), 4xx
//! so Exchange tries again.
//!
//! The sender gets a receipt by email: the reference, the recipients and a link to the sent
//! item. OFFICIAL-SENSITIVE mail to anyone outside the council needs a passphrase, which email
//! cannot carry: it is kept as the sender's draft, held for [`HOLD_MS`], and the receipt links
//! to it in Sealpost, where they set the passphrase and send it. A held draft not sent in time
//! is discarded ([`discard_held`]) and its sender told.
//!
//! A delivery report for one of our notifications comes back this way too, with an empty
//! envelope sender: see [`crate::app::bounces`].

use std::net::IpAddr;

use bytes::Bytes;
use sealpost_checks::{ContentFindings, is_text_file, scan};
use sealpost_crypto::{ExposeSecret, secrets_match};
use sealpost_domain::api_drafts::{DraftBasis, DraftContent, DraftId};
use sealpost_domain::api_messages::{Concern, SendMessage, Sent};
use sealpost_domain::{EmailAddress, Marking, MessageId, time};
use sealpost_mail::StaffNotice;
use sealpost_mail::html::CleanHtml;
use sealpost_mail::intake::{Incoming, IncomingFile, IntakeRefusal};
use sealpost_storage::UserRecord;

use crate::app::audit::{self, Action, Actor, Object, Outcome, RequestMeta};
use crate::app::uploads::{Form, FormPart};
use crate::app::{bounces, concerns, drafts, notices, send};
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

/// How long OFFICIAL-SENSITIVE mail for people outside the council waits for its passphrase.
pub const HOLD_MS: i64 = 24 * 3_600_000;

/// The largest cleaned HTML body kept (inline images included); past it, the text stands alone.
const MAX_HTML_BYTES: usize = 4 * 1024 * 1024;

/// A message taken in: who sent it, to whom, and what became of it.
struct Taken {
    sender: UserRecord,
    marking: Marking,
    /// To, Cc and Bcc.
    addressees: [Vec<String>; 3],
    /// The sender's own Message-ID, which the receipt answers.
    message_id: Option<String>,
    outcome: TakenAs,
    /// What the compose page would have asked the sender to confirm (a lookalike domain,
    /// personal webmail, several organisations, sensitive content): sent, and said in the
    /// receipt.
    warnings: Vec<Concern>,
}

/// What became of a message taken in.
enum TakenAs {
    /// Sealed and sent.
    Sent(Sent),
    /// Kept as the sender's draft until they add a passphrase and send it.
    Held(DraftId),
}

/// Takes one message in: the words of the SMTP reply once it is sent or held. Every decision
/// is on the audit record: `intake.accepted` or `intake.held`, or `intake.refused_*` naming
/// the reason, on the envelope sender.
pub async fn take(state: &AppState, envelope: Envelope, raw: &[u8]) -> Result<String, Refusal> {
    let meta = RequestMeta {
        ip: Some(envelope.peer.to_string()),
        user_agent: Some("Sealpost mail intake (SMTP)".into()),
        request_id: None,
    };
    // The relay returns a bounce with an empty envelope sender (RFC 5321 4.5.5).
    if envelope.from.is_empty()
        && let Some(report) = sealpost_mail::intake::delivery_report(raw)
    {
        return bounces::take(state, &meta, report).await.map_err(refused_by);
    }
    let sender_address = EmailAddress::parse(&envelope.from).ok();
    match take_in(state, &envelope, &meta, raw).await {
        Ok(taken) => {
            let (action, message, answer) = match &taken.outcome {
                TakenAs::Sent(sent) => (Action::IntakeAccepted, sent.id, format!("Sent securely as {}", sent.reference)),
                TakenAs::Held(draft) => (
                    Action::IntakeHeld,
                    draft.message(),
                    "Held: the sender must add a passphrase in Sealpost to send it".to_owned(),
                ),
            };
            audit::record(
                state,
                &meta,
                &Actor::User(taken.sender.id),
                action,
                Some(Object::Message(message)),
                Outcome::Success,
            )
            .await
            .map_err(refused_by)?;
            tell(state, receipt(state, &taken)).await;
            Ok(answer)
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

async fn take_in(state: &AppState, envelope: &Envelope, meta: &RequestMeta, raw: &[u8]) -> Result<Taken, Refusal> {
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
    let answering = answering(state, &sender, &incoming.answers).await?;
    // A passphrase cannot come from Outlook: mail that needs one waits for it as a draft.
    let held = state.settings.policy.of(marking).passphrase_required && any_outside(state, to.iter().chain(&cc).chain(&bcc)).await?;
    let mut taken = Taken {
        sender,
        marking,
        addressees: [to.clone(), cc.clone(), bcc.clone()],
        message_id: incoming.message_id,
        outcome: TakenAs::Held(DraftId(uuid::Uuid::nil())),
        warnings: vec![],
    };
    // HTML past the limit is left out: the text body (always there) carries the message.
    let html = incoming.html.filter(|h| h.as_str().len() <= MAX_HTML_BYTES);
    let mut form = IntakeForm {
        json: None,
        files: incoming.files.into_iter().rev().collect(),
        html,
    };
    if held {
        let content = DraftContent {
            to,
            cc,
            bcc,
            subject,
            body: incoming.text,
            marking,
            // Shown in the compose page as the usual default, to keep or change.
            expires_in_days: Some(state.limits.default_expiry_days),
            basis: answering.map(DraftBasis::Answer),
            keep_attachments: vec![],
        };
        taken.outcome = TakenAs::Held(hold(state, &taken.sender, content, form).await?);
        return Ok(taken);
    }
    // The checks of the compose page: what it would ask about goes into the receipt; what
    // policy refuses is refused, and bounced with the reason.
    let external = outside(state, to.iter().chain(&cc).chain(&bcc)).await?;
    let everyone: Vec<EmailAddress> = to
        .iter()
        .chain(&cc)
        .chain(&bcc)
        .filter_map(|a| EmailAddress::parse(a).ok())
        .collect();
    let outgoing = concerns::Outgoing {
        sender: taken.sender.id,
        all: everyone.iter().collect(),
        external: external.iter().collect(),
        marking,
        text: [subject.as_str(), incoming.text.as_str()],
        files: form
            .files
            .iter()
            .filter(|f| marking == Marking::Official && is_text_file(&f.name))
            .fold(ContentFindings::default(), |all, f| {
                all.and(scan(&String::from_utf8_lossy(&f.bytes), &state.settings.check_keywords))
            }),
        confirmed: &[],
    };
    taken.warnings = match concerns::check(state, &outgoing).await {
        Ok(_) => vec![],
        Err(AppError::Concerns(found)) => found,
        Err(other) => return Err(refused_by(other)),
    };
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
        // Outlook has no confirmation step: what the browser would ask about is taken as
        // confirmed (and audited so); what policy refuses is refused and bounced.
        confirmed: concerns::ALL.iter().map(|k| (*k).to_owned()).collect(),
    };
    let json = serde_json::to_vec(&request).map_err(|e| refused_by(AppError::Internal(e.into())))?;
    form.json = Some(Bytes::from(json));
    let sent = match answering {
        Some(id) => send::reply(state, &taken.sender, id, meta, form).await,
        None => send::send(state, &taken.sender, meta, form).await,
    }
    .map_err(refused_by)?;
    tracing::info!(message = %sent.id, "intake: message taken in and sent");
    taken.outcome = TakenAs::Sent(sent);
    Ok(taken)
}

/// The message an answer written in Outlook continues: the first of those its In-Reply-To and
/// References name (through the Message-IDs of Sealpost's notices) that the sender may read.
async fn answering(state: &AppState, sender: &UserRecord, answers: &[String]) -> Result<Option<MessageId>, Refusal> {
    for id in answers.iter().filter_map(|id| notices::message_about(id)) {
        if state
            .store
            .message_for(sender.id, id)
            .await
            .map_err(|e| refused_by(e.into()))?
            .is_some()
        {
            return Ok(Some(id));
        }
    }
    Ok(None)
}

/// Keeps `content` and the files in `form` as `sender`'s draft, held for [`HOLD_MS`]. The
/// draft is held from the start, so one left half-made by a crash is discarded in time too.
async fn hold(state: &AppState, sender: &UserRecord, content: DraftContent, form: IntakeForm) -> Result<DraftId, Refusal> {
    let until = state.now_ms() + HOLD_MS;
    let draft = match drafts::create_held(state, sender, content, Some(until)).await {
        Ok(saved) => saved.id,
        Err(AppError::BadRequest { message, .. }) => {
            return Err(Refusal::permanent(Action::IntakeRefusedPolicy, [5, 7, 1], message));
        }
        Err(e) => return Err(refused_by(e)),
    };
    if let Err(e) = drafts::attach(state, sender, draft, form).await {
        if let Err(gone) = drafts::discard(state, sender, draft).await {
            tracing::warn!(error = %gone, "intake: a held message's unfinished draft was not discarded; it goes when its time is up");
        }
        return Err(refused_by(e));
    }
    tracing::info!(draft = %draft, "intake: OFFICIAL-SENSITIVE message held for its passphrase");
    Ok(draft)
}

/// The sender's receipt: the reference (or that the message is held, and until when), the
/// recipients and a link to it in Sealpost; never its subject, body or files.
fn receipt(state: &AppState, taken: &Taken) -> StaffNotice {
    let [to, cc, bcc] = &taken.addressees;
    let mut who = format!("To:        {}\n", to.join(", "));
    for (label, list) in [("Cc:        ", cc), ("Bcc:       ", bcc)] {
        if !list.is_empty() {
            who.push_str(&format!("{label}{}\n", list.join(", ")));
        }
    }
    let url = &state.settings.public_url;
    let marking = taken.marking.label();
    let (message, subject, text) = match &taken.outcome {
        TakenAs::Sent(sent) => (
            sent.id,
            format!("Sent securely: {} [{marking}]", sent.reference),
            format!(
                "Sealpost has sent your message securely.\n\n\
                 Reference: {reference}\nMarking:   {marking}\n{who}\n\
                 People outside the council get an email with a link only; colleagues find it in their Sealpost inbox.\n\n\
                 See it, who has read it, and any replies, in Sealpost:\n{url}/messages/{id}\n\n\
                 The message itself stays in Sealpost: only its reference is in this email.\n{check}",
                reference = sent.reference,
                id = sent.id,
                check = warnings(&taken.warnings),
            ),
        ),
        TakenAs::Held(draft) => (
            draft.message(),
            format!("Not sent yet: add a passphrase to your {marking} message"),
            format!(
                "Sealpost has NOT sent your message yet.\n\n\
                 It is {marking} and goes to people outside the council, so they need a passphrase as well as the link. \
                 You give them the passphrase by phone: it cannot travel by email.\n\n\
                 Marking:   {marking}\n{who}\n\
                 Open it in Sealpost, set the passphrase and send it, by {deadline} (UTC):\n{url}/compose?draft={draft}\n\n\
                 If it is not sent by then, Sealpost discards it, with its files, and tells you.\n",
                deadline = deadline(state.now_ms() + HOLD_MS),
            ),
        ),
    };
    StaffNotice {
        to: taken.sender.email.clone(),
        subject,
        text,
        message_id: notices::about_message("receipt", message, uuid::Uuid::new_v4()),
        in_reply_to: taken.message_id.clone(),
    }
}

/// The receipt's part about what the compose page would have asked (none: nothing).
fn warnings(found: &[Concern]) -> String {
    if found.is_empty() {
        return String::new();
    }
    let points: String = found.iter().map(|c| format!("- {}\n", c.message)).collect();
    format!(
        "\nCHECK: Sealpost sent it, but asks you to look again at:\n{points}\
         If this was a mistake, open the message in Sealpost now and withdraw access.\n"
    )
}

/// "12 December 2026 at 14:05".
fn deadline(ms: i64) -> String {
    let clock = time::rfc3339(ms);
    format!("{} at {}", time::format_date(ms), clock.get(11..16).unwrap_or_default())
}

/// Sends `notice` to a member of staff, best effort: what it reports stands in Sealpost even if
/// the email fails.
async fn tell(state: &AppState, notice: StaffNotice) {
    if let Err(e) = state.mailer.send_notice(&notice).await {
        tracing::warn!(error = %e, "intake: a notice to the sender was not sent");
    }
}

/// Discards every held draft whose time is up and tells each sender; how many went. Run by the
/// server's hourly housekeeping, so a draft goes within the hour after its deadline.
pub async fn discard_held(state: &AppState) -> Result<usize, AppError> {
    let mut discarded = 0;
    for (id, owner) in state.store.held_drafts_due(state.now_ms(), 100).await? {
        let Some(user) = state.store.user_by_id(owner).await? else {
            continue;
        };
        // Whom it was for, for the sender's notice; read before it goes.
        let recipients = match drafts::open(state, &user, id).await {
            Ok(d) => d
                .content
                .to
                .into_iter()
                .chain(d.content.cc)
                .chain(d.content.bcc)
                .collect::<Vec<_>>(),
            Err(AppError::NotFound) => continue, // sent or discarded meanwhile
            Err(e) => return Err(e),
        };
        match drafts::discard(state, &user, id).await {
            Ok(()) => {}
            Err(AppError::NotFound) => continue,
            Err(e) => return Err(e),
        }
        discarded += 1;
        let meta = RequestMeta::default();
        audit::record(
            state,
            &meta,
            &Actor::System,
            Action::IntakeHeldDiscarded,
            Some(Object::Message(id.message())),
            Outcome::Success,
        )
        .await?;
        let notice = StaffNotice {
            to: user.email.clone(),
            subject: "Discarded: your OFFICIAL-SENSITIVE message from Outlook".into(),
            text: format!(
                "Your OFFICIAL-SENSITIVE message to {recipients} waited {hours} hours for a passphrase and was not sent, \
                 so Sealpost has discarded it, with its files. Nobody received it.\n\n\
                 To send it, write it again in Sealpost, or send it from Outlook again and set the passphrase within {hours} hours.\n",
                recipients = recipients.join(", "),
                hours = HOLD_MS / 3_600_000,
            ),
            message_id: notices::about_message("discarded", id.message(), uuid::Uuid::new_v4()),
            in_reply_to: None,
        };
        tell(state, notice).await;
    }
    Ok(discarded)
}

/// The member of staff sending: the envelope sender, who must also be the header From, with an
/// active account.
async fn sender(state: &AppState, envelope: &Envelope, incoming: &Incoming) -> Result<UserRecord, Refusal> {
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
/// The addresses among `addresses` without an account (those that do not parse are left to
/// the send, which refuses them).
async fn outside<'a>(state: &AppState, addresses: impl Iterator<Item = &'a String>) -> Result<Vec<EmailAddress>, Refusal> {
    let mut found = vec![];
    for address in addresses {
        let Ok(parsed) = EmailAddress::parse(address) else { continue };
        if state
            .store
            .user_by_email(&parsed)
            .await
            .map_err(|e| refused_by(e.into()))?
            .is_none()
        {
            found.push(parsed);
        }
    }
    Ok(found)
}

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
    html: Option<CleanHtml>,
}

/// One part of an [`IntakeForm`], handed over whole.
struct IntakePart {
    name: &'static str,
    file_name: Option<String>,
    bytes: Option<Bytes>,
}

impl Form for IntakeForm {
    type Part<'a> = IntakePart;

    fn html(&mut self) -> Option<CleanHtml> {
        self.html.take()
    }

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
