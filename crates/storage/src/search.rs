//! What a member of staff's own search reads: the messages in their Inbox and Sent (ids and
//! dates), and the sealed subjects, bodies and correspondents of those the search has not yet
//! indexed. The access rule is the mailbox's own (sender, or an addressee not withdrawn).

use std::collections::HashMap;

use sealpost_domain::api_messages::Addressed;
use sealpost_domain::{EmailAddress, Marking, MessageId, UserId};

use crate::decode::{self, Ciphertext};
use crate::messages::parse_id;
use crate::{StorageError, Store, with_pool};

/// One message in a person's mailbox.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Listed {
    /// The message.
    pub id: MessageId,
    /// When it was sent (ms).
    pub created_at_ms: i64,
    /// In their Sent (they sent it); else in their Inbox.
    pub sent: bool,
}

/// A message's searchable content, still sealed, and who it is between.
#[derive(Debug, Clone)]
pub struct SealedText {
    /// The message.
    pub id: MessageId,
    /// Its wrapped key.
    pub key: Ciphertext,
    /// Sealed subject.
    pub subject: Ciphertext,
    /// Sealed body.
    pub body: Ciphertext,
    /// Its marking.
    pub marking: Marking,
    /// The sender's name.
    pub sender_name: String,
    /// The sender's address.
    pub sender_email: EmailAddress,
    /// Every recipient and their line (the caller leaves out blind copies it may not see).
    pub recipients: Vec<(EmailAddress, Addressed)>,
}

#[derive(sqlx::FromRow)]
struct TextRow {
    id: String,
    wrapped: Vec<u8>,
    subject: Vec<u8>,
    body: Vec<u8>,
    marking: String,
    sender_name: String,
    sender_email: String,
}

/// Leaves out what user `$1` deleted (deleted mail is not searched) and what was shredded.
const GONE: &str = "AND m.shredded_at IS NULL \
     AND NOT EXISTS (SELECT 1 FROM mail_folders f WHERE f.user_id = $1 AND f.message_id = m.id AND f.folder IN ('deleted', 'purged'))";

impl Store {
    /// The messages in `user`'s Inbox (addressed to them, not withdrawn) and Sent, newest
    /// first, at most `limit` (a message they sent themselves is listed in both).
    pub async fn mailbox_listing(&self, user: UserId, limit: i64) -> Result<Vec<Listed>, StorageError> {
        let sql = format!(
            "SELECT m.id, m.created_at, CAST(1 AS BIGINT) FROM messages m WHERE m.sender_id = $1 {GONE} \
             UNION ALL SELECT m.id, m.created_at, CAST(0 AS BIGINT) FROM recipients r JOIN messages m ON m.id = r.message_id \
             WHERE r.user_id = $1 AND r.revoked_at IS NULL AND m.held_until IS NULL {GONE} ORDER BY 2 DESC LIMIT $2"
        );
        let rows: Vec<(String, i64, i64)> = with_pool!(self, |pool| sqlx::query_as(&sql)
            .bind(user.to_string())
            .bind(limit)
            .fetch_all(pool)
            .await)?;
        rows.into_iter()
            .map(|(id, at, sent)| {
                Ok(Listed {
                    id: MessageId(parse_id(&id, "messages.id")?),
                    created_at_ms: at,
                    sent: sent == 1,
                })
            })
            .collect()
    }

    /// The sealed subjects, bodies and correspondents of messages `ids` (at most a few hundred
    /// at a time). The caller has found them in the reader's [`Store::mailbox_listing`].
    pub async fn sealed_texts(&self, ids: &[MessageId]) -> Result<Vec<SealedText>, StorageError> {
        if ids.is_empty() {
            return Ok(vec![]);
        }
        let marks: Vec<String> = (1..=ids.len()).map(|i| format!("${i}")).collect();
        let marks = marks.join(", ");
        let sql = format!(
            "SELECT m.id, k.wrapped, m.subject, m.body, m.marking, COALESCE(m.outside_sender, u.display_name) AS sender_name, \
             COALESCE(m.outside_sender, u.email) AS sender_email \
             FROM messages m JOIN message_keys k ON k.message_id = m.id JOIN users u ON u.id = m.sender_id WHERE m.id IN ({marks})"
        );
        let rows: Vec<TextRow> = with_pool!(self, |pool| {
            let mut q = sqlx::query_as(&sql);
            for id in ids {
                q = q.bind(id.to_string());
            }
            q.fetch_all(pool).await
        })?;
        let sql = format!("SELECT message_id, address, addressed FROM recipients WHERE message_id IN ({marks}) ORDER BY position");
        let people: Vec<(String, String, String)> = with_pool!(self, |pool| {
            let mut q = sqlx::query_as(&sql);
            for id in ids {
                q = q.bind(id.to_string());
            }
            q.fetch_all(pool).await
        })?;
        let mut of: HashMap<String, Vec<(EmailAddress, Addressed)>> = HashMap::new();
        for (message, address, line) in people {
            of.entry(message)
                .or_default()
                .push((decode::address(&address, "recipients.address")?, decode::addressed(&line)?));
        }
        let mut out = Vec::with_capacity(rows.len());
        for r in rows {
            let recipients = of.remove(&r.id).unwrap_or_default();
            out.push(SealedText {
                id: MessageId(parse_id(&r.id, "messages.id")?),
                key: Ciphertext::from_stored(r.wrapped),
                subject: Ciphertext::from_stored(r.subject),
                body: Ciphertext::from_stored(r.body),
                marking: Marking::parse(&r.marking).ok_or(StorageError::Corrupt("messages.marking"))?,
                sender_name: r.sender_name,
                sender_email: decode::address(&r.sender_email, "users.email")?,
                recipients,
            });
        }
        Ok(out)
    }
}
