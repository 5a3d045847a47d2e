//! The only code in `app/` that unwraps a message key or opens a sealed value. Everything it
//! opens goes back through [`super`], after the read is on the audit log (SECURITY F1).

use std::sync::Arc;

use sealpost_crypto::{Binding, ExposeSecret, MessageKey, ObjectKind};
use sealpost_domain::ReplyId;
use sealpost_domain::api_messages::AttachmentInfo;
use sealpost_storage::{Ciphertext, StoredAttachment, StoredMessage};

use crate::error::AppError;
use crate::state::AppState;

/// The message's key, unwrapped with the master key or taken from the short-lived cache.
/// A shredded message has none: `Gone`, saying when and why it was deleted.
pub(crate) fn message_key<B>(state: &AppState, m: &StoredMessage<B>) -> Result<Arc<MessageKey>, AppError> {
    let (Some(wrapped), None) = (&m.key, m.shredded) else {
        return Err(AppError::Gone {
            code: "message_deleted",
            message: format!("{}.", super::deleted_line(m.shredded)),
        });
    };
    Ok(state
        .message_keys
        .get_or(m.id, state.now_ms(), wrapped.as_ref(), || state.keyring.unwrap(wrapped, m.id.0))?)
}

/// A sealed text field, opened (its binding checked) as UTF-8.
pub(super) fn open_text(key: &MessageKey, binding: Binding, sealed: &Ciphertext) -> Result<String, AppError> {
    let plain = key.open(binding, sealed)?;
    let bytes = plain.expose_secret();
    // What we sealed is always UTF-8: `str::from_utf8` checks it a word at a time where
    // `from_utf8_lossy` goes a byte at a time (1.7 % of a partner's open). Anything else is
    // still shown, lossily.
    Ok(match std::str::from_utf8(bytes) {
        Ok(text) => text.to_owned(),
        Err(_) => String::from_utf8_lossy(bytes).into_owned(),
    })
}

/// The files among `files` that belong to `reply` (`None`: the message's own), names opened.
pub(super) fn files_of(key: &MessageKey, files: &[StoredAttachment], reply: Option<ReplyId>) -> Result<Vec<AttachmentInfo>, AppError> {
    files
        .iter()
        .filter(|a| a.reply == reply)
        .map(|a| {
            Ok(AttachmentInfo {
                id: a.id,
                name: open_text(key, Binding::new(ObjectKind::AttachmentName, a.id.0), &a.name)?,
                size: a.size,
            })
        })
        .collect()
}

/// Whether message `t` opens with `keyring` alone: its key unwraps and its subject and body
/// open (its files are sealed with the same key). For `sealpost keys recover`, which proves
/// the escrow key opens everything; nothing opened leaves this function.
pub fn opens_with(keyring: &sealpost_crypto::Keyring, t: &sealpost_storage::SealedText) -> bool {
    let Ok(key) = keyring.unwrap(&t.key, t.id.0) else {
        return false;
    };
    key.open(Binding::new(ObjectKind::Subject, t.id.0), &t.subject).is_ok()
        && key.open(Binding::new(ObjectKind::Body, t.id.0), &t.body).is_ok()
}

/// `v` opened with `old` and sealed again with `new`, under the same binding: for
/// `sealpost keys upgrade`; nothing opened leaves this function.
pub fn resealed(old: &MessageKey, new: &MessageKey, v: &sealpost_storage::SealedValue) -> Result<Vec<u8>, AppError> {
    use sealpost_storage::SealedColumn;
    let kind = match v.column {
        SealedColumn::Subject => ObjectKind::Subject,
        SealedColumn::Body => ObjectKind::Body,
        SealedColumn::BodyHtml => ObjectKind::BodyHtml,
        SealedColumn::AttachmentName => ObjectKind::AttachmentName,
        SealedColumn::ReplyBody => ObjectKind::ReplyBody,
        SealedColumn::LinkToken => ObjectKind::LinkToken,
    };
    let id =
        uuid::Uuid::parse_str(&v.bound_to).map_err(|_| AppError::Internal(anyhow::anyhow!("a sealed value's row id is not a UUID")))?;
    let binding = Binding::new(kind, id);
    let plain = old.open(binding, &v.sealed)?;
    Ok(new.seal(binding, plain.expose_secret())?.as_bytes().to_vec())
}
