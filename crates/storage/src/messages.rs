//! Messages, their recipients and attachments. Content arrives only as [`Sealed`] ciphertext and
//! leaves as [`Ciphertext`]. Creating a message writes the message, its wrapped key, recipients, attachments
//! and the outbox rows for external recipients in one transaction (SECURITY G3).

use sealpost_crypto::{PasswordHash, Sealed, TokenHash, WrappedKey};
use sealpost_domain::api_messages::{Addressed, DeliveryStatus};
use sealpost_domain::{AttachmentId, EmailAddress, Marking, MessageId, RecipientId, Reference, ReplyId, UserId};
use uuid::Uuid;

use sealpost_audit::AuditEvent;

use crate::audit::{begin_write, chain_audit};
use crate::decode::{self, Ciphertext};
use crate::drafts::{SentDraft, adopt_draft};
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
    /// Sealed HTML body, cleaned before it was sealed: only mail taken in from Outlook has one.
    pub body_html: Option<Sealed>,
    /// The message key, wrapped to the master and escrow recipients.
    pub key: WrappedKey,
    /// When sent (ms).
    pub created_at_ms: i64,
    /// When links stop working (ms).
    pub expires_at_ms: i64,
    /// The end of the sender's undo window, if it has one: until then nobody else sees it and
    /// its notifications wait.
    pub held_until_ms: Option<i64>,
    /// Most portal opens per partner (the marking policy); `None`: no limit.
    pub max_opens: Option<u32>,
    /// Partners may only view its files, not download them (the marking policy).
    pub view_only_files: bool,
    /// The conversation it answers, if it is an answer.
    pub in_reply_to: Option<ThreadLink>,
    /// Written outside the council (through `/write`): the address its writer proved. The
    /// sender is then [`crate::OUTSIDE_SENDER`].
    pub outside_sender: Option<EmailAddress>,
    /// Who receives it.
    pub recipients: Vec<NewRecipient>,
    /// Files, already streamed into the blob store.
    pub attachments: Vec<NewAttachment>,
}

/// Where an answer sits in its conversation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ThreadLink {
    /// The message that started the conversation.
    pub thread: MessageId,
    /// The message answered.
    pub message: MessageId,
}

/// A part of a conversation, as a reader of it may list it: metadata only, no content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ThreadEntry {
    /// The part.
    pub id: MessageId,
    /// Its reference.
    pub reference: Reference,
    /// Who sent it.
    pub sender_name: String,
    /// When (ms).
    pub created_at_ms: i64,
    /// The part it answers.
    pub in_reply_to: Option<MessageId>,
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
        /// To, CC or BCC.
        addressed: Addressed,
        /// Their account.
        user: UserId,
        /// Email them a notice (no content) that it is waiting: their own choice.
        notify: bool,
    },
    /// Anyone else: notified by email with a link.
    External {
        /// Row id.
        id: RecipientId,
        /// Their address.
        address: EmailAddress,
        /// To, CC or BCC.
        addressed: Addressed,
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

/// A stored message, still sealed. A list reads messages without their bodies (`B` is `()`,
/// [`MessageHeader`]): a body may be 256 KiB, and a list of fifty shows none of them.
#[derive(Debug, Clone)]
pub struct StoredMessage<B = Bodies> {
    /// Its id.
    pub id: MessageId,
    /// Its reference.
    pub reference: Reference,
    /// Sender's account.
    pub sender: UserId,
    /// Sender's name.
    pub sender_name: String,
    /// Sender's address.
    pub sender_email: EmailAddress,
    /// The conversation it belongs to (its own id when it started one).
    pub thread: MessageId,
    /// Marking.
    pub marking: Marking,
    /// Sealed subject.
    pub subject: Ciphertext,
    /// Sealed body (`()` in a list).
    pub body: B,
    /// Wrapped key; `None` once the message is shredded (its key row deleted), after which
    /// nothing of it opens.
    pub key: Option<Ciphertext>,
    /// When and why it was shredded, if it was: then only its metadata is left.
    pub shredded: Option<Shredded>,
    /// The end of its sender's undo window while it is in it (see [`NewMessage::held_until_ms`]).
    pub held_until_ms: Option<i64>,
    /// Most portal opens per partner; `None`: no limit.
    pub max_opens: Option<i64>,
    /// Partners may only view its files, not download them.
    pub view_only_files: bool,
    /// Sent at (ms).
    pub created_at_ms: i64,
    /// Expires at (ms).
    pub expires_at_ms: i64,
    /// How many files the message itself has (not counting replies').
    pub attachment_count: i64,
    /// How many secure replies the thread has, from anyone.
    pub reply_count: i64,
    /// For an inbox row: the reader's recipient row and whether they have opened it.
    pub my_row: Option<(RecipientId, bool)>,
    /// Written outside the council, by `sender_email` (proved by a code): see
    /// [`NewMessage::outside_sender`].
    pub from_outside: bool,
}

/// A message as a list reads it: everything but the body.
pub type MessageHeader = StoredMessage<()>;

/// When and why a message was crypto-shredded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shredded {
    /// When (Unix ms).
    pub at_ms: i64,
    /// Why.
    pub reason: crate::ShredReason,
}

/// A message's sealed bodies, as its page reads them.
#[derive(Debug, Clone)]
pub struct Bodies {
    /// The text body.
    pub text: Ciphertext,
    /// The cleaned HTML body, for mail taken in from Outlook that had one.
    pub html: Option<Ciphertext>,
}

/// One recipient as stored.
#[derive(Debug, Clone)]
pub struct StoredRecipient {
    /// Row id.
    pub id: RecipientId,
    /// Address.
    pub address: EmailAddress,
    /// To, CC or BCC.
    pub addressed: Addressed,
    /// Set for colleagues.
    pub internal: bool,
    /// Where delivery stands.
    pub status: DeliveryStatus,
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
    pub name: Ciphertext,
    /// Plaintext size.
    pub size: u64,
    /// Blob store key.
    pub blob_key: String,
    /// The reply it came with; `None` for the message's own files.
    pub reply: Option<ReplyId>,
}

/// A message's columns as [`MESSAGE_SELECT`] names them, followed by [`MESSAGE_MINE`] or
/// [`MESSAGE_NOT_MINE`].
#[derive(sqlx::FromRow)]
pub(crate) struct MessageRow {
    id: String,
    reference: String,
    sender_id: String,
    sender_name: String,
    sender_email: String,
    marking: String,
    subject: Vec<u8>,
    wrapped: Option<Vec<u8>>,
    shredded_at: Option<i64>,
    shred_reason: Option<String>,
    held_until: Option<i64>,
    max_opens: Option<i64>,
    view_only_files: bool,
    created_at: i64,
    expires_at: i64,
    attachments: i64,
    replies: i64,
    thread_id: String,
    outside_sender: Option<String>,
    my_id: Option<String>,
    my_status: Option<String>,
}

/// A [`MessageRow`] followed by the sealed bodies (`{MESSAGE_SELECT}, {MESSAGE_MINE}, {MESSAGE_BODIES}`).
#[derive(sqlx::FromRow)]
pub(crate) struct MessageBodyRow {
    #[sqlx(flatten)]
    head: MessageRow,
    body: Vec<u8>,
    body_html: Option<Vec<u8>>,
}

crate::sqlite_direct::sqlite_row!(MessageRow {
    id,
    reference,
    sender_id,
    sender_name,
    sender_email,
    marking,
    subject,
    wrapped,
    shredded_at,
    shred_reason,
    held_until,
    max_opens,
    view_only_files,
    created_at,
    expires_at,
    attachments,
    replies,
    thread_id,
    outside_sender,
    my_id,
    my_status,
});
crate::sqlite_direct::sqlite_row!(MessageBodyRow {
    head: flatten,
    body,
    body_html
});

/// The columns of [`MessageBodyRow`] after the head.
pub(crate) const MESSAGE_BODIES: &str = "m.body, m.body_html";

pub(crate) const MESSAGE_SELECT: &str = "SELECT m.id, m.reference, m.sender_id, COALESCE(m.outside_sender, u.display_name) AS sender_name, \
     COALESCE(m.outside_sender, u.email) AS sender_email, m.outside_sender, m.marking, \
     m.subject, k.wrapped, m.shredded_at, m.shred_reason, m.held_until, m.max_opens, m.view_only_files, m.created_at, m.expires_at, \
     (SELECT COUNT(*) FROM attachments a WHERE a.message_id = m.id AND a.reply_id IS NULL) AS attachments, \
     (SELECT COUNT(*) FROM replies p WHERE p.message_id = m.id) AS replies, COALESCE(m.thread_id, m.id) AS thread_id";
/// The reader's own recipient row `r`, after [`MESSAGE_SELECT`].
pub(crate) const MESSAGE_MINE: &str = "r.id AS my_id, r.status AS my_status";
/// No recipient row of the reader's (the sender's own lists).
pub(crate) const MESSAGE_NOT_MINE: &str = "NULL AS my_id, NULL AS my_status";

pub(crate) fn parse_id(text: &str, what: &'static str) -> Result<Uuid, StorageError> {
    decode::id(text, what)
}

impl TryFrom<MessageRow> for MessageHeader {
    type Error = StorageError;

    fn try_from(r: MessageRow) -> Result<Self, StorageError> {
        message_of(r, ())
    }
}

impl TryFrom<MessageBodyRow> for StoredMessage {
    type Error = StorageError;

    fn try_from(r: MessageBodyRow) -> Result<Self, StorageError> {
        let bodies = Bodies {
            text: Ciphertext::from_stored(r.body),
            html: r.body_html.map(Ciphertext::from_stored),
        };
        message_of(r.head, bodies)
    }
}

/// The message in `r`, carrying `body`.
fn message_of<B>(r: MessageRow, body: B) -> Result<StoredMessage<B>, StorageError> {
    let my_row = match (r.my_id, r.my_status) {
        (Some(rid), Some(status)) => Some((
            RecipientId(parse_id(&rid, "recipients.id")?),
            decode::status(&status)? == DeliveryStatus::Read,
        )),
        (None, None) => None,
        _ => return Err(StorageError::Corrupt("recipients.status")),
    };
    Ok(StoredMessage {
        id: MessageId(parse_id(&r.id, "messages.id")?),
        reference: Reference::from_stored(r.reference),
        sender: UserId(parse_id(&r.sender_id, "messages.sender_id")?),
        sender_name: r.sender_name,
        sender_email: decode::address(&r.sender_email, "users.email")?,
        thread: MessageId(parse_id(&r.thread_id, "messages.thread_id")?),
        marking: Marking::parse(&r.marking).ok_or(StorageError::Corrupt("messages.marking"))?,
        subject: Ciphertext::from_stored(r.subject),
        body,
        key: r.wrapped.map(Ciphertext::from_stored),
        shredded: match r.shredded_at {
            None => None,
            Some(at_ms) => Some(Shredded {
                at_ms,
                reason: crate::ShredReason::from_stored(r.shred_reason.as_deref())?,
            }),
        },
        held_until_ms: r.held_until,
        max_opens: r.max_opens,
        view_only_files: r.view_only_files,
        created_at_ms: r.created_at,
        expires_at_ms: r.expires_at,
        attachment_count: r.attachments,
        reply_count: r.replies,
        my_row,
        from_outside: r.outside_sender.is_some(),
    })
}

/// Inserts attachment row `a` of message `message` (and of reply `reply`, if any) at
/// `position`, through `executor` (a transaction the caller commits).
macro_rules! insert_attachment {
    ($executor:expr, $message:expr, $reply:expr, $position:expr, $a:expr) => {{
        let a: &$crate::NewAttachment = $a;
        sqlx::query(
            "INSERT INTO attachments (id, message_id, reply_id, position, name, size, blob_key) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(a.id.to_string())
        .bind($message)
        .bind($reply)
        .bind($position as i64)
        .bind(a.name.as_bytes())
        .bind(i64::try_from(a.size).unwrap_or(i64::MAX))
        .bind(&a.blob_key)
        .execute($executor)
        .await
    }};
}
pub(crate) use insert_attachment;

impl Store {
    /// Stores a message with everything that belongs to it, and the audit event recording the
    /// send, atomically.
    pub async fn create_message(&self, m: &NewMessage, audit: &AuditEvent) -> Result<(), StorageError> {
        self.insert_message(m, None, audit).await.map(|_| ())
    }

    /// Stores message `m` written in draft `draft` as [`Store::create_message`] does, and in the
    /// same transaction moves the draft's files to the message (sealed once, when uploaded:
    /// the message has the draft's id and key) and removes the draft. False, with nothing
    /// written, if the draft is not its owner's any more (sent or discarded meanwhile) or its
    /// files are not the ones the sender saw.
    pub async fn send_draft(&self, m: &NewMessage, draft: &SentDraft, audit: &AuditEvent) -> Result<bool, StorageError> {
        self.insert_message(m, Some(draft), audit).await
    }

    async fn insert_message(&self, m: &NewMessage, draft: Option<&SentDraft>, audit: &AuditEvent) -> Result<bool, StorageError> {
        let id = m.id.to_string();
        with_pool!(self, |pool| {
            let mut tx = begin_write!(self, pool).await?;
            sqlx::query(
                "INSERT INTO messages (id, reference, sender_id, marking, subject, body, created_at, expires_at, thread_id, in_reply_to, outside_sender, body_html, held_until, max_opens, view_only_files) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)",
            )
            .bind(&id)
            .bind(m.reference.as_str())
            .bind(m.sender.to_string())
            .bind(m.marking.as_str())
            .bind(m.subject.as_bytes())
            .bind(m.body.as_bytes())
            .bind(m.created_at_ms)
            .bind(m.expires_at_ms)
            .bind(m.in_reply_to.map_or_else(|| id.clone(), |l| l.thread.to_string()))
            .bind(m.in_reply_to.map(|l| l.message.to_string()))
            .bind(m.outside_sender.as_ref().map(EmailAddress::as_str))
            .bind(m.body_html.as_ref().map(Sealed::as_bytes))
            .bind(m.held_until_ms)
            .bind(m.max_opens.map(i64::from))
            .bind(m.view_only_files)
            .execute(&mut *tx)
            .await?;
            // Notifications wait for the end of the undo window.
            let notify_at = m.held_until_ms.unwrap_or(m.created_at_ms);
            sqlx::query("INSERT INTO message_keys (message_id, wrapped) VALUES ($1, $2)")
                .bind(&id)
                .bind(m.key.as_bytes())
                .execute(&mut *tx)
                .await?;
            for (position, r) in m.recipients.iter().enumerate() {
                let position = position as i64;
                match r {
                    NewRecipient::Internal {
                        id: rid,
                        address,
                        addressed,
                        user,
                        notify,
                    } => {
                        sqlx::query("INSERT INTO recipients (id, message_id, position, address, addressed, user_id, status) VALUES ($1, $2, $3, $4, $5, $6, 'delivered')")
                            .bind(rid.to_string())
                            .bind(&id)
                            .bind(position)
                            .bind(address.as_str())
                            .bind(addressed.as_str())
                            .bind(user.to_string())
                            .execute(&mut *tx)
                            .await?;
                        if *notify {
                            sqlx::query("INSERT INTO outbox (id, recipient_id, kind, state, attempts, next_attempt_at, first_queued_at) VALUES ($1, $2, 'colleague', 'pending', 0, $3, $3)")
                                .bind(Uuid::new_v4().to_string())
                                .bind(rid.to_string())
                                .bind(notify_at)
                                .execute(&mut *tx)
                                .await?;
                        }
                    }
                    NewRecipient::External {
                        id: rid,
                        address,
                        addressed,
                        link,
                        sealed_link,
                        passphrase,
                    } => {
                        sqlx::query("INSERT INTO recipients (id, message_id, position, address, addressed, link_hash, passphrase_hash, status) VALUES ($1, $2, $3, $4, $5, $6, $7, 'queued')")
                            .bind(rid.to_string())
                            .bind(&id)
                            .bind(position)
                            .bind(address.as_str())
                            .bind(addressed.as_str())
                            .bind(link.as_bytes().as_slice())
                            .bind(passphrase.as_ref().map(|p| p.as_phc().to_owned()))
                            .execute(&mut *tx)
                            .await?;
                        sqlx::query("INSERT INTO outbox (id, recipient_id, sealed_link, state, attempts, next_attempt_at, first_queued_at) VALUES ($1, $2, $3, 'pending', 0, $4, $4)")
                            .bind(Uuid::new_v4().to_string())
                            .bind(rid.to_string())
                            .bind(sealed_link.as_bytes())
                            .bind(notify_at)
                            .execute(&mut *tx)
                            .await?;
                    }
                }
            }
            // A draft's files come first; the form's follow them.
            let first = match draft {
                None => 0,
                Some(d) => match adopt_draft!(tx, d, &id, m.created_at_ms).await? {
                    Some(next) => next,
                    None => return Ok(false),
                },
            };
            for (position, a) in m.attachments.iter().enumerate() {
                insert_attachment!(&mut *tx, &id, None::<&str>, first + position as i64, a)?;
            }
            chain_audit!(self, tx, [audit])?;
            tx.commit().await?;
            Ok::<bool, StorageError>(true)
        })
    }

    /// Does an attachment row (of a message, a reply or a draft) name the blob `key`? The
    /// orphan sweep removes only files for which this is false (SECURITY G2).
    pub async fn blob_is_referenced(&self, key: &str) -> Result<bool, StorageError> {
        let found: Option<(i64,)> = with_pool!(self, |pool| {
            sqlx::query_as(
            "SELECT CAST(1 AS BIGINT) FROM attachments a JOIN messages m ON m.id = a.message_id WHERE a.blob_key = $1 AND m.shredded_at IS NULL \
             UNION ALL SELECT CAST(1 AS BIGINT) FROM draft_attachments WHERE blob_key = $1 LIMIT 1"
        )
        .bind(key)
        .fetch_optional(pool)
        .await
        })?;
        Ok(found.is_some())
    }
}

/// The parts of thread `$1` sent to address `$2` through a link and not expired at `$3`.
pub(crate) const THREAD_FOR_ADDRESS: &str = "SELECT m.id, m.reference, COALESCE(m.outside_sender, u.display_name) AS sender_name, m.created_at, m.in_reply_to FROM messages m \
     JOIN users u ON u.id = m.sender_id WHERE m.thread_id = $1 AND m.expires_at > $3 AND EXISTS \
     (SELECT 1 FROM recipients r WHERE r.message_id = m.id AND r.address = $2 AND r.link_hash IS NOT NULL AND r.revoked_at IS NULL AND m.held_until IS NULL) \
     ORDER BY m.created_at, m.in_reply_to IS NOT NULL, m.id LIMIT 500";

#[derive(sqlx::FromRow)]
pub(crate) struct ThreadRow {
    id: String,
    reference: String,
    sender_name: String,
    created_at: i64,
    in_reply_to: Option<String>,
}
crate::sqlite_direct::sqlite_row!(ThreadRow {
    id,
    reference,
    sender_name,
    created_at,
    in_reply_to
});

impl Store {
    /// The parts of conversation `thread` that `user` may read (sent by them, or addressed to
    /// them and not withdrawn: the same rule as [`Store::message_for`]), oldest first.
    pub async fn thread_for(&self, user: UserId, thread: MessageId) -> Result<Vec<ThreadEntry>, StorageError> {
        let rows: Vec<ThreadRow> = with_pool!(self, |pool| {
            sqlx::query_as(
            "SELECT m.id, m.reference, COALESCE(m.outside_sender, u.display_name) AS sender_name, m.created_at, m.in_reply_to FROM messages m \
             JOIN users u ON u.id = m.sender_id WHERE m.thread_id = $1 AND (m.sender_id = $2 OR EXISTS \
             (SELECT 1 FROM recipients r WHERE r.message_id = m.id AND r.user_id = $2 AND r.revoked_at IS NULL AND m.held_until IS NULL)) \
             ORDER BY m.created_at, m.in_reply_to IS NOT NULL, m.id LIMIT 500"
        )
        .bind(thread.to_string())
        .bind(user.to_string())
        .fetch_all(pool)
        .await
        })?;
        rows.into_iter().map(ThreadEntry::try_from).collect()
    }

    /// The parts of conversation `thread` sent to the outside `address` through a link that
    /// still works (not withdrawn, not expired): what the partner's portal may list, oldest
    /// first. Parts between staff, and parts to anyone else, are not among them.
    pub async fn thread_for_address(
        &self,
        address: &EmailAddress,
        thread: MessageId,
        now_ms: i64,
    ) -> Result<Vec<ThreadEntry>, StorageError> {
        let rows: Vec<ThreadRow> = with_pool!(self, |pool| {
            sqlx::query_as(THREAD_FOR_ADDRESS)
                .bind(thread.to_string())
                .bind(address.as_str())
                .bind(now_ms)
                .fetch_all(pool)
                .await
        })?;
        rows.into_iter().map(ThreadEntry::try_from).collect()
    }
}

impl TryFrom<ThreadRow> for ThreadEntry {
    type Error = StorageError;

    fn try_from(r: ThreadRow) -> Result<Self, StorageError> {
        Ok(ThreadEntry {
            id: MessageId(parse_id(&r.id, "messages.id")?),
            reference: Reference::from_stored(r.reference),
            sender_name: r.sender_name,
            created_at_ms: r.created_at,
            in_reply_to: r
                .in_reply_to
                .map(|t| parse_id(&t, "messages.in_reply_to").map(MessageId))
                .transpose()?,
        })
    }
}
