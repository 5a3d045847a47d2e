//! The audit log's storage: a plain append-only table for now. The governance issue adds the
//! hash chain, group commit and the database triggers that refuse UPDATE and DELETE.

use crate::{StorageError, Store, with_pool};

/// One event. Never content, tokens, codes or passwords (SECURITY F2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEvent {
    /// When (ms, UTC).
    pub at_ms: i64,
    /// Who: `user:<id>`, `recipient:<address>` or `system`.
    pub actor: String,
    /// What, e.g. `message.send`, `message.read`, `attachment.download`.
    pub action: String,
    /// On what, e.g. `message:<id>`.
    pub object: Option<String>,
    /// `success` or `failure`.
    pub outcome: String,
    /// Client address.
    pub ip: Option<String>,
    /// Client user agent.
    pub user_agent: Option<String>,
    /// The request's id.
    pub request_id: Option<String>,
}

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
        let (seq,): (i64,) = with_pool!(self, |pool| {
            sqlx::query_as("INSERT INTO audit_events (at, actor, action, object, outcome, ip, user_agent, request_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING seq")
                .bind(e.at_ms)
                .bind(&e.actor)
                .bind(&e.action)
                .bind(&e.object)
                .bind(&e.outcome)
                .bind(&e.ip)
                .bind(&e.user_agent)
                .bind(&e.request_id)
                .fetch_one(pool)
                .await
        })?;
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
                ip,
                user_agent,
                request_id,
            })
            .collect())
    }
}
