//! What a person was writing when their session ended, kept in this browser tab's
//! `sessionStorage` until they sign in again: never on the server, and never the passphrase or
//! the files (a browser cannot keep those across a reload anyway; the page asks for them again).

use sealpost_domain::Marking;
use serde::{Deserialize, Serialize};

const KEY: &str = "sealpost.unsent";

/// The compose form's text fields.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Draft {
    /// The recipients' addresses.
    pub to: Vec<String>,
    /// Copied to.
    #[serde(default)]
    pub cc: Vec<String>,
    /// Blind copies.
    #[serde(default)]
    pub bcc: Vec<String>,
    /// The subject.
    pub subject: String,
    /// The message text.
    pub body: String,
    /// The marking chosen.
    pub marking: Marking,
    /// The link lifetime typed, in days.
    pub expiry: String,
}

fn storage() -> Option<web_sys::Storage> {
    web_sys::window()?.session_storage().ok()?
}

/// Keeps `draft` in this tab until [`take`] is called.
pub fn keep(draft: &Draft) {
    if let (Some(s), Ok(json)) = (storage(), serde_json::to_string(draft)) {
        let _ = s.set_item(KEY, &json);
    }
}

/// True while a draft is waiting for its writer to sign in again.
pub fn waiting() -> bool {
    storage().and_then(|s| s.get_item(KEY).ok().flatten()).is_some()
}

/// The kept draft, removed from storage.
pub fn take() -> Option<Draft> {
    let s = storage()?;
    let json = s.get_item(KEY).ok().flatten()?;
    let _ = s.remove_item(KEY);
    serde_json::from_str(&json).ok()
}
