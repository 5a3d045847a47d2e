//! Sending a secure message: validate, stream attachments through age into the blob store,
//! seal the subject, body, file names and link tokens, and store the message with its outbox
//! rows in one transaction. Nothing is written in the clear; a failure part-way leaves no blobs.

use axum::extract::Multipart;
use axum::extract::multipart::Field;
use sealpost_crypto::{Binding, ExposeSecret, MessageKey, ObjectKind, SecretString, Token};
use sealpost_domain::api_messages::{SendMessage, Sent};
use sealpost_domain::{AttachmentId, EmailAddress, Marking, MessageId, RecipientId, Reference, UserId};
use sealpost_storage::{NewAttachment, NewMessage, NewRecipient, UserRecord};
use uuid::Uuid;

use sealpost_audit::AuditEvent;

use crate::app::audit::{Action, Actor, Object, Outcome, RequestMeta};
use crate::app::auth::hash_password;
use crate::error::AppError;
use crate::state::AppState;

const DAY_MS: i64 = 86_400_000;
/// The `message` JSON part may be at most this large.
const MAX_MESSAGE_PART: usize = 2 * 1024 * 1024;

/// A validated message, before sealing.
struct Draft {
    recipients: Vec<(EmailAddress, Option<UserId>)>,
    subject: String,
    body: String,
    marking: Marking,
    expires_in_days: u32,
    passphrase: Option<SecretString>,
}

fn bad(code: &'static str, message: impl Into<String>) -> AppError {
    AppError::BadRequest {
        code,
        message: message.into(),
    }
}

/// Sends the message in `form` from `sender`.
pub async fn send(state: &AppState, sender: &UserRecord, meta: &RequestMeta, mut form: Multipart) -> Result<Sent, AppError> {
    let first = form
        .next_field()
        .await
        .map_err(form_error)?
        .ok_or_else(|| bad("missing_message", "The form has no message part."))?;
    if first.name() != Some("message") {
        return Err(bad("missing_message", "The first part of the form must be the message."));
    }
    let json = read_small(first, MAX_MESSAGE_PART).await?;
    let request: SendMessage = serde_json::from_slice(&json).map_err(|_| bad("invalid_message", "The message part is not valid."))?;
    let draft = validate(state, request).await?;
    let id = MessageId(Uuid::new_v4());
    let key = MessageKey::generate();
    // Until the message is committed, a dropped request (client gone) still removes its blobs.
    let mut uploads = UploadGuard {
        state: state.clone(),
        keys: vec![],
    };
    let attachments = receive_attachments(state, &key, id, &mut form, &mut uploads.keys).await?;
    let audit = AuditEvent::new(
        state.now_ms(),
        &Actor::User(sender.id),
        Action::MessageSend,
        Some(Object::Message(id)),
        Outcome::Success,
        meta.clone(),
    );
    let reference = store(state, sender, id, &key, draft, attachments, &audit).await?;
    uploads.keys.clear();
    state.outbox_wake.notify_one();
    Ok(Sent { id, reference })
}

async fn validate(state: &AppState, m: SendMessage) -> Result<Draft, AppError> {
    let limits = state.limits;
    let mut addresses: Vec<EmailAddress> = vec![];
    for raw in m.recipients.iter().filter(|r| !r.trim().is_empty()) {
        let address =
            EmailAddress::parse(raw).map_err(|_| bad("invalid_recipient", format!("“{}” is not a valid email address.", raw.trim())))?;
        if !addresses.contains(&address) {
            addresses.push(address);
        }
        if addresses.len() > limits.max_recipients as usize {
            return Err(bad(
                "too_many_recipients",
                format!("A message can go to at most {} recipients.", limits.max_recipients),
            ));
        }
    }
    if addresses.is_empty() {
        return Err(bad("no_recipients", "Add at least one recipient."));
    }
    let mut recipients: Vec<(EmailAddress, Option<UserId>)> = Vec::with_capacity(addresses.len());
    for address in addresses {
        let user = match state.store.user_by_email(&address).await? {
            Some(u) if u.disabled => {
                return Err(bad(
                    "disabled_recipient",
                    format!("{address} belongs to a Sealpost account that has been disabled. Check who should receive this instead."),
                ));
            }
            other => other.map(|u| u.id),
        };
        recipients.push((address, user));
    }
    let subject = m.subject.trim().to_owned();
    if subject.is_empty() {
        return Err(bad("no_subject", "Enter a subject."));
    }
    if subject.len() > limits.max_subject_bytes as usize || subject.contains(['\r', '\n']) {
        return Err(bad(
            "subject_too_long",
            format!("The subject must be one line of at most {} characters.", limits.max_subject_bytes),
        ));
    }
    if m.body.len() > limits.max_body_bytes as usize {
        return Err(bad(
            "body_too_long",
            format!("The message is too long: at most {} KiB of text.", limits.max_body_bytes / 1024),
        ));
    }
    let expires_in_days = m.expires_in_days.unwrap_or(limits.default_expiry_days);
    if !(1..=limits.max_expiry_days).contains(&expires_in_days) {
        return Err(bad(
            "invalid_expiry",
            format!("Choose an expiry between 1 and {} days.", limits.max_expiry_days),
        ));
    }
    let has_external = recipients.iter().any(|(_, u)| u.is_none());
    let passphrase = m.passphrase.filter(|p| !p.trim().is_empty()).map(SecretString::from);
    if let Some(p) = &passphrase {
        let text = p.expose_secret();
        if text.chars().count() < 12 && text.split_whitespace().count() < 4 {
            return Err(bad("weak_passphrase", "The passphrase must be at least 12 characters, or 4 words."));
        }
    } else if has_external && m.marking == Marking::OfficialSensitive {
        return Err(bad(
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

/// Streams each `attachment` part through age into the blob store, enforcing D5 limits. Every
/// blob started is listed in `started`, so the caller's guard removes it if the send fails.
async fn receive_attachments(
    state: &AppState,
    key: &MessageKey,
    id: MessageId,
    form: &mut Multipart,
    started: &mut Vec<String>,
) -> Result<Vec<(NewAttachment, String)>, AppError> {
    let mut done: Vec<(NewAttachment, String)> = vec![];
    let mut total = 0u64;
    while let Some(field) = form.next_field().await.map_err(form_error)? {
        if field.name() != Some("attachment") {
            return Err(bad("unexpected_part", "The form has a part this server does not accept."));
        }
        let limits = state.limits;
        if done.len() >= limits.max_attachments as usize {
            return Err(AppError::TooLarge(format!(
                "A message can have at most {} attachments.",
                limits.max_attachments
            )));
        }
        let aid = AttachmentId(Uuid::new_v4());
        let blob_key = format!("attachments/{id}/{aid}");
        started.push(blob_key.clone());
        done.push(receive_one(state, key, aid, blob_key, field, &mut total).await?);
    }
    Ok(done)
}

/// Deletes the listed blobs when dropped, unless the list was emptied (the send committed).
struct UploadGuard {
    state: AppState,
    keys: Vec<String>,
}

impl Drop for UploadGuard {
    fn drop(&mut self) {
        if self.keys.is_empty() {
            return;
        }
        let (state, keys) = (self.state.clone(), std::mem::take(&mut self.keys));
        tokio::spawn(async move { discard_blobs(&state, &keys).await });
    }
}

async fn receive_one(
    state: &AppState,
    key: &MessageKey,
    aid: AttachmentId,
    blob_key: String,
    mut field: Field<'_>,
    total: &mut u64,
) -> Result<(NewAttachment, String), AppError> {
    let name = sanitise_file_name(field.file_name().unwrap_or("attachment"));
    let limits = state.limits;
    let writer = state.blobs.writer(&blob_key);
    let mut sealer = key.seal_stream(Binding::new(ObjectKind::Attachment, aid.0), writer).await?;
    while let Some(chunk) = field.chunk().await.map_err(form_error)? {
        *total += chunk.len() as u64;
        if sealer.written() + chunk.len() as u64 > limits.max_attachment_bytes {
            let mb = limits.max_attachment_bytes / (1024 * 1024);
            return Err(AppError::TooLarge(format!(
                "“{name}” is larger than the {mb} MB limit for one file."
            )));
        }
        if *total > limits.max_message_bytes {
            let mb = limits.max_message_bytes / (1024 * 1024);
            return Err(AppError::TooLarge(format!(
                "The attachments add up to more than the {mb} MB limit for one message."
            )));
        }
        sealer.write(&chunk).await.map_err(|e| AppError::Internal(e.into()))?;
    }
    let size = sealer.written();
    sealer.finish().await.map_err(|e| AppError::Internal(e.into()))?;
    let sealed_name = key.seal(Binding::new(ObjectKind::AttachmentName, aid.0), name.as_bytes())?;
    Ok((
        NewAttachment {
            id: aid,
            name: sealed_name,
            size,
            blob_key,
        },
        name,
    ))
}

async fn store(
    state: &AppState,
    sender: &UserRecord,
    id: MessageId,
    key: &MessageKey,
    d: Draft,
    attachments: Vec<(NewAttachment, String)>,
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
            Some(user) => NewRecipient::Internal { id: rid, address, user },
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
        recipients,
        attachments: attachments.into_iter().map(|(a, _)| a).collect(),
    };
    state.store.create_message(&message, audit).await?;
    Ok(reference)
}

async fn read_small(mut field: Field<'_>, max: usize) -> Result<Vec<u8>, AppError> {
    let mut out = vec![];
    while let Some(chunk) = field.chunk().await.map_err(form_error)? {
        if out.len() + chunk.len() > max {
            return Err(AppError::TooLarge("The message text is too large.".into()));
        }
        out.extend_from_slice(&chunk);
    }
    Ok(out)
}

async fn discard_blobs(state: &AppState, keys: &[String]) {
    for key in keys {
        if let Err(e) = state.blobs.delete(key).await {
            tracing::warn!(error = %e, "could not remove an abandoned upload");
        }
    }
}

fn form_error(e: axum::extract::multipart::MultipartError) -> AppError {
    if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
        AppError::TooLarge("The upload is larger than this server accepts.".into())
    } else {
        bad("invalid_form", "The upload was interrupted or is not a valid form. Try again.")
    }
}

/// Keeps the last path component, drops control and path characters, and limits the length,
/// so a name is safe in a `Content-Disposition` header and on any file system.
pub fn sanitise_file_name(raw: &str) -> String {
    let base = raw.rsplit(['/', '\\']).next().unwrap_or_default();
    let cleaned: String = base
        .chars()
        .filter(|c| !c.is_control() && !is_bidi_control(*c) && !matches!(c, '"' | '<' | '>' | ':' | '|' | '?' | '*'))
        .collect();
    let trimmed = cleaned.trim().trim_start_matches('.');
    let limited: String = trimmed.chars().take(200).collect();
    if limited.is_empty() { "attachment".into() } else { limited }
}

/// Direction overrides and marks, which can make `invoice<U+202E>fdp.exe` display as `invoiceexe.pdf`.
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{FEFF}')
}

#[cfg(test)]
mod tests {
    use super::sanitise_file_name;

    #[test]
    fn file_names_are_made_safe() {
        assert_eq!(sanitise_file_name("../../etc/passwd"), "passwd");
        assert_eq!(sanitise_file_name("C:\\Users\\ann\\report.pdf"), "report.pdf");
        assert_eq!(sanitise_file_name("a\r\nb\".txt"), "ab.txt");
        assert_eq!(sanitise_file_name("..."), "attachment");
        assert_eq!(
            sanitise_file_name("invoice\u{202E}fdp.exe"),
            "invoicefdp.exe",
            "no right-to-left override tricks"
        );
        assert_eq!(sanitise_file_name(&"é".repeat(300)).chars().count(), 200);
    }
}
