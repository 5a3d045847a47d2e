//! Browsers known to have signed in to an account (device cookies, SECURITY A3): only the
//! SHA-256 of each cookie's token is stored, with the address it signed in as.

use sealpost_crypto::TokenHash;
use sealpost_domain::EmailAddress;

use crate::{StorageError, Store, with_pool};

impl Store {
    /// Records a browser that has just signed in as `email`.
    pub async fn remember_device(&self, token: &TokenHash, email: &EmailAddress, now_ms: i64) -> Result<(), StorageError> {
        with_pool!(self, |pool| sqlx::query(
            "INSERT INTO known_devices (token_hash, email, created_at, last_used_at) VALUES ($1, $2, $3, $3)"
        )
        .bind(token.as_bytes().as_slice())
        .bind(email.as_str())
        .bind(now_ms)
        .execute(pool)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// True when `token` is a known browser of `email`, used since `since_ms`; marks it used.
    pub async fn known_device(&self, token: &TokenHash, email: &EmailAddress, since_ms: i64, now_ms: i64) -> Result<bool, StorageError> {
        let touched = with_pool!(self, |pool| sqlx::query(
            "UPDATE known_devices SET last_used_at = $1 WHERE token_hash = $2 AND email = $3 AND last_used_at >= $4"
        )
        .bind(now_ms)
        .bind(token.as_bytes().as_slice())
        .bind(email.as_str())
        .bind(since_ms)
        .execute(pool)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(touched == 1)
    }
}
