//! Events in words: who did what to which message, as the console and the CSV show them. File
//! names stay sealed, so a download is described by its size.

use std::collections::{HashMap, HashSet};

use sealpost_audit::chain::ChainedEvent;
use sealpost_domain::api_audit::{AuditEventView, action_label};
use sealpost_domain::{AttachmentId, MessageId, UserId};
use sealpost_storage::{Store, UserRecord};

use crate::app::audit::{Actor, Object};
use crate::error::AppError;

/// "Ann Example (ann@testshire.gov.uk)".
pub(super) fn person_words(u: &UserRecord) -> String {
    format!("{} ({})", u.display_name.as_str(), u.email)
}

/// The events as the console shows them: accounts by name, messages by reference.
pub(super) async fn views(store: &Store, events: &[ChainedEvent]) -> Result<Vec<AuditEventView>, AppError> {
    let objects: Vec<Option<Object>> = events
        .iter()
        .map(|e| e.event.object.as_deref().and_then(|o| o.parse().ok()))
        .collect();
    let user_ids: Vec<UserId> = events
        .iter()
        .filter_map(|e| e.event.actor.strip_prefix("user:")?.parse().ok().map(UserId))
        .collect::<HashSet<_>>()
        .into_iter()
        .collect();
    let message_ids: Vec<MessageId> = objects
        .iter()
        .flatten()
        .filter_map(message_of)
        .collect::<HashSet<_>>()
        .into_iter()
        .collect();
    let users: HashMap<String, UserRecord> = store
        .users_by_ids(&user_ids)
        .await?
        .into_iter()
        .map(|u| (Actor::User(u.id).to_string(), u))
        .collect();
    let references = store.references_of(&message_ids).await?;
    let attachment_ids: Vec<AttachmentId> = objects
        .iter()
        .flatten()
        .filter_map(|o| match o {
            Object::Attachment(_, a) => Some(*a),
            _ => None,
        })
        .collect::<HashSet<_>>()
        .into_iter()
        .collect();
    let sizes = store.attachment_sizes(&attachment_ids).await?;
    Ok(events
        .iter()
        .zip(objects)
        .map(|(c, object)| {
            let e = &c.event;
            let (actor_label, person) = actor_words(&e.actor, &users);
            AuditEventView {
                seq: c.seq,
                at_ms: e.at_ms,
                actor: e.actor.clone(),
                actor_label,
                person,
                action: e.action.clone(),
                action_label: action_label(&e.action).to_owned(),
                reference: object
                    .as_ref()
                    .and_then(message_of)
                    .and_then(|m| references.get(&m))
                    .map(ToString::to_string),
                detail: object.as_ref().and_then(|o| detail_words(o, &sizes)),
                object: e.object.clone(),
                outcome: e.outcome.clone(),
                ip: e.origin.ip.clone(),
                user_agent: e.origin.user_agent.clone(),
                request_id: e.origin.request_id.clone(),
            }
        })
        .collect())
}

fn message_of(o: &Object) -> Option<MessageId> {
    match o {
        Object::Message(m) | Object::Attachment(m, _) | Object::Recipient(m, _) => Some(*m),
        Object::Person(_) => None,
    }
}

/// What an event was about, in words. A file is named by its size and a short id, never by
/// its (sealed) name: IG sees logs, not content.
fn detail_words(o: &Object, sizes: &HashMap<AttachmentId, u64>) -> Option<String> {
    match o {
        Object::Message(_) => None,
        Object::Attachment(_, a) => Some(match sizes.get(a) {
            Some(size) => format!("a file of {} (id {})", size_words(*size), &a.to_string()[..8]),
            None => format!("file {}", &a.to_string()[..8]),
        }),
        Object::Recipient(_, to) => Some(format!("for {to}")),
        Object::Person(who) => Some(format!("activity of {who}")),
    }
}

/// "512 bytes", "44 KB", "2.1 MB".
fn size_words(bytes: u64) -> String {
    const KB: u64 = 1024;
    const MB: u64 = 1024 * 1024;
    match bytes {
        1 => "1 byte".to_owned(),
        0..KB => format!("{bytes} bytes"),
        KB..MB => format!("{} KB", bytes.div_ceil(KB)),
        _ => format!("{:.1} MB", bytes as f64 / MB as f64),
    }
}

/// The actor in words, and their address for the per-person view.
fn actor_words(actor: &str, users: &HashMap<String, UserRecord>) -> (String, Option<String>) {
    if let Some(u) = users.get(actor) {
        return (person_words(u), Some(u.email.to_string()));
    }
    if let Some(address) = actor.strip_prefix("recipient:") {
        return (address.to_owned(), Some(address.to_owned()));
    }
    if let Some(address) = actor.strip_prefix("signin:") {
        return (format!("someone signing in as {address}"), Some(address.to_owned()));
    }
    match actor {
        "system" => ("Sealpost".to_owned(), None),
        other => (other.to_owned(), None),
    }
}
