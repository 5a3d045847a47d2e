//! A member of staff searching their own mail: words of the subject and body, correspondents,
//! and dates, in their Inbox, Sent and Drafts. Only their own mail is looked at (the mailbox's
//! access rule, in storage), and the search is on the audit log before any subject is shown:
//! who searched, never what for. Messages are matched through the person's in-memory index of
//! keyed word hashes ([`crate::search_index`]), brought up to date with the messages that
//! arrived since their last search; drafts (a few, and changing) are opened and matched each
//! time.

use std::collections::HashSet;

use sealpost_domain::api_drafts::DraftContent;
use sealpost_domain::api_messages::Addressed;
use sealpost_domain::api_search::{Found, MAX_SEARCH_CHARS, MAX_SEARCH_WORDS, SearchBox, SearchHit, SearchQuery, SearchResults, words};
use sealpost_domain::{MessageId, time};
use sealpost_storage::{Listed, SealedText, UserRecord};

use crate::app::audit::{self, Action, Actor, Outcome, RequestMeta};
use crate::app::disclosure::{draft_content, draft_key, search_text};
use crate::error::AppError;
use crate::search_index::{Field, Index};
use crate::state::AppState;

/// The most messages of one mailbox a search looks at (the newest).
pub const MAX_MAILBOX: i64 = 20_000;

/// Messages opened for the index per database read and per blocking task.
const CHUNK: usize = 250;

/// A search, checked.
struct Wanted {
    /// Words to find anywhere (subject, body or correspondent).
    anywhere: Vec<String>,
    /// Words to find in a correspondent.
    who: Vec<String>,
    /// From this time (ms), inclusive.
    from: Option<i64>,
    /// Before this time (ms).
    before: Option<i64>,
    mailbox: SearchBox,
}

impl Wanted {
    fn parse(q: SearchQuery) -> Result<Self, AppError> {
        let field = |text: Option<String>, name: &str| -> Result<Vec<String>, AppError> {
            let text = text.unwrap_or_default();
            if text.chars().count() > MAX_SEARCH_CHARS {
                return Err(AppError::bad(
                    "search_too_long",
                    format!("{name}: at most {MAX_SEARCH_CHARS} characters."),
                ));
            }
            let mut w = words(&text);
            w.dedup();
            if w.len() > MAX_SEARCH_WORDS {
                return Err(AppError::bad(
                    "search_too_long",
                    format!("{name}: at most {MAX_SEARCH_WORDS} words."),
                ));
            }
            Ok(w)
        };
        let day = |text: Option<String>, name: &str| -> Result<Option<i64>, AppError> {
            match text.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
                None => Ok(None),
                Some(t) => time::parse_date(t)
                    .map(Some)
                    .ok_or_else(|| AppError::bad("invalid_date", format!("{name}: write the date as YYYY-MM-DD."))),
            }
        };
        let wanted = Wanted {
            anywhere: field(q.q, "Words")?,
            who: field(q.who, "From or to")?,
            from: day(q.from, "From date")?,
            before: day(q.until, "To date")?.map(|d| d + time::day_ms()),
            mailbox: q.mailbox,
        };
        if let (Some(from), Some(before)) = (wanted.from, wanted.before)
            && from >= before
        {
            return Err(AppError::bad("invalid_date", "The from date must not be after the to date."));
        }
        Ok(wanted)
    }

    fn in_dates(&self, at: i64) -> bool {
        self.from.is_none_or(|f| at >= f) && self.before.is_none_or(|b| at < b)
    }

    /// Each word as the hashes it may be found under.
    fn hashes(&self, state: &AppState) -> Vec<Vec<u64>> {
        let anywhere = self
            .anywhere
            .iter()
            .map(|w| vec![state.search.hash(Field::Content, w), state.search.hash(Field::Correspondent, w)]);
        let who = self.who.iter().map(|w| vec![state.search.hash(Field::Correspondent, w)]);
        anywhere.chain(who).collect()
    }

    /// Whether opened text matches: every word somewhere it may be.
    fn matches_text(&self, content: &[String], correspondents: &[String]) -> bool {
        self.anywhere.iter().all(|w| content.contains(w) || correspondents.contains(w))
            && self.who.iter().all(|w| correspondents.contains(w))
    }
}

/// Searches `user`'s own mail.
pub async fn search(state: &AppState, user: &UserRecord, query: SearchQuery, meta: &RequestMeta) -> Result<SearchResults, AppError> {
    let wanted = Wanted::parse(query)?;
    // Subjects are content: the search is on record before any is shown (SECURITY F1).
    audit::record(state, meta, &Actor::User(user.id), Action::MailboxSearch, None, Outcome::Success).await?;
    let mut hits = vec![];
    let mut more = false;
    if wanted.mailbox != SearchBox::Drafts {
        more |= messages(state, user, &wanted, &mut hits).await?;
    }
    if matches!(wanted.mailbox, SearchBox::All | SearchBox::Drafts) {
        drafts(state, user, &wanted, &mut hits).await?;
    }
    hits.sort_by_key(|h| std::cmp::Reverse(h.at));
    more |= hits.len() > SearchResults::LIMIT;
    hits.truncate(SearchResults::LIMIT);
    Ok(SearchResults { hits, more })
}

/// The matching messages of the Inbox and Sent, newest first (at most a page); true if there
/// were more.
async fn messages(state: &AppState, user: &UserRecord, wanted: &Wanted, hits: &mut Vec<SearchHit>) -> Result<bool, AppError> {
    let listing = state.store.mailbox_listing(user.id, MAX_MAILBOX).await?;
    let found = {
        let mut index = state.search.of(user.id, state.now_ms()).await;
        bring_up_to_date(state, &mut index, &listing).await?;
        index.matching(&wanted.hashes(state))
    };
    let mut seen = HashSet::new();
    let chosen: Vec<&Listed> = listing
        .iter()
        .filter(|l| found.contains(&l.id) && wanted.in_dates(l.created_at_ms))
        .filter(|l| match wanted.mailbox {
            SearchBox::Inbox => !l.sent,
            SearchBox::Sent => l.sent,
            _ => true,
        })
        .filter(|l| seen.insert(l.id))
        .collect();
    let more = chosen.len() > SearchResults::LIMIT;
    let page: Vec<&Listed> = chosen.into_iter().take(SearchResults::LIMIT).collect();
    let ids: Vec<MessageId> = page.iter().map(|l| l.id).collect();
    let texts = state.store.sealed_texts(&ids).await?;
    for l in page {
        let Some(t) = texts.iter().find(|t| t.id == l.id) else { continue };
        let (subject, _) = search_text(state, t)?;
        let correspondents = if l.sent {
            t.recipients.iter().map(|(a, _)| a.to_string()).collect::<Vec<_>>().join(", ")
        } else {
            t.sender_name.clone()
        };
        hits.push(SearchHit {
            found: Found::Message(l.id),
            mailbox: if l.sent { SearchBox::Sent } else { SearchBox::Inbox },
            subject,
            correspondents,
            marking: t.marking,
            at: l.created_at_ms,
        });
    }
    Ok(more)
}

/// Indexes the messages of `listing` not yet in `index`: read in chunks, each opened on the
/// blocking pool (the chunks in parallel, one key unwrap per message).
async fn bring_up_to_date(state: &AppState, index: &mut Index, listing: &[Listed]) -> Result<(), AppError> {
    // A message sent to oneself is listed twice: its sender sees its blind copies.
    let sent: HashSet<MessageId> = listing.iter().filter(|l| l.sent).map(|l| l.id).collect();
    let mut seen = HashSet::new();
    let missing: Vec<(MessageId, bool)> = listing
        .iter()
        .filter(|l| !index.has(l.id) && seen.insert(l.id))
        .map(|l| (l.id, sent.contains(&l.id)))
        .collect();
    let mut tasks = vec![];
    for chunk in missing.chunks(CHUNK) {
        let ids: Vec<MessageId> = chunk.iter().map(|(id, _)| *id).collect();
        let sent: HashSet<MessageId> = chunk.iter().filter(|(_, s)| *s).map(|(id, _)| *id).collect();
        let texts = state.store.sealed_texts(&ids).await?;
        let state = state.clone();
        tasks.push(tokio::task::spawn_blocking(
            move || -> Result<Vec<(MessageId, HashSet<u64>)>, AppError> {
                texts.iter().map(|t| Ok((t.id, hashed(&state, t, sent.contains(&t.id))?))).collect()
            },
        ));
    }
    for task in tasks {
        let done = task.await.map_err(|e| AppError::Internal(e.into()))??;
        for (id, hashes) in done {
            index.add(id, hashes);
        }
    }
    Ok(())
}

/// The hashed words of `t`: its subject and body, and its correspondents as its reader sees
/// them (blind copies only for the sender, who `mine` says the reader is).
fn hashed(state: &AppState, t: &SealedText, mine: bool) -> Result<HashSet<u64>, AppError> {
    let (subject, body) = search_text(state, t)?;
    let mut out: HashSet<u64> = words(&subject)
        .iter()
        .chain(&words(&body))
        .map(|w| state.search.hash(Field::Content, w))
        .collect();
    let mut people = format!("{} {}", t.sender_name, t.sender_email);
    for (address, line) in &t.recipients {
        if mine || *line != Addressed::Bcc {
            people.push(' ');
            people.push_str(address.as_str());
        }
    }
    out.extend(words(&people).iter().map(|w| state.search.hash(Field::Correspondent, w)));
    Ok(out)
}

/// The matching drafts, each opened and matched as it is now.
async fn drafts(state: &AppState, user: &UserRecord, wanted: &Wanted, hits: &mut Vec<SearchHit>) -> Result<(), AppError> {
    for d in state.store.drafts_of(user.id, i64::from(crate::app::drafts::MAX_DRAFTS)).await? {
        if !wanted.in_dates(d.updated_at_ms) {
            continue;
        }
        let c: DraftContent = draft_content(&*draft_key(state, &d)?, &d)?;
        let people: Vec<String> = c.to.iter().chain(&c.cc).chain(&c.bcc).flat_map(|a| words(a)).collect();
        let content: Vec<String> = words(&c.subject).into_iter().chain(words(&c.body)).collect();
        if wanted.matches_text(&content, &people) {
            hits.push(SearchHit {
                found: Found::Draft(d.id),
                mailbox: SearchBox::Drafts,
                correspondents: c.to.iter().chain(&c.cc).chain(&c.bcc).cloned().collect::<Vec<_>>().join(", "),
                subject: c.subject,
                marking: c.marking,
                at: d.updated_at_ms,
            });
        }
    }
    Ok(())
}
