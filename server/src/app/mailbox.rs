//! Reading mail: inbox and sent lists, a message, an attachment, and what the compose
//! page needs. Access is decided in storage by one rule (sender or addressee); everyone else
//! gets 404, the same as for a message that does not exist (SECURITY C1). What is shown, and
//! its audit record (F1), is [`disclosure`]'s.

use sealpost_domain::api_messages::{ComposeInfo, Folder, MailBox, MessageDetail, MessageSummary, ThreadPart};
use sealpost_domain::{AttachmentId, MessageId};
use sealpost_storage::UserRecord;

use crate::app::audit::{self, Action, Actor, Outcome, RequestMeta};
use crate::app::disclosure::{self, Download, Viewer};
use crate::error::AppError;
use crate::state::AppState;

const LIST_LIMIT: i64 = 200;

/// The inbox or sent list. The inbox also holds the threads `user` sent that have secure
/// replies, so a partner's answer arrives where staff look for mail.
pub async fn list(state: &AppState, user: &UserRecord, mailbox: MailBox, meta: &RequestMeta) -> Result<Vec<MessageSummary>, AppError> {
    // Subjects are content: the listing is on record before any is opened (SECURITY F1).
    audit::record(state, meta, &Actor::User(user.id), Action::MailboxList, None, Outcome::Success).await?;
    let activity = state.store.reply_activity(user.id, LIST_LIMIT).await?;
    let mut rows = match mailbox {
        MailBox::Inbox => state.store.inbox(user.id, LIST_LIMIT).await?,
        MailBox::Sent => state.store.sent(user.id, LIST_LIMIT).await?,
        MailBox::Archive => state.store.filed(user.id, "archive", 0, LIST_LIMIT).await?,
        MailBox::Deleted => state.store.filed(user.id, "deleted", deleted_since(state), LIST_LIMIT).await?,
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
        let recipients = disclosure::recipient_statuses(recipients_of.remove(&m.id).unwrap_or_default());
        let thread = activity.iter().find(|t| t.message == m.id && m.sender == user.id);
        let mut row = disclosure::summary(state, &m, recipients, thread)?;
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
    let (viewer, thread) = (Viewer::staff(&m, user), m.thread);
    let mut detail = disclosure::reveal(state, m, &Actor::User(user.id), viewer, meta).await?;
    detail.thread = conversation(state, user, thread).await?;
    Ok(detail)
}

/// The parts of conversation `thread` that `user` may read, when there is more than one.
async fn conversation(state: &AppState, user: &UserRecord, thread: MessageId) -> Result<Vec<ThreadPart>, AppError> {
    Ok(disclosure::thread_parts(state.store.thread_for(user.id, thread).await?))
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
    disclosure::open_attachment(state, &m, attachment, viewer, &Actor::User(user.id), meta).await
}

/// The oldest time a message deleted then is still in the Deleted box: older, it is emptied.
fn deleted_since(state: &AppState) -> i64 {
    state.now_ms() - i64::from(state.settings.deleted_days) * 86_400_000
}

/// Files message `id` in `to` for `user` alone: only someone who may read it may (anyone else:
/// 404). Nothing about the message changes for anyone else.
pub async fn file(state: &AppState, user: &UserRecord, id: MessageId, to: Folder) -> Result<(), AppError> {
    state.store.message_for(user.id, id).await?.ok_or(AppError::NotFound)?;
    let folder = match to {
        Folder::Inbox => None,
        Folder::Archive => Some("archive"),
        Folder::Deleted => Some("deleted"),
    };
    Ok(state.store.file_message(user.id, id, folder, state.now_ms()).await?)
}

/// Empties `user`'s Deleted box now.
pub async fn empty_deleted(state: &AppState, user: &UserRecord) -> Result<(), AppError> {
    state.store.empty_deleted(user.id, state.now_ms()).await?;
    Ok(())
}

/// Limits and known addresses for the compose page.
pub async fn compose_info(state: &AppState, user: &UserRecord) -> Result<ComposeInfo, AppError> {
    Ok(ComposeInfo {
        limits: state.limits,
        known_recipients: state.store.known_recipients(user.id).await?,
        policy: state.settings.policy,
    })
}
