//! Staff sessions, keyed by the SHA-256 of the cookie token (SECURITY A7); the raw token is
//! never stored. Expiry rules live in the server; this module stores the times they need.

use sealpost_crypto::TokenHash;
use sealpost_domain::UserId;

use crate::users::{USER_COLUMNS, UserRecord, UserRow};
use crate::{StorageError, Store, sqlite_direct, with_pool};

/// A live session and its account.
#[derive(Debug, Clone)]
pub struct SessionRecord {
    /// The signed-in account (never a disabled one).
    pub user: UserRecord,
    /// When the session began (for the absolute timeout).
    pub created_at_ms: i64,
    /// When it was last used (for the idle timeout).
    pub last_seen_at_ms: i64,
    /// How far its sign-in has got.
    pub stage: SessionStage,
}

/// How far a session's sign-in has got: only a full session may do anything but finish it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionStage {
    /// Signed in.
    Full,
    /// The password was right; the second factor is wanted.
    SecondFactor,
    /// The password was right; the account must set up a second factor first.
    Enrol,
}

impl SessionStage {
    fn as_str(self) -> &'static str {
        match self {
            SessionStage::Full => "full",
            SessionStage::SecondFactor => "second_factor",
            SessionStage::Enrol => "enrol",
        }
    }

    fn parse(text: &str) -> Result<Self, StorageError> {
        match text {
            "full" => Ok(SessionStage::Full),
            "second_factor" => Ok(SessionStage::SecondFactor),
            "enrol" => Ok(SessionStage::Enrol),
            _ => Err(StorageError::Corrupt("sessions.stage")),
        }
    }
}

impl Store {
    /// Starts a session for `user` at `stage`.
    pub async fn create_session(&self, token: &TokenHash, user: UserId, now_ms: i64, stage: SessionStage) -> Result<(), StorageError> {
        with_pool!(self, |pool| {
            sqlx::query("INSERT INTO sessions (token_hash, user_id, created_at, last_seen_at, stage) VALUES ($1, $2, $3, $3, $4)")
                .bind(token.as_bytes().as_slice())
                .bind(user.0.to_string())
                .bind(now_ms)
                .bind(stage.as_str())
                .execute(pool)
                .await
                .map(|r| r.rows_affected())
        })?;
        Ok(())
    }

    /// Looks up a session by token hash, with its (enabled) account.
    pub async fn session(&self, token: &TokenHash) -> Result<Option<SessionRecord>, StorageError> {
        let sql = format!(
            "SELECT {USER_COLUMNS}, s.created_at, s.last_seen_at, s.stage FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.token_hash = $1 AND u.disabled = FALSE"
        );
        let key = token.as_bytes().as_slice();
        let row: Option<SessionRow> = match self.hot_read(|c| sqlite_direct::first(c, &sql, [key])) {
            Some(row) => row?,
            None => with_pool!(self, |pool| sqlx::query_as(&sql).bind(key).fetch_optional(pool).await)?,
        };
        row.map(|r| {
            Ok(SessionRecord {
                user: UserRecord::try_from(r.user)?,
                created_at_ms: r.created_at,
                last_seen_at_ms: r.last_seen_at,
                stage: SessionStage::parse(&r.stage)?,
            })
        })
        .transpose()
    }

    /// Records use of a session (slides the idle timeout).
    pub async fn touch_session(&self, token: &TokenHash, now_ms: i64) -> Result<(), StorageError> {
        with_pool!(self, |pool| sqlx::query(
            "UPDATE sessions SET last_seen_at = $1 WHERE token_hash = $2"
        )
        .bind(now_ms)
        .bind(token.as_bytes().as_slice())
        .execute(pool)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// Moves a session on to `stage` (a full session once the second factor is given).
    pub async fn set_session_stage(&self, token: &TokenHash, stage: SessionStage) -> Result<(), StorageError> {
        with_pool!(self, |pool| sqlx::query("UPDATE sessions SET stage = $1 WHERE token_hash = $2")
            .bind(stage.as_str())
            .bind(token.as_bytes().as_slice())
            .execute(pool)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// Ends one session.
    pub async fn delete_session(&self, token: &TokenHash) -> Result<(), StorageError> {
        with_pool!(self, |pool| sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
            .bind(token.as_bytes().as_slice())
            .execute(pool)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// How many sessions an account has (tests and the admin view use it).
    pub async fn count_sessions(&self, user: UserId) -> Result<i64, StorageError> {
        let (n,): (i64,) = with_pool!(self, |pool| sqlx::query_as("SELECT COUNT(*) FROM sessions WHERE user_id = $1")
            .bind(user.0.to_string())
            .fetch_one(pool)
            .await)?;
        Ok(n)
    }
}

/// A session's columns after its account's.
#[derive(sqlx::FromRow)]
struct SessionRow {
    #[sqlx(flatten)]
    user: UserRow,
    created_at: i64,
    last_seen_at: i64,
    stage: String,
}
crate::sqlite_direct::sqlite_row!(SessionRow {
    user: flatten,
    created_at,
    last_seen_at,
    stage
});
