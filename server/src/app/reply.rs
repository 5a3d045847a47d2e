//! A verified recipient's secure reply: text and files sealed with the message's own key (so
//! shredding the message shreds its replies), stored with the audit event in one transaction.
//! The reply lands in the sender's inbox as part of the thread; the sender also gets a short
//! email naming the reference, never the content.

use sealpost_audit::AuditEvent;
use sealpost_crypto::{Binding, ObjectKind};
use sealpost_domain::api_messages::{ReplySent, SendReply};
use sealpost_domain::{MessageId, ReplyId};
use sealpost_storage::{LinkRecord, NewReply};
use uuid::Uuid;

use crate::app::audit::{Action, Object, Outcome, RequestMeta};
use crate::app::disclosure::message_key;
use crate::app::notices;
use crate::app::portal::{Portal, recipient};
use crate::app::portal_mail;
use crate::app::uploads::{self, Form, Uploads};
use crate::error::AppError;
use crate::state::AppState;

/// One recipient may send at most this many replies to one message (each may carry files up
/// to the per-message limit), so a partner's session cannot fill the disk or the sender's inbox.
pub const MAX_REPLIES: usize = 50;

/// Stores the reply to message `id` in `form` (a `reply` JSON part, then `attachment` parts)
/// from `portal`'s verified recipient.
pub async fn reply(
    state: &AppState,
    portal: &Portal,
    id: MessageId,
    meta: &RequestMeta,
    mut form: impl Form,
) -> Result<ReplySent, AppError> {
    let (m, link) = portal_mail::open(state, portal, id).await?;
    if state.store.replies_to(m.id, Some(link.recipient_id)).await?.len() >= MAX_REPLIES {
        return Err(AppError::bad(
            "too_many_replies",
            format!(
                "You have sent {MAX_REPLIES} replies to this message, the most it takes. Contact {} directly.",
                link.sender_name
            ),
        ));
    }
    let request: SendReply = uploads::json_part(&mut form, "reply").await?;
    let body = request.body.trim_end().to_owned();
    if body.len() > state.limits.max_body_bytes as usize {
        return Err(AppError::bad(
            "body_too_long",
            format!("The reply is too long: at most {} KiB of text.", state.limits.max_body_bytes / 1024),
        ));
    }
    let key = message_key(state, &m)?;
    let mut uploads = Uploads::new(state);
    let attachments = uploads.receive(&key, m.id, &mut form).await?;
    if body.trim().is_empty() && attachments.is_empty() {
        return Err(AppError::bad("empty_reply", "Write a reply, or attach a file."));
    }
    let reply_id = ReplyId(Uuid::new_v4());
    let now = state.now_ms();
    let reply = NewReply {
        id: reply_id,
        message: m.id,
        author: link.recipient_id,
        body: key.seal(Binding::new(ObjectKind::ReplyBody, reply_id.0), body.as_bytes())?,
        created_at_ms: now,
        attachments,
    };
    let audit = AuditEvent::new(
        now,
        &recipient(portal),
        Action::ReplySend,
        Some(Object::Message(m.id)),
        Outcome::Success,
        meta.clone(),
    );
    let created = state.store.create_reply(&reply, &audit).await.map_err(AppError::from);
    if !uploads.settle(created, |created| *created)? {
        // Revoked while the files were uploading: `settle` removed them.
        return Err(AppError::Gone {
            code: "link_revoked",
            message: format!(
                "{} has withdrawn access to this message, so your reply was not sent.",
                link.sender_name
            ),
        });
    }
    // The notice must not hold up the answer (a slow relay would invite a duplicate retry).
    let (state, link) = (state.clone(), link.clone());
    tokio::spawn(async move { tell_sender(&state, &link).await });
    Ok(ReplySent { id: reply_id })
}

async fn tell_sender(state: &AppState, link: &LinkRecord) {
    let subject = format!("Sealpost: a secure reply to message {}", link.reference);
    let text = format!(
        "{recipient} has sent a secure reply to your message {reference}.\n\n\
         Sign in to Sealpost to read it; it is in your inbox: {url}/messages/{id}\n",
        recipient = link.address,
        reference = link.reference,
        url = state.settings.public_url,
        id = link.message_id,
    );
    notices::tell_sender(state, link, "reply", subject, text).await;
}
