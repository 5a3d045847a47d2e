//! Disclosure: the one path by which sealed content leaves the server, for staff, partners and
//! IG officers under break-glass alike. It unwraps message keys, opens sealed fields, applies
//! the [`Viewer`] rules for replies, and records each read or download on the audit log before
//! anything opened is returned (SECURITY F1). Use cases decide *whether* someone may reach a
//! message (storage's access rule, the portal's checks, a break-glass grant); this module
//! decides *what* they see of it.

mod drafts;
mod keys;
mod search;
mod viewer;

use sealpost_crypto::{Binding, ObjectKind, OpenedReader};
use sealpost_domain::api_messages::{Addressed, MessageDetail, MessageSummary, RecipientStatus, ThreadPart};
use sealpost_domain::{AttachmentId, MessageId, time, viewable_type};
use sealpost_storage::{BlobReader, ShredReason, Shredded, StoredMessage, StoredRecipient, ThreadActivity, ThreadEntry};

pub use drafts::{draft_content, draft_files, draft_key, scan_draft_files, seal_draft};
pub(crate) use keys::message_key;
use keys::{files_of, open_text};
pub use keys::{opens_with, resealed};
pub use search::search_text;
pub use viewer::Viewer;

use crate::app::audit::{self, Action, Actor, Object, Outcome, RequestMeta};
use crate::error::AppError;
use crate::state::AppState;

/// A download, ready to stream.
pub struct Download {
    /// The (sanitised) file name.
    pub name: String,
    /// Plaintext size.
    pub size: u64,
    /// The plaintext.
    pub reader: OpenedReader<BlobReader>,
}

/// Records the read by `actor`, marks it read, then opens the body, file names and the replies
/// `viewer` may see.
pub async fn reveal(
    state: &AppState,
    m: StoredMessage,
    actor: &Actor,
    viewer: Viewer,
    meta: &RequestMeta,
) -> Result<MessageDetail, AppError> {
    reveal_with(state, m, None, actor, viewer, meta).await
}

/// [`reveal`], with the message's recipients already read with it (`None`: read them here).
pub async fn reveal_with(
    state: &AppState,
    m: StoredMessage,
    recipients: Option<Vec<StoredRecipient>>,
    actor: &Actor,
    viewer: Viewer,
    meta: &RequestMeta,
) -> Result<MessageDetail, AppError> {
    // A shredded message has no key: its reader sees when and why it was deleted.
    let key = match m.shredded {
        None => Some(message_key(state, &m)?),
        Some(_) => None,
    };
    audit::record(
        state,
        meta,
        actor,
        Action::MessageRead,
        Some(Object::Message(m.id)),
        Outcome::Success,
    )
    .await?;
    detail(state, key.as_deref(), m, recipients, viewer).await
}

/// The message as an IG officer sees it under a break-glass grant just made: the grant's own
/// audit event, committed with it, is the record of this read (SECURITY C3).
pub async fn reveal_granted(state: &AppState, m: StoredMessage) -> Result<MessageDetail, AppError> {
    let key = match m.shredded {
        None => Some(message_key(state, &m)?),
        Some(_) => None,
    };
    detail(state, key.as_deref(), m, None, Viewer::BreakGlass).await
}

/// The message as `viewer` may see it, marked read for them; the caller has recorded the read.
/// Without a `key` (shredded), its envelope and when and why it was deleted.
async fn detail(
    state: &AppState,
    key: Option<&sealpost_crypto::MessageKey>,
    m: StoredMessage,
    recipients: Option<Vec<StoredRecipient>>,
    viewer: Viewer,
) -> Result<MessageDetail, AppError> {
    let id = m.id;
    if let Some((row, false)) = m.my_row {
        state.store.mark_read(row, state.now_ms()).await?;
    }
    // Files belong to the message or to its replies: with neither, there is nothing to read.
    let files = if key.is_some() && (m.attachment_count > 0 || m.reply_count > 0) {
        state.store.attachments_of(id).await?
    } else {
        vec![]
    };
    let replies = match key {
        Some(key) => viewer::replies(state, key, &m, viewer, &files).await?,
        None => vec![],
    };
    if viewer == Viewer::Sender
        && let Some(newest) = replies.last()
    {
        state.store.mark_replies_read(id, newest.sent_at, state.now_ms()).await?;
    }
    let attachments = match key {
        Some(key) => files_of(key, &files, None)?,
        None => vec![],
    };
    let rows = match recipients {
        Some(rows) => rows,
        None => state.store.recipients_of(id).await?,
    };
    let line = |wanted: Addressed| {
        rows.iter()
            .filter(|r| r.addressed == wanted)
            .map(|r| r.address.clone())
            .collect::<Vec<_>>()
    };
    let (to, cc) = (line(Addressed::To), line(Addressed::Cc));
    let blind_copy = m
        .my_row
        .is_some_and(|(mine, _)| rows.iter().any(|r| r.id == mine && r.addressed == Addressed::Bcc));
    // Only the sender (and IG under break-glass) sees the whole envelope, blind copies too.
    let held_until = m
        .held_until_ms
        .filter(|until| matches!(viewer, Viewer::Sender) && *until > state.now_ms());
    let mut recipients = if matches!(viewer, Viewer::Sender | Viewer::BreakGlass) {
        with_activity(state, id, rows).await?
    } else {
        vec![]
    };
    // In the undo window nobody has it yet, whatever the row will say once it ends.
    if held_until.is_some() {
        for r in &mut recipients {
            r.detail = Some("not yet: after the undo window".into());
        }
    }
    let mut summary = summary(state, &m, recipients.clone(), None)?;
    summary.replies = u32::try_from(replies.len()).unwrap_or(u32::MAX);
    summary.last_activity = replies.last().map_or(m.created_at_ms, |r| r.sent_at);
    Ok(MessageDetail {
        summary,
        sender_email: m.sender_email.clone(),
        body: match key {
            Some(key) => open_text(key, Binding::new(ObjectKind::Body, id.0), &m.body.text)?,
            None => format!(
                "{}. Its words, files and replies can no longer be opened by anyone; this record of it remains.",
                deleted_line(m.shredded)
            ),
        },
        html: match (key, &m.body.html) {
            (Some(key), Some(html)) => Some(open_text(key, Binding::new(ObjectKind::BodyHtml, id.0), html)?),
            _ => None,
        },
        attachments,
        expires_at: m.expires_at_ms,
        recipients,
        to,
        cc,
        blind_copy,
        replies,
        thread: vec![],
        view_only: m.view_only_files && matches!(viewer, Viewer::Partner(_)),
        held_until,
    })
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
    open_file(state, m, attachment, (viewer, actor), Action::AttachmentDownload, meta).await
}

/// Opens one attachment of a view-only message to be shown in the browser, recorded as viewed:
/// only a file the browser can show (images, PDF, text, see [`viewable_type`]); anything else
/// is refused, with nothing recorded.
pub async fn view_attachment(
    state: &AppState,
    m: &StoredMessage,
    attachment: AttachmentId,
    viewer: Viewer,
    actor: &Actor,
    meta: &RequestMeta,
) -> Result<Download, AppError> {
    open_file(state, m, attachment, (viewer, actor), Action::AttachmentView, meta).await
}

/// Opens one attachment of `m` (or of a reply `viewer` may see) to be sealed again into a new
/// message its reader is forwarding or answering with it; on record as forwarded before the
/// first byte. Any other attachment is 404.
pub async fn forward_attachment(
    state: &AppState,
    m: &StoredMessage,
    attachment: AttachmentId,
    viewer: Viewer,
    actor: &Actor,
    meta: &RequestMeta,
) -> Result<Download, AppError> {
    open_file(state, m, attachment, (viewer, actor), Action::AttachmentForward, meta).await
}

async fn open_file(
    state: &AppState,
    m: &StoredMessage,
    attachment: AttachmentId,
    (viewer, actor): (Viewer, &Actor),
    action: Action,
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
        && !viewer::may_see(state, m, viewer, reply).await?
    {
        return Err(AppError::NotFound);
    }
    let key = message_key(state, m)?;
    let name = open_text(&key, Binding::new(ObjectKind::AttachmentName, a.id.0), &a.name)?;
    if action == Action::AttachmentView && viewable_type(&name).is_none() {
        return Err(AppError::bad(
            "not_viewable",
            format!(
                "“{name}” can't be shown in the browser, and the files of this message can only be viewed, not downloaded. Ask {} ({}) for another way to get it.",
                m.sender_name, m.sender_email
            ),
        ));
    }
    let blob = state.blobs.reader(&a.blob_key).await?;
    let reader = key.open_stream(Binding::new(ObjectKind::Attachment, a.id.0), blob).await?;
    audit::record(state, meta, actor, action, Some(Object::Attachment(m.id, a.id)), Outcome::Success).await?;
    Ok(Download {
        name,
        size: a.size,
        reader,
    })
}

/// One row of a list, subject opened; the caller has recorded the listing (subjects are
/// content).
pub fn summary<B>(
    state: &AppState,
    m: &StoredMessage<B>,
    recipients: Vec<RecipientStatus>,
    thread: Option<&ThreadActivity>,
) -> Result<MessageSummary, AppError> {
    Ok(MessageSummary {
        id: m.id,
        reference: m.reference.clone(),
        sender_name: m.sender_name.clone(),
        subject: subject(state, m)?,
        marking: m.marking,
        sent_at: m.created_at_ms,
        unread: matches!(m.my_row, Some((_, false))) || thread.is_some_and(|t| t.unread > 0),
        attachments: u32::try_from(m.attachment_count).unwrap_or(u32::MAX),
        recipients,
        replies: thread.map_or(0, |t| u32::try_from(t.replies).unwrap_or(u32::MAX)),
        last_reply_from: thread.map(|t| t.last_from.clone()),
        last_activity: thread.map_or(m.created_at_ms, |t| t.last_at_ms.max(m.created_at_ms)),
        from_outside: m.from_outside,
        deleted_at: m.shredded.map(|s| s.at_ms),
    })
}

/// The message's subject, opened; the caller has recorded the listing it appears in. A
/// shredded message's subject says when and why it was deleted.
pub fn subject<B>(state: &AppState, m: &StoredMessage<B>) -> Result<String, AppError> {
    if m.shredded.is_some() {
        return Ok(deleted_line(m.shredded));
    }
    let key = message_key(state, m)?;
    open_text(&key, Binding::new(ObjectKind::Subject, m.id.0), &m.subject)
}

/// When and why a shredded message was deleted, as its readers are told (a sentence without its
/// full stop).
pub fn deleted_line(shredded: Option<Shredded>) -> String {
    match shredded {
        Some(Shredded { at_ms, reason }) => match reason {
            ShredReason::Erased => format!(
                "Erased by the council's information governance team on {}",
                time::format_date(at_ms)
            ),
            ShredReason::Retention => format!("Deleted under the council's retention policy on {}", time::format_date(at_ms)),
            ShredReason::Recalled => format!("Cancelled by its sender on {}, before anyone received it", time::format_date(at_ms)),
        },
        None => "Deleted: it can no longer be opened".to_owned(),
    }
}

/// Each recipient's status and, from the audit log, what they did: for the sender's view.
pub(crate) async fn recipients_with_activity(state: &AppState, id: MessageId) -> Result<Vec<RecipientStatus>, AppError> {
    let rows = state.store.recipients_of(id).await?;
    with_activity(state, id, rows).await
}

/// Recipient `rows` of message `id` with what each did, from the audit log.
async fn with_activity(state: &AppState, id: MessageId, rows: Vec<StoredRecipient>) -> Result<Vec<RecipientStatus>, AppError> {
    let trails = crate::app::governance::trails_for_sender(&state.store, id, &rows).await?;
    let mut statuses = recipient_statuses(rows);
    for s in &mut statuses {
        s.activity = trails.iter().find(|t| t.address == s.address.as_str()).cloned();
    }
    Ok(statuses)
}

/// A conversation's parts as a reader lists them (metadata only: each part opens, and is
/// recorded, on its own page); nothing when the message stands alone.
pub fn thread_parts(parts: Vec<ThreadEntry>) -> Vec<ThreadPart> {
    if parts.len() < 2 {
        return vec![];
    }
    // A part answering one this reader may not see names nothing: not even that it exists.
    let listed: Vec<_> = parts.iter().map(|p| p.id).collect();
    parts
        .into_iter()
        .map(|p| ThreadPart {
            id: p.id,
            reference: p.reference,
            sender_name: p.sender_name,
            sent_at: p.created_at_ms,
            in_reply_to: p.in_reply_to.filter(|a| listed.contains(a)),
        })
        .collect()
}

/// Recipient rows as the sender sees them.
pub(crate) fn recipient_statuses(rows: Vec<StoredRecipient>) -> Vec<RecipientStatus> {
    rows.into_iter()
        .map(|r| RecipientStatus {
            address: r.address,
            addressed: r.addressed,
            internal: r.internal,
            status: r.status,
            detail: r.detail,
            activity: None,
        })
        .collect()
}
