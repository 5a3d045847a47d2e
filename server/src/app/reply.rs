//! A verified recipient's secure reply: text and files sealed with the message's own key (so
//! shredding the message shreds its replies), stored with the audit event in one transaction.
//! The reply lands in the sender's inbox as part of the thread; the sender also gets a short
//! email naming the reference, never the content.

use axum::extract::Multipart;
use sealpost_audit::AuditEvent;
use sealpost_crypto::{Binding, ObjectKind};
use sealpost_domain::ReplyId;
use sealpost_domain::api_messages::{ReplySent, SendReply};
use sealpost_storage::NewReply;
use uuid::Uuid;

use crate::app::audit::{Action, Object, Outcome, RequestMeta};
use crate::app::mailbox::unwrap_key;
use crate::app::notices;
use crate::app::portal::{self, Portal};
use crate::app::uploads::{self, Uploads};
use crate::error::AppError;
use crate::state::AppState;

/// Stores the reply in `form` (a `reply` JSON part, then `attachment` parts) from `portal`'s
/// verified recipient.
pub async fn reply(state: &AppState, portal: &Portal, meta: &RequestMeta, mut form: Multipart) -> Result<ReplySent, AppError> {
    let m = portal::verified_message(state, portal).await?;
    let request: SendReply = uploads::json_part(&mut form, "reply").await?;
    let body = request.body.trim_end().to_owned();
    if body.len() > state.limits.max_body_bytes as usize {
        return Err(AppError::bad(
            "body_too_long",
            format!("The reply is too long: at most {} KiB of text.", state.limits.max_body_bytes / 1024),
        ));
    }
    let key = unwrap_key(state, &m)?;
    let mut uploads = Uploads::new(state);
    let attachments = uploads.receive(&key, m.id, &mut form).await?;
    if body.trim().is_empty() && attachments.is_empty() {
        return Err(AppError::bad("empty_reply", "Write a reply, or attach a file."));
    }
    let id = ReplyId(Uuid::new_v4());
    let now = state.now_ms();
    let reply = NewReply {
        id,
        message: m.id,
        author: portal.link.recipient_id,
        body: key.seal(Binding::new(ObjectKind::ReplyBody, id.0), body.as_bytes())?,
        created_at_ms: now,
        attachments,
    };
    let audit = AuditEvent::new(
        now,
        &portal::recipient(portal),
        Action::ReplySend,
        Some(Object::Message(m.id)),
        Outcome::Success,
        meta.clone(),
    );
    state.store.create_reply(&reply, &audit).await?;
    uploads.keep();
    tell_sender(state, portal).await;
    Ok(ReplySent { id })
}

async fn tell_sender(state: &AppState, portal: &Portal) {
    let link = &portal.link;
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
