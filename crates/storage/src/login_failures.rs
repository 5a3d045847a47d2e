//! Failed sign-ins per address, for the per-account limit (SECURITY A3). Kept by address, not
//! account, so unknown and known addresses are throttled alike (A5).

use sealpost_domain::EmailAddress;

use crate::{StorageError, Store, with_pool};

impl Store {
    /// Records one failed sign-in for `email`.
    pub async fn record_login_failure(&self, email: &EmailAddress, now_ms: i64) -> Result<(), StorageError> {
        with_pool!(self, |pool| sqlx::query("INSERT INTO login_failures (email, at) VALUES ($1, $2)")
            .bind(email.as_str())
            .bind(now_ms)
            .execute(pool)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// Counts failures for `email` at or after `since_ms`.
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

    /// Forgets failures older than `before_ms`.
    pub async fn prune_login_failures(&self, before_ms: i64) -> Result<u64, StorageError> {
        let done = with_pool!(self, |pool| sqlx::query("DELETE FROM login_failures WHERE at < $1")
            .bind(before_ms)
            .execute(pool)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(done)
    }
}
