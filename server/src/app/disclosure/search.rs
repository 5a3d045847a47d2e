//! Opening a message's subject and body for its reader's search index. The search itself is on
//! the audit log (who searched, never what); what is opened here becomes keyed hashes of its
//! words and is dropped (see [`crate::search_index`]), and only the subjects of the hits are
//! shown.

use sealpost_crypto::{Binding, ObjectKind};
use sealpost_storage::SealedText;

use super::keys::open_text;
use crate::error::AppError;
use crate::state::AppState;

/// The subject and body of `t`. A key unwrapped in the last minute is used; otherwise the key
/// is unwrapped and not kept, so indexing a whole mailbox does not push everyone else's keys
/// out of the cache.
pub fn search_text(state: &AppState, t: &SealedText) -> Result<(String, String), AppError> {
    let key = match state.message_keys.get(t.id, state.now_ms(), t.key.as_ref()) {
        Some(key) => key,
        None => std::sync::Arc::new(state.keyring.unwrap(&t.key, t.id.0)?),
    };
    Ok((
        open_text(&key, Binding::new(ObjectKind::Subject, t.id.0), &t.subject)?,
        open_text(&key, Binding::new(ObjectKind::Body, t.id.0), &t.body)?,
    ))
}
