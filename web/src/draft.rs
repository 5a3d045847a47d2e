//! What a person was writing when their session ended, kept in this browser tab's
//! `sessionStorage` until they sign in again. The server keeps the draft too (saved every few
//! seconds); the tab holds whatever was typed since the last save, and never the passphrase or
//! files not yet uploaded.

use sealpost_domain::api_drafts::DraftContent;

const KEY: &str = "sealpost.unsent";

fn storage() -> Option<web_sys::Storage> {
    web_sys::window()?.session_storage().ok()?
}

/// Keeps `draft` in this tab until [`take`] is called.
pub fn keep(draft: &DraftContent) {
    if let (Some(s), Ok(json)) = (storage(), serde_json::to_string(draft)) {
        let _ = s.set_item(KEY, &json);
    }
}

/// True while a draft is waiting for its writer to sign in again.
pub fn waiting() -> bool {
    storage().and_then(|s| s.get_item(KEY).ok().flatten()).is_some()
}

/// The kept draft, removed from storage.
pub fn take() -> Option<DraftContent> {
    let s = storage()?;
    let json = s.get_item(KEY).ok().flatten()?;
    let _ = s.remove_item(KEY);
    serde_json::from_str(&json).ok()
}
