//! Sign-in attempts per address, for the per-account limit (SECURITY A3). Kept by address, not
//! account, so unknown and known addresses are throttled alike (A5).
//!
//! An attempt takes its place under the limit *before* the password is checked, in one atomic
//! step, and is forgotten if it succeeds, so parallel guesses cannot slip past the limit.

use sealpost_crypto::TokenHash;
use sealpost_domain::EmailAddress;
use uuid::Uuid;

use crate::audit::insert_under_limit;
use crate::{StorageError, Store, with_pool};

/// One recorded attempt, to forget if it succeeds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoginAttempt(Uuid);

impl Store {
    /// Records an attempt for `email`, counted as a failure until forgotten, *only while*
    /// fewer than `limit` unforgotten attempts are recorded at or after `since_ms`: one atomic
    /// step, so N parallel guesses take at most `limit` places (SECURITY A3, A10). `None`
    /// means the limit is reached.
    pub async fn take_login_attempt(
        &self,
        email: &EmailAddress,
        since_ms: i64,
        limit: i64,
        now_ms: i64,
    ) -> Result<Option<LoginAttempt>, StorageError> {
        self.take_attempt(email.as_str(), since_ms, limit, now_ms).await
    }

    /// The same for a known browser of an account (a device cookie): its failures are counted
    /// apart from the address's, so strangers' guesses cannot lock it out (SECURITY A3).
    pub async fn take_device_login_attempt(
        &self,
        device: &TokenHash,
        since_ms: i64,
        limit: i64,
        now_ms: i64,
    ) -> Result<Option<LoginAttempt>, StorageError> {
        // Kept in the same table under a key that can never be an address (it has no '@').
        let key = format!("device:{}", sealpost_domain::hex::encode(device.as_bytes()));
        self.take_attempt(&key, since_ms, limit, now_ms).await
    }

    async fn take_attempt(&self, key: &str, since_ms: i64, limit: i64, now_ms: i64) -> Result<Option<LoginAttempt>, StorageError> {
        let id = Uuid::new_v4();
        let lock = format!("login_failures:{key}");
        let taken = insert_under_limit!(
            self,
            &lock,
            "INSERT INTO login_failures (id, email, at) SELECT $1, $2, $3 \
             WHERE (SELECT COUNT(*) FROM login_failures WHERE email = $2 AND at >= $4) < $5",
            [id.to_string(), key, now_ms, since_ms, limit]
        )?;
        Ok((taken == 1).then_some(LoginAttempt(id)))
    }

    /// Records an attempt for `email` whatever the count (tests).
    pub async fn record_login_attempt(&self, email: &EmailAddress, now_ms: i64) -> Result<LoginAttempt, StorageError> {
        self.take_login_attempt(email, now_ms, i64::MAX, now_ms)
            .await?
            .ok_or(StorageError::Corrupt("login_failures"))
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
