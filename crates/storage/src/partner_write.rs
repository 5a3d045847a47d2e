//! Partners who write first (`/write`): the visit's session (the address to prove, the staff
//! address asked for, and the live code, stored only as a hash), and the hourly limits per
//! address and per network address. The message itself is stored by
//! [`crate::Store::create_message`], its sender the [`OUTSIDE_SENDER`] account.

use sealpost_crypto::TokenHash;
use sealpost_domain::{EmailAddress, UserId};
use uuid::Uuid;

use crate::audit::insert_under_limit;
use crate::decode;
use crate::{PortalCode, StorageError, Store, with_pool};

/// The account every message from outside the council is stored as sent by: disabled, with
/// no password, and never listed; the message's own `outside_sender` names who wrote it.
pub const OUTSIDE_SENDER: UserId = UserId(Uuid::from_u128(0x0000_0000_0000_4000_8000_0000_0000_00fe));

/// A `/write` visit as stored.
#[derive(Debug, Clone)]
pub struct WriteSessionRecord {
    /// The address being proved.
    pub address: EmailAddress,
    /// The council address asked for, as given.
    pub write_to: String,
    /// When it was last used (ms).
    pub last_seen_at_ms: i64,
    /// When the address was proved.
    pub verified_at_ms: Option<i64>,
}

impl Store {
    /// Starts a `/write` visit.
    pub async fn create_write_session(
        &self,
        hash: &TokenHash,
        address: &EmailAddress,
        write_to: &str,
        now_ms: i64,
    ) -> Result<(), StorageError> {
        with_pool!(self, |pool| sqlx::query(
            "INSERT INTO write_sessions (token_hash, address, write_to, created_at, last_seen_at) VALUES ($1, $2, $3, $4, $4)"
        )
        .bind(hash.as_bytes().as_slice())
        .bind(address.as_str())
        .bind(write_to)
        .bind(now_ms)
        .execute(pool)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// The visit `hash` names, if any.
    pub async fn write_session(&self, hash: &TokenHash) -> Result<Option<WriteSessionRecord>, StorageError> {
        let row: Option<(String, String, i64, Option<i64>)> = with_pool!(self, |pool| sqlx::query_as(
            "SELECT address, write_to, last_seen_at, verified_at FROM write_sessions WHERE token_hash = $1"
        )
        .bind(hash.as_bytes().as_slice())
        .fetch_optional(pool)
        .await)?;
        row.map(|(address, write_to, seen, verified)| {
            Ok(WriteSessionRecord {
                address: decode::address(&address, "write_sessions.address")?,
                write_to,
                last_seen_at_ms: seen,
                verified_at_ms: verified,
            })
        })
        .transpose()
    }

    /// Puts a fresh code on the visit, replacing any earlier one.
    pub async fn put_write_code(&self, hash: &TokenHash, code_hash: &[u8; 32], expires_at_ms: i64) -> Result<(), StorageError> {
        with_pool!(self, |pool| sqlx::query(
            "UPDATE write_sessions SET code_hash = $1, code_expires_at = $2, code_tries = 0 WHERE token_hash = $3"
        )
        .bind(code_hash.as_slice())
        .bind(expires_at_ms)
        .bind(hash.as_bytes().as_slice())
        .execute(pool)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// Counts one try of the visit's live code and returns it (with the tries so far), in one
    /// step, so parallel guesses each take a try.
    pub async fn take_write_code_try(&self, hash: &TokenHash) -> Result<Option<PortalCode>, StorageError> {
        let row: Option<(Option<Vec<u8>>, Option<i64>, i64)> = with_pool!(self, |pool| sqlx::query_as(
            "UPDATE write_sessions SET code_tries = code_tries + 1 WHERE token_hash = $1 AND code_hash IS NOT NULL \
             RETURNING code_hash, code_expires_at, code_tries"
        )
        .bind(hash.as_bytes().as_slice())
        .fetch_optional(pool)
        .await)?;
        match row {
            Some((Some(code), Some(expires), tries)) => Ok(Some(PortalCode {
                code_hash: code.try_into().map_err(|_| StorageError::Corrupt("write_sessions.code_hash"))?,
                expires_at_ms: expires,
                tries,
            })),
            _ => Ok(None),
        }
    }

    /// Removes the visit's code; `verified_at_ms` also marks the address proved.
    pub async fn settle_write_code(&self, hash: &TokenHash, verified_at_ms: Option<i64>) -> Result<(), StorageError> {
        with_pool!(self, |pool| sqlx::query(
            "UPDATE write_sessions SET code_hash = NULL, code_expires_at = NULL, verified_at = COALESCE($1, verified_at), \
             last_seen_at = COALESCE($1, last_seen_at) WHERE token_hash = $2"
        )
        .bind(verified_at_ms)
        .bind(hash.as_bytes().as_slice())
        .execute(pool)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// Marks the visit used now.
    pub async fn touch_write_session(&self, hash: &TokenHash, now_ms: i64) -> Result<(), StorageError> {
        with_pool!(self, |pool| sqlx::query(
            "UPDATE write_sessions SET last_seen_at = $1 WHERE token_hash = $2"
        )
        .bind(now_ms)
        .bind(hash.as_bytes().as_slice())
        .execute(pool)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// Ends the visit.
    pub async fn end_write_session(&self, hash: &TokenHash) -> Result<(), StorageError> {
        with_pool!(self, |pool| sqlx::query("DELETE FROM write_sessions WHERE token_hash = $1")
            .bind(hash.as_bytes().as_slice())
            .execute(pool)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// Records one event in `bucket` *only while* fewer than `limit` are recorded at or after
    /// `since_ms`, in one atomic step (SECURITY A10): false when the limit is reached.
    pub async fn take_write_attempt(&self, bucket: &str, since_ms: i64, limit: i64, now_ms: i64) -> Result<bool, StorageError> {
        let lock = format!("write_attempts:{bucket}");
        let taken = insert_under_limit!(
            self,
            &lock,
            "INSERT INTO write_attempts (bucket, at) SELECT $1, $2 WHERE (SELECT COUNT(*) FROM write_attempts WHERE bucket = $1 AND at >= $3) < $4",
            [bucket, now_ms, since_ms, limit]
        )?;
        Ok(taken == 1)
    }

    /// Forgets visits unused since `before_ms` and limit entries older than it; returns how
    /// many rows went.
    pub async fn forget_old_write_visits(&self, before_ms: i64) -> Result<u64, StorageError> {
        let visits = with_pool!(self, |pool| sqlx::query("DELETE FROM write_sessions WHERE last_seen_at < $1")
            .bind(before_ms)
            .execute(pool)
            .await
            .map(|r| r.rows_affected()))?;
        let attempts = with_pool!(self, |pool| sqlx::query("DELETE FROM write_attempts WHERE at < $1")
            .bind(before_ms)
            .execute(pool)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(visits + attempts)
    }
}
