//! Who may still open a sent message: withdrawing access from one recipient or all, and giving
//! it back. Only the sender may do either (anyone else gets 404, SECURITY C1), and each change
//! commits together with its audit event. Giving a partner access back sends a fresh link: the
//! old one stays dead, and any portal session opened with it is ended.

use sealpost_audit::AuditEvent;
use sealpost_crypto::{Binding, ObjectKind, Token};
use sealpost_domain::api_messages::{DeliveryStatus, RecipientStatus};
use sealpost_domain::{EmailAddress, MessageId};
use sealpost_storage::{Recall, Regrant, StoredMessage, StoredRecipient, UserRecord};

use crate::app::audit::{Action, Actor, Object, Outcome, RequestMeta};
use crate::app::disclosure::{message_key, recipients_with_activity};
use crate::error::AppError;
use crate::state::AppState;

/// Withdraws access for one recipient or all. Only the sender may; others get 404.
pub async fn revoke(
    state: &AppState,
    user: &UserRecord,
    id: MessageId,
    recipient: Option<&str>,
    meta: &RequestMeta,
) -> Result<Vec<RecipientStatus>, AppError> {
    let m = senders_message(state, user, id).await?;
    let address = match recipient {
        Some(raw) => Some(recipient_of(state, &m, raw).await?.0),
        None => None,
    };
    let object = match &address {
        Some(a) => Object::Recipient(id, a.clone()),
        None => Object::Message(id),
    };
    let audit = AuditEvent::new(
        state.now_ms(),
        &Actor::User(user.id),
        Action::MessageRevoke,
        Some(object),
        Outcome::Success,
        meta.clone(),
    );
    state.store.revoke(m.id, address.as_ref(), state.now_ms(), &audit).await?;
    recipients_with_activity(state, id).await
}

/// Undoes the send of `user`'s message `id` in its undo window: crypto-shredded, with its files,
/// before anyone received it or any notification left; on record as recalled. After the
/// window a 409 says it has gone; anyone else's message is a 404.
pub async fn recall(state: &AppState, user: &UserRecord, id: MessageId, meta: &RequestMeta) -> Result<(), AppError> {
    let now = state.now_ms();
    let audit = AuditEvent::new(
        now,
        &Actor::User(user.id),
        Action::MessageRecalled,
        Some(Object::Message(id)),
        Outcome::Success,
        meta.clone(),
    );
    match state.store.recall_message(id, user.id, now, &audit).await? {
        Recall::Recalled(files) => {
            for key in files {
                if let Err(e) = state.blobs.delete(&key).await {
                    tracing::warn!(error = %e, message = %id, "a recalled message's file is left for the orphan sweep");
                }
            }
            Ok(())
        }
        Recall::TooLate => Err(AppError::Conflict {
            code: "too_late_to_undo",
            message:
                "It is too late to undo this send: the message has already gone to its recipients. You can still withdraw access to it."
                    .into(),
        }),
        Recall::NotFound => Err(AppError::NotFound),
    }
}

/// Gives a withdrawn recipient access again: a colleague finds the message in their inbox; a
/// partner is emailed a new link (the same code and passphrase rules apply). Refused once the
/// message's links have expired: then it must be sent again.
pub async fn regrant(
    state: &AppState,
    user: &UserRecord,
    id: MessageId,
    recipient: &str,
    meta: &RequestMeta,
) -> Result<Vec<RecipientStatus>, AppError> {
    let m = senders_message(state, user, id).await?;
    let (address, row) = recipient_of(state, &m, recipient).await?;
    let not_withdrawn = || AppError::bad("not_withdrawn", format!("{address} can still open this message."));
    if row.status != DeliveryStatus::Revoked {
        return Err(not_withdrawn());
    }
    if m.expires_at_ms <= state.now_ms() {
        return Err(AppError::bad(
            "message_expired",
            "This message's links have expired, so access cannot be given back: send it again instead.",
        ));
    }
    let grant = if row.internal {
        Regrant::Colleague
    } else {
        let token = Token::generate()?;
        let key = message_key(state, &m)?;
        Regrant::Partner {
            link: token.hash(),
            sealed_link: key.seal(Binding::new(ObjectKind::LinkToken, row.id.0), token.expose_hex().as_bytes())?,
        }
    };
    let audit = AuditEvent::new(
        state.now_ms(),
        &Actor::User(user.id),
        Action::MessageRegrant,
        Some(Object::Recipient(id, address.clone())),
        Outcome::Success,
        meta.clone(),
    );
    if !state.store.regrant(m.id, row.id, &grant, state.now_ms(), &audit).await? {
        return Err(not_withdrawn());
    }
    state.outbox_wake.notify_one();
    recipients_with_activity(state, id).await
}

/// The message, if `user` sent it; 404 otherwise, as for one that does not exist.
/// The sender's own message, still there: a deleted one (retention, erasure, a send undone)
/// has no access left to withdraw or give back.
async fn senders_message(state: &AppState, user: &UserRecord, id: MessageId) -> Result<StoredMessage, AppError> {
    let m = state
        .store
        .message_for(user.id, id)
        .await?
        .filter(|m| m.sender == user.id)
        .ok_or(AppError::NotFound)?;
    if m.shredded.is_some() {
        return Err(AppError::Gone {
            code: "message_deleted",
            message: format!(
                "{}; there is no access left to withdraw or give back.",
                crate::app::disclosure::deleted_line(m.shredded)
            ),
        });
    }
    Ok(m)
}

/// The recipient row of `m` for the address typed, or a 400 that says why not.
async fn recipient_of(state: &AppState, m: &StoredMessage, raw: &str) -> Result<(EmailAddress, StoredRecipient), AppError> {
    let a = EmailAddress::parse(raw).map_err(|e| AppError::bad("invalid_recipient", e.to_string()))?;
    let row = state.store.recipients_of(m.id).await?.into_iter().find(|r| r.address == a);
    let row = row.ok_or_else(|| AppError::bad("not_a_recipient", format!("{a} is not a recipient of this message.")))?;
    Ok((a, row))
}
