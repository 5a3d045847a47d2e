//! The audit log's storage (events are `sealpost_audit::AuditEvent`): a plain append-only table for now. The governance issue adds the
//! hash chain, group commit and the database triggers that refuse UPDATE and DELETE.

use sealpost_audit::{AuditEvent, Origin};

use crate::{StorageError, Store, with_pool};

/// Inserts one audit event through `executor` (a pool, or a transaction the caller commits, so
/// the event and the change it records stand or fall together). Evaluates to the query result
/// holding the new `seq`.
macro_rules! insert_audit {
    ($executor:expr, $event:expr) => {{
        let e: &sealpost_audit::AuditEvent = $event;
        sqlx::query_as::<_, (i64,)>(
            "INSERT INTO audit_events (at, actor, action, object, outcome, ip, user_agent, request_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING seq",
        )
        .bind(e.at_ms)
        .bind(&e.actor)
        .bind(&e.action)
        .bind(&e.object)
        .bind(&e.outcome)
        .bind(&e.origin.ip)
        .bind(&e.origin.user_agent)
        .bind(&e.origin.request_id)
        .fetch_one($executor)
        .await
    }};
}
pub(crate) use insert_audit;

type Row = (
    i64,
    String,
    String,
    Option<String>,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
);

impl Store {
    /// Appends an event; returns its sequence number once committed.
    pub async fn append_audit(&self, e: &AuditEvent) -> Result<i64, StorageError> {
        let (seq,): (i64,) = with_pool!(self, |pool| insert_audit!(pool, e))?;
        Ok(seq)
    }

    /// The events about `object`, oldest first.
    pub async fn audit_events_for(&self, object: &str) -> Result<Vec<AuditEvent>, StorageError> {
        let rows: Vec<Row> = with_pool!(self, |pool| {
            sqlx::query_as(
                "SELECT at, actor, action, object, outcome, ip, user_agent, request_id FROM audit_events WHERE object = $1 ORDER BY seq",
            )
            .bind(object)
            .fetch_all(pool)
            .await
        })?;
        Ok(rows
            .into_iter()
            .map(|(at_ms, actor, action, object, outcome, ip, user_agent, request_id)| AuditEvent {
                at_ms,
                actor,
                action,
                object,
                outcome,
                origin: Origin {
                    ip,
                    user_agent,
                    request_id,
                },
            })
            .collect())
    }
}
