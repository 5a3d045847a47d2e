//! The second factor as stored (issue 17, SECURITY A6): each account's TOTP secret, sealed (a
//! pending one while it is being set up), the newest step a code was accepted for, and the
//! hashes of its recovery codes. Taking a step and using a recovery code are each one
//! conditional UPDATE, so two requests with the same code cannot both succeed.

use sealpost_crypto::Sealed;
use sealpost_domain::UserId;

use crate::decode::Ciphertext;
use crate::{StorageError, Store, with_pool};

impl Store {
    /// Keeps `sealed` as the account's TOTP secret being set up, in place of any earlier one;
    /// nothing for an account that has one already.
    pub async fn put_pending_totp(&self, user: UserId, sealed: &Sealed) -> Result<(), StorageError> {
        with_pool!(self, |pool| sqlx::query(
            "UPDATE users SET totp_pending = $1 WHERE id = $2 AND totp_secret IS NULL"
        )
        .bind(sealed.as_bytes())
        .bind(user.0.to_string())
        .execute(pool)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// The account's TOTP secret (`pending`: the one being set up), sealed.
    pub async fn totp_secret(&self, user: UserId, pending: bool) -> Result<Option<Ciphertext>, StorageError> {
        let sql = if pending {
            "SELECT totp_pending FROM users WHERE id = $1"
        } else {
            "SELECT totp_secret FROM users WHERE id = $1"
        };
        let row: Option<(Option<Vec<u8>>,)> =
            with_pool!(self, |pool| sqlx::query_as(sql).bind(user.0.to_string()).fetch_optional(pool).await)?;
        Ok(row.and_then(|(bytes,)| bytes).map(Ciphertext::from_stored))
    }

    /// Makes the pending secret the account's second factor, taken at `step`, with these
    /// recovery code hashes in place of any earlier ones, in one transaction. False if nothing
    /// was pending or the account has a second factor already (it is never replaced here).
    pub async fn confirm_totp(&self, user: UserId, step: i64, recovery_hashes: &[[u8; 32]]) -> Result<bool, StorageError> {
        let id = user.0.to_string();
        let done = with_pool!(self, |pool| {
            let mut tx = pool.begin().await?;
            let moved = sqlx::query(
                "UPDATE users SET totp_secret = totp_pending, totp_pending = NULL, totp_last_step = $1 \
                 WHERE id = $2 AND totp_pending IS NOT NULL AND totp_secret IS NULL",
            )
            .bind(step)
            .bind(&id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if moved == 1 {
                sqlx::query("DELETE FROM recovery_codes WHERE user_id = $1")
                    .bind(&id)
                    .execute(&mut *tx)
                    .await?;
                for hash in recovery_hashes {
                    sqlx::query("INSERT INTO recovery_codes (user_id, code_hash) VALUES ($1, $2)")
                        .bind(&id)
                        .bind(hash.as_slice())
                        .execute(&mut *tx)
                        .await?;
                }
            }
            tx.commit().await.map(|()| moved == 1)
        })?;
        Ok(done)
    }

    /// Takes `step` for the account: true only if no code was accepted for it or a later step
    /// before (RFC 6238 §5.2).
    pub async fn take_totp_step(&self, user: UserId, step: i64) -> Result<bool, StorageError> {
        let done = with_pool!(self, |pool| {
            sqlx::query(
            "UPDATE users SET totp_last_step = $1 WHERE id = $2 AND totp_secret IS NOT NULL AND (totp_last_step IS NULL OR totp_last_step < $1)"
        )
        .bind(step)
        .bind(user.0.to_string())
        .execute(pool)
        .await
        .map(|r| r.rows_affected())
        })?;
        Ok(done == 1)
    }

    /// Uses one of the account's recovery codes: true only the first time.
    pub async fn use_recovery_code(&self, user: UserId, hash: &[u8; 32], now_ms: i64) -> Result<bool, StorageError> {
        let done = with_pool!(self, |pool| sqlx::query(
            "UPDATE recovery_codes SET used_at = $1 WHERE user_id = $2 AND code_hash = $3 AND used_at IS NULL"
        )
        .bind(now_ms)
        .bind(user.0.to_string())
        .bind(hash.as_slice())
        .execute(pool)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(done == 1)
    }

    /// How many unused recovery codes the account has.
    pub async fn recovery_codes_left(&self, user: UserId) -> Result<i64, StorageError> {
        let (n,): (i64,) = with_pool!(self, |pool| sqlx::query_as(
            "SELECT COUNT(*) FROM recovery_codes WHERE user_id = $1 AND used_at IS NULL"
        )
        .bind(user.0.to_string())
        .fetch_one(pool)
        .await)?;
        Ok(n)
    }

    /// Removes the account's second factor and recovery codes and ends its sessions, so it
    /// sets one up again at its next sign-in. False if there is no such account.
    pub async fn reset_second_factor(&self, user: UserId) -> Result<bool, StorageError> {
        let id = user.0.to_string();
        let done = with_pool!(self, |pool| {
            let mut tx = pool.begin().await?;
            let changed = sqlx::query("UPDATE users SET totp_secret = NULL, totp_pending = NULL, totp_last_step = NULL WHERE id = $1")
                .bind(&id)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            sqlx::query("DELETE FROM recovery_codes WHERE user_id = $1")
                .bind(&id)
                .execute(&mut *tx)
                .await?;
            sqlx::query("DELETE FROM sessions WHERE user_id = $1")
                .bind(&id)
                .execute(&mut *tx)
                .await?;
            tx.commit().await.map(|()| changed == 1)
        })?;
        Ok(done)
    }
}
