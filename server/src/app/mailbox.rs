//! Reading mail: inbox and sent lists, a message, an attachment, revoking, and what the compose
//! page needs. Access is decided in storage by one rule (sender or addressee); everyone else
//! gets 404, the same as for a message that does not exist (SECURITY C1). Each read and download
//! is on the audit log before any content is returned (F1).

use sealpost_crypto::{Binding, ExposeSecret, MessageKey, ObjectKind, OpenedReader};
use sealpost_domain::api_messages::{AttachmentInfo, ComposeInfo, DeliveryStatus, MailBox, MessageDetail, MessageSummary, RecipientStatus};
use sealpost_domain::{AttachmentId, EmailAddress, MessageId};
use sealpost_storage::{BlobReader, StoredMessage, UserRecord};

use sealpost_audit::AuditEvent;

use crate::app::audit::{self, Action, Actor, Object, Outcome, RequestMeta};
use crate::error::AppError;
use crate::state::AppState;

const LIST_LIMIT: i64 = 200;

/// A download, ready to stream.
pub struct Download {
    /// The (sanitised) file name.
    pub name: String,
    /// Plaintext size.
    pub size: u64,
    /// The plaintext.
    pub reader: OpenedReader<BlobReader>,
}

/// The inbox or sent list.
pub async fn list(state: &AppState, user: &UserRecord, mailbox: MailBox, meta: &RequestMeta) -> Result<Vec<MessageSummary>, AppError> {
    // Subjects are content: the listing is on record before any is opened (SECURITY F1).
    audit::record(state, meta, &Actor::User(user.id), Action::MailboxList, None, Outcome::Success).await?;
    let rows = match mailbox {
        MailBox::Inbox => state.store.inbox(user.id, LIST_LIMIT).await?,
        MailBox::Sent => state.store.sent(user.id, LIST_LIMIT).await?,
    };
    let mut out = Vec::with_capacity(rows.len());
    for m in rows {
        let key = unwrap_key(state, &m)?;
        let recipients = match mailbox {
            MailBox::Sent => recipient_statuses(state, m.id).await?,
            MailBox::Inbox => vec![],
        };
        out.push(summary(&key, &m, recipients)?);
    }
    Ok(out)
}

/// One message, with its body and attachments; recorded as read before it is returned.
pub async fn open(state: &AppState, user: &UserRecord, id: MessageId, meta: &RequestMeta) -> Result<MessageDetail, AppError> {
    let m = state.store.message_for(user.id, id).await?.ok_or(AppError::NotFound)?;
    let is_sender = m.sender == user.id;
    reveal(state, m, &Actor::User(user.id), is_sender, meta).await
}

/// Records the read, marks it read, then opens the body and file names: the one path by which
/// a message's content leaves the server, for staff and recipients alike (SECURITY F1).
pub async fn reveal(
    state: &AppState,
    m: StoredMessage,
    actor: &Actor,
    show_recipients: bool,
    meta: &RequestMeta,
) -> Result<MessageDetail, AppError> {
    let id = m.id;
    let key = unwrap_key(state, &m)?;
    audit::record(state, meta, actor, Action::MessageRead, Some(Object::Message(id)), Outcome::Success).await?;
    if let Some((row, false)) = m.my_row {
        state.store.mark_read(row, state.now_ms()).await?;
    }
    let body = open_text(&key, Binding::new(ObjectKind::Body, id.0), &m.body)?;
    let mut attachments = vec![];
    for a in state.store.attachments_of(id).await? {
        attachments.push(AttachmentInfo {
            id: a.id,
            name: open_text(&key, Binding::new(ObjectKind::AttachmentName, a.id.0), &a.name)?,
            size: a.size,
        });
    }
    let recipients = if show_recipients {
        recipient_statuses(state, id).await?
    } else {
        vec![]
    };
    Ok(MessageDetail {
        summary: summary(&key, &m, recipients.clone())?,
        sender_email: EmailAddress::parse(&m.sender_email).map_err(|_| AppError::Internal(anyhow::anyhow!("corrupt sender email")))?,
        body,
        attachments,
        expires_at: m.expires_at_ms,
        recipients,
    })
}

/// An attachment's plaintext stream; recorded as downloaded before the first byte.
pub async fn download(
    state: &AppState,
    user: &UserRecord,
    id: MessageId,
    attachment: AttachmentId,
    meta: &RequestMeta,
) -> Result<Download, AppError> {
    let m = state.store.message_for(user.id, id).await?.ok_or(AppError::NotFound)?;
    open_attachment(state, &m, attachment, &Actor::User(user.id), meta).await
}

/// Opens one attachment of `m` for streaming; the download is on record before the first byte.
pub async fn open_attachment(
    state: &AppState,
    m: &StoredMessage,
    attachment: AttachmentId,
    actor: &Actor,
    meta: &RequestMeta,
) -> Result<Download, AppError> {
    let a = state
        .store
        .attachments_of(m.id)
        .await?
        .into_iter()
        .find(|a| a.id == attachment)
        .ok_or(AppError::NotFound)?;
    let key = unwrap_key(state, m)?;
    let name = open_text(&key, Binding::new(ObjectKind::AttachmentName, a.id.0), &a.name)?;
    let blob = state.blobs.reader(&a.blob_key).await?;
    let reader = key.open_stream(Binding::new(ObjectKind::Attachment, a.id.0), blob).await?;
    audit::record(
        state,
        meta,
        actor,
        Action::AttachmentDownload,
        Some(Object::Attachment(a.id)),
        Outcome::Success,
    )
    .await?;
    Ok(Download {
        name,
        size: a.size,
        reader,
    })
}

/// Withdraws access for one recipient or all. Only the sender may; others get 404.
pub async fn revoke(
    state: &AppState,
    user: &UserRecord,
    id: MessageId,
    recipient: Option<&str>,
    meta: &RequestMeta,
) -> Result<Vec<RecipientStatus>, AppError> {
    let m = state
        .store
        .message_for(user.id, id)
        .await?
        .filter(|m| m.sender == user.id)
        .ok_or(AppError::NotFound)?;
    let address = match recipient {
        Some(raw) => {
            let a = EmailAddress::parse(raw).map_err(|e| AppError::BadRequest {
                code: "invalid_recipient",
                message: e.to_string(),
            })?;
            if !state.store.recipients_of(m.id).await?.iter().any(|r| r.address == a.as_str()) {
                return Err(AppError::BadRequest {
                    code: "not_a_recipient",
                    message: format!("{a} is not a recipient of this message."),
                });
            }
            Some(a)
        }
        None => None,
    };
    let audit = AuditEvent::new(
        state.now_ms(),
        &Actor::User(user.id),
        Action::MessageRevoke,
        Some(Object::Message(id)),
        Outcome::Success,
        meta.clone(),
    );
    state.store.revoke(m.id, address.as_ref(), state.now_ms(), &audit).await?;
    recipient_statuses(state, id).await
}

/// Limits and known addresses for the compose page.
pub async fn compose_info(state: &AppState, user: &UserRecord) -> Result<ComposeInfo, AppError> {
    let known = state
        .store
        .known_recipients(user.id)
        .await?
        .iter()
        .filter_map(|a| EmailAddress::parse(a).ok())
        .collect();
    Ok(ComposeInfo {
        limits: state.limits,
        known_recipients: known,
    })
}

async fn recipient_statuses(state: &AppState, id: MessageId) -> Result<Vec<RecipientStatus>, AppError> {
    let rows = state.store.recipients_of(id).await?;
    Ok(rows
        .into_iter()
        .filter_map(|r| {
            let status = match r.status.as_str() {
                "delivered" => DeliveryStatus::Delivered,
                "read" => DeliveryStatus::Read,
                "queued" => DeliveryStatus::Queued,
                "sent" => DeliveryStatus::Sent,
                "failed" => DeliveryStatus::Failed,
                _ => DeliveryStatus::Revoked,
            };
            Some(RecipientStatus {
                address: EmailAddress::parse(&r.address).ok()?,
                internal: r.internal,
                status,
                detail: r.detail,
            })
        })
        .collect())
}

fn summary(key: &MessageKey, m: &StoredMessage, recipients: Vec<RecipientStatus>) -> Result<MessageSummary, AppError> {
    Ok(MessageSummary {
        id: m.id,
        reference: m.reference.clone(),
        sender_name: m.sender_name.clone(),
        subject: open_text(key, Binding::new(ObjectKind::Subject, m.id.0), &m.subject)?,
        marking: m.marking,
        sent_at: m.created_at_ms,
        unread: matches!(m.my_row, Some((_, false))),
        attachments: u32::try_from(m.attachment_count).unwrap_or(u32::MAX),
        recipients,
    })
}

fn unwrap_key(state: &AppState, m: &StoredMessage) -> Result<MessageKey, AppError> {
    Ok(state.keyring.unwrap(&m.key, m.id.0)?)
}

fn open_text(key: &MessageKey, binding: Binding, sealed: &sealpost_crypto::Sealed) -> Result<String, AppError> {
    let plain = key.open(binding, sealed)?;
    Ok(String::from_utf8_lossy(plain.expose_secret()).into_owned())
}
