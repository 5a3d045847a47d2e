//! Sending a secure message: validate, stream attachments through age into the blob store,
//! seal the subject, body, file names and link tokens, and store the message with its outbox
//! rows in one transaction. Nothing is written in the clear; a failure part-way leaves no blobs
//! (see [`crate::app::uploads`]).

use sealpost_crypto::{Binding, ExposeSecret, MessageKey, ObjectKind, SecretString, Token};
use sealpost_domain::api_messages::{SendMessage, Sent};
use sealpost_domain::{EmailAddress, Marking, MessageId, RecipientId, Reference, UserId};
use sealpost_storage::{NewAttachment, NewMessage, NewRecipient, ThreadLink, UserRecord};
use uuid::Uuid;

use sealpost_audit::AuditEvent;

use crate::app::audit::{Action, Actor, Object, Outcome, RequestMeta};
use crate::app::auth::hash_password;
use crate::app::uploads::{self, Form, Uploads};
use crate::error::AppError;
use crate::state::AppState;

const DAY_MS: i64 = 86_400_000;

/// A validated message, before sealing.
struct Draft {
    recipients: Vec<(EmailAddress, Option<(UserId, bool)>)>,
    subject: String,
    body: String,
    marking: Marking,
    expires_in_days: u32,
    passphrase: Option<SecretString>,
}

/// Sends the message in `form` from `sender`.
pub async fn send(state: &AppState, sender: &UserRecord, meta: &RequestMeta, form: impl Form) -> Result<Sent, AppError> {
    send_in(state, sender, meta, form, None).await
}

/// Sends the message in `form` from `sender` as an answer to message `id`, in its conversation.
/// Only someone who may read `id` may answer it (anyone else: 404, as for a message that does
/// not exist). The answer is a message like any other: its own key, recipients, links and
/// notifications, with the same checks (a partner gets a new link, code and passphrase rules).
pub async fn reply(state: &AppState, sender: &UserRecord, id: MessageId, meta: &RequestMeta, form: impl Form) -> Result<Sent, AppError> {
    let answered = state.store.message_for(sender.id, id).await?.ok_or(AppError::NotFound)?;
    let link = ThreadLink {
        thread: answered.thread,
        message: answered.id,
    };
    send_in(state, sender, meta, form, Some(link)).await
}

async fn send_in(
    state: &AppState,
    sender: &UserRecord,
    meta: &RequestMeta,
    mut form: impl Form,
    in_reply_to: Option<ThreadLink>,
) -> Result<Sent, AppError> {
    let request: SendMessage = uploads::json_part(&mut form, "message").await?;
    let draft = validate(state, request).await?;
    let id = MessageId(Uuid::new_v4());
    let key = MessageKey::generate();
    // Until the message is committed, a dropped request (client gone) still removes its blobs.
    let mut uploads = Uploads::new(state);
    let attachments = uploads.receive(&key, id, &mut form).await?;
    let audit = AuditEvent::new(
        state.now_ms(),
        &Actor::User(sender.id),
        Action::MessageSend,
        Some(Object::Message(id)),
        Outcome::Success,
        meta.clone(),
    );
    let stored = store(state, sender, (id, in_reply_to), &key, draft, attachments, &audit).await;
    let reference = uploads.settle(stored, |_| true)?;
    state.outbox_wake.notify_one();
    Ok(Sent { id, reference })
}

async fn validate(state: &AppState, m: SendMessage) -> Result<Draft, AppError> {
    let limits = state.limits;
    let mut addresses: Vec<EmailAddress> = vec![];
    for raw in m.recipients.iter().filter(|r| !r.trim().is_empty()) {
        let address = EmailAddress::parse(raw)
            .map_err(|_| AppError::bad("invalid_recipient", format!("“{}” is not a valid email address.", raw.trim())))?;
        if !addresses.contains(&address) {
            addresses.push(address);
        }
        if addresses.len() > limits.max_recipients as usize {
            return Err(AppError::bad(
                "too_many_recipients",
                format!("A message can go to at most {} recipients.", limits.max_recipients),
            ));
        }
    }
    if addresses.is_empty() {
        return Err(AppError::bad("no_recipients", "Add at least one recipient."));
    }
    // Colleagues come with their choice of an email notice.
    let mut recipients: Vec<(EmailAddress, Option<(UserId, bool)>)> = Vec::with_capacity(addresses.len());
    for address in addresses {
        let user = match state.store.user_by_email(&address).await? {
            Some(u) if u.disabled => {
                return Err(AppError::bad(
                    "disabled_recipient",
                    format!("{address} belongs to a Sealpost account that has been disabled. Check who should receive this instead."),
                ));
            }
            other => other.map(|u| (u.id, u.notify_by_email)),
        };
        recipients.push((address, user));
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
    let expires_in_days = m.expires_in_days.unwrap_or(limits.default_expiry_days);
    if !(1..=limits.max_expiry_days).contains(&expires_in_days) {
        return Err(AppError::bad(
            "invalid_expiry",
            format!("Choose an expiry between 1 and {} days.", limits.max_expiry_days),
        ));
    }
    let has_external = recipients.iter().any(|(_, u)| u.is_none());
    let passphrase = m.passphrase.filter(|p| !p.trim().is_empty()).map(SecretString::from);
    if let Some(p) = &passphrase {
        let text = p.expose_secret();
        if text.chars().count() < 12 && text.split_whitespace().count() < 4 {
            return Err(AppError::bad(
                "weak_passphrase",
                "The passphrase must be at least 12 characters, or 4 words.",
            ));
        }
    } else if has_external && m.marking == Marking::OfficialSensitive {
        return Err(AppError::bad(
            "passphrase_required",
            "OFFICIAL-SENSITIVE messages to people outside the council need a passphrase, which you give them by phone.",
        ));
    }
    Ok(Draft {
        recipients,
        subject,
        body: m.body,
        marking: m.marking,
        expires_in_days,
        passphrase: passphrase.filter(|_| has_external),
    })
}

async fn store(
    state: &AppState,
    sender: &UserRecord,
    (id, in_reply_to): (MessageId, Option<ThreadLink>),
    key: &MessageKey,
    d: Draft,
    attachments: Vec<NewAttachment>,
    audit: &AuditEvent,
) -> Result<Reference, AppError> {
    let passphrase = match d.passphrase {
        Some(p) => Some(hash_password(state, p).await?),
        None => None,
    };
    let mut recipients = vec![];
    for (address, user) in d.recipients {
        let rid = RecipientId(Uuid::new_v4());
        recipients.push(match user {
            Some((user, notify)) => NewRecipient::Internal {
                id: rid,
                address,
                user,
                notify,
            },
            None => {
                let token = Token::generate()?;
                let sealed_link = key.seal(Binding::new(ObjectKind::LinkToken, rid.0), token.expose_hex().as_bytes())?;
                NewRecipient::External {
                    id: rid,
                    address,
                    link: token.hash(),
                    sealed_link,
                    passphrase: passphrase.clone(),
                }
            }
        });
    }
    let now = state.now_ms();
    let reference = Reference::from_random(sealpost_crypto::random_bytes::<8>()?);
    let message = NewMessage {
        id,
        reference: reference.clone(),
        sender: sender.id,
        marking: d.marking,
        subject: key.seal(Binding::new(ObjectKind::Subject, id.0), d.subject.as_bytes())?,
        body: key.seal(Binding::new(ObjectKind::Body, id.0), d.body.as_bytes())?,
        key: state.keyring.wrap(key, id.0)?,
        created_at_ms: now,
        expires_at_ms: now + i64::from(d.expires_in_days) * DAY_MS,
        in_reply_to,
        recipients,
        attachments,
    };
    state.store.create_message(&message, audit).await?;
    Ok(reference)
}
