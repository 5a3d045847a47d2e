//! Sign-in attempts per address, for the per-account limit (SECURITY A3). Kept by address, not
//! account, so unknown and known addresses are throttled alike (A5).
//!
//! An attempt is recorded *before* the password is checked and forgotten if it succeeds, so
//! parallel guesses cannot all slip under the limit between a count and a write.

use sealpost_domain::EmailAddress;
use uuid::Uuid;

use crate::{StorageError, Store, with_pool};

/// One recorded attempt, to forget if it succeeds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoginAttempt(Uuid);

impl Store {
    /// Records an attempt for `email`; it counts as a failure until forgotten.
    pub async fn record_login_attempt(&self, email: &EmailAddress, now_ms: i64) -> Result<LoginAttempt, StorageError> {
        let id = Uuid::new_v4();
        with_pool!(self, |pool| sqlx::query(
            "INSERT INTO login_failures (id, email, at) VALUES ($1, $2, $3)"
        )
        .bind(id.to_string())
        .bind(email.as_str())
        .bind(now_ms)
        .execute(pool)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(LoginAttempt(id))
    }

    /// Forgets an attempt (it succeeded, or was refused before being checked).
    pub async fn forget_login_attempt(&self, attempt: LoginAttempt) -> Result<(), StorageError> {
        with_pool!(self, |pool| sqlx::query("DELETE FROM login_failures WHERE id = $1")
            .bind(attempt.0.to_string())
            .execute(pool)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// Counts unforgotten attempts for `email` at or after `since_ms`.
    pub async fn count_login_failures(&self, email: &EmailAddress, since_ms: i64) -> Result<i64, StorageError> {
        let (n,): (i64,) = with_pool!(self, |pool| {
            sqlx::query_as("SELECT COUNT(*) FROM login_failures WHERE email = $1 AND at >= $2")
                .bind(email.as_str())
                .bind(since_ms)
                .fetch_one(pool)
                .await
        })?;
        Ok(n)
    }

    /// Forgets attempts older than `before_ms`.
    pub async fn prune_login_failures(&self, before_ms: i64) -> Result<u64, StorageError> {
        let done = with_pool!(self, |pool| sqlx::query("DELETE FROM login_failures WHERE at < $1")
            .bind(before_ms)
            .execute(pool)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(done)
    }
}
