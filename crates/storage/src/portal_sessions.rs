//! Recipient portal sessions, one-time codes, attempt counts and lockouts (SECURITY A9 portal
//! timeouts, B3, B4). Tokens and codes are stored only as hashes.

use sealpost_crypto::TokenHash;
use sealpost_domain::RecipientId;
use uuid::Uuid;

use crate::audit::insert_under_limit;
use crate::portal::{LINK_COLUMNS, LINK_TABLES, LinkRow};
use crate::{LinkRecord, StorageError, Store, sqlite_direct, with_pool};

/// A portal session as stored.
#[derive(Debug, Clone)]
pub struct PortalSessionRecord {
    /// The link it was opened for.
    pub link: LinkRecord,
    /// When it began.
    pub created_at_ms: i64,
    /// When it was last used.
    pub last_seen_at_ms: i64,
    /// When the recipient proved who they are (code, and passphrase if needed).
    pub verified_at_ms: Option<i64>,
}

/// A live code as stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PortalCode {
    /// SHA-256 of the session hash and the code.
    pub code_hash: [u8; 32],
    /// When it stops working.
    pub expires_at_ms: i64,
    /// Wrong tries so far.
    pub tries: i64,
}

/// What is counted per recipient.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttemptKind {
    /// A code was emailed.
    CodeSent,
    /// A wrong passphrase was entered.
    PassphraseFailed,
}

impl AttemptKind {
    fn as_str(self) -> &'static str {
        match self {
            AttemptKind::CodeSent => "code_sent",
            AttemptKind::PassphraseFailed => "passphrase_failed",
        }
    }
}

/// One recorded portal attempt, to forget if it turns out right.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PortalAttempt(Uuid);

fn code_from_row((hash, expires, tries): (Vec<u8>, i64, i64)) -> Result<PortalCode, StorageError> {
    let code_hash: [u8; 32] = hash.try_into().map_err(|_| StorageError::Corrupt("portal_codes.code_hash"))?;
    Ok(PortalCode {
        code_hash,
        expires_at_ms: expires,
        tries,
    })
}

impl Store {
    /// Opens a portal session for `recipient`.
    pub async fn create_portal_session(&self, hash: &TokenHash, recipient: RecipientId, now_ms: i64) -> Result<(), StorageError> {
        with_pool!(self, |pool| sqlx::query(
            "INSERT INTO portal_sessions (token_hash, recipient_id, created_at, last_seen_at) VALUES ($1, $2, $3, $3)"
        )
        .bind(hash.as_bytes().as_slice())
        .bind(recipient.to_string())
        .bind(now_ms)
        .execute(pool)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// Counts an open of `recipient`'s message by portal session `session`, once per session,
    /// if the recipient has opened it fewer than `max` times: true when this session may read
    /// it (counted now or before), false, with nothing counted, once the opens are used. The
    /// session's row and the count change in one transaction, so parallel opens are never
    /// more than `max`.
    pub async fn count_open(&self, session: &TokenHash, recipient: RecipientId, max: i64) -> Result<bool, StorageError> {
        let recipient = recipient.to_string();
        with_pool!(self, |pool| {
            let mut tx = crate::audit::begin_write!(self, pool).await?;
            let new = sqlx::query("INSERT INTO portal_opens (token_hash, recipient_id) VALUES ($1, $2) ON CONFLICT DO NOTHING")
                .bind(session.as_bytes().as_slice())
                .bind(&recipient)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            if new == 0 {
                return Ok::<_, StorageError>(true);
            }
            let counted = sqlx::query("UPDATE recipients SET opens = opens + 1 WHERE id = $1 AND opens < $2")
                .bind(&recipient)
                .bind(max)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            if counted == 0 {
                return Ok(false); // dropped: the session's row goes with the transaction
            }
            tx.commit().await?;
            Ok(true)
        })
    }

    /// Whether portal session `session` has counted an open of `recipient`'s message.
    pub async fn opened_in(&self, session: &TokenHash, recipient: RecipientId) -> Result<bool, StorageError> {
        let row: Option<(i64,)> = with_pool!(self, |pool| sqlx::query_as(
            "SELECT CAST(1 AS BIGINT) FROM portal_opens WHERE token_hash = $1 AND recipient_id = $2"
        )
        .bind(session.as_bytes().as_slice())
        .bind(recipient.to_string())
        .fetch_optional(pool)
        .await)?;
        Ok(row.is_some())
    }

    /// Finds a portal session by token hash, with the link it was opened for as it stands now
    /// (one query: every portal request starts here).
    pub async fn portal_session(&self, hash: &TokenHash) -> Result<Option<PortalSessionRecord>, StorageError> {
        let sql = format!(
            "SELECT {LINK_COLUMNS}, s.created_at, s.last_seen_at, s.verified_at FROM {LINK_TABLES} \
             JOIN portal_sessions s ON s.recipient_id = r.id WHERE s.token_hash = $1 AND r.link_hash IS NOT NULL"
        );
        let key = hash.as_bytes().as_slice();
        let row: Option<SessionRow> = match self.hot_read(|c| sqlite_direct::first(c, &sql, [key])) {
            Some(row) => row?,
            None => with_pool!(self, |pool| sqlx::query_as(&sql).bind(key).fetch_optional(pool).await)?,
        };
        row.map(|r| {
            Ok(PortalSessionRecord {
                link: LinkRecord::try_from(r.link)?,
                created_at_ms: r.created_at,
                last_seen_at_ms: r.last_seen_at,
                verified_at_ms: r.verified_at,
            })
        })
        .transpose()
    }

    /// Records use of a portal session; `verified` also marks it verified.
    pub async fn touch_portal_session(&self, hash: &TokenHash, now_ms: i64, verified: bool) -> Result<(), StorageError> {
        let sql = if verified {
            "UPDATE portal_sessions SET last_seen_at = $1, verified_at = $1 WHERE token_hash = $2"
        } else {
            "UPDATE portal_sessions SET last_seen_at = $1 WHERE token_hash = $2"
        };
        with_pool!(self, |pool| sqlx::query(sql)
            .bind(now_ms)
            .bind(hash.as_bytes().as_slice())
            .execute(pool)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// Ends a portal session (and its code).
    pub async fn delete_portal_session(&self, hash: &TokenHash) -> Result<(), StorageError> {
        with_pool!(self, |pool| sqlx::query("DELETE FROM portal_sessions WHERE token_hash = $1")
            .bind(hash.as_bytes().as_slice())
            .execute(pool)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// Stores the session's code, replacing any earlier one.
    pub async fn put_portal_code(&self, session: &TokenHash, code_hash: &[u8; 32], expires_at_ms: i64) -> Result<(), StorageError> {
        with_pool!(self, |pool| {
            sqlx::query(
                "INSERT INTO portal_codes (session_hash, code_hash, expires_at, tries) VALUES ($1, $2, $3, 0) \
                 ON CONFLICT (session_hash) DO UPDATE SET code_hash = excluded.code_hash, expires_at = excluded.expires_at, tries = 0",
            )
            .bind(session.as_bytes().as_slice())
            .bind(code_hash.as_slice())
            .bind(expires_at_ms)
            .execute(pool)
            .await
            .map(|r| r.rows_affected())
        })?;
        Ok(())
    }

    /// The session's live code, if any.
    pub async fn portal_code(&self, session: &TokenHash) -> Result<Option<PortalCode>, StorageError> {
        let row: Option<(Vec<u8>, i64, i64)> = with_pool!(self, |pool| {
            sqlx::query_as("SELECT code_hash, expires_at, tries FROM portal_codes WHERE session_hash = $1")
                .bind(session.as_bytes().as_slice())
                .fetch_optional(pool)
                .await
        })?;
        row.map(code_from_row).transpose()
    }

    /// Takes one try of the session's code *before* it is checked, and returns the code with
    /// the tries taken so far, this one included (SECURITY B3, A10). One atomic statement: N
    /// parallel tries get N different counts, so no more than the limit are ever evaluated.
    pub async fn take_portal_code_try(&self, session: &TokenHash) -> Result<Option<PortalCode>, StorageError> {
        let row: Option<(Vec<u8>, i64, i64)> = with_pool!(self, |pool| {
            sqlx::query_as("UPDATE portal_codes SET tries = tries + 1 WHERE session_hash = $1 RETURNING code_hash, expires_at, tries")
                .bind(session.as_bytes().as_slice())
                .fetch_optional(pool)
                .await
        })?;
        row.map(code_from_row).transpose()
    }

    /// Removes the session's code (used, or burned).
    pub async fn delete_portal_code(&self, session: &TokenHash) -> Result<(), StorageError> {
        with_pool!(self, |pool| sqlx::query("DELETE FROM portal_codes WHERE session_hash = $1")
            .bind(session.as_bytes().as_slice())
            .execute(pool)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// Records one counted event for `recipient` unconditionally (tests and imports).
    pub async fn record_portal_attempt(
        &self,
        recipient: RecipientId,
        kind: AttemptKind,
        now_ms: i64,
    ) -> Result<PortalAttempt, StorageError> {
        self.take_portal_attempt(recipient, kind, now_ms, i64::MAX, now_ms)
            .await?
            .ok_or(StorageError::Corrupt("portal_attempts"))
    }

    /// Records one `kind` event for `recipient` *only while* fewer than `limit` are recorded at
    /// or after `since_ms`, in one atomic step (SECURITY A10): N parallel calls take at most
    /// `limit` places, exactly. `None` means the limit is reached. Attempts are taken before
    /// they are checked; one that turns out right is forgotten with the returned handle.
    pub async fn take_portal_attempt(
        &self,
        recipient: RecipientId,
        kind: AttemptKind,
        since_ms: i64,
        limit: i64,
        now_ms: i64,
    ) -> Result<Option<PortalAttempt>, StorageError> {
        let id = Uuid::new_v4();
        let lock = format!("portal_attempts:{recipient}:{}", kind.as_str());
        let taken = insert_under_limit!(
            self,
            &lock,
            "INSERT INTO portal_attempts (id, recipient_id, kind, at) SELECT $1, $2, $3, $4 \
             WHERE (SELECT COUNT(*) FROM portal_attempts WHERE recipient_id = $2 AND kind = $3 AND at >= $5) < $6",
            [id.to_string(), recipient.to_string(), kind.as_str(), now_ms, since_ms, limit]
        )?;
        Ok((taken == 1).then_some(PortalAttempt(id)))
    }

    /// Forgets an attempt that turned out right (a correct passphrase).
    pub async fn forget_portal_attempt(&self, attempt: PortalAttempt) -> Result<(), StorageError> {
        with_pool!(self, |pool| sqlx::query("DELETE FROM portal_attempts WHERE id = $1")
            .bind(attempt.0.to_string())
            .execute(pool)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// Counts `kind` events for `recipient` at or after `since_ms`.
    pub async fn count_portal_attempts(&self, recipient: RecipientId, kind: AttemptKind, since_ms: i64) -> Result<i64, StorageError> {
        let (n,): (i64,) = with_pool!(self, |pool| {
            sqlx::query_as("SELECT COUNT(*) FROM portal_attempts WHERE recipient_id = $1 AND kind = $2 AND at >= $3")
                .bind(recipient.to_string())
                .bind(kind.as_str())
                .bind(since_ms)
                .fetch_one(pool)
                .await
        })?;
        Ok(n)
    }

    /// Locks `recipient` out of the portal until `until_ms`.
    pub async fn lock_recipient(&self, recipient: RecipientId, until_ms: i64) -> Result<(), StorageError> {
        with_pool!(self, |pool| {
            sqlx::query("INSERT INTO portal_locks (recipient_id, until_at) VALUES ($1, $2) ON CONFLICT (recipient_id) DO UPDATE SET until_at = excluded.until_at")
                .bind(recipient.to_string())
                .bind(until_ms)
                .execute(pool)
                .await
                .map(|r| r.rows_affected())
        })?;
        Ok(())
    }
}

/// A portal session's columns after its link's.
#[derive(sqlx::FromRow)]
struct SessionRow {
    #[sqlx(flatten)]
    link: LinkRow,
    created_at: i64,
    last_seen_at: i64,
    verified_at: Option<i64>,
}
crate::sqlite_direct::sqlite_row!(SessionRow {
    link: flatten,
    created_at,
    last_seen_at,
    verified_at
});
