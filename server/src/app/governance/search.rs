//! Searching the audit log and a message's timeline: filters checked and resolved to a query,
//! and each recipient's trail read off the message's events.

use std::collections::HashMap;

use sealpost_audit::chain::ChainedEvent;
use sealpost_domain::api_audit::{ACTIONS, AuditPage, AuditSearch, DeletionView, LegalHoldView, MessageTimeline, RecipientTrail};
use sealpost_domain::{EmailAddress, MessageId, Reference, UserId, time};
use sealpost_storage::{AuditQuery, ShredReason, Store, StoredRecipient, UserRecord};

use super::views::{person_words, views};
use crate::app::audit::{Actor, Object, Outcome};
use crate::app::auth::require_ig;
use crate::error::AppError;
use crate::state::AppState;

/// Events on one page of search results.
pub const PAGE: i64 = 50;
/// Events shown on a message's timeline before it says "search for the rest".
const TIMELINE_MAX: i64 = 2_000;
/// Events read per round trip while exporting.
/// A search turned into a query, with who the person searched for turned out to be, and
/// what an export of it is about (the message or the person).
pub(super) struct Resolved {
    pub(super) query: AuditQuery,
    pub(super) person_label: Option<String>,
    pub(super) about: Option<Object>,
}

/// A filter's text, if one was given.
fn given(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|t| !t.is_empty())
}

/// Checks and resolves the filters: a reference to its message, an address to the actors it
/// may appear as, dates to times. Bad input is a 400 that says how to fix it.
pub(super) async fn resolve(store: &Store, s: &AuditSearch) -> Result<Resolved, AppError> {
    let mut query = AuditQuery {
        limit: PAGE,
        before_seq: s.before,
        ..AuditQuery::default()
    };
    let mut about = None;
    if let Some(text) = given(&s.reference) {
        let reference = Reference::parse_typed(text)
            .ok_or_else(|| AppError::bad("invalid_reference", "A message reference looks like SP-7K3M-Q9XD."))?;
        let facts = store.message_facts(&reference).await?;
        let facts = facts.ok_or_else(|| AppError::bad("unknown_reference", format!("No message has the reference {reference}.")))?;
        query.message = Some(facts.id);
        about = Some(Object::Message(facts.id));
    }
    let mut person_label = None;
    if let Some(text) = given(&s.person) {
        let people = people_matching(store, text).await?;
        let mut labels = vec![];
        for address in &people {
            query.actors.push(Actor::Recipient(address.clone()).to_string());
            query.actors.push(Actor::SigningIn(address.clone()).to_string());
            query.concerning.push(address.to_string());
            labels.push(match store.user_by_email(address).await? {
                Some(u) => {
                    query.actors.push(Actor::User(u.id).to_string());
                    format!("{} ({address}), {}", u.display_name.as_str(), u.role)
                }
                None => format!("{address}, external recipient"),
            });
        }
        if let [one] = people.as_slice() {
            about = about.or(Some(Object::Person(one.clone())));
            person_label = labels.pop();
        } else {
            person_label = Some(format!(
                "{} people whose address contains “{text}”: {}",
                people.len(),
                labels.join("; ")
            ));
        }
    }
    if let Some(action) = given(&s.action) {
        if !ACTIONS.iter().any(|(a, _)| *a == action) {
            return Err(AppError::bad("invalid_action", "Choose an action from the list."));
        }
        query.action = Some(action.to_owned());
    }
    if let Some(outcome) = given(&s.outcome) {
        if ![Outcome::Success, Outcome::Failure].iter().any(|o| o.as_str() == outcome) {
            return Err(AppError::bad("invalid_outcome", "The outcome is success or failure."));
        }
        query.outcome = Some(outcome.to_owned());
    }
    let date = |field: &str, text: &str| {
        time::parse_date(text).ok_or_else(|| AppError::bad("invalid_date", format!("{field}: write the date as YYYY-MM-DD.")))
    };
    if let Some(text) = given(&s.from) {
        query.from_ms = Some(date("From", text)?);
    }
    if let Some(text) = given(&s.to) {
        query.until_ms = Some(date("To", text)? + time::day_ms());
    }
    if let (Some(from), Some(until)) = (query.from_ms, query.until_ms)
        && until <= from
    {
        return Err(AppError::bad("invalid_date", "The From date must not be after the To date."));
    }
    Ok(Resolved {
        query,
        person_label,
        about,
    })
}

/// Most people one search may cover: a domain that matches more asks for more of the address.
const MAX_PEOPLE: usize = 20;

/// Who a person filter means: a whole address as it is; otherwise everyone who has used
/// Sealpost with an address containing the text (a domain, part of a name), up to
/// [`MAX_PEOPLE`]. Too little, too much or nobody is a 400 that says what to type.
async fn people_matching(store: &Store, text: &str) -> Result<Vec<EmailAddress>, AppError> {
    if text.contains('@')
        && let Ok(address) = EmailAddress::parse(text)
    {
        return Ok(vec![address]);
    }
    let fragment = text.trim().trim_start_matches('@');
    if !(3..=sealpost_domain::MAX_EMAIL_LEN).contains(&fragment.chars().count()) {
        return Err(AppError::bad(
            "invalid_person",
            "Person: type a whole address, or 3 to 254 characters of one (a domain such as nhs.net works).",
        ));
    }
    let found = store.known_addresses_like(fragment, MAX_PEOPLE as i64 + 1).await?;
    if found.is_empty() {
        return Err(AppError::bad(
            "unknown_person",
            format!("Person: nobody whose address contains “{fragment}” has used Sealpost."),
        ));
    }
    if found.len() > MAX_PEOPLE {
        return Err(AppError::bad(
            "too_many_people",
            format!("Person: more than {MAX_PEOPLE} people have an address containing “{fragment}”. Type more of the address."),
        ));
    }
    found
        .iter()
        .map(|a| EmailAddress::parse(a).map_err(|e| AppError::Internal(e.into())))
        .collect()
}

/// A page of events matching `s`, newest first.
pub async fn search(state: &AppState, user: &UserRecord, s: &AuditSearch) -> Result<AuditPage, AppError> {
    require_ig(user)?;
    let Resolved {
        mut query, person_label, ..
    } = resolve(&state.store, s).await?;
    query.limit = PAGE + 1;
    let mut found = state.store.search_audit(&query).await?;
    let more = found.len() > usize::try_from(PAGE).unwrap_or(usize::MAX);
    found.truncate(usize::try_from(PAGE).unwrap_or(usize::MAX));
    let next_before = if more { found.last().map(|e| e.seq) } else { None };
    Ok(AuditPage {
        events: views(&state.store, &found).await?,
        next_before,
        person_label,
    })
}

/// A message's history: per recipient, then every event, oldest first.
pub async fn timeline(state: &AppState, user: &UserRecord, reference: &str) -> Result<MessageTimeline, AppError> {
    require_ig(user)?;
    let facts = match Reference::parse_typed(reference) {
        Some(r) => state.store.message_facts(&r).await?,
        None => None,
    }
    .ok_or(AppError::NotFound)?;
    let query = AuditQuery {
        message: Some(facts.id),
        oldest_first: true,
        limit: TIMELINE_MAX + 1,
        ..AuditQuery::default()
    };
    let mut events = state.store.search_audit(&query).await?;
    let truncated = events.len() > usize::try_from(TIMELINE_MAX).unwrap_or(usize::MAX);
    events.truncate(usize::try_from(TIMELINE_MAX).unwrap_or(usize::MAX));
    let recipients = state.store.recipients_of(facts.id).await?;
    let colleagues = colleague_ids(&state.store, &recipients).await?;
    let sender = state.store.user_by_id(facts.sender).await?;
    Ok(MessageTimeline {
        reference: facts.reference.to_string(),
        marking: facts.marking.label().to_owned(),
        sender: sender.map_or_else(|| "a former account".to_owned(), |u| person_words(&u)),
        sent_at_ms: facts.created_at_ms,
        expires_at_ms: facts.expires_at_ms,
        recipients: trails(facts.id, &recipients, &colleagues, &events),
        events: views(&state.store, &events).await?,
        truncated,
        legal_hold: match state.store.legal_hold(facts.id).await? {
            Some(h) => Some(LegalHoldView {
                reason: h.reason,
                placed_by: match state.store.user_by_id(h.placed_by).await? {
                    Some(u) => person_words(&u),
                    None => "a former account".to_owned(),
                },
                placed_at_ms: h.placed_at_ms,
            }),
            None => None,
        },
        deleted: facts.shredded.map(|(s, reason)| DeletionView {
            at_ms: s.at_ms,
            erased: s.reason == ShredReason::Erased,
            recalled: s.reason == ShredReason::Recalled,
            reason,
        }),
    })
}

/// The accounts of the recipients who are colleagues, by address (their reads are recorded
/// under their account, not their address).
async fn colleague_ids(store: &Store, recipients: &[StoredRecipient]) -> Result<HashMap<EmailAddress, UserId>, AppError> {
    let mut colleagues = HashMap::new();
    for r in recipients.iter().filter(|r| r.internal) {
        if let Some(u) = store.user_by_email(&r.address).await? {
            colleagues.insert(r.address.clone(), u.id);
        }
    }
    Ok(colleagues)
}

/// Each recipient's trail for the sender's own view of their message (the events about it,
/// up to the timeline's limit).
pub async fn trails_for_sender(store: &Store, message: MessageId, recipients: &[StoredRecipient]) -> Result<Vec<RecipientTrail>, AppError> {
    let query = AuditQuery {
        message: Some(message),
        oldest_first: true,
        limit: TIMELINE_MAX,
        ..AuditQuery::default()
    };
    let events = store.search_audit(&query).await?;
    Ok(trails(message, recipients, &colleague_ids(store, recipients).await?, &events))
}

/// What happened for each recipient, read off the message's events.
fn trails(
    message: MessageId,
    recipients: &[StoredRecipient],
    colleagues: &HashMap<EmailAddress, UserId>,
    events: &[ChainedEvent],
) -> Vec<RecipientTrail> {
    recipients
        .iter()
        .map(|r| {
            let mut t = RecipientTrail {
                address: r.address.to_string(),
                internal: r.internal,
                notified_at_ms: None,
                notification_failed: false,
                first_opened_at_ms: None,
                opens: 0,
                downloads: 0,
                downloaded: vec![],
                failed_attempts: 0,
                revoked_at_ms: None,
            };
            let as_actor = match colleagues.get(&r.address) {
                Some(id) => Actor::User(*id).to_string(),
                None => format!("recipient:{}", r.address),
            };
            let about_them = format!("message:{message}/to:{}", r.address);
            for e in events.iter().map(|e| &e.event) {
                let by_them = e.actor == as_actor;
                let for_them = e.object.as_deref() == Some(about_them.as_str());
                match e.action.as_str() {
                    "notification.sent" if for_them => t.notified_at_ms = t.notified_at_ms.or(Some(e.at_ms)),
                    "notification.failed" if for_them => t.notification_failed = true,
                    "message.read" if by_them => {
                        t.opens += 1;
                        t.first_opened_at_ms = t.first_opened_at_ms.or(Some(e.at_ms));
                    }
                    "attachment.download" if by_them => {
                        t.downloads += 1;
                        let file = e
                            .object
                            .as_deref()
                            .and_then(|o| o.rsplit_once("/attachment:"))
                            .map(|(_, a)| a.to_owned());
                        if let Some(file) = file.filter(|f| !t.downloaded.contains(f)) {
                            t.downloaded.push(file);
                        }
                    }
                    "portal.code_failed" | "portal.passphrase_failed" | "portal.lockout" if by_them => t.failed_attempts += 1,
                    "message.revoke" if for_them || e.object.as_deref() == Some(&format!("message:{message}")) => {
                        t.revoked_at_ms = t.revoked_at_ms.or(Some(e.at_ms));
                    }
                    "message.regrant" if for_them => t.revoked_at_ms = None,
                    _ => {}
                }
            }
            t
        })
        .collect()
}
