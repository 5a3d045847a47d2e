//! The recipient portal's view of a secure link: looked up by the SHA-256 of its token (SECURITY
//! B1). Looking a link up never writes anything (B2: mail scanners open every link).

use sealpost_crypto::TokenHash;
use sealpost_domain::{Marking, MessageId, RecipientId, Reference};
use uuid::Uuid;

use crate::{StorageError, Store, with_pool};

/// What the link page may show, and the link's state.
#[derive(Debug, Clone)]
pub struct LinkRecord {
    /// The hash as stored, for the constant-time comparison.
    pub stored_hash: TokenHash,
    /// The recipient row the link belongs to.
    pub recipient_id: RecipientId,
    /// The message.
    pub message_id: MessageId,
    /// The sender's name.
    pub sender_name: String,
    /// The message's marking.
    pub marking: Marking,
    /// The message's reference.
    pub reference: Reference,
    /// When the link stops working.
    pub expires_at_ms: i64,
    /// Set once the sender withdrew access.
    pub revoked: bool,
    /// The sender set a passphrase for this recipient.
    pub passphrase_required: bool,
}

type Row = (Vec<u8>, String, String, String, String, String, i64, Option<i64>, bool);

impl Store {
    /// Finds the link whose token hashes to `hash`. Read-only.
    pub async fn link(&self, hash: &TokenHash) -> Result<Option<LinkRecord>, StorageError> {
        let row: Option<Row> = with_pool!(self, |pool| {
            sqlx::query_as(
                "SELECT r.link_hash, r.id, m.id, u.display_name, m.marking, m.reference, m.expires_at, r.revoked_at, r.passphrase_hash IS NOT NULL \
                 FROM recipients r JOIN messages m ON m.id = r.message_id JOIN users u ON u.id = m.sender_id WHERE r.link_hash = $1",
            )
            .bind(hash.as_bytes().as_slice())
            .fetch_optional(pool)
            .await
        })?;
        let Some((stored, rid, mid, sender_name, marking, reference, expires, revoked_at, passphrase)) = row else {
            return Ok(None);
        };
        let stored: [u8; 32] = stored.try_into().map_err(|_| StorageError::Corrupt("recipients.link_hash"))?;
        let id = |t: &str, what| Uuid::parse_str(t).map_err(|_| StorageError::Corrupt(what));
        Ok(Some(LinkRecord {
            stored_hash: TokenHash::from_bytes(stored),
            recipient_id: RecipientId(id(&rid, "recipients.id")?),
            message_id: MessageId(id(&mid, "messages.id")?),
            sender_name,
            marking: Marking::parse(&marking).ok_or(StorageError::Corrupt("messages.marking"))?,
            reference: Reference::from_stored(reference),
            expires_at_ms: expires,
            revoked: revoked_at.is_some(),
            passphrase_required: passphrase,
        }))
    }
}
