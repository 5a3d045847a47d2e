//! The JSON shapes of `GET /api/v1/search`: a member of staff searching their own mail (Inbox,
//! Sent and Drafts) by words of the subject and body, by correspondent, and by date.

use serde::{Deserialize, Serialize};

use crate::api_drafts::DraftId;
use crate::{Marking, MessageId};

/// The most words a search takes.
pub const MAX_SEARCH_WORDS: usize = 12;

/// The most characters of one search field.
pub const MAX_SEARCH_CHARS: usize = 200;

/// Where to look.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SearchBox {
    /// Inbox, Sent and Drafts.
    #[default]
    All,
    /// Messages to me.
    Inbox,
    /// Messages from me.
    Sent,
    /// Messages I have not sent yet.
    Drafts,
}

/// The query string of a search. Every field given must match.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SearchQuery {
    /// Words that must all appear in the subject, the body or a correspondent's name or address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub q: Option<String>,
    /// Words of a correspondent's name or address: the sender, or anyone on the To or Cc line
    /// (and the Bcc line of your own messages).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub who: Option<String>,
    /// From this day (`YYYY-MM-DD`, UTC), inclusive.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    /// To this day (`YYYY-MM-DD`, UTC), inclusive.
    #[serde(default, skip_serializing_if = "Option::is_none", rename = "to")]
    pub until: Option<String>,
    /// Where to look (all three boxes when absent).
    #[serde(default, rename = "box")]
    pub mailbox: SearchBox,
}

/// What a hit is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "id", rename_all = "lowercase")]
pub enum Found {
    /// A message, in the Inbox or Sent.
    Message(MessageId),
    /// A draft.
    Draft(DraftId),
}

/// One hit, newest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SearchHit {
    /// The message or draft.
    pub found: Found,
    /// The box it is in (never `all`).
    #[serde(rename = "box")]
    pub mailbox: SearchBox,
    /// Its subject.
    pub subject: String,
    /// Inbox: who sent it; Sent and Drafts: who it is to.
    pub correspondents: String,
    /// Its marking.
    pub marking: Marking,
    /// When it was sent, or the draft saved (Unix ms).
    pub at: i64,
}

/// The answer to a search.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SearchResults {
    /// The hits, newest first, at most [`SearchResults::LIMIT`].
    pub hits: Vec<SearchHit>,
    /// More matched than are listed: narrow the search.
    pub more: bool,
}

impl SearchResults {
    /// The most hits listed.
    pub const LIMIT: usize = 50;
}

/// The words of `text` as a search compares them: lower case, split at anything that is not a
/// letter or a digit. An address also counts whole (`ann@testshire.gov.uk`), so searching for
/// it finds it.
pub fn words(text: &str) -> Vec<String> {
    let mut out: Vec<String> = text
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect();
    for whole in text.split_whitespace() {
        let whole = whole.trim_matches(|c: char| !c.is_alphanumeric()).to_lowercase();
        if whole.contains('@') {
            out.push(whole);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_are_lower_case_and_split_at_punctuation_and_addresses_count_whole() {
        assert_eq!(
            words("Re: Visit, FRIDAY (ann@Testshire.gov.uk)"),
            ["re", "visit", "friday", "ann", "testshire", "gov", "uk", "ann@testshire.gov.uk"]
        );
        assert_eq!(words("Ünïcode café"), ["ünïcode", "café"]);
        assert!(words(" ,. ").is_empty());
    }

    #[test]
    fn a_query_reads_from_its_query_string_names() {
        let q: SearchQuery = serde_json::from_str(r#"{"q":"visit","to":"2026-12-01","box":"sent"}"#).unwrap();
        assert_eq!((q.until.as_deref(), q.mailbox), (Some("2026-12-01"), SearchBox::Sent));
    }
}
