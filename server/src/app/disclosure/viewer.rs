//! Which replies of a thread a viewer may see. A reply is addressed to the member of staff who
//! sent the message: the sender sees every reply, an external recipient sees only their own
//! (partners never see each other's answers), and colleagues the message was copied to see
//! none. A reply's files follow the reply (SECURITY C1).

use sealpost_crypto::{Binding, MessageKey, ObjectKind};
use sealpost_domain::api_messages::ReplyDetail;
use sealpost_domain::{RecipientId, ReplyId};
use sealpost_storage::{StoredAttachment, StoredMessage, StoredReply, UserRecord};

use super::keys::{files_of, open_text};
use crate::error::AppError;
use crate::state::AppState;

/// Whose eyes a thread is shown to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Viewer {
    /// The member of staff who sent the message: every reply.
    Sender,
    /// A colleague it was addressed to: the message only.
    Colleague,
    /// An external recipient, by their recipient row: their own replies.
    Partner(RecipientId),
    /// An IG officer under a break-glass grant: everything, as the sender sees it, marking
    /// nothing read (SECURITY C3).
    BreakGlass,
}

impl Viewer {
    /// A member of staff who may read `m` (storage has already checked that).
    pub fn staff(m: &StoredMessage, user: &UserRecord) -> Self {
        if m.sender == user.id { Viewer::Sender } else { Viewer::Colleague }
    }
}

async fn visible(state: &AppState, m: &StoredMessage, viewer: Viewer) -> Result<Vec<StoredReply>, AppError> {
    if m.reply_count == 0 {
        return Ok(vec![]);
    }
    Ok(match viewer {
        Viewer::Sender | Viewer::BreakGlass => state.store.replies_to(m.id, None).await?,
        Viewer::Partner(row) => state.store.replies_to(m.id, Some(row)).await?,
        Viewer::Colleague => vec![],
    })
}

/// Whether `viewer` may see `reply` of `m`.
pub(super) async fn may_see(state: &AppState, m: &StoredMessage, viewer: Viewer, reply: ReplyId) -> Result<bool, AppError> {
    Ok(visible(state, m, viewer).await?.iter().any(|r| r.id == reply))
}

/// The replies `viewer` may see, opened, with their files out of `files` (the message's
/// attachment rows). The caller has recorded the read.
pub(super) async fn replies(
    state: &AppState,
    key: &MessageKey,
    m: &StoredMessage,
    viewer: Viewer,
    files: &[StoredAttachment],
) -> Result<Vec<ReplyDetail>, AppError> {
    let mut out = vec![];
    for r in visible(state, m, viewer).await? {
        out.push(ReplyDetail {
            id: r.id,
            from: r.address,
            sent_at: r.created_at_ms,
            body: open_text(key, Binding::new(ObjectKind::ReplyBody, r.id.0), &r.body)?,
            attachments: files_of(key, files, Some(r.id))?,
        });
    }
    Ok(out)
}
