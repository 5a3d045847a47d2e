//! A draft, opened for its author. Drafts are the author's own unsent writing, seen by nobody
//! else: opening one is not a read of someone's mail, so it is not recorded; sending it is,
//! as a message's send.

use std::sync::Arc;

use sealpost_crypto::{Binding, ExposeSecret, MessageKey, ObjectKind, Sealed};
use sealpost_domain::api_drafts::{DraftContent, DraftId};
use sealpost_domain::api_messages::AttachmentInfo;
use sealpost_storage::{StoredAttachment, StoredDraft};

use sealpost_checks::{ContentFindings, StreamScan, is_text_file};
use tokio::io::AsyncReadExt;

use super::keys::{files_of, open_text};
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

/// What the draft's text files hold, for the content checks before it is sent. Read by the
/// server alone, and nothing of them leaves this function but counts: not a read of anyone's
/// mail, so not recorded.
pub async fn scan_draft_files(state: &AppState, key: &MessageKey, files: &[StoredAttachment]) -> Result<ContentFindings, AppError> {
    let mut found = ContentFindings::default();
    for a in files {
        let name = open_text(key, Binding::new(ObjectKind::AttachmentName, a.id.0), &a.name)?;
        if !is_text_file(&name) {
            continue;
        }
        let blob = state.blobs.reader(&a.blob_key).await?;
        let mut reader = key.open_stream(Binding::new(ObjectKind::Attachment, a.id.0), blob).await?;
        let mut scan = StreamScan::new(&state.settings.check_keywords);
        let mut buffer = vec![0u8; 64 * 1024];
        loop {
            let n = reader.read(&mut buffer).await.map_err(|e| AppError::Internal(e.into()))?;
            if n == 0 {
                break;
            }
            scan.feed(&buffer[..n]);
        }
        found = found.and(scan.finish());
    }
    Ok(found)
}

fn binding(id: DraftId) -> Binding {
    Binding::new(ObjectKind::DraftContent, id.0)
}
