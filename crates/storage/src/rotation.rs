//! Master-key rotation (SECURITY E5): every value wrapped or sealed to the master key, read a
//! page at a time and swapped for its re-wrapped bytes only if it is still what was read (so
//! a rotation is safe while the server runs, and resumable after a crash: a page is one
//! statement per row, and a row already re-wrapped is simply skipped the next time).

use crate::audit::begin_write;
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

    /// The value of `kind` in row `id`, if it has one.
    pub async fn wrapped_value(&self, kind: Wrapped, id: &str) -> Result<Option<Vec<u8>>, StorageError> {
        let (table, id_column, value) = kind.columns();
        let sql = format!("SELECT {value} FROM {table} WHERE {id_column} = $1 AND {value} IS NOT NULL");
        Ok(with_pool!(self, |pool| sqlx::query_scalar(&sql)
            .bind(id)
            .fetch_optional(pool)
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

/// A column sealed with a message's key (envelope upgrade, `sealpost keys upgrade`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SealedColumn {
    /// `messages.subject`, bound to the message.
    Subject,
    /// `messages.body`, bound to the message.
    Body,
    /// `messages.body_html`, bound to the message.
    BodyHtml,
    /// `attachments.name` (the message's and its replies' files), bound to the attachment.
    AttachmentName,
    /// `replies.body`, bound to the reply.
    ReplyBody,
    /// `outbox.sealed_link` of a notification not yet sent, bound to its recipient.
    LinkToken,
}

impl SealedColumn {
    /// Every column, in the order an upgrade takes them.
    pub const ALL: [SealedColumn; 6] = [
        SealedColumn::Subject,
        SealedColumn::Body,
        SealedColumn::BodyHtml,
        SealedColumn::AttachmentName,
        SealedColumn::ReplyBody,
        SealedColumn::LinkToken,
    ];

    /// The rows of message `$1` that hold a value: (row id, the id it is bound to, value).
    fn select(self) -> &'static str {
        match self {
            SealedColumn::Subject => "SELECT id, id, subject FROM messages WHERE id = $1",
            SealedColumn::Body => "SELECT id, id, body FROM messages WHERE id = $1",
            SealedColumn::BodyHtml => "SELECT id, id, body_html FROM messages WHERE id = $1 AND body_html IS NOT NULL",
            SealedColumn::AttachmentName => "SELECT id, id, name FROM attachments WHERE message_id = $1 ORDER BY id",
            SealedColumn::ReplyBody => "SELECT id, id, body FROM replies WHERE message_id = $1 ORDER BY id",
            SealedColumn::LinkToken => {
                "SELECT o.id, o.recipient_id, o.sealed_link FROM outbox o JOIN recipients r ON r.id = o.recipient_id \
                 WHERE r.message_id = $1 AND o.sealed_link IS NOT NULL ORDER BY o.id"
            }
        }
    }

    /// Replaces row `$1`'s value `$2` with `$3`, only if it still holds `$2`.
    fn swap(self) -> &'static str {
        match self {
            SealedColumn::Subject => "UPDATE messages SET subject = $3 WHERE id = $1 AND subject = $2",
            SealedColumn::Body => "UPDATE messages SET body = $3 WHERE id = $1 AND body = $2",
            SealedColumn::BodyHtml => "UPDATE messages SET body_html = $3 WHERE id = $1 AND body_html = $2",
            SealedColumn::AttachmentName => "UPDATE attachments SET name = $3 WHERE id = $1 AND name = $2",
            SealedColumn::ReplyBody => "UPDATE replies SET body = $3 WHERE id = $1 AND body = $2",
            SealedColumn::LinkToken => "UPDATE outbox SET sealed_link = $3 WHERE id = $1 AND sealed_link = $2",
        }
    }
}

/// One value sealed with a message's key, as read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SealedValue {
    /// Where it is.
    pub column: SealedColumn,
    /// Its row's id.
    pub row: String,
    /// The id its binding names (the row's own, but a notification's recipient).
    pub bound_to: String,
    /// The sealed bytes.
    pub sealed: Vec<u8>,
}

impl Store {
    /// Every value sealed with message `message`'s key, in the database (its files' bytes are
    /// in the blob store).
    pub async fn sealed_values(&self, message: &str) -> Result<Vec<SealedValue>, StorageError> {
        let mut values = vec![];
        for column in SealedColumn::ALL {
            let rows: Vec<(String, String, Vec<u8>)> =
                with_pool!(self, |pool| sqlx::query_as(column.select()).bind(message).fetch_all(pool).await)?;
            values.extend(rows.into_iter().map(|(row, bound_to, sealed)| SealedValue {
                column,
                row,
                bound_to,
                sealed,
            }));
        }
        Ok(values)
    }

    /// In one transaction, replaces message `message`'s wrapped key `old_key` with `new_key`
    /// and each value with its re-sealed bytes, each only if it still holds what was read.
    /// False, with nothing written, if anything changed meanwhile (shredded, rotated, or a
    /// notification sent): read again and retry.
    pub async fn reseal(
        &self,
        message: &str,
        (old_key, new_key): (&[u8], &[u8]),
        values: &[(SealedValue, Vec<u8>)],
    ) -> Result<bool, StorageError> {
        with_pool!(self, |pool| {
            let mut tx = begin_write!(self, pool).await?;
            let key = sqlx::query("UPDATE message_keys SET wrapped = $3 WHERE message_id = $1 AND wrapped = $2")
                .bind(message)
                .bind(old_key)
                .bind(new_key)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            if key != 1 {
                return Ok::<_, StorageError>(false);
            }
            for (old, new) in values {
                let done = sqlx::query(old.column.swap())
                    .bind(&old.row)
                    .bind(&old.sealed)
                    .bind(new)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                if done != 1 {
                    return Ok(false);
                }
            }
            tx.commit().await?;
            Ok(true)
        })
    }
}
