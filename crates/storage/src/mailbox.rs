//! Reading and revoking messages: lists, one message with its access check, recipients,
//! attachments, read receipts and revocation. Access is one rule, in SQL: the sender, or an
//! addressee not revoked (SECURITY C1).

use sealpost_crypto::Sealed;
use sealpost_domain::{AttachmentId, EmailAddress, MessageId, RecipientId, ReplyId, UserId};

use sealpost_audit::AuditEvent;

use crate::audit::{begin_write, chain_audit};
use crate::decode::{self, Ciphertext};
use crate::messages::{
    MESSAGE_BODIES, MESSAGE_MINE, MESSAGE_NOT_MINE, MESSAGE_SELECT, MessageBodyRow, MessageRow, THREAD_FOR_ADDRESS, ThreadRow, parse_id,
};
use crate::{MessageHeader, StorageError, Store, StoredAttachment, StoredMessage, StoredRecipient, ThreadEntry, sqlite_direct, with_pool};

/// How a withdrawn recipient gets access back.
pub enum Regrant {
    /// A colleague: the message is back in their inbox.
    Colleague,
    /// A partner: a fresh link (its token's hash, and the token sealed for the email).
    Partner {
        /// The new token's hash.
        link: sealpost_crypto::TokenHash,
        /// The new token, sealed with the message key, for the notification.
        sealed_link: Sealed,
    },
}

/// The recipients of message `$1`, in the order they were given.
const RECIPIENTS_OF: &str = "SELECT message_id, id, address, addressed, user_id, status, status_detail, read_at FROM recipients WHERE message_id = $1 ORDER BY position";

/// The message recipient row `$1` may read: theirs, unless revoked or still held.
fn message_for_recipient_sql() -> String {
    format!(
        "{MESSAGE_SELECT}, {MESSAGE_MINE}, {MESSAGE_BODIES} FROM recipients r JOIN messages m ON m.id = r.message_id JOIN users u ON u.id = m.sender_id \
         LEFT JOIN message_keys k ON k.message_id = m.id WHERE r.id = $1 AND r.revoked_at IS NULL AND m.held_until IS NULL"
    )
}

/// A partner's open, read on one connection ([`Store::partner_open`]).
#[derive(Debug)]
pub struct PartnerOpen {
    /// The message.
    pub message: StoredMessage,
    /// Its recipients, in the order they were given.
    pub recipients: Vec<StoredRecipient>,
    /// The parts of its conversation sent to the partner's address.
    pub thread: Vec<ThreadEntry>,
}

/// Leaves out, after a `WHERE` about message `m`, what user `$1` archived or deleted.
const NOT_FILED: &str = "AND NOT EXISTS (SELECT 1 FROM mail_folders f WHERE f.user_id = $1 AND f.message_id = m.id)";
/// Leaves out what user `$1` deleted.
const NOT_DELETED: &str =
    "AND NOT EXISTS (SELECT 1 FROM mail_folders f WHERE f.user_id = $1 AND f.message_id = m.id AND f.folder IN ('deleted', 'purged'))";

impl Store {
    /// Files message `id` for `user` in `folder` (`None`: back in its natural box).
    pub async fn file_message(&self, user: UserId, id: MessageId, folder: Option<&str>, now_ms: i64) -> Result<(), StorageError> {
        let (user, id) = (user.to_string(), id.to_string());
        with_pool!(self, |pool| match folder {
            None => sqlx::query("DELETE FROM mail_folders WHERE user_id = $1 AND message_id = $2")
                .bind(&user)
                .bind(&id)
                .execute(pool)
                .await
                .map(|r| r.rows_affected()),
            Some(f) => sqlx::query(
                "INSERT INTO mail_folders (user_id, message_id, folder, moved_at) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (user_id, message_id) DO UPDATE SET folder = excluded.folder, moved_at = excluded.moved_at",
            )
            .bind(&user)
            .bind(&id)
            .bind(f)
            .bind(now_ms)
            .execute(pool)
            .await
            .map(|r| r.rows_affected()),
        })?;
        Ok(())
    }

    /// Messages `user` may still read that they filed in `folder` at or after `since_ms`,
    /// last moved first.
    pub async fn filed(&self, user: UserId, folder: &str, since_ms: i64, limit: i64) -> Result<Vec<MessageHeader>, StorageError> {
        let sql = format!(
            "{MESSAGE_SELECT}, {MESSAGE_MINE} FROM mail_folders f JOIN messages m ON m.id = f.message_id JOIN users u ON u.id = m.sender_id \
             LEFT JOIN message_keys k ON k.message_id = m.id LEFT JOIN recipients r ON r.message_id = m.id AND r.user_id = $1 AND r.revoked_at IS NULL AND m.held_until IS NULL \
             WHERE f.user_id = $1 AND f.folder = $3 AND f.moved_at >= $4 AND (m.sender_id = $1 OR r.id IS NOT NULL) \
             ORDER BY f.moved_at DESC, m.id LIMIT $2"
        );
        let rows: Vec<MessageRow> = with_pool!(self, |pool| sqlx::query_as(&sql)
            .bind(user.to_string())
            .bind(limit)
            .bind(folder)
            .bind(since_ms)
            .fetch_all(pool)
            .await)?;
        rows.into_iter().map(MessageHeader::try_from).collect()
    }

    /// Empties `user`'s Deleted box: what is in it is listed nowhere for them from now on.
    pub async fn empty_deleted(&self, user: UserId, now_ms: i64) -> Result<u64, StorageError> {
        Ok(with_pool!(self, |pool| sqlx::query(
            "UPDATE mail_folders SET folder = 'purged', moved_at = $2 WHERE user_id = $1 AND folder = 'deleted'"
        )
        .bind(user.to_string())
        .bind(now_ms)
        .execute(pool)
        .await
        .map(|r| r.rows_affected()))?)
    }

    /// Messages addressed to `user` and not revoked for them, newest first.
    pub async fn inbox(&self, user: UserId, limit: i64) -> Result<Vec<MessageHeader>, StorageError> {
        let sql = format!(
            "{MESSAGE_SELECT}, {MESSAGE_MINE} FROM recipients r JOIN messages m ON m.id = r.message_id JOIN users u ON u.id = m.sender_id \
             LEFT JOIN message_keys k ON k.message_id = m.id WHERE r.user_id = $1 AND r.revoked_at IS NULL AND m.held_until IS NULL {NOT_FILED} ORDER BY m.created_at DESC LIMIT $2"
        );
        self.user_headers(&sql, user, limit).await
    }

    /// Messages `user` sent, newest first.
    pub async fn sent(&self, user: UserId, limit: i64) -> Result<Vec<MessageHeader>, StorageError> {
        let sql = format!(
            "{MESSAGE_SELECT}, {MESSAGE_NOT_MINE} FROM messages m JOIN users u ON u.id = m.sender_id LEFT JOIN message_keys k ON k.message_id = m.id \
             WHERE m.sender_id = $1 {NOT_DELETED} ORDER BY m.created_at DESC, m.id LIMIT $2"
        );
        self.user_headers(&sql, user, limit).await
    }

    /// The messages `user` sent that have secure replies, as [`Store::reply_activity`] lists
    /// them for the same `limit`: the inbox shows these threads too, read here in one query.
    pub async fn answered_threads(&self, user: UserId, limit: i64) -> Result<Vec<MessageHeader>, StorageError> {
        let sql = format!(
            "{MESSAGE_SELECT}, {MESSAGE_NOT_MINE} FROM messages m JOIN users u ON u.id = m.sender_id LEFT JOIN message_keys k ON k.message_id = m.id \
             WHERE m.id IN (SELECT p.message_id FROM replies p JOIN messages s ON s.id = p.message_id WHERE s.sender_id = $1 \
             GROUP BY p.message_id ORDER BY MAX(p.created_at) DESC, p.message_id LIMIT $2) {NOT_FILED}"
        );
        self.user_headers(&sql, user, limit).await
    }

    /// The list rows `sql` selects with `$1` = `user` and `$2` = `limit`.
    async fn user_headers(&self, sql: &str, user: UserId, limit: i64) -> Result<Vec<MessageHeader>, StorageError> {
        let user = user.to_string();
        let rows: Vec<MessageRow> = match self.hot_read(|c| sqlite_direct::all(c, sql, rusqlite::params![user, limit])) {
            Some(rows) => rows?,
            None => with_pool!(self, |pool| sqlx::query_as(sql).bind(&user).bind(limit).fetch_all(pool).await)?,
        };
        rows.into_iter().map(MessageHeader::try_from).collect()
    }

    /// The message an external recipient's (verified) portal session may read: theirs, unless
    /// revoked.
    pub async fn message_for_recipient(&self, recipient: RecipientId) -> Result<Option<StoredMessage>, StorageError> {
        let sql = message_for_recipient_sql();
        let row: Option<MessageBodyRow> = with_pool!(self, |pool| sqlx::query_as(&sql)
            .bind(recipient.to_string())
            .fetch_optional(pool)
            .await)?;
        row.map(StoredMessage::try_from).transpose()
    }

    /// What a partner's open reads: [`Store::message_for_recipient`], its recipients
    /// ([`Store::recipients_of`]) and the conversation as far as it was sent to `address`
    /// ([`Store::thread_for_address`]), on one connection. sqlx hands a SQLite connection's
    /// thread a ping each time the connection goes back to the pool, so three reads on one
    /// connection are four round trips to that thread where three reads on their own are six.
    pub async fn partner_open(
        &self,
        recipient: RecipientId,
        address: &EmailAddress,
        now_ms: i64,
    ) -> Result<Option<PartnerOpen>, StorageError> {
        let sql = message_for_recipient_sql();
        let (recipient, address) = (recipient.to_string(), address.as_str());
        let hot = self.hot_read(|c| {
            let Some(message) = sqlite_direct::first::<MessageBodyRow>(c, &sql, [&recipient])? else {
                return Ok(None);
            };
            let message = StoredMessage::try_from(message)?;
            let recipients: Vec<RecipientRow> = sqlite_direct::all(c, RECIPIENTS_OF, [message.id.to_string()])?;
            let thread_params = rusqlite::params![message.thread.to_string(), address, now_ms];
            let thread: Vec<ThreadRow> = sqlite_direct::all(c, THREAD_FOR_ADDRESS, thread_params)?;
            Ok(Some((message, recipients, thread)))
        });
        let rows = match hot {
            Some(rows) => rows?,
            None => with_pool!(self, |pool| {
                let mut conn = pool.acquire().await?;
                let message: Option<MessageBodyRow> = sqlx::query_as(&sql).bind(&recipient).fetch_optional(&mut *conn).await?;
                let Some(message) = message else {
                    return Ok::<_, StorageError>(None);
                };
                let message = StoredMessage::try_from(message)?;
                let recipients: Vec<RecipientRow> = sqlx::query_as(RECIPIENTS_OF)
                    .bind(message.id.to_string())
                    .fetch_all(&mut *conn)
                    .await?;
                let thread: Vec<ThreadRow> = sqlx::query_as(THREAD_FOR_ADDRESS)
                    .bind(message.thread.to_string())
                    .bind(address)
                    .bind(now_ms)
                    .fetch_all(&mut *conn)
                    .await?;
                Ok::<_, StorageError>(Some((message, recipients, thread)))
            })?,
        };
        let Some((message, recipients, thread)) = rows else {
            return Ok(None);
        };
        Ok(Some(PartnerOpen {
            message,
            recipients: recipients
                .into_iter()
                .map(|r| recipient_from_row(r).map(|(_, r)| r))
                .collect::<Result<_, _>>()?,
            thread: thread.into_iter().map(ThreadEntry::try_from).collect::<Result<_, _>>()?,
        }))
    }

    /// The live messages sent to an external `address` through a link, newest first: what a
    /// verified portal session lists, in one query (the same rows as
    /// [`Store::live_links_for_address`]).
    pub async fn messages_to_address(&self, address: &EmailAddress, now_ms: i64, limit: i64) -> Result<Vec<MessageHeader>, StorageError> {
        let sql = format!(
            "{MESSAGE_SELECT}, {MESSAGE_MINE} FROM recipients r JOIN messages m ON m.id = r.message_id JOIN users u ON u.id = m.sender_id \
             LEFT JOIN message_keys k ON k.message_id = m.id WHERE r.address = $1 AND r.link_hash IS NOT NULL AND r.revoked_at IS NULL AND m.held_until IS NULL \
             AND m.expires_at > $2 ORDER BY m.created_at DESC, m.id LIMIT $3"
        );
        let rows: Vec<MessageRow> = with_pool!(self, |pool| sqlx::query_as(&sql)
            .bind(address.as_str())
            .bind(now_ms)
            .bind(limit)
            .fetch_all(pool)
            .await)?;
        rows.into_iter().map(MessageHeader::try_from).collect()
    }

    /// The message if `user` may read it: its sender, or an internal recipient not revoked.
    /// Anyone else gets `None`, exactly as for a message that does not exist (SECURITY C1).
    pub async fn message_for(&self, user: UserId, id: MessageId) -> Result<Option<StoredMessage>, StorageError> {
        let sql = format!(
            "{MESSAGE_SELECT}, {MESSAGE_MINE}, {MESSAGE_BODIES} FROM messages m JOIN users u ON u.id = m.sender_id LEFT JOIN message_keys k ON k.message_id = m.id \
             LEFT JOIN recipients r ON r.message_id = m.id AND r.user_id = $1 AND r.revoked_at IS NULL AND m.held_until IS NULL \
             WHERE m.id = $2 AND (m.sender_id = $1 OR r.id IS NOT NULL) LIMIT 1"
        );
        let row: Option<MessageBodyRow> = with_pool!(self, |pool| sqlx::query_as(&sql)
            .bind(user.to_string())
            .bind(id.to_string())
            .fetch_optional(pool)
            .await)?;
        row.map(StoredMessage::try_from).transpose()
    }

    /// The recipients of a message, in the order they were given.
    pub async fn recipients_of(&self, id: MessageId) -> Result<Vec<StoredRecipient>, StorageError> {
        let rows: Vec<RecipientRow> = with_pool!(self, |pool| {
            sqlx::query_as(RECIPIENTS_OF).bind(id.to_string()).fetch_all(pool).await
        })?;
        rows.into_iter().map(|r| recipient_from_row(r).map(|(_, r)| r)).collect()
    }

    /// The recipients of each message [`Store::sent`] lists for the same `user` and `limit`, in
    /// one query: each with its message, in the order they were given.
    pub async fn recipients_of_sent(&self, user: UserId, limit: i64) -> Result<Vec<(MessageId, StoredRecipient)>, StorageError> {
        let rows: Vec<RecipientRow> = with_pool!(self, |pool| {
            sqlx::query_as(
                "SELECT message_id, id, address, addressed, user_id, status, status_detail, read_at FROM recipients WHERE message_id IN \
                 (SELECT id FROM messages WHERE sender_id = $1 ORDER BY created_at DESC, id LIMIT $2) ORDER BY message_id, position",
            )
            .bind(user.to_string())
            .bind(limit)
            .fetch_all(pool)
            .await
        })?;
        rows.into_iter().map(recipient_from_row).collect()
    }

    /// The attachments of a message, in order, then those of its replies.
    pub async fn attachments_of(&self, id: MessageId) -> Result<Vec<StoredAttachment>, StorageError> {
        let rows: Vec<AttachmentRow> = with_pool!(self, |pool| {
            sqlx::query_as("SELECT id, name, size, blob_key, reply_id FROM attachments WHERE message_id = $1 ORDER BY reply_id IS NOT NULL, position, id")
                .bind(id.to_string())
                .fetch_all(pool)
                .await
        })?;
        rows.into_iter()
            .map(|a| {
                Ok(StoredAttachment {
                    id: AttachmentId(parse_id(&a.id, "attachments.id")?),
                    name: Ciphertext::from_stored(a.name),
                    size: u64::try_from(a.size).map_err(|_| StorageError::Corrupt("attachments.size"))?,
                    blob_key: a.blob_key,
                    reply: a.reply_id.map(|r| parse_id(&r, "attachments.reply_id").map(ReplyId)).transpose()?,
                })
            })
            .collect()
    }

    /// Records that a recipient opened the message (first time only).
    pub async fn mark_read(&self, recipient: RecipientId, now_ms: i64) -> Result<(), StorageError> {
        with_pool!(self, |pool| sqlx::query(
            "UPDATE recipients SET status = 'read', read_at = $1 WHERE id = $2 AND status IN ('delivered', 'queued', 'sent')"
        )
        .bind(now_ms)
        .bind(recipient.to_string())
        .execute(pool)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// Withdraws access for one address, or every recipient, cancels unsent notifications and
    /// records `audit`, in one transaction.
    /// Returns how many recipients were revoked now.
    pub async fn revoke(
        &self,
        id: MessageId,
        address: Option<&EmailAddress>,
        now_ms: i64,
        audit: &AuditEvent,
    ) -> Result<u64, StorageError> {
        let id = id.to_string();
        let (filter, value) = match address {
            Some(a) => (" AND address = $3", a.as_str().to_owned()),
            None => (" AND $3 = $3", String::new()),
        };
        let revoke =
            format!("UPDATE recipients SET status = 'revoked', revoked_at = $1 WHERE message_id = $2 AND revoked_at IS NULL{filter}");
        with_pool!(self, |pool| {
            let mut tx = begin_write!(self, pool).await?;
            let n = sqlx::query(&revoke)
                .bind(now_ms)
                .bind(&id)
                .bind(&value)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            sqlx::query(
                "UPDATE outbox SET state = 'cancelled', sealed_link = NULL WHERE state = 'pending' AND recipient_id IN \
                 (SELECT id FROM recipients WHERE message_id = $1 AND revoked_at IS NOT NULL)",
            )
            .bind(&id)
            .execute(&mut *tx)
            .await?;
            chain_audit!(self, tx, [audit])?;
            tx.commit().await?;
            Ok::<u64, StorageError>(n)
        })
    }

    /// Gives a withdrawn recipient access again, with its audit event, in one transaction. A
    /// partner gets a fresh link and a new notification; the old token stays dead and their
    /// old portal sessions end. Returns false (changing nothing) unless the recipient belongs
    /// to `message` and is withdrawn.
    pub async fn regrant(
        &self,
        message: MessageId,
        recipient: RecipientId,
        grant: &Regrant,
        now_ms: i64,
        audit: &AuditEvent,
    ) -> Result<bool, StorageError> {
        let (id, rid) = (message.to_string(), recipient.to_string());
        with_pool!(self, |pool| {
            let mut tx = begin_write!(self, pool).await?;
            let changed = match grant {
                Regrant::Colleague => sqlx::query(
                    "UPDATE recipients SET revoked_at = NULL, status_detail = NULL, \
                     status = CASE WHEN read_at IS NULL THEN 'delivered' ELSE 'read' END \
                     WHERE id = $1 AND message_id = $2 AND revoked_at IS NOT NULL AND user_id IS NOT NULL",
                )
                .bind(&rid)
                .bind(&id)
                .execute(&mut *tx)
                .await?
                .rows_affected(),
                Regrant::Partner { link, sealed_link } => {
                    let changed = sqlx::query(
                        "UPDATE recipients SET revoked_at = NULL, status_detail = NULL, status = 'queued', link_hash = $3 \
                         WHERE id = $1 AND message_id = $2 AND revoked_at IS NOT NULL AND link_hash IS NOT NULL",
                    )
                    .bind(&rid)
                    .bind(&id)
                    .bind(link.as_bytes().as_slice())
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                    if changed == 1 {
                        sqlx::query("DELETE FROM portal_sessions WHERE recipient_id = $1")
                            .bind(&rid)
                            .execute(&mut *tx)
                            .await?;
                        sqlx::query(
                            "INSERT INTO outbox (id, recipient_id, sealed_link, state, attempts, next_attempt_at, first_queued_at) \
                             VALUES ($1, $2, $3, 'pending', 0, $4, $4)",
                        )
                        .bind(uuid::Uuid::new_v4().to_string())
                        .bind(&rid)
                        .bind(sealed_link.as_bytes())
                        .bind(now_ms)
                        .execute(&mut *tx)
                        .await?;
                    }
                    changed
                }
            };
            if changed != 1 {
                tx.rollback().await?;
                return Ok(false);
            }
            chain_audit!(self, tx, [audit])?;
            tx.commit().await?;
            Ok::<bool, StorageError>(true)
        })
    }

    /// Addresses `user` has sent to before (not in a send they undid), for autocomplete and the
    /// new-address warning.
    pub async fn known_recipients(&self, user: UserId) -> Result<Vec<EmailAddress>, StorageError> {
        let rows: Vec<(String,)> = with_pool!(self, |pool| {
            sqlx::query_as(
                "SELECT DISTINCT r.address FROM recipients r JOIN messages m ON m.id = r.message_id WHERE m.sender_id = $1 \
             AND NOT (m.shredded_at IS NOT NULL AND m.shred_reason IS NULL) ORDER BY r.address",
            )
            .bind(user.to_string())
            .fetch_all(pool)
            .await
        })?;
        rows.into_iter().map(|(a,)| decode::address(&a, "recipients.address")).collect()
    }
}

#[derive(sqlx::FromRow)]
struct AttachmentRow {
    id: String,
    name: Vec<u8>,
    size: i64,
    blob_key: String,
    reply_id: Option<String>,
}

#[derive(sqlx::FromRow)]
struct RecipientRow {
    message_id: String,
    id: String,
    address: String,
    addressed: String,
    user_id: Option<String>,
    status: String,
    status_detail: Option<String>,
    read_at: Option<i64>,
}
crate::sqlite_direct::sqlite_row!(RecipientRow {
    message_id,
    id,
    address,
    addressed,
    user_id,
    status,
    status_detail,
    read_at
});

fn recipient_from_row(r: RecipientRow) -> Result<(MessageId, StoredRecipient), StorageError> {
    Ok((
        MessageId(parse_id(&r.message_id, "recipients.message_id")?),
        StoredRecipient {
            id: RecipientId(parse_id(&r.id, "recipients.id")?),
            address: decode::address(&r.address, "recipients.address")?,
            addressed: decode::addressed(&r.addressed)?,
            internal: r.user_id.is_some(),
            status: decode::status(&r.status)?,
            detail: r.status_detail,
            read_at_ms: r.read_at,
        },
    ))
}
