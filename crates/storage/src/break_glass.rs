//! Break-glass grants (SECURITY C3): an IG officer's time-limited, reasoned access to one
//! message's content. A grant and the audit event recording it commit together. The only way
//! to load a message for someone who is neither its sender nor an addressee goes through a
//! [`BreakGlassGrant`], which only this crate can make.

use sealpost_audit::AuditEvent;
use sealpost_domain::{MessageId, UserId};
use uuid::Uuid;

use crate::audit::{begin_write, chain_audit};
use crate::messages::{MESSAGE_BODIES, MESSAGE_NOT_MINE, MESSAGE_SELECT, MessageBodyRow, parse_id};
use crate::{StorageError, Store, StoredMessage, with_pool};

/// A grant in force: who, which message, why, until when. Only this crate makes them.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct BreakGlassGrant {
    /// The grant's id.
    pub id: Uuid,
    /// The IG officer.
    pub user: UserId,
    /// The message.
    pub message: MessageId,
    /// Why, in their words.
    pub reason: String,
    /// When it was granted (Unix ms).
    pub granted_at_ms: i64,
    /// When it ends (Unix ms).
    pub expires_at_ms: i64,
}

#[derive(sqlx::FromRow)]
struct GrantRow {
    id: String,
    user_id: String,
    message_id: String,
    reason: String,
    created_at: i64,
    expires_at: i64,
}

fn grant_of(r: GrantRow) -> Result<BreakGlassGrant, StorageError> {
    Ok(BreakGlassGrant {
        id: parse_id(&r.id, "break_glass_grants.id")?,
        user: UserId(parse_id(&r.user_id, "break_glass_grants.user_id")?),
        message: MessageId(parse_id(&r.message_id, "break_glass_grants.message_id")?),
        reason: r.reason,
        granted_at_ms: r.created_at,
        expires_at_ms: r.expires_at,
    })
}

impl Store {
    /// Grants `user` access to `message` from `now_ms` to `expires_at_ms`, with `audit` (the
    /// event recording it) in the same transaction.
    pub async fn grant_break_glass(
        &self,
        user: UserId,
        message: MessageId,
        reason: &str,
        now_ms: i64,
        expires_at_ms: i64,
        audit: &AuditEvent,
    ) -> Result<BreakGlassGrant, StorageError> {
        let grant = BreakGlassGrant {
            id: Uuid::new_v4(),
            user,
            message,
            reason: reason.to_owned(),
            granted_at_ms: now_ms,
            expires_at_ms,
        };
        with_pool!(self, |pool| {
            let mut tx = begin_write!(self, pool).await?;
            sqlx::query(
                "INSERT INTO break_glass_grants (id, user_id, message_id, reason, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(grant.id.to_string())
            .bind(user.to_string())
            .bind(message.to_string())
            .bind(reason)
            .bind(now_ms)
            .bind(expires_at_ms)
            .execute(&mut *tx)
            .await?;
            chain_audit!(self, tx, [audit])?;
            tx.commit().await?;
            Ok::<(), StorageError>(())
        })?;
        Ok(grant)
    }

    /// `user`'s grant for `message` still in force at `now_ms`, if any (the latest).
    pub async fn active_break_glass(&self, user: UserId, message: MessageId, now_ms: i64) -> Result<Option<BreakGlassGrant>, StorageError> {
        let row: Option<GrantRow> = with_pool!(self, |pool| sqlx::query_as(
            "SELECT id, user_id, message_id, reason, created_at, expires_at FROM break_glass_grants \
             WHERE user_id = $1 AND message_id = $2 AND expires_at > $3 ORDER BY expires_at DESC LIMIT 1"
        )
        .bind(user.to_string())
        .bind(message.to_string())
        .bind(now_ms)
        .fetch_optional(pool)
        .await)?;
        row.map(grant_of).transpose()
    }

    /// The message a grant opens, whoever its sender and addressees are.
    pub async fn message_under_grant(&self, grant: &BreakGlassGrant) -> Result<Option<StoredMessage>, StorageError> {
        let sql = format!(
            "{MESSAGE_SELECT}, {MESSAGE_NOT_MINE}, {MESSAGE_BODIES} FROM messages m JOIN users u ON u.id = m.sender_id \
             LEFT JOIN message_keys k ON k.message_id = m.id WHERE m.id = $1"
        );
        let row: Option<MessageBodyRow> = with_pool!(self, |pool| sqlx::query_as(&sql)
            .bind(grant.message.to_string())
            .fetch_optional(pool)
            .await)?;
        row.map(StoredMessage::try_from).transpose()
    }
}
