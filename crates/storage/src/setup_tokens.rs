//! One-time links with which a new account holder chooses a password. Stored as hashes;
//! redeeming one deletes it in the same statement, so it works once, and an account has at
//! most one: a new link ends any earlier one.

use sealpost_crypto::TokenHash;
use sealpost_domain::UserId;
use uuid::Uuid;

use crate::{StorageError, Store, with_pool};

impl Store {
    /// Stores a set-up token for `user`, valid until `expires_at_ms`, in place of any earlier
    /// one.
    pub async fn create_setup_token(&self, token: &TokenHash, user: UserId, expires_at_ms: i64) -> Result<(), StorageError> {
        with_pool!(self, |pool| {
            let mut tx = pool.begin().await?;
            sqlx::query("DELETE FROM setup_tokens WHERE user_id = $1")
                .bind(user.0.to_string())
                .execute(&mut *tx)
                .await?;
            sqlx::query("INSERT INTO setup_tokens (token_hash, user_id, expires_at) VALUES ($1, $2, $3)")
                .bind(token.as_bytes().as_slice())
                .bind(user.0.to_string())
                .bind(expires_at_ms)
                .execute(&mut *tx)
                .await?;
            tx.commit().await
        })?;
        Ok(())
    }

    /// The account a set-up token is for, if it exists and has not expired: a look, which
    /// leaves the token usable (the set-up page shows whose account it is before any typing).
    pub async fn setup_token_user(&self, token: &TokenHash, now_ms: i64) -> Result<Option<UserId>, StorageError> {
        let row: Option<(String,)> = with_pool!(self, |pool| {
            sqlx::query_as("SELECT user_id FROM setup_tokens WHERE token_hash = $1 AND expires_at > $2")
                .bind(token.as_bytes().as_slice())
                .bind(now_ms)
                .fetch_optional(pool)
                .await
        })?;
        row.map(|(id,)| {
            Uuid::parse_str(&id)
                .map(UserId)
                .map_err(|_| StorageError::Corrupt("setup_tokens.user_id"))
        })
        .transpose()
    }

    /// Consumes a set-up token: returns its account if it existed and had not expired.
    pub async fn consume_setup_token(&self, token: &TokenHash, now_ms: i64) -> Result<Option<UserId>, StorageError> {
        let row: Option<(String, i64)> = with_pool!(self, |pool| {
            sqlx::query_as("DELETE FROM setup_tokens WHERE token_hash = $1 RETURNING user_id, expires_at")
                .bind(token.as_bytes().as_slice())
                .fetch_optional(pool)
                .await
        })?;
        match row {
            Some((id, expires)) if expires > now_ms => Ok(Some(UserId(
                Uuid::parse_str(&id).map_err(|_| StorageError::Corrupt("setup_tokens.user_id"))?,
            ))),
            _ => Ok(None),
        }
    }
}
