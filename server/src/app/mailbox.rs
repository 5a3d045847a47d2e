//! Reading mail: inbox and sent lists, a message, an attachment, and what the compose
//! page needs. Access is decided in storage by one rule (sender or addressee); everyone else
//! gets 404, the same as for a message that does not exist (SECURITY C1). Each read and download
//! is on the audit log before any content is returned (F1).

use sealpost_crypto::{Binding, ExposeSecret, MessageKey, ObjectKind, OpenedReader};
use sealpost_domain::api_messages::{ComposeInfo, DeliveryStatus, MailBox, MessageDetail, MessageSummary, RecipientStatus};
use sealpost_domain::{AttachmentId, EmailAddress, MessageId};
use sealpost_storage::{BlobReader, StoredMessage, ThreadActivity, UserRecord};

use crate::app::audit::{self, Action, Actor, Object, Outcome, RequestMeta};
use crate::app::thread;
pub use crate::app::thread::Viewer;
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

/// The inbox or sent list. The inbox also holds the threads `user` sent that have secure
/// replies, so a partner's answer arrives where staff look for mail.
pub async fn list(state: &AppState, user: &UserRecord, mailbox: MailBox, meta: &RequestMeta) -> Result<Vec<MessageSummary>, AppError> {
    // Subjects are content: the listing is on record before any is opened (SECURITY F1).
    audit::record(state, meta, &Actor::User(user.id), Action::MailboxList, None, Outcome::Success).await?;
    let activity = state.store.reply_activity(user.id, LIST_LIMIT).await?;
    let mut rows = match mailbox {
        MailBox::Inbox => state.store.inbox(user.id, LIST_LIMIT).await?,
        MailBox::Sent => state.store.sent(user.id, LIST_LIMIT).await?,
    };
    if mailbox == MailBox::Inbox && !activity.is_empty() {
        for m in state.store.answered_threads(user.id, LIST_LIMIT).await? {
            if !rows.iter().any(|r| r.id == m.id) {
                rows.push(m);
            }
        }
    }
    let mut recipients_of = std::collections::HashMap::<MessageId, Vec<_>>::new();
    if mailbox == MailBox::Sent {
        for (message, r) in state.store.recipients_of_sent(user.id, LIST_LIMIT).await? {
            recipients_of.entry(message).or_default().push(r);
        }
    }
    let mut out = Vec::with_capacity(rows.len());
    for m in rows {
        let key = unwrap_key(state, &m)?;
        let recipients = statuses_of(recipients_of.remove(&m.id).unwrap_or_default());
        let thread = activity.iter().find(|t| t.message == m.id && m.sender == user.id);
        let mut row = summary(&key, &m, recipients, thread)?;
        if mailbox == MailBox::Sent {
            // Sent stays in the order sent; unread replies are the inbox's news.
            row.unread = false;
        }
        out.push(row);
    }
    if mailbox == MailBox::Inbox {
        out.sort_by_key(|m| std::cmp::Reverse(m.last_activity));
        out.truncate(LIST_LIMIT as usize);
    }
    Ok(out)
}

/// One message, with its body and attachments; recorded as read before it is returned.
pub async fn open(state: &AppState, user: &UserRecord, id: MessageId, meta: &RequestMeta) -> Result<MessageDetail, AppError> {
    let m = state.store.message_for(user.id, id).await?.ok_or(AppError::NotFound)?;
    let viewer = Viewer::staff(&m, user);
    reveal(state, m, &Actor::User(user.id), viewer, meta).await
}

/// Records the read, marks it read, then opens the body, file names and the replies `viewer`
/// may see: the one path by which a thread's content leaves the server, for staff and
/// recipients alike (SECURITY F1).
pub async fn reveal(
    state: &AppState,
    m: StoredMessage,
    actor: &Actor,
    viewer: Viewer,
    meta: &RequestMeta,
) -> Result<MessageDetail, AppError> {
    let key = unwrap_key(state, &m)?;
    audit::record(
        state,
        meta,
        actor,
        Action::MessageRead,
        Some(Object::Message(m.id)),
        Outcome::Success,
    )
    .await?;
    detail(state, &key, m, viewer).await
}

/// The message as `viewer` may see it, marked read for them; the caller has recorded the read.
pub async fn detail(state: &AppState, key: &MessageKey, m: StoredMessage, viewer: Viewer) -> Result<MessageDetail, AppError> {
    let id = m.id;
    if let Some((row, false)) = m.my_row {
        state.store.mark_read(row, state.now_ms()).await?;
    }
    // Files belong to the message or to its replies: with neither, there is nothing to read.
    let files = if m.attachment_count > 0 || m.reply_count > 0 {
        state.store.attachments_of(id).await?
    } else {
        vec![]
    };
    let replies = thread::replies(state, key, &m, viewer, &files).await?;
    if viewer == Viewer::Sender
        && let Some(newest) = replies.last()
    {
        state.store.mark_replies_read(id, newest.sent_at, state.now_ms()).await?;
    }
    let attachments = thread::files_of(key, &files, None)?;
    let recipients = if matches!(viewer, Viewer::Sender | Viewer::BreakGlass) {
        recipients_with_activity(state, id).await?
    } else {
        vec![]
    };
    let mut summary = summary(key, &m, recipients.clone(), None)?;
    summary.replies = u32::try_from(replies.len()).unwrap_or(u32::MAX);
    summary.last_activity = replies.last().map_or(m.created_at_ms, |r| r.sent_at);
    Ok(MessageDetail {
        summary,
        sender_email: EmailAddress::parse(&m.sender_email).map_err(|_| AppError::Internal(anyhow::anyhow!("corrupt sender email")))?,
        body: open_text(key, Binding::new(ObjectKind::Body, id.0), &m.body)?,
        attachments,
        expires_at: m.expires_at_ms,
        recipients,
        replies,
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
    let viewer = Viewer::staff(&m, user);
    open_attachment(state, &m, attachment, viewer, &Actor::User(user.id), meta).await
}

/// Opens one attachment of `m` (or of a reply `viewer` may see) for streaming; the download is
/// on record before the first byte. Any other attachment is 404 (SECURITY C1).
pub async fn open_attachment(
    state: &AppState,
    m: &StoredMessage,
    attachment: AttachmentId,
    viewer: Viewer,
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
    if let Some(reply) = a.reply
        && !thread::may_see(state, m, viewer, reply).await?
    {
        return Err(AppError::NotFound);
    }
    let key = unwrap_key(state, m)?;
    let name = open_text(&key, Binding::new(ObjectKind::AttachmentName, a.id.0), &a.name)?;
    let blob = state.blobs.reader(&a.blob_key).await?;
    let reader = key.open_stream(Binding::new(ObjectKind::Attachment, a.id.0), blob).await?;
    audit::record(
        state,
        meta,
        actor,
        Action::AttachmentDownload,
        Some(Object::Attachment(m.id, a.id)),
        Outcome::Success,
    )
    .await?;
    Ok(Download {
        name,
        size: a.size,
        reader,
    })
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

/// Each recipient's status and, from the audit log, what they did: for the message page.
pub(crate) async fn recipients_with_activity(state: &AppState, id: MessageId) -> Result<Vec<RecipientStatus>, AppError> {
    let rows = state.store.recipients_of(id).await?;
    let trails = crate::app::governance::trails_for_sender(&state.store, id, &rows).await?;
    let mut statuses = statuses_of(rows);
    for s in &mut statuses {
        s.activity = trails.iter().find(|t| t.address == s.address.as_str()).cloned();
    }
    Ok(statuses)
}

fn statuses_of(rows: Vec<sealpost_storage::StoredRecipient>) -> Vec<RecipientStatus> {
    rows.into_iter()
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
                activity: None,
            })
        })
        .collect()
}

fn summary<B>(
    key: &MessageKey,
    m: &StoredMessage<B>,
    recipients: Vec<RecipientStatus>,
    thread: Option<&ThreadActivity>,
) -> Result<MessageSummary, AppError> {
    Ok(MessageSummary {
        id: m.id,
        reference: m.reference.clone(),
        sender_name: m.sender_name.clone(),
        subject: open_text(key, Binding::new(ObjectKind::Subject, m.id.0), &m.subject)?,
        marking: m.marking,
        sent_at: m.created_at_ms,
        unread: matches!(m.my_row, Some((_, false))) || thread.is_some_and(|t| t.unread > 0),
        attachments: u32::try_from(m.attachment_count).unwrap_or(u32::MAX),
        recipients,
        replies: thread.map_or(0, |t| u32::try_from(t.replies).unwrap_or(u32::MAX)),
        last_reply_from: thread.and_then(|t| EmailAddress::parse(&t.last_from).ok()),
        last_activity: thread.map_or(m.created_at_ms, |t| t.last_at_ms.max(m.created_at_ms)),
    })
}

/// The message's key, unwrapped with the master key or taken from the short-lived cache.
pub(crate) fn unwrap_key<B>(state: &AppState, m: &StoredMessage<B>) -> Result<std::sync::Arc<MessageKey>, AppError> {
    Ok(state
        .message_keys
        .get_or(m.id, state.now_ms(), || state.keyring.unwrap(&m.key, m.id.0))?)
}

pub(crate) fn open_text(key: &MessageKey, binding: Binding, sealed: &sealpost_crypto::Sealed) -> Result<String, AppError> {
    let plain = key.open(binding, sealed)?;
    Ok(String::from_utf8_lossy(plain.expose_secret()).into_owned())
}
