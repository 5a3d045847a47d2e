//! Drafts: what a member of staff is still writing. Every query names the owner, so a draft is
//! found, changed or removed by its author alone (anyone else: as if it did not exist). Its
//! key, fields and file names arrive sealed; sending it is [`crate::Store::create_message`]
//! with [`crate::NewMessage::draft`] set, which adopts its files and removes it atomically.

use sealpost_crypto::{Sealed, WrappedKey};
use sealpost_domain::api_drafts::DraftId;
use sealpost_domain::{AttachmentId, UserId};

use crate::audit::begin_write;
use crate::decode::Ciphertext;
use crate::messages::parse_id;
use crate::{NewAttachment, StorageError, Store, StoredAttachment, with_pool};

/// A draft to create.
#[derive(Debug)]
pub struct NewDraft {
    /// Its id (bound into its ciphertexts, and the id of the message it becomes).
    pub id: DraftId,
    /// Its author.
    pub owner: UserId,
    /// Its key, wrapped to the master and escrow recipients.
    pub key: WrappedKey,
    /// Its fields, sealed.
    pub content: Sealed,
    /// Mail from Outlook held for a passphrase: when it is to be discarded unless sent (ms).
    pub held_until_ms: Option<i64>,
}

/// A stored draft, still sealed.
#[derive(Debug, Clone)]
pub struct StoredDraft {
    /// Its id.
    pub id: DraftId,
    /// Its wrapped key.
    pub key: Ciphertext,
    /// Its sealed fields.
    pub content: Ciphertext,
    /// Last saved (ms).
    pub updated_at_ms: i64,
    /// How many files it has.
    pub attachment_count: i64,
    /// For mail from Outlook held for a passphrase: when it is discarded unless sent (ms).
    pub held_until_ms: Option<i64>,
}

/// How a change to a draft went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DraftWrite {
    /// Written.
    Done,
    /// No such draft of this owner (never was, discarded, or sent meanwhile).
    Gone,
    /// Over a limit: the owner's number of drafts, or a draft's files.
    Full,
}

/// The limits on one draft's files, checked in the transaction that adds them.
#[derive(Debug, Clone, Copy)]
pub struct FileLimits {
    /// Files per draft.
    pub count: u32,
    /// Bytes per draft, all files together.
    pub bytes: u64,
}

/// The draft a message is sent from: checked and removed in the send's transaction.
#[derive(Debug, Clone)]
pub struct SentDraft {
    /// The draft (the message has the same id).
    pub id: DraftId,
    /// Its author, who must be the sender.
    pub owner: UserId,
    /// The draft's files as the sender saw them: if they changed meanwhile, nothing is sent.
    pub files: Vec<AttachmentId>,
}

#[derive(sqlx::FromRow)]
struct DraftRow {
    id: String,
    wrapped: Vec<u8>,
    content: Vec<u8>,
    updated_at: i64,
    held_until: Option<i64>,
    files: i64,
}

const DRAFT_SELECT: &str = "SELECT d.id, d.wrapped, d.content, d.updated_at, d.held_until, \
     (SELECT COUNT(*) FROM draft_attachments a WHERE a.draft_id = d.id) AS files FROM drafts d";

impl TryFrom<DraftRow> for StoredDraft {
    type Error = StorageError;

    fn try_from(r: DraftRow) -> Result<Self, StorageError> {
        Ok(StoredDraft {
            id: DraftId(parse_id(&r.id, "drafts.id")?),
            key: Ciphertext::from_stored(r.wrapped),
            content: Ciphertext::from_stored(r.content),
            updated_at_ms: r.updated_at,
            attachment_count: r.files,
            held_until_ms: r.held_until,
        })
    }
}

#[derive(sqlx::FromRow)]
struct DraftFileRow {
    id: String,
    name: Vec<u8>,
    size: i64,
    blob_key: String,
}

/// In write transaction `$tx`: marks draft `$draft` of `$owner` changed at `$now`, and so
/// (on PostgreSQL) takes its row lock, so an upload, a send and a discard of one draft take
/// turns; SQLite's write lock is already held. Evaluates to whether the draft is the owner's.
macro_rules! touch_draft {
    ($tx:ident, $draft:expr, $owner:expr, $now:expr) => {
        sqlx::query("UPDATE drafts SET updated_at = $1 WHERE id = $2 AND owner_id = $3")
            .bind($now)
            .bind($draft)
            .bind($owner)
            .execute(&mut *$tx)
            .await
            .map(|r| r.rows_affected() == 1)
    };
}
pub(crate) use touch_draft;

impl Store {
    /// Creates draft `d` at `now_ms`, unless its owner already has `max` drafts (then
    /// [`DraftWrite::Full`]). Parallel creations never pass the limit together.
    pub async fn create_draft(&self, d: &NewDraft, now_ms: i64, max: u32) -> Result<DraftWrite, StorageError> {
        let owner = d.owner.to_string();
        let inserted = crate::audit::insert_under_limit!(
            self,
            format!("drafts:{owner}"),
            "INSERT INTO drafts (id, owner_id, wrapped, content, created_at, updated_at, held_until) SELECT $1, $2, $3, $4, $5, $5, $7 \
             WHERE (SELECT COUNT(*) FROM drafts WHERE owner_id = $2) < $6",
            [
                d.id.to_string(),
                owner.clone(),
                d.key.as_bytes(),
                d.content.as_bytes(),
                now_ms,
                i64::from(max),
                d.held_until_ms
            ]
        )?;
        Ok(if inserted == 1 { DraftWrite::Done } else { DraftWrite::Full })
    }

    /// Replaces the fields of `owner`'s draft `id`.
    pub async fn update_draft(&self, owner: UserId, id: DraftId, content: &Sealed, now_ms: i64) -> Result<DraftWrite, StorageError> {
        let changed = with_pool!(self, |pool| sqlx::query(
            "UPDATE drafts SET content = $1, updated_at = $2 WHERE id = $3 AND owner_id = $4"
        )
        .bind(content.as_bytes())
        .bind(now_ms)
        .bind(id.to_string())
        .bind(owner.to_string())
        .execute(pool)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(if changed == 1 { DraftWrite::Done } else { DraftWrite::Gone })
    }

    /// Up to `limit` drafts held for a passphrase whose time ran out by `now_ms`, with their
    /// owners.
    pub async fn held_drafts_due(&self, now_ms: i64, limit: i64) -> Result<Vec<(DraftId, UserId)>, StorageError> {
        let rows: Vec<(String, String)> = with_pool!(self, |pool| sqlx::query_as(
            "SELECT id, owner_id FROM drafts WHERE held_until <= $1 ORDER BY held_until LIMIT $2"
        )
        .bind(now_ms)
        .bind(limit)
        .fetch_all(pool)
        .await)?;
        rows.into_iter()
            .map(|(id, owner)| Ok((DraftId(parse_id(&id, "drafts.id")?), UserId(parse_id(&owner, "drafts.owner_id")?))))
            .collect()
    }

    /// `owner`'s draft `id`, if it exists.
    pub async fn draft_for(&self, owner: UserId, id: DraftId) -> Result<Option<StoredDraft>, StorageError> {
        let sql = format!("{DRAFT_SELECT} WHERE d.id = $1 AND d.owner_id = $2");
        let row: Option<DraftRow> = with_pool!(self, |pool| sqlx::query_as(&sql)
            .bind(id.to_string())
            .bind(owner.to_string())
            .fetch_optional(pool)
            .await)?;
        row.map(StoredDraft::try_from).transpose()
    }

    /// `owner`'s drafts, last saved first.
    pub async fn drafts_of(&self, owner: UserId, limit: i64) -> Result<Vec<StoredDraft>, StorageError> {
        let sql = format!("{DRAFT_SELECT} WHERE d.owner_id = $1 ORDER BY d.updated_at DESC, d.id LIMIT $2");
        let rows: Vec<DraftRow> = with_pool!(self, |pool| sqlx::query_as(&sql)
            .bind(owner.to_string())
            .bind(limit)
            .fetch_all(pool)
            .await)?;
        rows.into_iter().map(StoredDraft::try_from).collect()
    }

    /// The files of draft `id`, in the order they were added. The caller has found the draft
    /// with [`Store::draft_for`], so it is its owner's.
    pub async fn draft_files(&self, id: DraftId) -> Result<Vec<StoredAttachment>, StorageError> {
        let rows: Vec<DraftFileRow> = with_pool!(self, |pool| sqlx::query_as(
            "SELECT id, name, size, blob_key FROM draft_attachments WHERE draft_id = $1 ORDER BY position, id"
        )
        .bind(id.to_string())
        .fetch_all(pool)
        .await)?;
        rows.into_iter()
            .map(|a| {
                Ok(StoredAttachment {
                    id: AttachmentId(parse_id(&a.id, "draft_attachments.id")?),
                    name: Ciphertext::from_stored(a.name),
                    size: u64::try_from(a.size).map_err(|_| StorageError::Corrupt("draft_attachments.size"))?,
                    blob_key: a.blob_key,
                    reply: None,
                })
            })
            .collect()
    }

    /// Adds `files` (already streamed into the blob store) to `owner`'s draft `id`, unless the
    /// draft is gone or they would take it over `limits`: checked in the transaction that adds
    /// them, so parallel uploads never pass the limits together.
    pub async fn add_draft_files(
        &self,
        owner: UserId,
        id: DraftId,
        files: &[NewAttachment],
        limits: FileLimits,
        now_ms: i64,
    ) -> Result<DraftWrite, StorageError> {
        let (draft, owner) = (id.to_string(), owner.to_string());
        with_pool!(self, |pool| {
            let mut tx = begin_write!(self, pool).await?;
            if !touch_draft!(tx, &draft, &owner, now_ms)? {
                return Ok(DraftWrite::Gone);
            }
            let (count, bytes, next): (i64, i64, i64) = sqlx::query_as(
                "SELECT COUNT(*), CAST(COALESCE(SUM(size), 0) AS BIGINT), COALESCE(MAX(position) + 1, 0) FROM draft_attachments WHERE draft_id = $1",
            )
            .bind(&draft)
            .fetch_one(&mut *tx)
            .await?;
            let adding: u64 = files.iter().map(|f| f.size).sum();
            let count_after = u64::try_from(count).unwrap_or(u64::MAX).saturating_add(files.len() as u64);
            let bytes_after = u64::try_from(bytes).unwrap_or(u64::MAX).saturating_add(adding);
            if count_after > u64::from(limits.count) || bytes_after > limits.bytes {
                return Ok(DraftWrite::Full);
            }
            for (i, a) in files.iter().enumerate() {
                sqlx::query("INSERT INTO draft_attachments (id, draft_id, position, name, size, blob_key) VALUES ($1, $2, $3, $4, $5, $6)")
                    .bind(a.id.to_string())
                    .bind(&draft)
                    .bind(next + i as i64)
                    .bind(a.name.as_bytes())
                    .bind(i64::try_from(a.size).unwrap_or(i64::MAX))
                    .bind(&a.blob_key)
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await?;
            Ok::<DraftWrite, StorageError>(DraftWrite::Done)
        })
    }

    /// Removes file `file` from `owner`'s draft `id`; the blob key it named (to delete), or
    /// `None` if there was no such file of that draft.
    pub async fn remove_draft_file(
        &self,
        owner: UserId,
        id: DraftId,
        file: AttachmentId,
        now_ms: i64,
    ) -> Result<Option<String>, StorageError> {
        let (draft, owner) = (id.to_string(), owner.to_string());
        with_pool!(self, |pool| {
            let mut tx = begin_write!(self, pool).await?;
            if !touch_draft!(tx, &draft, &owner, now_ms)? {
                return Ok(None);
            }
            let key: Option<(String,)> = sqlx::query_as("SELECT blob_key FROM draft_attachments WHERE id = $1 AND draft_id = $2")
                .bind(file.to_string())
                .bind(&draft)
                .fetch_optional(&mut *tx)
                .await?;
            if key.is_some() {
                sqlx::query("DELETE FROM draft_attachments WHERE id = $1")
                    .bind(file.to_string())
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await?;
            }
            Ok::<Option<String>, StorageError>(key.map(|(k,)| k))
        })
    }

    /// Discards `owner`'s draft `id` and its file rows; the blob keys they named (to delete),
    /// or `None` if there was no such draft (never was, or sent or discarded meanwhile).
    pub async fn discard_draft(&self, owner: UserId, id: DraftId) -> Result<Option<Vec<String>>, StorageError> {
        let (draft, owner) = (id.to_string(), owner.to_string());
        with_pool!(self, |pool| {
            let mut tx = begin_write!(self, pool).await?;
            let keys: Vec<(String,)> = sqlx::query_as("SELECT blob_key FROM draft_attachments WHERE draft_id = $1")
                .bind(&draft)
                .fetch_all(&mut *tx)
                .await?;
            let gone = sqlx::query("DELETE FROM drafts WHERE id = $1 AND owner_id = $2")
                .bind(&draft)
                .bind(&owner)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            if gone != 1 {
                return Ok(None);
            }
            tx.commit().await?;
            Ok::<Option<Vec<String>>, StorageError>(Some(keys.into_iter().map(|(k,)| k).collect()))
        })
    }
}

/// In the send's transaction `tx`: checks that draft `d` is still its owner's with exactly the
/// files the sender saw, moves those files to message `message` (from position 0, before the
/// files sent with the form, which start at the position this returns), and removes the draft.
/// `Ok(None)` if the draft is gone or its files changed: the caller rolls back.
macro_rules! adopt_draft {
    ($tx:ident, $d:expr, $message:expr, $now:expr) => {
        async {
            let d: &$crate::drafts::SentDraft = $d;
            let draft = d.id.to_string();
            if !$crate::drafts::touch_draft!($tx, &draft, d.owner.to_string(), $now)? {
                return Ok::<Option<i64>, $crate::StorageError>(None);
            }
            let rows: Vec<(String, i64)> = sqlx::query_as("SELECT id, position FROM draft_attachments WHERE draft_id = $1")
                .bind(&draft)
                .fetch_all(&mut *$tx)
                .await?;
            let mut held: Vec<String> = rows.iter().map(|(id, _)| id.clone()).collect();
            let mut seen: Vec<String> = d.files.iter().map(ToString::to_string).collect();
            held.sort();
            seen.sort();
            if held != seen {
                return Ok(None);
            }
            sqlx::query(
                "INSERT INTO attachments (id, message_id, reply_id, position, name, size, blob_key) \
                 SELECT id, $1, NULL, position, name, size, blob_key FROM draft_attachments WHERE draft_id = $2",
            )
            .bind($message)
            .bind(&draft)
            .execute(&mut *$tx)
            .await?;
            sqlx::query("DELETE FROM drafts WHERE id = $1")
                .bind(&draft)
                .execute(&mut *$tx)
                .await?;
            Ok(Some(rows.iter().map(|(_, p)| p + 1).max().unwrap_or(0)))
        }
    };
}
pub(crate) use adopt_draft;
