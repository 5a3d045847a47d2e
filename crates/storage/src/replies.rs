//! Secure replies from external recipients. A reply's text arrives only as [`Sealed`] ciphertext
//! and leaves as [`Ciphertext`]; its files are attachment rows of the same message that name the reply. Storing a
//! reply writes the reply, its attachments and the audit event in one transaction.

use sealpost_audit::AuditEvent;
use sealpost_crypto::Sealed;
use sealpost_domain::{EmailAddress, MessageId, RecipientId, ReplyId, UserId};

use crate::audit::{begin_write, chain_audit};
use crate::decode::{self, Ciphertext};
use crate::messages::{insert_attachment, parse_id};
use crate::{NewAttachment, StorageError, Store, with_pool};

/// A reply ready to store.
#[derive(Debug)]
pub struct NewReply {
    /// Its id (bound into its ciphertexts).
    pub id: ReplyId,
    /// The message it answers.
    pub message: MessageId,
    /// The recipient row of the person who wrote it.
    pub author: RecipientId,
    /// Sealed text.
    pub body: Sealed,
    /// When written (ms).
    pub created_at_ms: i64,
    /// Files, already streamed into the blob store.
    pub attachments: Vec<NewAttachment>,
}

/// A stored reply, still sealed.
#[derive(Debug, Clone)]
pub struct StoredReply {
    /// Its id.
    pub id: ReplyId,
    /// The recipient row that wrote it.
    pub author: RecipientId,
    /// That recipient's address.
    pub address: EmailAddress,
    /// Sealed text.
    pub body: Ciphertext,
    /// When written (ms).
    pub created_at_ms: i64,
    /// The sender has not opened the thread since it arrived.
    pub unread: bool,
}

/// Replies to one message a member of staff sent, for their inbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ThreadActivity {
    /// The message.
    pub message: MessageId,
    /// How many replies.
    pub replies: i64,
    /// How many the sender has not seen.
    pub unread: i64,
    /// When the newest arrived (ms).
    pub last_at_ms: i64,
    /// Who wrote the newest.
    pub last_from: EmailAddress,
}

impl Store {
    /// Stores a reply with its files and the audit event recording it, atomically, unless the
    /// author's access was withdrawn meanwhile (a revoke during the upload): then nothing is
    /// stored and the answer is `false`.
    pub async fn create_reply(&self, r: &NewReply, audit: &AuditEvent) -> Result<bool, StorageError> {
        let (id, message) = (r.id.to_string(), r.message.to_string());
        with_pool!(self, |pool| {
            let mut tx = begin_write!(self, pool).await?;
            let stored = sqlx::query(
                "INSERT INTO replies (id, message_id, recipient_id, body, created_at) SELECT $1, $2, $3, $4, $5 \
                 WHERE EXISTS (SELECT 1 FROM recipients WHERE id = $3 AND message_id = $2 AND revoked_at IS NULL)",
            )
            .bind(&id)
            .bind(&message)
            .bind(r.author.to_string())
            .bind(r.body.as_bytes())
            .bind(r.created_at_ms)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if stored == 0 {
                return Ok(false);
            }
            for (position, a) in r.attachments.iter().enumerate() {
                insert_attachment!(&mut *tx, &message, Some(id.as_str()), position, a)?;
            }
            chain_audit!(self, tx, [audit])?;
            tx.commit().await?;
            Ok::<bool, StorageError>(true)
        })
    }

    /// The replies to `message`, oldest first: all of them, or only those `author` wrote.
    pub async fn replies_to(&self, message: MessageId, author: Option<RecipientId>) -> Result<Vec<StoredReply>, StorageError> {
        let rows: Vec<ReplyRow> = with_pool!(self, |pool| {
            sqlx::query_as(
                "SELECT p.id, p.recipient_id, r.address, p.body, p.created_at, p.read_at FROM replies p JOIN recipients r ON r.id = p.recipient_id \
                 WHERE p.message_id = $1 AND ($2 = '' OR p.recipient_id = $2) ORDER BY p.created_at, p.id",
            )
            .bind(message.to_string())
            .bind(author.map(|a| a.to_string()).unwrap_or_default())
            .fetch_all(pool)
            .await
        })?;
        rows.into_iter()
            .map(|r| {
                Ok(StoredReply {
                    id: ReplyId(parse_id(&r.id, "replies.id")?),
                    author: RecipientId(parse_id(&r.recipient_id, "replies.recipient_id")?),
                    address: decode::address(&r.address, "recipients.address")?,
                    body: Ciphertext::from_stored(r.body),
                    created_at_ms: r.created_at,
                    unread: r.read_at.is_none(),
                })
            })
            .collect()
    }

    /// Records that the sender has seen the replies to `message` written up to `shown_up_to_ms`
    /// (one arriving while the thread was being opened stays unread).
    pub async fn mark_replies_read(&self, message: MessageId, shown_up_to_ms: i64, now_ms: i64) -> Result<(), StorageError> {
        with_pool!(self, |pool| sqlx::query(
            "UPDATE replies SET read_at = $1 WHERE message_id = $2 AND read_at IS NULL AND created_at <= $3"
        )
        .bind(now_ms)
        .bind(message.to_string())
        .bind(shown_up_to_ms)
        .execute(pool)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// The messages `sender` sent that have replies, newest reply first.
    pub async fn reply_activity(&self, sender: UserId, limit: i64) -> Result<Vec<ThreadActivity>, StorageError> {
        let rows: Vec<ActivityRow> = with_pool!(self, |pool| {
            sqlx::query_as(
                "SELECT p.message_id, COUNT(*) AS replies, COUNT(*) - COUNT(p.read_at) AS unread, MAX(p.created_at) AS last_at, \
                 (SELECT r.address FROM replies q JOIN recipients r ON r.id = q.recipient_id WHERE q.message_id = p.message_id \
                  ORDER BY q.created_at DESC, q.id DESC LIMIT 1) AS last_from \
                 FROM replies p JOIN messages m ON m.id = p.message_id WHERE m.sender_id = $1 \
                 GROUP BY p.message_id ORDER BY MAX(p.created_at) DESC, p.message_id LIMIT $2",
            )
            .bind(sender.to_string())
            .bind(limit)
            .fetch_all(pool)
            .await
        })?;
        rows.into_iter()
            .map(|r| {
                Ok(ThreadActivity {
                    message: MessageId(parse_id(&r.message_id, "replies.message_id")?),
                    replies: r.replies,
                    unread: r.unread,
                    last_at_ms: r.last_at,
                    last_from: decode::address(r.last_from.as_deref().unwrap_or_default(), "recipients.address")?,
                })
            })
            .collect()
    }
}

#[derive(sqlx::FromRow)]
struct ReplyRow {
    id: String,
    recipient_id: String,
    address: String,
    body: Vec<u8>,
    created_at: i64,
    read_at: Option<i64>,
}

#[derive(sqlx::FromRow)]
struct ActivityRow {
    message_id: String,
    replies: i64,
    unread: i64,
    last_at: i64,
    last_from: Option<String>,
}
