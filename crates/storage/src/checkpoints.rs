//! Signed checkpoints of the audit chain (SECURITY F6), append-only like the log itself.

use sealpost_audit::chain::Head;
use sealpost_audit::checkpoint::{Checkpoint, Restore, SignedCheckpoint, SignedRestore};

use crate::{StorageError, Store, with_pool};

type Row = (i64, Vec<u8>, i64, Vec<u8>, Vec<u8>);

fn checkpoint_of((seq, hash, at_ms, key, signature): Row) -> Result<SignedCheckpoint, StorageError> {
    let bad = || StorageError::Corrupt("audit_checkpoints");
    Ok(SignedCheckpoint {
        checkpoint: Checkpoint {
            head: Head {
                seq,
                hash: hash.try_into().map_err(|_| bad())?,
            },
            at_ms,
        },
        key: key.try_into().map_err(|_| bad())?,
        signature: signature.try_into().map_err(|_| bad())?,
    })
}

impl Store {
    /// Stores a signed checkpoint; `false` if one at that position exists already.
    pub async fn insert_audit_checkpoint(&self, c: &SignedCheckpoint) -> Result<bool, StorageError> {
        let head = c.checkpoint.head;
        let done = with_pool!(self, |pool| sqlx::query(
            "INSERT INTO audit_checkpoints (seq, hash, at, key, signature) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (seq) DO NOTHING"
        )
        .bind(head.seq)
        .bind(head.hash.as_slice())
        .bind(c.checkpoint.at_ms)
        .bind(c.key.as_slice())
        .bind(c.signature.as_slice())
        .execute(pool)
        .await
        .map(|done| done.rows_affected()))?;
        Ok(done == 1)
    }

    /// Every stored checkpoint, oldest first (one per N events or minutes: a few thousand
    /// for millions of events).
    pub async fn audit_checkpoints(&self) -> Result<Vec<SignedCheckpoint>, StorageError> {
        let rows: Vec<Row> = with_pool!(self, |pool| sqlx::query_as(
            "SELECT seq, hash, at, key, signature FROM audit_checkpoints ORDER BY seq"
        )
        .fetch_all(pool)
        .await)?;
        rows.into_iter().map(checkpoint_of).collect()
    }

    /// The newest checkpoint claiming to be signed by `key`, if any (the caller checks the
    /// signature: a forged row with a bigger position must not hide the real ones).
    pub async fn latest_audit_checkpoint_by(&self, key: &[u8; 32]) -> Result<Option<SignedCheckpoint>, StorageError> {
        let row: Option<Row> = with_pool!(self, |pool| sqlx::query_as(
            "SELECT seq, hash, at, key, signature FROM audit_checkpoints WHERE key = $1 ORDER BY seq DESC LIMIT 1"
        )
        .bind(key.as_slice())
        .fetch_optional(pool)
        .await)?;
        row.map(checkpoint_of).transpose()
    }

    /// Stores a signed restore record (`sealpost restore`).
    pub async fn insert_audit_restore(&self, r: &SignedRestore) -> Result<(), StorageError> {
        let Restore {
            restored,
            last_signed,
            at_ms,
        } = r.restore;
        with_pool!(self, |pool| sqlx::query(
            "INSERT INTO audit_restores (at, restored_seq, restored_hash, last_signed_seq, last_signed_hash, key, signature) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)"
        )
        .bind(at_ms)
        .bind(restored.seq)
        .bind(restored.hash.as_slice())
        .bind(last_signed.seq)
        .bind(last_signed.hash.as_slice())
        .bind(r.key.as_slice())
        .bind(r.signature.as_slice())
        .execute(pool)
        .await
        .map(|_| ()))?;
        Ok(())
    }

    /// Every restore record, oldest first (the caller checks each signature).
    pub async fn audit_restores(&self) -> Result<Vec<SignedRestore>, StorageError> {
        type RestoreRow = (i64, i64, Vec<u8>, i64, Vec<u8>, Vec<u8>, Vec<u8>);
        let rows: Vec<RestoreRow> = with_pool!(self, |pool| sqlx::query_as(
            "SELECT at, restored_seq, restored_hash, last_signed_seq, last_signed_hash, key, signature \
             FROM audit_restores ORDER BY at"
        )
        .fetch_all(pool)
        .await)?;
        let bad = || StorageError::Corrupt("audit_restores");
        rows.into_iter()
            .map(|(at_ms, seq, hash, last_seq, last_hash, key, signature)| {
                Ok(SignedRestore {
                    restore: Restore {
                        restored: Head {
                            seq,
                            hash: hash.try_into().map_err(|_| bad())?,
                        },
                        last_signed: Head {
                            seq: last_seq,
                            hash: last_hash.try_into().map_err(|_| bad())?,
                        },
                        at_ms,
                    },
                    key: key.try_into().map_err(|_| bad())?,
                    signature: signature.try_into().map_err(|_| bad())?,
                })
            })
            .collect()
    }
}
