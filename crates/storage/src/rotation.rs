//! Master-key rotation (SECURITY E5): every value wrapped or sealed to the master key, read a
//! page at a time and swapped for its re-wrapped bytes only if it is still what was read (so
//! a rotation is safe while the server runs, and resumable after a crash: a page is one
//! statement per row, and a row already re-wrapped is simply skipped the next time).

use crate::{StorageError, Store, with_pool};

/// Where master-wrapped values live.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wrapped {
    /// A message's key (`message_keys.wrapped`), bound to the message id.
    MessageKey,
    /// A draft's key (`drafts.wrapped`), bound to the draft id.
    DraftKey,
    /// A confirmed TOTP secret (`users.totp_secret`), bound to the user id.
    TotpSecret,
    /// A TOTP secret being enrolled (`users.totp_pending`), bound to the user id.
    TotpPending,
}

impl Wrapped {
    /// Every kind, in the order a rotation takes them.
    pub const ALL: [Wrapped; 4] = [Wrapped::MessageKey, Wrapped::DraftKey, Wrapped::TotpSecret, Wrapped::TotpPending];

    /// (table, id column, value column).
    fn columns(self) -> (&'static str, &'static str, &'static str) {
        match self {
            Wrapped::MessageKey => ("message_keys", "message_id", "wrapped"),
            Wrapped::DraftKey => ("drafts", "id", "wrapped"),
            Wrapped::TotpSecret => ("users", "id", "totp_secret"),
            Wrapped::TotpPending => ("users", "id", "totp_pending"),
        }
    }
}

impl Store {
    /// Up to `limit` values of `kind` with ids after `after` (`""` to start), in id order.
    pub async fn wrapped_page(&self, kind: Wrapped, after: &str, limit: i64) -> Result<Vec<(String, Vec<u8>)>, StorageError> {
        let (table, id, value) = kind.columns();
        let sql = format!("SELECT {id}, {value} FROM {table} WHERE {value} IS NOT NULL AND {id} > $1 ORDER BY {id} LIMIT $2");
        Ok(with_pool!(self, |pool| sqlx::query_as(&sql)
            .bind(after)
            .bind(limit)
            .fetch_all(pool)
            .await)?)
    }

    /// Replaces `old` with `new` for row `id` of `kind`, only if it still holds `old`: false if
    /// it changed meanwhile (shredded, re-wrapped, or a new TOTP secret).
    pub async fn swap_wrapped(&self, kind: Wrapped, id: &str, old: &[u8], new: &[u8]) -> Result<bool, StorageError> {
        let (table, id_column, value) = kind.columns();
        let sql = format!("UPDATE {table} SET {value} = $3 WHERE {id_column} = $1 AND {value} = $2");
        let changed = with_pool!(self, |pool| sqlx::query(&sql)
            .bind(id)
            .bind(old)
            .bind(new)
            .execute(pool)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(changed == 1)
    }
}
