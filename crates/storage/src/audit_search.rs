//! Searching the audit log for the IG console (PRODUCT journey 6): by message, by actor, by
//! action, outcome and time, newest first and paged by position. Each filter has its index
//! (migration 6). Also the few clear facts the console shows beside the events: which message
//! a reference names, and who a `user:<id>` is. Never content.

use std::collections::HashMap;

use sealpost_audit::chain::ChainedEvent;
use sealpost_domain::{AttachmentId, Marking, MessageId, Reference, UserId};

use crate::audit::{EVENT_COLUMNS, Row, chained_of};
use crate::messages::parse_id;
use crate::users::{USER_COLUMNS, UserRow};
use crate::{StorageError, Store, UserRecord, with_pool};

/// What to look for. Every filter given must match; an empty `actors` matches anyone.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditQuery {
    /// Events about this message (its downloads and notifications included).
    pub message: Option<MessageId>,
    /// Events by any of these actors, in their stored form (`user:<id>`, `recipient:<addr>`…)…
    pub actors: Vec<String>,
    /// …or concerning any of these addresses (a notification to them, their access withdrawn).
    pub concerning: Vec<String>,
    /// This action (`message.read`…).
    pub action: Option<String>,
    /// `success` or `failure`.
    pub outcome: Option<String>,
    /// At or after this time (Unix ms).
    pub from_ms: Option<i64>,
    /// Before this time (Unix ms).
    pub until_ms: Option<i64>,
    /// Only events before this position (the next page, newest first)…
    pub before_seq: Option<i64>,
    /// …or after it (the next page, oldest first).
    pub after_seq: Option<i64>,
    /// Oldest first (exports, timelines) instead of newest first (searches).
    pub oldest_first: bool,
    /// At most this many.
    pub limit: i64,
}

/// A message's clear facts, for the console's timeline: no subject, no body, no key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageFacts {
    /// Its id.
    pub id: MessageId,
    /// Its reference.
    pub reference: Reference,
    /// Its marking.
    pub marking: Marking,
    /// Who sent it.
    pub sender: UserId,
    /// When.
    pub created_at_ms: i64,
    /// When its links expire.
    pub expires_at_ms: i64,
    /// When and why it was shredded, if it was, and IG's note for an erasure.
    pub shredded: Option<(crate::Shredded, Option<String>)>,
}

enum Arg {
    Text(String),
    Int(i64),
}

impl AuditQuery {
    /// The whole statement and its arguments, numbered from `$1`. A person's events are what
    /// they did or what concerned them: two indexed halves joined with UNION ALL (the second
    /// without the first's rows), because one `OR` over two indexes led PostgreSQL to walk the
    /// whole log backwards by position looking for a rare person.
    fn to_sql(&self) -> (String, Vec<Arg>) {
        let mut w = Where::default();
        if let Some(m) = self.message {
            w.add("message_id = ?", Arg::Text(m.to_string()));
        }
        if let Some(a) = &self.action {
            w.add("action = ?", Arg::Text(a.clone()));
        }
        if let Some(o) = &self.outcome {
            w.add("outcome = ?", Arg::Text(o.clone()));
        }
        for (clause, value) in [
            ("at >= ?", self.from_ms),
            ("at < ?", self.until_ms),
            ("seq < ?", self.before_seq),
            ("seq > ?", self.after_seq),
        ] {
            if let Some(v) = value {
                w.add(clause, Arg::Int(v));
            }
        }
        let mut halves: Vec<String> = vec![];
        if !self.actors.is_empty() {
            let marks: Vec<String> = self.actors.iter().map(|a| w.arg(Arg::Text(a.clone()))).collect();
            let by = format!("actor IN ({})", marks.join(", "));
            if !self.concerning.is_empty() {
                let marks: Vec<String> = self.concerning.iter().map(|a| w.arg(Arg::Text(a.clone()))).collect();
                halves.push(format!("concerns IN ({}) AND NOT {by}", marks.join(", ")));
            }
            halves.insert(0, by);
        }
        let select = |half: Option<&String>| {
            let clauses: Vec<&str> = w.clauses.iter().map(String::as_str).chain(half.map(String::as_str)).collect();
            let filter = if clauses.is_empty() {
                String::new()
            } else {
                format!(" WHERE {}", clauses.join(" AND "))
            };
            format!("SELECT {EVENT_COLUMNS} FROM audit_events{filter}")
        };
        let body = match halves.as_slice() {
            [] => select(None),
            [one] => select(Some(one)),
            [first, second, ..] => format!("{} UNION ALL {}", select(Some(first)), select(Some(second))),
        };
        let limit = w.arg(Arg::Int(self.limit.clamp(0, 100_000)));
        let order = if self.oldest_first { "ASC" } else { "DESC" };
        (format!("{body} ORDER BY seq {order} LIMIT {limit}"), w.args)
    }
}

/// Clauses with numbered placeholders, and their arguments.
#[derive(Default)]
struct Where {
    clauses: Vec<String>,
    args: Vec<Arg>,
}

impl Where {
    /// Adds an argument; returns its placeholder.
    fn arg(&mut self, a: Arg) -> String {
        self.args.push(a);
        format!("${}", self.args.len())
    }

    /// Adds `clause`, its `?` standing for `a`.
    fn add(&mut self, clause: &str, a: Arg) {
        let mark = self.arg(a);
        self.clauses.push(clause.replace('?', &mark));
    }
}

impl Store {
    /// The events matching `q`, in the order it asks for.
    pub async fn search_audit(&self, q: &AuditQuery) -> Result<Vec<ChainedEvent>, StorageError> {
        let (sql, args) = q.to_sql();
        let rows: Vec<Row> = with_pool!(self, |pool| {
            let mut query = sqlx::query_as(&sql);
            for arg in args {
                query = match arg {
                    Arg::Text(t) => query.bind(t),
                    Arg::Int(i) => query.bind(i),
                };
            }
            query.fetch_all(pool).await
        })?;
        rows.into_iter().map(chained_of).collect()
    }

    /// The clear facts of the message with `reference`, if it still exists.
    pub async fn message_facts(&self, reference: &Reference) -> Result<Option<MessageFacts>, StorageError> {
        type FactsRow = (
            String,
            String,
            String,
            String,
            i64,
            i64,
            Option<i64>,
            Option<String>,
            Option<String>,
        );
        let row: Option<FactsRow> = with_pool!(self, |pool| {
            sqlx::query_as(
            "SELECT id, reference, marking, sender_id, created_at, expires_at, shredded_at, shred_reason, shred_note FROM messages WHERE reference = $1"
        )
        .bind(reference.to_string())
        .fetch_optional(pool)
        .await
        })?;
        row.map(
            |(id, reference, marking, sender, created_at_ms, expires_at_ms, shredded_at, reason, note)| {
                let shredded = match shredded_at {
                    None => None,
                    Some(at_ms) => Some((
                        crate::Shredded {
                            at_ms,
                            reason: crate::ShredReason::from_stored(reason.as_deref())?,
                        },
                        note,
                    )),
                };
                Ok(MessageFacts {
                    id: MessageId(parse_id(&id, "messages.id")?),
                    reference: Reference::from_stored(reference),
                    marking: Marking::parse(&marking).ok_or(StorageError::Corrupt("messages.marking"))?,
                    sender: UserId(parse_id(&sender, "messages.sender_id")?),
                    created_at_ms,
                    expires_at_ms,
                    shredded,
                })
            },
        )
        .transpose()
    }

    /// The references of those of `ids` that still exist.
    pub async fn references_of(&self, ids: &[MessageId]) -> Result<HashMap<MessageId, Reference>, StorageError> {
        if ids.is_empty() {
            return Ok(HashMap::new());
        }
        let marks: Vec<String> = (1..=ids.len()).map(|i| format!("${i}")).collect();
        let sql = format!("SELECT id, reference FROM messages WHERE id IN ({})", marks.join(", "));
        let rows: Vec<(String, String)> = with_pool!(self, |pool| {
            let mut query = sqlx::query_as(&sql);
            for id in ids {
                query = query.bind(id.to_string());
            }
            query.fetch_all(pool).await
        })?;
        rows.into_iter()
            .map(|(id, reference)| Ok((MessageId(parse_id(&id, "messages.id")?), Reference::from_stored(reference))))
            .collect()
    }

    /// Addresses that have used Sealpost (accounts and recipients) containing `fragment`, in
    /// order, at most `limit`: how the IG console finds people by a domain or part of an address.
    pub async fn known_addresses_like(&self, fragment: &str, limit: i64) -> Result<Vec<String>, StorageError> {
        let escaped: String = fragment
            .to_lowercase()
            .chars()
            .flat_map(|c| if matches!(c, '%' | '_' | '\\') { vec!['\\', c] } else { vec![c] })
            .collect();
        let pattern = format!("%{escaped}%");
        let rows: Vec<(String,)> = with_pool!(self, |pool| {
            sqlx::query_as(
                "SELECT address FROM (SELECT email AS address FROM users UNION SELECT address FROM recipients) known \
                 WHERE address LIKE $1 ESCAPE '\\' ORDER BY address LIMIT $2",
            )
            .bind(&pattern)
            .bind(limit)
            .fetch_all(pool)
            .await
        })?;
        Ok(rows.into_iter().map(|(a,)| a).collect())
    }

    /// Every domain the council has written to or has staff at (recipients' and accounts'
    /// addresses after the `@`), for the lookalike check before a send.
    pub async fn correspondent_domains(&self) -> Result<Vec<String>, StorageError> {
        const KNOWN: &str = "(SELECT email AS address FROM users UNION SELECT address FROM recipients) known";
        let rows: Vec<(String,)> = match &self.pool {
            crate::Pool::Sqlite(pool) => {
                sqlx::query_as(&format!("SELECT DISTINCT substr(address, instr(address, '@') + 1) FROM {KNOWN}"))
                    .fetch_all(pool)
                    .await?
            }
            crate::Pool::Postgres(pool) => {
                sqlx::query_as(&format!("SELECT DISTINCT split_part(address, '@', 2) FROM {KNOWN}"))
                    .fetch_all(pool)
                    .await?
            }
        };
        Ok(rows.into_iter().map(|(d,)| d).collect())
    }

    /// The plaintext sizes of the attachments among `ids` (clear metadata, for the IG console,
    /// which names a file by its size and never by its sealed name).
    pub async fn attachment_sizes(&self, ids: &[AttachmentId]) -> Result<HashMap<AttachmentId, u64>, StorageError> {
        if ids.is_empty() {
            return Ok(HashMap::new());
        }
        let marks: Vec<String> = (1..=ids.len()).map(|i| format!("${i}")).collect();
        let sql = format!("SELECT id, size FROM attachments WHERE id IN ({})", marks.join(", "));
        let rows: Vec<(String, i64)> = with_pool!(self, |pool| {
            let mut query = sqlx::query_as(&sql);
            for id in ids {
                query = query.bind(id.to_string());
            }
            query.fetch_all(pool).await
        })?;
        rows.into_iter()
            .map(|(id, size)| {
                let size = u64::try_from(size).map_err(|_| StorageError::Corrupt("attachments.size"))?;
                Ok((AttachmentId(parse_id(&id, "attachments.id")?), size))
            })
            .collect()
    }

    /// The accounts among `ids` (disabled ones included).
    pub async fn users_by_ids(&self, ids: &[UserId]) -> Result<Vec<UserRecord>, StorageError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let marks: Vec<String> = (1..=ids.len()).map(|i| format!("${i}")).collect();
        let sql = format!("SELECT {USER_COLUMNS} FROM users u WHERE u.id IN ({})", marks.join(", "));
        let rows: Vec<UserRow> = with_pool!(self, |pool| {
            let mut query = sqlx::query_as(&sql);
            for id in ids {
                query = query.bind(id.0.to_string());
            }
            query.fetch_all(pool).await
        })?;
        rows.into_iter().map(UserRecord::try_from).collect()
    }
}
