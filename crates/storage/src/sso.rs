//! Single sign-on: sign-ins waiting for the identity provider's answer, and the link from an
//! account to the person's id at the provider.

use sealpost_crypto::TokenHash;
use sealpost_domain::UserId;

use crate::users::{USER_COLUMNS, UserRow};
use crate::{StorageError, Store, UserRecord, with_pool};

/// What a sign-in keeps between sending the browser to the provider and its return.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingSso {
    /// The nonce the ID token must carry.
    pub nonce: String,
    /// The PKCE verifier for the code exchange.
    pub pkce_verifier: String,
}

impl Store {
    /// Keeps a sign-in that has gone to the provider, under its state's hash.
    pub async fn start_sso(&self, state: &TokenHash, pending: &PendingSso, now_ms: i64) -> Result<(), StorageError> {
        with_pool!(self, |pool| sqlx::query(
            "INSERT INTO sso_logins (state_hash, nonce, pkce_verifier, created_at) VALUES ($1, $2, $3, $4)"
        )
        .bind(state.as_bytes().as_slice())
        .bind(&pending.nonce)
        .bind(&pending.pkce_verifier)
        .bind(now_ms)
        .execute(pool)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// Takes the sign-in started with `state`, if it began after `since_ms`: deleted as it is
    /// read, so a state is used once however many callbacks race.
    pub async fn take_sso(&self, state: &TokenHash, since_ms: i64) -> Result<Option<PendingSso>, StorageError> {
        let row: Option<(String, String, i64)> = with_pool!(self, |pool| sqlx::query_as(
            "DELETE FROM sso_logins WHERE state_hash = $1 RETURNING nonce, pkce_verifier, created_at"
        )
        .bind(state.as_bytes().as_slice())
        .fetch_optional(pool)
        .await)?;
        Ok(row
            .filter(|(_, _, created)| *created >= since_ms)
            .map(|(nonce, pkce_verifier, _)| PendingSso { nonce, pkce_verifier }))
    }

    /// Forgets sign-ins that never came back from the provider.
    pub async fn forget_old_sso(&self, before_ms: i64) -> Result<u64, StorageError> {
        let done = with_pool!(self, |pool| sqlx::query("DELETE FROM sso_logins WHERE created_at < $1")
            .bind(before_ms)
            .execute(pool)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(done)
    }

    /// The account linked to `sso_id` at the identity provider.
    pub async fn user_by_sso_id(&self, sso_id: &str) -> Result<Option<UserRecord>, StorageError> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users u WHERE u.sso_id = $1");
        let row: Option<UserRow> = with_pool!(self, |pool| sqlx::query_as(&sql).bind(sso_id).fetch_optional(pool).await)?;
        row.map(UserRecord::try_from).transpose()
    }

    /// Links an account to `sso_id`: true if it is now linked to it (it was unlinked, or a
    /// racing first sign-in of the same person linked it). False if it is linked to someone
    /// else, or another account has that id.
    pub async fn link_sso(&self, user: UserId, sso_id: &str) -> Result<bool, StorageError> {
        let done = with_pool!(self, |pool| sqlx::query(
            "UPDATE users SET sso_id = $1 WHERE id = $2 AND (sso_id IS NULL OR sso_id = $1) \
             AND NOT EXISTS (SELECT 1 FROM users WHERE sso_id = $1 AND id <> $2)"
        )
        .bind(sso_id)
        .bind(user.0.to_string())
        .execute(pool)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(done == 1)
    }
}
