//! Retention, legal hold and erasure (issue 19, SECURITY E4): a message is crypto-shredded by
//! deleting its key row, in the same transaction as the audit event that records it. Its
//! replies and files were sealed with that key, so they go with it; the caller deletes the
//! blobs after the commit (and the orphan sweep takes any it missed: a shredded message's files
//! count as unreferenced). The metadata stays.

use sealpost_audit::AuditEvent;
use sealpost_domain::{MessageId, UserId};

use crate::audit::{begin_write, chain_audit};
use crate::messages::parse_id;
use crate::{Pool, StorageError, Store, with_pool};

/// What a recall came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Recall {
    /// Shredded before anyone received it: the blob keys of its files, for the caller to delete.
    Recalled(Vec<String>),
    /// Its undo window has ended (or it was already recalled or deleted).
    TooLate,
    /// Not a message of this sender's.
    NotFound,
}

/// Why a message is shredded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShredReason {
    /// Its time under the council's retention schedule was up.
    Retention,
    /// IG erased it.
    Erased,
    /// Its sender cancelled it in the undo window, before anyone received it.
    Recalled,
}

impl ShredReason {
    /// As stored in `messages.shred_reason` (recalled: NULL, see migration 0026).
    fn stored(self) -> Option<&'static str> {
        match self {
            ShredReason::Retention => Some("retention"),
            ShredReason::Erased => Some("erased"),
            ShredReason::Recalled => None,
        }
    }

    /// The reason stored for a shredded message.
    pub(crate) fn from_stored(stored: Option<&str>) -> Result<Self, StorageError> {
        match stored {
            Some("retention") => Ok(ShredReason::Retention),
            Some("erased") => Ok(ShredReason::Erased),
            None => Ok(ShredReason::Recalled),
            Some(_) => Err(StorageError::Corrupt("messages.shred_reason")),
        }
    }
}

/// A legal hold on a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LegalHold {
    /// Why, in IG's words.
    pub reason: String,
    /// Who placed it.
    pub placed_by: UserId,
    /// When (Unix ms).
    pub placed_at_ms: i64,
}

impl Store {
    /// Up to `limit` messages whose time is up: sent before the cutoff for their marking
    /// (`None`: that marking is kept), not shredded, not on legal hold; oldest first.
    pub async fn retention_due(
        &self,
        official_before_ms: Option<i64>,
        sensitive_before_ms: Option<i64>,
        limit: i64,
    ) -> Result<Vec<MessageId>, StorageError> {
        // A marking that is kept gets a cutoff before any message.
        let (official, sensitive) = (official_before_ms.unwrap_or(i64::MIN), sensitive_before_ms.unwrap_or(i64::MIN));
        let rows: Vec<(String,)> = with_pool!(self, |pool| sqlx::query_as(
            "SELECT m.id FROM messages m WHERE m.shredded_at IS NULL \
             AND ((m.marking = 'official' AND m.created_at < $1) OR (m.marking = 'official-sensitive' AND m.created_at < $2)) \
             AND NOT EXISTS (SELECT 1 FROM legal_holds h WHERE h.message_id = m.id) \
             ORDER BY m.created_at, m.id LIMIT $3"
        )
        .bind(official)
        .bind(sensitive)
        .bind(limit)
        .fetch_all(pool)
        .await)?;
        rows.into_iter().map(|(id,)| Ok(MessageId(parse_id(&id, "messages.id")?))).collect()
    }

    /// Crypto-shreds message `id` at `now_ms` (for an erasure, with IG's `note` on why) with
    /// `audit` in the same transaction: deletes its key row, cancels its pending notifications
    /// and marks it shredded. Returns the blob
    /// keys of its files (and its replies' files) for the caller to delete, or `None` with
    /// nothing written if it is on legal hold, already shredded, or does not exist.
    pub async fn shred_message(
        &self,
        id: MessageId,
        (reason, note): (ShredReason, Option<&str>),
        now_ms: i64,
        audit: &AuditEvent,
    ) -> Result<Option<Vec<String>>, StorageError> {
        self.shred(id, (reason, note), None, now_ms, audit).await
    }

    /// Recalls message `id` for its `sender` at `now_ms`, in its undo window (undo send): it is
    /// shredded as [`Store::shred_message`] does, its notifications never leave, and its
    /// recipients are shown as withdrawn, with `audit` in the same transaction. Too late once
    /// the window has ended (the notifications may be on their way).
    pub async fn recall_message(&self, id: MessageId, sender: UserId, now_ms: i64, audit: &AuditEvent) -> Result<Recall, StorageError> {
        if let Some(blobs) = self.shred(id, (ShredReason::Recalled, None), Some(sender), now_ms, audit).await? {
            return Ok(Recall::Recalled(blobs));
        }
        let found: Option<(i64,)> = with_pool!(self, |pool| sqlx::query_as(
            "SELECT CAST(1 AS BIGINT) FROM messages WHERE id = $1 AND sender_id = $2"
        )
        .bind(id.to_string())
        .bind(sender.to_string())
        .fetch_optional(pool)
        .await)?;
        Ok(if found.is_some() { Recall::TooLate } else { Recall::NotFound })
    }

    async fn shred(
        &self,
        id: MessageId,
        (reason, note): (ShredReason, Option<&str>),
        held_by: Option<UserId>,
        now_ms: i64,
        audit: &AuditEvent,
    ) -> Result<Option<Vec<String>>, StorageError> {
        let id = id.to_string();
        // A recall: only its sender, and only while the undo window is open.
        let in_window = if held_by.is_some() {
            " AND sender_id = $5 AND held_until > $2"
        } else {
            ""
        };
        let update = format!(
            "UPDATE messages SET shredded_at = $2, shred_reason = $3, shred_note = $4, held_until = NULL WHERE id = $1 AND shredded_at IS NULL \
             AND NOT EXISTS (SELECT 1 FROM legal_holds h WHERE h.message_id = $1){in_window}"
        );
        with_pool!(self, |pool| {
            let mut tx = begin_write!(self, pool).await?;
            let mut query = sqlx::query(&update).bind(&id).bind(now_ms).bind(reason.stored()).bind(note);
            if let Some(sender) = held_by {
                query = query.bind(sender.to_string());
            }
            if query.execute(&mut *tx).await?.rows_affected() == 0 {
                return Ok::<_, StorageError>(None);
            }
            sqlx::query("DELETE FROM message_keys WHERE message_id = $1")
                .bind(&id)
                .execute(&mut *tx)
                .await?;
            sqlx::query(
                "UPDATE outbox SET state = 'cancelled', sealed_link = NULL WHERE state = 'pending' \
                 AND recipient_id IN (SELECT r.id FROM recipients r WHERE r.message_id = $1)",
            )
            .bind(&id)
            .execute(&mut *tx)
            .await?;
            if held_by.is_some() {
                sqlx::query("UPDATE recipients SET status = 'revoked', revoked_at = $2 WHERE message_id = $1")
                    .bind(&id)
                    .bind(now_ms)
                    .execute(&mut *tx)
                    .await?;
            }
            let blobs: Vec<(String,)> = sqlx::query_as("SELECT blob_key FROM attachments WHERE message_id = $1")
                .bind(&id)
                .fetch_all(&mut *tx)
                .await?;
            chain_audit!(self, tx, [audit])?;
            tx.commit().await?;
            Ok(Some(blobs.into_iter().map(|(key,)| key).collect()))
        })
    }

    /// Releases every message whose undo window ended by `now_ms`: its recipients see it from
    /// now on (its notifications were due at the same time). How many were released.
    pub async fn release_held(&self, now_ms: i64) -> Result<u64, StorageError> {
        Ok(with_pool!(self, |pool| sqlx::query(
            "UPDATE messages SET held_until = NULL WHERE held_until IS NOT NULL AND held_until <= $1"
        )
        .bind(now_ms)
        .execute(pool)
        .await
        .map(|r| r.rows_affected()))?)
    }

    /// When the soonest undo window still open ends.
    pub async fn next_release(&self) -> Result<Option<i64>, StorageError> {
        let (next,): (Option<i64>,) = with_pool!(self, |pool| sqlx::query_as(
            "SELECT MIN(held_until) FROM messages WHERE held_until IS NOT NULL"
        )
        .fetch_one(pool)
        .await)?;
        Ok(next)
    }

    /// Puts message `id` on legal hold, with `audit` in the same transaction. False, with
    /// nothing written, if it is already held, shredded or does not exist.
    pub async fn place_legal_hold(
        &self,
        id: MessageId,
        reason: &str,
        by: UserId,
        now_ms: i64,
        audit: &AuditEvent,
    ) -> Result<bool, StorageError> {
        let id = id.to_string();
        with_pool!(self, |pool| {
            let mut tx = begin_write!(self, pool).await?;
            let placed = sqlx::query(
                "INSERT INTO legal_holds (message_id, reason, placed_by, placed_at) \
                 SELECT m.id, $2, $3, $4 FROM messages m WHERE m.id = $1 AND m.shredded_at IS NULL \
                 AND NOT EXISTS (SELECT 1 FROM legal_holds h WHERE h.message_id = $1) \
                 ON CONFLICT (message_id) DO NOTHING",
            )
            .bind(&id)
            .bind(reason)
            .bind(by.to_string())
            .bind(now_ms)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if placed == 0 {
                return Ok::<_, StorageError>(false);
            }
            chain_audit!(self, tx, [audit])?;
            tx.commit().await?;
            Ok(true)
        })
    }

    /// Lifts the legal hold on message `id`, with `audit` in the same transaction. False, with
    /// nothing written, if it was not held.
    pub async fn lift_legal_hold(&self, id: MessageId, audit: &AuditEvent) -> Result<bool, StorageError> {
        let id = id.to_string();
        with_pool!(self, |pool| {
            let mut tx = begin_write!(self, pool).await?;
            let lifted = sqlx::query("DELETE FROM legal_holds WHERE message_id = $1")
                .bind(&id)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            if lifted == 0 {
                return Ok::<_, StorageError>(false);
            }
            chain_audit!(self, tx, [audit])?;
            tx.commit().await?;
            Ok(true)
        })
    }

    /// The legal hold on message `id`, if any.
    pub async fn legal_hold(&self, id: MessageId) -> Result<Option<LegalHold>, StorageError> {
        let row: Option<(String, String, i64)> = with_pool!(self, |pool| sqlx::query_as(
            "SELECT reason, placed_by, placed_at FROM legal_holds WHERE message_id = $1"
        )
        .bind(id.to_string())
        .fetch_optional(pool)
        .await)?;
        row.map(|(reason, by, at)| {
            Ok(LegalHold {
                reason,
                placed_by: UserId(parse_id(&by, "legal_holds.placed_by")?),
                placed_at_ms: at,
            })
        })
        .transpose()
    }

    /// Writes a consistent copy of the SQLite database to `path` while the server runs
    /// (`VACUUM INTO`); on PostgreSQL there is nothing to do here: use `pg_dump`.
    pub async fn backup_into(&self, path: &std::path::Path) -> Result<bool, StorageError> {
        let Pool::Sqlite(pool) = &self.pool else { return Ok(false) };
        sqlx::query("VACUUM INTO $1")
            .bind(path.to_string_lossy().into_owned())
            .execute(pool)
            .await?;
        Ok(true)
    }

    /// The blob keys of the files of messages that are not shredded (replies' files included),
    /// a page at a time after the attachment id `after`: `(attachment id, blob key)`. For
    /// `sealpost restore`, which checks that every file a message needs is in the blob store.
    pub async fn live_blob_keys(&self, after: &str, limit: i64) -> Result<Vec<(String, String)>, StorageError> {
        Ok(with_pool!(self, |pool| sqlx::query_as(
            "SELECT a.id, a.blob_key FROM attachments a JOIN messages m ON m.id = a.message_id \
             WHERE m.shredded_at IS NULL AND a.id > $1 ORDER BY a.id LIMIT $2"
        )
        .bind(after)
        .bind(limit)
        .fetch_all(pool)
        .await)?)
    }

    /// After a shred on SQLite, moves the WAL into the database file and truncates it, so a
    /// deleted key's bytes (overwritten there by `secure_delete`) are in neither (SECURITY E4).
    /// Nothing to do on PostgreSQL, whose vacuum reclaims dead rows.
    pub async fn checkpoint(&self) -> Result<(), StorageError> {
        if let Pool::Sqlite(pool) = &self.pool {
            sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)").execute(pool).await?;
        }
        Ok(())
    }
}
