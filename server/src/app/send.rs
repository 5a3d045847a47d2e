//! Sending a secure message: validate, stream attachments through age into the blob store,
//! seal the subject, body, file names and link tokens, and store the message with its outbox
//! rows in one transaction. Nothing is written in the clear; a failure part-way leaves no blobs
//! (see [`crate::app::uploads`]).

use std::sync::Arc;

use sealpost_checks::ContentFindings;
use sealpost_crypto::{Binding, ExposeSecret, MessageKey, ObjectKind, SecretString, Token};
use sealpost_domain::api_messages::{Addressed, SendMessage, Sent};
use sealpost_domain::{AttachmentId, EmailAddress, Marking, MessageId, RecipientId, Reference, UserId};
use sealpost_mail::html::CleanHtml;
use sealpost_storage::{NewAttachment, NewMessage, NewRecipient, SentDraft, StoredMessage, ThreadLink, UserRecord};
use uuid::Uuid;

use sealpost_audit::AuditEvent;

use crate::app::audit::{self, Action, Actor, Object, Outcome, RequestMeta};
use crate::app::auth::hash_password;
use crate::app::concerns;
use crate::app::disclosure::{self, Download, Viewer};
use crate::app::drafts;
use crate::app::uploads::{self, Form, Uploads};
use crate::error::AppError;
use crate::state::AppState;

const DAY_MS: i64 = 86_400_000;

/// One checked recipient: where they are on the envelope, and for a colleague their account
/// and whether they want an email notice.
struct Addressee {
    address: EmailAddress,
    addressed: Addressed,
    user: Option<(UserId, bool)>,
}

/// A validated message, before sealing.
struct Checked {
    recipients: Vec<Addressee>,
    subject: String,
    body: String,
    /// Only for mail taken in from Outlook (see [`Form::html`]).
    html: Option<CleanHtml>,
    marking: Marking,
    expires_in_days: u32,
    passphrase: Option<SecretString>,
    /// Most opens per partner, under the policy for the marking.
    max_opens: Option<u32>,
    /// Partners only view its files, under the policy for the marking.
    view_only_files: bool,
}

/// What a message is written from.
enum Basis {
    /// Nothing: a new conversation.
    New,
    /// The message it answers, in that message's conversation.
    Answer(StoredMessage),
    /// The message it forwards: a new conversation that may carry the original's files.
    Forward(StoredMessage),
}

/// Sends the message in `form` from `sender`.
pub async fn send(state: &AppState, sender: &UserRecord, meta: &RequestMeta, form: impl Form) -> Result<Sent, AppError> {
    send_in(state, sender, meta, form, Basis::New).await
}

/// Forwards message `id` as the new message in `form`: to anyone, in a conversation of its
/// own, with the files of the original that `form` keeps. Only someone who may read `id` may
/// forward it (anyone else: 404). The new message is checked and sealed like any other.
pub async fn forward(state: &AppState, sender: &UserRecord, id: MessageId, meta: &RequestMeta, form: impl Form) -> Result<Sent, AppError> {
    let original = state.store.message_for(sender.id, id).await?.ok_or(AppError::NotFound)?;
    still_there(&original)?;
    send_in(state, sender, meta, form, Basis::Forward(original)).await
}

/// Sends the message in `form` from `sender` as an answer to message `id`, in its conversation.
/// Only someone who may read `id` may answer it (anyone else: 404, as for a message that does
/// not exist). The answer is a message like any other: its own key, recipients, links and
/// notifications, with the same checks (a partner gets a new link, code and passphrase rules).
pub async fn reply(state: &AppState, sender: &UserRecord, id: MessageId, meta: &RequestMeta, form: impl Form) -> Result<Sent, AppError> {
    let answered = state.store.message_for(sender.id, id).await?.ok_or(AppError::NotFound)?;
    still_there(&answered)?;
    send_in(state, sender, meta, form, Basis::Answer(answered)).await
}

/// A shredded message cannot be answered or forwarded: `Gone`, saying when and why it went.
fn still_there(m: &StoredMessage) -> Result<(), AppError> {
    match m.shredded {
        None => Ok(()),
        Some(_) => Err(AppError::Gone {
            code: "message_deleted",
            message: format!(
                "{}; it can no longer be answered or forwarded.",
                disclosure::deleted_line(m.shredded)
            ),
        }),
    }
}

async fn send_in(state: &AppState, sender: &UserRecord, meta: &RequestMeta, mut form: impl Form, basis: Basis) -> Result<Sent, AppError> {
    let mut request: SendMessage = uploads::json_part(&mut form, "message").await?;
    // Written in a draft: the message takes the draft's id and key, and its files.
    let draft = match request.draft.take() {
        Some(d) => Some(drafts::for_sending(state, sender, d).await?),
        None => None,
    };
    let mut keep: Vec<AttachmentId> = vec![];
    for a in std::mem::take(&mut request.keep_attachments) {
        if !keep.contains(&a) {
            keep.push(a);
        }
    }
    let confirmed = std::mem::take(&mut request.confirmed);
    let mut checked = validate(state, request).await?;
    checked.html = form.html();
    // The files already stored (a draft's) are read with the text; a send with a concern to
    // confirm stops here, before any other file is taken in.
    let draft_files = match &draft {
        Some(d) if checked.marking == Marking::Official && !d.files.is_empty() => {
            disclosure::scan_draft_files(state, &d.key, &d.files).await?
        }
        _ => ContentFindings::default(),
    };
    let mut confirmations = concerns::check(
        state,
        &concerns::Outgoing {
            sender: sender.id,
            all: checked.recipients.iter().map(|r| &r.address).collect(),
            external: checked.recipients.iter().filter(|r| r.user.is_none()).map(|r| &r.address).collect(),
            marking: checked.marking,
            text: [checked.subject.as_str(), checked.body.as_str()],
            files: draft_files,
            confirmed: &confirmed,
        },
    )
    .await?;
    let external: Vec<EmailAddress> = checked
        .recipients
        .iter()
        .filter(|r| r.user.is_none())
        .map(|r| r.address.clone())
        .collect();
    let (original, in_reply_to) = match &basis {
        Basis::New => (None, None),
        Basis::Answer(m) => (
            Some(m),
            Some(ThreadLink {
                thread: m.thread,
                message: m.id,
            }),
        ),
        Basis::Forward(m) => (Some(m), None),
    };
    let kept = kept_files(state, sender, meta, original, keep).await?;
    let (id, key, mut uploads) = match &draft {
        Some(d) => (
            d.draft.id.message(),
            d.key.clone(),
            Uploads::holding(state, d.draft.files.len(), d.bytes),
        ),
        // Until the message is committed, a dropped request (client gone) still removes its blobs.
        None => (MessageId(Uuid::new_v4()), Arc::new(MessageKey::generate()), Uploads::new(state)),
    };
    if checked.marking == Marking::Official {
        uploads.scan_text();
    }
    let mut attachments = uploads.carry(&key, id, kept).await?;
    attachments.extend(uploads.receive(&key, id, &mut form).await?);
    // The files just taken in were read as they came: a concern in them is confirmed too.
    if let Some(action) = concerns::check_files(checked.marking, &uploads.found(), &confirmed)?
        && !confirmations.contains(&action)
    {
        confirmations.push(action);
    }
    // The sender's decision on each concern is on record before the message is.
    for action in confirmations {
        audit::record(
            state,
            meta,
            &Actor::User(sender.id),
            action,
            Some(Object::Message(id)),
            Outcome::Success,
        )
        .await?;
    }
    let audit = AuditEvent::new(
        state.now_ms(),
        &Actor::User(sender.id),
        Action::MessageSend,
        Some(Object::Message(id)),
        Outcome::Success,
        meta.clone(),
    );
    let written = Written {
        id,
        in_reply_to,
        draft: draft.map(|d| d.draft),
    };
    let stored = store(state, sender, written, &key, checked, attachments, &audit).await;
    let (reference, held_until) = uploads.settle(stored, |_| true)?;
    state.outbox_wake.notify_one();
    state.known_domains.remember(&external).await;
    Ok(Sent { id, reference, held_until })
}

/// The files of `original` to send on, opened for sealing again (each on record as forwarded):
/// only those its reader may see, and only when there is an original.
async fn kept_files(
    state: &AppState,
    sender: &UserRecord,
    meta: &RequestMeta,
    original: Option<&StoredMessage>,
    keep: Vec<AttachmentId>,
) -> Result<Vec<Download>, AppError> {
    if keep.is_empty() {
        return Ok(vec![]);
    }
    let Some(m) = original else {
        return Err(AppError::bad(
            "nothing_to_keep",
            "Files can be kept only when answering or forwarding a message.",
        ));
    };
    if keep.len() > state.limits.max_attachments as usize {
        return Err(AppError::TooLarge(format!(
            "A message can have at most {} attachments.",
            state.limits.max_attachments
        )));
    }
    let viewer = Viewer::staff(m, sender);
    let mut files = vec![];
    for attachment in keep {
        let file = disclosure::forward_attachment(state, m, attachment, viewer, &Actor::User(sender.id), meta)
            .await
            .map_err(|e| match e {
                AppError::NotFound => AppError::bad("unknown_attachment", "A file to send on is not part of that message."),
                other => other,
            })?;
        files.push(file);
    }
    Ok(files)
}

/// Every address on the To, CC and BCC lines, each once (on the first line it appears on), in
/// order; the limit on recipients counts all three.
fn envelope(m: &SendMessage, max: u32) -> Result<Vec<(EmailAddress, Addressed)>, AppError> {
    let lines = [(Addressed::To, &m.recipients), (Addressed::Cc, &m.cc), (Addressed::Bcc, &m.bcc)];
    let mut addresses: Vec<(EmailAddress, Addressed)> = vec![];
    for (line, raws) in lines {
        for raw in raws.iter().filter(|r| !r.trim().is_empty()) {
            let address = EmailAddress::parse(raw)
                .map_err(|_| AppError::bad("invalid_recipient", format!("“{}” is not a valid email address.", raw.trim())))?;
            if !addresses.iter().any(|(a, _)| *a == address) {
                addresses.push((address, line));
            }
            if addresses.len() > max as usize {
                return Err(AppError::bad(
                    "too_many_recipients",
                    format!("A message can go to at most {max} recipients, counting copies."),
                ));
            }
        }
    }
    if addresses.is_empty() {
        return Err(AppError::bad("no_recipients", "Add at least one recipient."));
    }
    Ok(addresses)
}

async fn validate(state: &AppState, m: SendMessage) -> Result<Checked, AppError> {
    let limits = state.limits;
    let addresses = envelope(&m, limits.max_recipients)?;
    // Colleagues come with their choice of an email notice.
    let mut recipients = Vec::with_capacity(addresses.len());
    for (address, addressed) in addresses {
        let user = match state.store.user_by_email(&address).await? {
            Some(u) if u.disabled => {
                return Err(AppError::bad(
                    "disabled_recipient",
                    format!("{address} belongs to a Sealpost account that has been disabled. Check who should receive this instead."),
                ));
            }
            other => other.map(|u| (u.id, u.notify_by_email)),
        };
        recipients.push(Addressee { address, addressed, user });
    }
    let subject = m.subject.trim().to_owned();
    if subject.is_empty() {
        return Err(AppError::bad("no_subject", "Enter a subject."));
    }
    if subject.len() > limits.max_subject_bytes as usize || subject.contains(['\r', '\n']) {
        return Err(AppError::bad(
            "subject_too_long",
            format!("The subject must be one line of at most {} characters.", limits.max_subject_bytes),
        ));
    }
    if m.body.len() > limits.max_body_bytes as usize {
        return Err(AppError::bad(
            "body_too_long",
            format!("The message is too long: at most {} KiB of text.", limits.max_body_bytes / 1024),
        ));
    }
    let policy = state.settings.policy.of(m.marking);
    let expires_in_days = m.expires_in_days.unwrap_or(limits.default_expiry_days.min(policy.max_expiry_days));
    if !(1..=policy.max_expiry_days).contains(&expires_in_days) {
        return Err(AppError::bad(
            "invalid_expiry",
            format!(
                "Choose an expiry between 1 and {} days: the council's longest for {} messages.",
                policy.max_expiry_days,
                m.marking.label()
            ),
        ));
    }
    let has_external = recipients.iter().any(|r| r.user.is_none());
    let passphrase = m.passphrase.filter(|p| !p.trim().is_empty()).map(SecretString::from);
    if let Some(p) = &passphrase {
        let text = p.expose_secret();
        if text.chars().count() < 12 && text.split_whitespace().count() < 4 {
            return Err(AppError::bad(
                "weak_passphrase",
                "The passphrase must be at least 12 characters, or 4 words.",
            ));
        }
    } else if has_external && policy.passphrase_required {
        return Err(AppError::bad(
            "passphrase_required",
            format!(
                "{} messages to people outside the council need a passphrase, which you give them by phone.",
                m.marking.label()
            ),
        ));
    }
    Ok(Checked {
        recipients,
        subject,
        body: m.body,
        html: None,
        marking: m.marking,
        expires_in_days,
        passphrase: passphrase.filter(|_| has_external),
        max_opens: (policy.max_opens > 0).then_some(policy.max_opens),
        view_only_files: policy.view_only_files,
    })
}

/// Where a new message goes: its id, the conversation it answers, and the draft it was written
/// in.
struct Written {
    id: MessageId,
    in_reply_to: Option<ThreadLink>,
    draft: Option<SentDraft>,
}

async fn store(
    state: &AppState,
    sender: &UserRecord,
    Written { id, in_reply_to, draft }: Written,
    key: &MessageKey,
    d: Checked,
    attachments: Vec<NewAttachment>,
    audit: &AuditEvent,
) -> Result<(Reference, Option<i64>), AppError> {
    let passphrase = match d.passphrase {
        Some(p) => Some(hash_password(state, p).await?),
        None => None,
    };
    let mut recipients = vec![];
    for Addressee { address, addressed, user } in d.recipients {
        let rid = RecipientId(Uuid::new_v4());
        recipients.push(match user {
            Some((user, notify)) => NewRecipient::Internal {
                id: rid,
                address,
                addressed,
                user,
                notify,
            },
            None => {
                let token = Token::generate()?;
                let sealed_link = key.seal(Binding::new(ObjectKind::LinkToken, rid.0), token.expose_hex().as_bytes())?;
                NewRecipient::External {
                    id: rid,
                    address,
                    addressed,
                    link: token.hash(),
                    sealed_link,
                    passphrase: passphrase.clone(),
                }
            }
        });
    }
    let now = state.now_ms();
    let reference = Reference::from_random(sealpost_crypto::random_bytes::<8>()?);
    // The undo window: nobody receives it, and no notification leaves, until it ends.
    let held_until = (state.settings.send_hold_seconds > 0).then(|| now + i64::from(state.settings.send_hold_seconds) * 1000);
    let message = NewMessage {
        id,
        reference: reference.clone(),
        sender: sender.id,
        marking: d.marking,
        subject: key.seal(Binding::new(ObjectKind::Subject, id.0), d.subject.as_bytes())?,
        body: key.seal(Binding::new(ObjectKind::Body, id.0), d.body.as_bytes())?,
        body_html: match &d.html {
            Some(html) => Some(key.seal(Binding::new(ObjectKind::BodyHtml, id.0), html.as_str().as_bytes())?),
            None => None,
        },
        key: state.keyring.wrap(key, id.0)?,
        created_at_ms: now,
        expires_at_ms: now + i64::from(d.expires_in_days) * DAY_MS,
        held_until_ms: held_until,
        max_opens: d.max_opens,
        view_only_files: d.view_only_files,
        in_reply_to,
        outside_sender: None,
        recipients,
        attachments,
    };
    match draft {
        None => state.store.create_message(&message, audit).await?,
        Some(d) => {
            if !state.store.send_draft(&message, &d, audit).await? {
                return Err(AppError::Gone {
                    code: "draft_gone",
                    message: "This draft was sent, discarded or changed in another window while it was being sent. Nothing was sent; open it again from Drafts.".into(),
                });
            }
        }
    }
    Ok((reference, held_until))
}
