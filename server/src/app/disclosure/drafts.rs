//! A draft, opened for its author. Drafts are the author's own unsent writing, seen by nobody
//! else: opening one is not a read of someone's mail, so it is not recorded; sending it is,
//! as a message's send.

use std::sync::Arc;

use sealpost_crypto::{Binding, ExposeSecret, MessageKey, ObjectKind, Sealed};
use sealpost_domain::api_drafts::{DraftContent, DraftId};
use sealpost_domain::api_messages::AttachmentInfo;
use sealpost_storage::{StoredAttachment, StoredDraft};

use super::keys::files_of;
use crate::error::AppError;
use crate::state::AppState;

/// The draft's key, unwrapped with the master key or taken from the short-lived cache (under
/// the id of the message the draft becomes, which has the same key).
pub fn draft_key(state: &AppState, d: &StoredDraft) -> Result<Arc<MessageKey>, AppError> {
    Ok(state.message_keys.get_or(d.id.message(), state.now_ms(), d.key.as_ref(), || {
        state.keyring.unwrap(&d.key, d.id.0)
    })?)
}

/// The draft's fields, opened.
pub fn draft_content(key: &MessageKey, d: &StoredDraft) -> Result<DraftContent, AppError> {
    let plain = key.open(binding(d.id), &d.content)?;
    serde_json::from_slice(plain.expose_secret()).map_err(|e| AppError::Internal(anyhow::anyhow!("a draft's fields do not parse: {e}")))
}

/// `content` sealed as the fields of draft `id`.
pub fn seal_draft(key: &MessageKey, id: DraftId, content: &DraftContent) -> Result<Sealed, AppError> {
    let json = serde_json::to_vec(content).map_err(|e| AppError::Internal(e.into()))?;
    Ok(key.seal(binding(id), &json)?)
}

/// The draft's files, names opened.
pub fn draft_files(key: &MessageKey, files: &[StoredAttachment]) -> Result<Vec<AttachmentInfo>, AppError> {
    files_of(key, files, None)
}

fn binding(id: DraftId) -> Binding {
    Binding::new(ObjectKind::DraftContent, id.0)
}
