//! Messages, their recipients and attachments. Content arrives and leaves only as [`Sealed`]
//! ciphertext. Creating a message writes the message, its wrapped key, recipients, attachments
//! and the outbox rows for external recipients in one transaction (SECURITY G3).

use sealpost_crypto::{PasswordHash, Sealed, TokenHash, WrappedKey};
use sealpost_domain::{AttachmentId, EmailAddress, Marking, MessageId, RecipientId, Reference, UserId};
use uuid::Uuid;

use crate::{StorageError, Store, with_pool};

/// A message ready to store.
#[derive(Debug)]
pub struct NewMessage {
    /// Its id (bound into every ciphertext).
    pub id: MessageId,
    /// Its reference code.
    pub reference: Reference,
    /// Who sends it.
    pub sender: UserId,
    /// Its marking.
    pub marking: Marking,
    /// Sealed subject.
    pub subject: Sealed,
    /// Sealed body.
    pub body: Sealed,
    /// The message key, wrapped to the master and escrow recipients.
    pub key: WrappedKey,
    /// When sent (ms).
    pub created_at_ms: i64,
    /// When links stop working (ms).
    pub expires_at_ms: i64,
    /// Who receives it.
    pub recipients: Vec<NewRecipient>,
    /// Files, already streamed into the blob store.
    pub attachments: Vec<NewAttachment>,
}

/// One recipient of a new message.
#[derive(Debug)]
pub enum NewRecipient {
    /// A colleague with an account: delivered to their inbox.
    Internal {
        /// Row id.
        id: RecipientId,
        /// Their address.
        address: EmailAddress,
        /// Their account.
        user: UserId,
    },
    /// Anyone else: notified by email with a link.
    External {
        /// Row id.
        id: RecipientId,
        /// Their address.
        address: EmailAddress,
        /// Hash of the link token (what the portal looks up).
        link: TokenHash,
        /// The link token itself, sealed with the message key, until the notification is sent.
        sealed_link: Sealed,
        /// The passphrase hash, if the sender set one.
        passphrase: Option<PasswordHash>,
    },
}

/// A file of a new message.
#[derive(Debug)]
pub struct NewAttachment {
    /// Row id (bound into its ciphertexts).
    pub id: AttachmentId,
    /// Sealed file name.
    pub name: Sealed,
    /// Plaintext size in bytes.
    pub size: u64,
    /// Where the sealed bytes are in the blob store.
    pub blob_key: String,
}

/// A stored message, still sealed.
#[derive(Debug, Clone)]
pub struct StoredMessage {
    /// Its id.
    pub id: MessageId,
    /// Its reference.
    pub reference: Reference,
    /// Sender's account.
    pub sender: UserId,
    /// Sender's name.
    pub sender_name: String,
    /// Sender's address.
    pub sender_email: String,
    /// Marking.
    pub marking: Marking,
    /// Sealed subject.
    pub subject: Sealed,
    /// Sealed body.
    pub body: Sealed,
    /// Wrapped key.
    pub key: WrappedKey,
    /// Sent at (ms).
    pub created_at_ms: i64,
    /// Expires at (ms).
    pub expires_at_ms: i64,
    /// How many files.
    pub attachment_count: i64,
    /// For an inbox row: the reader's recipient row and whether they have opened it.
    pub my_row: Option<(RecipientId, bool)>,
}

/// One recipient as stored.
#[derive(Debug, Clone)]
pub struct StoredRecipient {
    /// Row id.
    pub id: RecipientId,
    /// Address.
    pub address: String,
    /// Set for colleagues.
    pub internal: bool,
    /// `delivered`, `read`, `queued`, `sent`, `failed` or `revoked`.
    pub status: String,
    /// Failure reason.
    pub detail: Option<String>,
    /// When read (internal).
    pub read_at_ms: Option<i64>,
}

/// One attachment as stored.
#[derive(Debug, Clone)]
pub struct StoredAttachment {
    /// Row id.
    pub id: AttachmentId,
    /// Sealed name.
    pub name: Sealed,
    /// Plaintext size.
    pub size: u64,
    /// Blob store key.
    pub blob_key: String,
}

type MessageRow = (
    String,
    String,
    String,
    String,
    String,
    String,
    Vec<u8>,
    Vec<u8>,
    Vec<u8>,
    i64,
    i64,
    i64,
    Option<String>,
    Option<String>,
);

const MESSAGE_SELECT: &str = "SELECT m.id, m.reference, m.sender_id, u.display_name, u.email, m.marking, m.subject, m.body, k.wrapped, m.created_at, m.expires_at, \
     (SELECT COUNT(*) FROM attachments a WHERE a.message_id = m.id)";

fn parse_id(text: &str, what: &'static str) -> Result<Uuid, StorageError> {
    Uuid::parse_str(text).map_err(|_| StorageError::Corrupt(what))
}

fn message_from_row(r: MessageRow) -> Result<StoredMessage, StorageError> {
    let (id, reference, sender, name, email, marking, subject, body, key, created, expires, count, my_id, my_status) = r;
    let my_row = match my_id {
        Some(rid) => Some((RecipientId(parse_id(&rid, "recipients.id")?), my_status.as_deref() == Some("read"))),
        None => None,
    };
    Ok(StoredMessage {
        id: MessageId(parse_id(&id, "messages.id")?),
        reference: Reference::from_stored(reference),
        sender: UserId(parse_id(&sender, "messages.sender_id")?),
        sender_name: name,
        sender_email: email,
        marking: Marking::parse(&marking).ok_or(StorageError::Corrupt("messages.marking"))?,
        subject: Sealed::from_stored(subject),
        body: Sealed::from_stored(body),
        key: WrappedKey::from_stored(key),
        created_at_ms: created,
        expires_at_ms: expires,
        attachment_count: count,
        my_row,
    })
}

impl Store {
    /// Stores a message with everything that belongs to it, atomically.
    pub async fn create_message(&self, m: &NewMessage) -> Result<(), StorageError> {
        let id = m.id.to_string();
        with_pool!(self, |pool| {
            let mut tx = pool.begin().await?;
            sqlx::query("INSERT INTO messages (id, reference, sender_id, marking, subject, body, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)")
                .bind(&id)
                .bind(m.reference.as_str())
                .bind(m.sender.to_string())
                .bind(m.marking.as_str())
                .bind(m.subject.as_bytes())
                .bind(m.body.as_bytes())
                .bind(m.created_at_ms)
                .bind(m.expires_at_ms)
                .execute(&mut *tx)
                .await?;
            sqlx::query("INSERT INTO message_keys (message_id, wrapped) VALUES ($1, $2)")
                .bind(&id)
                .bind(m.key.as_bytes())
                .execute(&mut *tx)
                .await?;
            for (position, r) in m.recipients.iter().enumerate() {
                let position = position as i64;
                match r {
                    NewRecipient::Internal { id: rid, address, user } => {
                        sqlx::query("INSERT INTO recipients (id, message_id, position, address, user_id, status) VALUES ($1, $2, $3, $4, $5, 'delivered')")
                            .bind(rid.to_string())
                            .bind(&id)
                            .bind(position)
                            .bind(address.as_str())
                            .bind(user.to_string())
                            .execute(&mut *tx)
                            .await?;
                    }
                    NewRecipient::External {
                        id: rid,
                        address,
                        link,
                        sealed_link,
                        passphrase,
                    } => {
                        sqlx::query("INSERT INTO recipients (id, message_id, position, address, link_hash, passphrase_hash, status) VALUES ($1, $2, $3, $4, $5, $6, 'queued')")
                            .bind(rid.to_string())
                            .bind(&id)
                            .bind(position)
                            .bind(address.as_str())
                            .bind(link.as_bytes().as_slice())
                            .bind(passphrase.as_ref().map(|p| p.as_phc().to_owned()))
                            .execute(&mut *tx)
                            .await?;
                        sqlx::query("INSERT INTO outbox (id, recipient_id, sealed_link, state, attempts, next_attempt_at, first_queued_at) VALUES ($1, $2, $3, 'pending', 0, $4, $4)")
                            .bind(Uuid::new_v4().to_string())
                            .bind(rid.to_string())
                            .bind(sealed_link.as_bytes())
                            .bind(m.created_at_ms)
                            .execute(&mut *tx)
                            .await?;
                    }
                }
            }
            for (position, a) in m.attachments.iter().enumerate() {
                sqlx::query("INSERT INTO attachments (id, message_id, position, name, size, blob_key) VALUES ($1, $2, $3, $4, $5, $6)")
                    .bind(a.id.to_string())
                    .bind(&id)
                    .bind(position as i64)
                    .bind(a.name.as_bytes())
                    .bind(i64::try_from(a.size).unwrap_or(i64::MAX))
                    .bind(&a.blob_key)
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await?;
            Ok::<(), StorageError>(())
        })
    }

    /// Messages addressed to `user` and not revoked for them, newest first.
    pub async fn inbox(&self, user: UserId, limit: i64) -> Result<Vec<StoredMessage>, StorageError> {
        let sql = format!(
            "{MESSAGE_SELECT}, r.id, r.status FROM recipients r JOIN messages m ON m.id = r.message_id JOIN users u ON u.id = m.sender_id \
             JOIN message_keys k ON k.message_id = m.id WHERE r.user_id = $1 AND r.revoked_at IS NULL ORDER BY m.created_at DESC LIMIT $2"
        );
        let rows: Vec<MessageRow> = with_pool!(self, |pool| sqlx::query_as(&sql)
            .bind(user.to_string())
            .bind(limit)
            .fetch_all(pool)
            .await)?;
        rows.into_iter().map(message_from_row).collect()
    }

    /// Messages `user` sent, newest first.
    pub async fn sent(&self, user: UserId, limit: i64) -> Result<Vec<StoredMessage>, StorageError> {
        let sql = format!(
            "{MESSAGE_SELECT}, NULL, NULL FROM messages m JOIN users u ON u.id = m.sender_id JOIN message_keys k ON k.message_id = m.id \
             WHERE m.sender_id = $1 ORDER BY m.created_at DESC LIMIT $2"
        );
        let rows: Vec<MessageRow> = with_pool!(self, |pool| sqlx::query_as(&sql)
            .bind(user.to_string())
            .bind(limit)
            .fetch_all(pool)
            .await)?;
        rows.into_iter().map(message_from_row).collect()
    }

    /// The message if `user` may read it: its sender, or an internal recipient not revoked.
    /// Anyone else gets `None`, exactly as for a message that does not exist (SECURITY C1).
    pub async fn message_for(&self, user: UserId, id: MessageId) -> Result<Option<StoredMessage>, StorageError> {
        let sql = format!(
            "{MESSAGE_SELECT}, r.id, r.status FROM messages m JOIN users u ON u.id = m.sender_id JOIN message_keys k ON k.message_id = m.id \
             LEFT JOIN recipients r ON r.message_id = m.id AND r.user_id = $1 AND r.revoked_at IS NULL \
             WHERE m.id = $2 AND (m.sender_id = $1 OR r.id IS NOT NULL) LIMIT 1"
        );
        let row: Option<MessageRow> = with_pool!(self, |pool| sqlx::query_as(&sql)
            .bind(user.to_string())
            .bind(id.to_string())
            .fetch_optional(pool)
            .await)?;
        row.map(message_from_row).transpose()
    }

    /// The recipients of a message, in the order they were given.
    pub async fn recipients_of(&self, id: MessageId) -> Result<Vec<StoredRecipient>, StorageError> {
        type Row = (String, String, Option<String>, String, Option<String>, Option<i64>);
        let rows: Vec<Row> = with_pool!(self, |pool| {
            sqlx::query_as(
                "SELECT id, address, user_id, status, status_detail, read_at FROM recipients WHERE message_id = $1 ORDER BY position",
            )
            .bind(id.to_string())
            .fetch_all(pool)
            .await
        })?;
        rows.into_iter()
            .map(|(rid, address, user, status, detail, read_at)| {
                Ok(StoredRecipient {
                    id: RecipientId(parse_id(&rid, "recipients.id")?),
                    address,
                    internal: user.is_some(),
                    status,
                    detail,
                    read_at_ms: read_at,
                })
            })
            .collect()
    }

    /// The attachments of a message, in order.
    pub async fn attachments_of(&self, id: MessageId) -> Result<Vec<StoredAttachment>, StorageError> {
        let rows: Vec<(String, Vec<u8>, i64, String)> = with_pool!(self, |pool| {
            sqlx::query_as("SELECT id, name, size, blob_key FROM attachments WHERE message_id = $1 ORDER BY position")
                .bind(id.to_string())
                .fetch_all(pool)
                .await
        })?;
        rows.into_iter()
            .map(|(aid, name, size, blob_key)| {
                Ok(StoredAttachment {
                    id: AttachmentId(parse_id(&aid, "attachments.id")?),
                    name: Sealed::from_stored(name),
                    size: u64::try_from(size).unwrap_or(0),
                    blob_key,
                })
            })
            .collect()
    }

    /// Records that an internal recipient opened the message (first time only).
    pub async fn mark_read(&self, recipient: RecipientId, now_ms: i64) -> Result<(), StorageError> {
        with_pool!(self, |pool| sqlx::query(
            "UPDATE recipients SET status = 'read', read_at = $1 WHERE id = $2 AND status = 'delivered'"
        )
        .bind(now_ms)
        .bind(recipient.to_string())
        .execute(pool)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// Withdraws access for one address, or every recipient, and cancels unsent notifications.
    /// Returns how many recipients were revoked now.
    pub async fn revoke(&self, id: MessageId, address: Option<&EmailAddress>, now_ms: i64) -> Result<u64, StorageError> {
        let id = id.to_string();
        let (filter, value) = match address {
            Some(a) => (" AND address = $3", a.as_str().to_owned()),
            None => (" AND $3 = $3", String::new()),
        };
        let revoke =
            format!("UPDATE recipients SET status = 'revoked', revoked_at = $1 WHERE message_id = $2 AND revoked_at IS NULL{filter}");
        with_pool!(self, |pool| {
            let mut tx = pool.begin().await?;
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
            tx.commit().await?;
            Ok::<u64, StorageError>(n)
        })
    }

    /// Addresses `user` has sent to before, for autocomplete and the new-address warning.
    pub async fn known_recipients(&self, user: UserId) -> Result<Vec<String>, StorageError> {
        let rows: Vec<(String,)> = with_pool!(self, |pool| {
            sqlx::query_as("SELECT DISTINCT r.address FROM recipients r JOIN messages m ON m.id = r.message_id WHERE m.sender_id = $1 ORDER BY r.address")
                .bind(user.to_string())
                .fetch_all(pool)
                .await
        })?;
        Ok(rows.into_iter().map(|(a,)| a).collect())
    }
}
