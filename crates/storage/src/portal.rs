//! The recipient portal's view of a secure link: looked up by the SHA-256 of its token (SECURITY
//! B1). Looking a link up never writes anything (B2: mail scanners open every link).

use sealpost_crypto::{PasswordHash, TokenHash};
use sealpost_domain::{EmailAddress, Marking, MessageId, RecipientId, Reference};

use crate::decode;
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
    /// The sender's address (for notices such as a lockout).
    pub sender_email: EmailAddress,
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
    /// The recipient's address.
    pub address: EmailAddress,
    /// Until when the recipient is locked out after too many attempts (SECURITY B3), if they
    /// ever were: a time in the past means the lock has ended.
    pub locked_until_ms: Option<i64>,
}

impl LinkRecord {
    /// The recipient is locked out at `now_ms`.
    pub fn is_locked(&self, now_ms: i64) -> bool {
        self.locked_until_ms.is_some_and(|until| until > now_ms)
    }
}

/// A link's columns, as [`LINK_COLUMNS`] names them.
#[derive(sqlx::FromRow)]
pub(crate) struct LinkRow {
    link_hash: Vec<u8>,
    recipient_id: String,
    message_id: String,
    sender_name: String,
    marking: String,
    reference: String,
    expires_at: i64,
    revoked_at: Option<i64>,
    passphrase_required: bool,
    address: String,
    sender_email: String,
    locked_until: Option<i64>,
}
crate::sqlite_direct::sqlite_row!(LinkRow {
    link_hash,
    recipient_id,
    message_id,
    sender_name,
    marking,
    reference,
    expires_at,
    revoked_at,
    passphrase_required,
    address,
    sender_email,
    locked_until,
});

/// What a [`LinkRecord`] is read from, out of [`LINK_TABLES`].
pub(crate) const LINK_COLUMNS: &str = "r.link_hash, r.id AS recipient_id, m.id AS message_id, u.display_name AS sender_name, m.marking, \
     m.reference, m.expires_at, r.revoked_at, r.passphrase_hash IS NOT NULL AS passphrase_required, r.address, u.email AS sender_email, \
     l.until_at AS locked_until";
/// A recipient row with its message, sender and lockout.
pub(crate) const LINK_TABLES: &str = "recipients r JOIN messages m ON m.id = r.message_id JOIN users u ON u.id = m.sender_id \
     LEFT JOIN portal_locks l ON l.recipient_id = r.id";

/// The link by which address `$1` received message `$2`.
pub(crate) fn link_for_address_sql() -> String {
    format!("SELECT {LINK_COLUMNS} FROM {LINK_TABLES} WHERE r.address = $1 AND m.id = $2 AND r.link_hash IS NOT NULL")
}

impl Store {
    /// Finds the link whose token hashes to `hash`. Read-only.
    pub async fn link(&self, hash: &TokenHash) -> Result<Option<LinkRecord>, StorageError> {
        let sql = format!("SELECT {LINK_COLUMNS} FROM {LINK_TABLES} WHERE r.link_hash = $1");
        let row: Option<LinkRow> = with_pool!(self, |pool| sqlx::query_as(&sql)
            .bind(hash.as_bytes().as_slice())
            .fetch_optional(pool)
            .await)?;
        row.map(LinkRecord::try_from).transpose()
    }

    /// The links sent to `address` that still work at `now_ms` (not revoked, not expired),
    /// newest message first: a verified recipient's list of messages.
    pub async fn live_links_for_address(&self, address: &EmailAddress, now_ms: i64, limit: i64) -> Result<Vec<LinkRecord>, StorageError> {
        let sql = format!(
            "SELECT {LINK_COLUMNS} FROM {LINK_TABLES} WHERE r.address = $1 AND r.link_hash IS NOT NULL AND r.revoked_at IS NULL AND m.held_until IS NULL AND m.expires_at > $2 \
             ORDER BY m.created_at DESC, m.id LIMIT $3"
        );
        let rows: Vec<LinkRow> = with_pool!(self, |pool| sqlx::query_as(&sql)
            .bind(address.as_str())
            .bind(now_ms)
            .bind(limit)
            .fetch_all(pool)
            .await)?;
        rows.into_iter().map(LinkRecord::try_from).collect()
    }

    /// The link by which `address` received `message`, whatever its state.
    pub async fn link_for_address(&self, address: &EmailAddress, message: MessageId) -> Result<Option<LinkRecord>, StorageError> {
        let sql = link_for_address_sql();
        let row: Option<LinkRow> = with_pool!(self, |pool| sqlx::query_as(&sql)
            .bind(address.as_str())
            .bind(message.to_string())
            .fetch_optional(pool)
            .await)?;
        row.map(LinkRecord::try_from).transpose()
    }
}

impl Store {
    /// The passphrase hash the sender set for this recipient, if any.
    pub async fn recipient_passphrase(&self, recipient: RecipientId) -> Result<Option<PasswordHash>, StorageError> {
        let row: Option<(Option<String>,)> = with_pool!(self, |pool| {
            sqlx::query_as("SELECT passphrase_hash FROM recipients WHERE id = $1")
                .bind(recipient.to_string())
                .fetch_optional(pool)
                .await
        })?;
        Ok(row.and_then(|(h,)| h).map(PasswordHash::from_phc))
    }

    /// Notes something the sender should see against a recipient (e.g. a lockout).
    pub async fn note_on_recipient(&self, recipient: RecipientId, detail: &str) -> Result<(), StorageError> {
        with_pool!(self, |pool| sqlx::query("UPDATE recipients SET status_detail = $1 WHERE id = $2")
            .bind(detail)
            .bind(recipient.to_string())
            .execute(pool)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(())
    }
}

impl TryFrom<LinkRow> for LinkRecord {
    type Error = StorageError;

    fn try_from(r: LinkRow) -> Result<Self, StorageError> {
        let stored: [u8; 32] = r.link_hash.try_into().map_err(|_| StorageError::Corrupt("recipients.link_hash"))?;
        Ok(LinkRecord {
            stored_hash: TokenHash::from_bytes(stored),
            recipient_id: RecipientId(decode::id(&r.recipient_id, "recipients.id")?),
            message_id: MessageId(decode::id(&r.message_id, "messages.id")?),
            sender_name: r.sender_name,
            sender_email: decode::address(&r.sender_email, "users.email")?,
            marking: Marking::parse(&r.marking).ok_or(StorageError::Corrupt("messages.marking"))?,
            reference: Reference::from_stored(r.reference),
            expires_at_ms: r.expires_at,
            revoked: r.revoked_at.is_some(),
            passphrase_required: r.passphrase_required,
            address: decode::address(&r.address, "recipients.address")?,
            locked_until_ms: r.locked_until,
        })
    }
}
