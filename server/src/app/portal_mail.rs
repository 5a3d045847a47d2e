//! What a verified recipient may open. Proving the emailed code proves the address, so the
//! session reaches every live message sent to that address, not only the one whose link was
//! clicked: a returning partner sees all their mail in one place. A message that needs a
//! passphrase is the exception: only the message the session was verified for (with its
//! passphrase) opens; the others are listed without their subjects and open from their own
//! links (SECURITY B4). Everything else answers 404 (C1), and every read is audited first (F1).

use sealpost_domain::api_messages::{MessageDetail, PortalItem};
use sealpost_domain::{AttachmentId, MessageId};
use sealpost_storage::{LinkRecord, StoredMessage};

use crate::app::audit::{self, Action, Outcome, RequestMeta};
use crate::app::disclosure::{self, Download, Viewer};
use crate::app::portal::{Portal, check_live, recipient};
use crate::app::portal_verify;
use crate::error::AppError;
use crate::state::AppState;

/// At most this many messages are listed.
const LIST_LIMIT: i64 = 100;

/// The live messages to the recipient's address, newest first; the listing (subjects are
/// content) is on record before it is returned. A locked-out session lists nothing (429), and
/// another message's subject is left out while its own link is locked, as opening it would be
/// refused.
pub async fn list(state: &AppState, portal: &Portal, meta: &RequestMeta) -> Result<Vec<PortalItem>, AppError> {
    let links = live_links(state, portal).await?;
    portal_verify::ensure_not_locked(state, &portal.link)?;
    let messages = state
        .store
        .messages_to_address(&portal.link.address, state.now_ms(), LIST_LIMIT)
        .await?;
    audit::record(state, meta, &recipient(portal), Action::MailboxList, None, Outcome::Success).await?;
    let mut out = vec![];
    for link in links {
        let Some(m) = messages.iter().find(|m| m.my_row.is_some_and(|(r, _)| r == link.recipient_id)) else {
            continue; // revoked between the two reads
        };
        let subject = if openable(portal, &link) && !link.is_locked(state.now_ms()) {
            Some(disclosure::subject(state, m)?)
        } else {
            None
        };
        out.push(PortalItem {
            id: m.id,
            reference: m.reference.clone(),
            sender_name: m.sender_name.clone(),
            marking: m.marking,
            subject,
            sent_at: m.created_at_ms,
            expires_at: m.expires_at_ms,
            unread: matches!(m.my_row, Some((_, false))),
            current: link.recipient_id == portal.link.recipient_id,
        });
    }
    Ok(out)
}

/// One message, recorded as read before it is returned.
pub async fn read(state: &AppState, portal: &Portal, id: MessageId, meta: &RequestMeta) -> Result<MessageDetail, AppError> {
    let link = openable_link(state, portal, id).await?;
    // The message, its recipients and the conversation in one go; none of it leaves before the
    // read is on record.
    let opened = state
        .store
        .partner_open(link.recipient_id, &portal.link.address, state.now_ms())
        .await?
        .ok_or(AppError::NotFound)?;
    let m = opened.message;
    // The marking policy may limit how often each partner opens it: once per portal session.
    if let Some(max) = m.max_opens
        && m.shredded.is_none()
        && !state.store.count_open(&portal.session, link.recipient_id, max).await?
    {
        return Err(AppError::Gone {
            code: "opens_used",
            message: format!(
                "This message can be opened {max} times, and you have opened it that often: the council's policy for {} messages. If you need it again, ask {} ({}) to send it again.",
                m.marking.label(),
                m.sender_name,
                m.sender_email
            ),
        });
    }
    let viewer = Viewer::Partner(link.recipient_id);
    let mut detail = disclosure::reveal_with(state, m, Some(opened.recipients), &recipient(portal), viewer, meta).await?;
    // The conversation as far as it was sent to this address: parts between staff, or to
    // anyone else, are never listed.
    detail.thread = disclosure::thread_parts(opened.thread);
    Ok(detail)
}

/// How a partner gets a file.
pub enum Delivered {
    /// As a download.
    Download(Download),
    /// Shown in the browser only: the message's files are view-only under the marking policy.
    View(Download),
}

/// One attachment of a message (or of the recipient's own reply); recorded before the first
/// byte, as a download or, for a view-only message, as a view.
pub async fn download(
    state: &AppState,
    portal: &Portal,
    id: MessageId,
    attachment: AttachmentId,
    meta: &RequestMeta,
) -> Result<Delivered, AppError> {
    let (m, link) = open(state, portal, id).await?;
    // Under an opens limit, files come only in a session that counted an open of the message.
    if m.max_opens.is_some() && !state.store.opened_in(&portal.session, link.recipient_id).await? {
        return Err(AppError::Forbidden("Open the message first: its files come with it."));
    }
    let viewer = Viewer::Partner(link.recipient_id);
    let actor = recipient(portal);
    // View-only covers the sender's files; the partner's own reply files download as ever.
    let own_file = m.view_only_files
        && state
            .store
            .attachments_of(m.id)
            .await?
            .iter()
            .any(|a| a.id == attachment && a.reply.is_some());
    Ok(if m.view_only_files && !own_file {
        Delivered::View(disclosure::view_attachment(state, &m, attachment, viewer, &actor, meta).await?)
    } else {
        Delivered::Download(disclosure::open_attachment(state, &m, attachment, viewer, &actor, meta).await?)
    })
}

/// Message `id` with the recipient row through which this session reaches it: 403 before the
/// code is entered or without the message's own passphrase, 410 once revoked or expired, 429
/// while that recipient row is locked out, 404 when it is not addressed to this recipient.
pub async fn open(state: &AppState, portal: &Portal, id: MessageId) -> Result<(StoredMessage, LinkRecord), AppError> {
    let link = openable_link(state, portal, id).await?;
    let m = state
        .store
        .message_for_recipient(link.recipient_id)
        .await?
        .ok_or(AppError::NotFound)?;
    Ok((m, link))
}

/// The link through which the session may open message `id`, or why it may not.
async fn openable_link(state: &AppState, portal: &Portal, id: MessageId) -> Result<LinkRecord, AppError> {
    if !portal.verified {
        return Err(AppError::Forbidden("Enter the code from your email first."));
    }
    // The session's own link was read with the session, a moment ago.
    let link = if id == portal.link.message_id {
        portal.link.clone()
    } else {
        state
            .store
            .link_for_address(&portal.link.address, id)
            .await?
            .ok_or(AppError::NotFound)?
    };
    check_live(state, &link).await?;
    portal_verify::ensure_not_locked(state, &link)?;
    if !openable(portal, &link) {
        return Err(AppError::Forbidden(
            "This message needs the passphrase its sender gave you. Open the link in its own email to read it.",
        ));
    }
    Ok(link)
}

/// The session was verified for this link, or the link needs no passphrase.
fn openable(portal: &Portal, link: &LinkRecord) -> bool {
    link.recipient_id == portal.link.recipient_id || !link.passphrase_required
}

async fn live_links(state: &AppState, portal: &Portal) -> Result<Vec<LinkRecord>, AppError> {
    if !portal.verified {
        return Err(AppError::Forbidden("Enter the code from your email first."));
    }
    Ok(state
        .store
        .live_links_for_address(&portal.link.address, state.now_ms(), LIST_LIMIT)
        .await?)
}
