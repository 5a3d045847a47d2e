//! Drafts: what a member of staff is still writing, saved every few seconds by the compose
//! page. A draft is its author's alone: anyone else gets 404 for it, as for one that does not
//! exist (SECURITY C1). Its fields are sealed with its own key like a message's, and its files
//! are streamed and sealed as they are uploaded, counted against the same limits as a send's;
//! sending the draft makes the message under the same id and key, so the files are never
//! sealed twice (see [`crate::app::send`]). Saving is lenient: a half-written message is
//! fine, and everything is checked when it is sent.

use std::sync::Arc;

use sealpost_crypto::MessageKey;
use sealpost_domain::api_drafts::{Draft, DraftContent, DraftId, DraftSaved, DraftSummary};
use sealpost_domain::api_messages::AttachmentInfo;
use sealpost_domain::{AttachmentId, MAX_EMAIL_LEN};
use sealpost_storage::{DraftWrite, FileLimits, NewDraft, SentDraft, StoredAttachment, UserRecord};
use uuid::Uuid;

use crate::app::disclosure::{draft_content, draft_files, draft_key, seal_draft};
use crate::app::uploads::{Form, Uploads};
use crate::error::AppError;
use crate::state::AppState;

/// The most drafts one person keeps at once.
pub const MAX_DRAFTS: u32 = 200;

/// A draft about to be sent: its key (the message's), what storage checks in the send's
/// transaction, and how much its files already take of the message's limits.
pub struct Sending {
    /// The draft's key, which the message keeps.
    pub key: Arc<MessageKey>,
    /// The draft and the files its author saw.
    pub draft: SentDraft,
    /// Its files' plaintext bytes.
    pub bytes: u64,
    /// Its files, as stored.
    pub files: Vec<StoredAttachment>,
}

/// The author's drafts, last saved first.
pub async fn list(state: &AppState, user: &UserRecord) -> Result<Vec<DraftSummary>, AppError> {
    let mut out = vec![];
    for d in state.store.drafts_of(user.id, i64::from(MAX_DRAFTS)).await? {
        let content = draft_content(&*draft_key(state, &d)?, &d)?;
        out.push(DraftSummary {
            id: d.id,
            recipients: content.to.into_iter().chain(content.cc).chain(content.bcc).collect(),
            subject: content.subject,
            attachments: u32::try_from(d.attachment_count).unwrap_or(u32::MAX),
            saved_at: d.updated_at_ms,
            held_until: d.held_until_ms,
        });
    }
    Ok(out)
}

/// One of the author's drafts, with its files.
pub async fn open(state: &AppState, user: &UserRecord, id: DraftId) -> Result<Draft, AppError> {
    let d = state.store.draft_for(user.id, id).await?.ok_or(AppError::NotFound)?;
    let key = draft_key(state, &d)?;
    let files = state.store.draft_files(id).await?;
    Ok(Draft {
        id,
        content: draft_content(&key, &d)?,
        attachments: draft_files(&key, &files)?,
        saved_at: d.updated_at_ms,
        held_until: d.held_until_ms,
    })
}

/// Starts a draft holding `content`.
pub async fn create(state: &AppState, user: &UserRecord, content: DraftContent) -> Result<DraftSaved, AppError> {
    create_held(state, user, content, None).await
}

/// Starts a draft holding `content`; with `held_until_ms`, mail from Outlook held for a
/// passphrase, discarded at that time unless sent (see [`crate::app::intake`]).
pub async fn create_held(
    state: &AppState,
    user: &UserRecord,
    content: DraftContent,
    held_until_ms: Option<i64>,
) -> Result<DraftSaved, AppError> {
    check(state, &content)?;
    let id = DraftId(Uuid::new_v4());
    let key = MessageKey::generate();
    let draft = NewDraft {
        id,
        owner: user.id,
        key: state.keyring.wrap(&key, id.0)?,
        content: seal_draft(&key, id, &content)?,
        held_until_ms,
    };
    let now = state.now_ms();
    match state.store.create_draft(&draft, now, MAX_DRAFTS).await? {
        DraftWrite::Done => Ok(DraftSaved { id, saved_at: now }),
        _ => Err(AppError::bad(
            "too_many_drafts",
            format!("You have {MAX_DRAFTS} drafts. Send or discard some in Drafts, then try again."),
        )),
    }
}

/// Replaces the fields of the author's draft `id` with `content`.
pub async fn save(state: &AppState, user: &UserRecord, id: DraftId, content: DraftContent) -> Result<DraftSaved, AppError> {
    check(state, &content)?;
    let d = state.store.draft_for(user.id, id).await?.ok_or(AppError::NotFound)?;
    let sealed = seal_draft(&*draft_key(state, &d)?, id, &content)?;
    let now = state.now_ms();
    match state.store.update_draft(user.id, id, &sealed, now).await? {
        DraftWrite::Done => Ok(DraftSaved { id, saved_at: now }),
        _ => Err(AppError::NotFound),
    }
}

/// Discards the author's draft `id` and its files.
pub async fn discard(state: &AppState, user: &UserRecord, id: DraftId) -> Result<(), AppError> {
    let blobs = state.store.discard_draft(user.id, id).await?.ok_or(AppError::NotFound)?;
    remove_blobs(state, blobs).await;
    Ok(())
}

/// Streams the files in `form` (parts named `attachment`) into the author's draft `id`; the
/// draft's files afterwards. The limits are a message's: checked as the bytes arrive, and
/// again, with files uploaded in parallel, when they are added.
pub async fn attach(state: &AppState, user: &UserRecord, id: DraftId, mut form: impl Form) -> Result<Vec<AttachmentInfo>, AppError> {
    let d = state.store.draft_for(user.id, id).await?.ok_or(AppError::NotFound)?;
    let key = draft_key(state, &d)?;
    let held = state.store.draft_files(id).await?;
    let mut uploads = Uploads::holding(state, held.len(), held.iter().map(|a| a.size).sum());
    let files = uploads.receive(&key, id.message(), &mut form).await?;
    let limits = FileLimits {
        count: state.limits.max_attachments,
        bytes: state.limits.max_message_bytes,
    };
    let added = state.store.add_draft_files(user.id, id, &files, limits, state.now_ms()).await;
    match uploads.settle(added.map_err(AppError::from), |w| *w == DraftWrite::Done)? {
        DraftWrite::Done => draft_files(&key, &state.store.draft_files(id).await?),
        DraftWrite::Gone => Err(AppError::NotFound),
        DraftWrite::Full => Err(AppError::TooLarge(format!(
            "A message can have at most {} attachments, {} MB in all.",
            state.limits.max_attachments,
            state.limits.max_message_bytes / (1024 * 1024)
        ))),
    }
}

/// Removes file `file` from the author's draft `id`.
pub async fn detach(state: &AppState, user: &UserRecord, id: DraftId, file: AttachmentId) -> Result<(), AppError> {
    let blob = state
        .store
        .remove_draft_file(user.id, id, file, state.now_ms())
        .await?
        .ok_or(AppError::NotFound)?;
    remove_blobs(state, vec![blob]).await;
    Ok(())
}

/// The author's draft `id`, about to be sent.
pub async fn for_sending(state: &AppState, user: &UserRecord, id: DraftId) -> Result<Sending, AppError> {
    let d = state.store.draft_for(user.id, id).await?.ok_or_else(|| AppError::Gone {
        code: "draft_gone",
        message: "This draft has already been sent or discarded (perhaps in another window). Nothing was sent; look in Sent and Drafts."
            .into(),
    })?;
    let files = state.store.draft_files(id).await?;
    Ok(Sending {
        key: draft_key(state, &d)?,
        bytes: files.iter().map(|a| a.size).sum(),
        draft: SentDraft {
            id,
            owner: user.id,
            files: files.iter().map(|a| a.id).collect(),
        },
        files,
    })
}

/// Bounds what a draft may hold: the send's limits on text, and on how many addresses and
/// files it names (a draft is checked in full only when it is sent).
fn check(state: &AppState, c: &DraftContent) -> Result<(), AppError> {
    let limits = state.limits;
    let addresses = c.to.iter().chain(&c.cc).chain(&c.bcc);
    if addresses.clone().count() > limits.max_recipients as usize {
        return Err(AppError::bad(
            "too_many_recipients",
            format!("A message can go to at most {} recipients, counting copies.", limits.max_recipients),
        ));
    }
    if let Some(long) = addresses.into_iter().find(|a| a.len() > MAX_EMAIL_LEN) {
        let start: String = long.chars().take(40).collect();
        return Err(AppError::bad(
            "invalid_recipient",
            format!("“{start}…” is too long to be an email address."),
        ));
    }
    if c.subject.len() > limits.max_subject_bytes as usize {
        return Err(AppError::bad(
            "subject_too_long",
            format!("The subject must be at most {} characters.", limits.max_subject_bytes),
        ));
    }
    if c.body.len() > limits.max_body_bytes as usize {
        return Err(AppError::bad(
            "body_too_long",
            format!("The message is too long: at most {} KiB of text.", limits.max_body_bytes / 1024),
        ));
    }
    if c.keep_attachments.len() > limits.max_attachments as usize {
        return Err(AppError::TooLarge(format!(
            "A message can have at most {} attachments.",
            limits.max_attachments
        )));
    }
    Ok(())
}

/// Deletes blobs whose rows are gone; one that cannot be deleted now is the orphan sweep's.
async fn remove_blobs(state: &AppState, keys: Vec<String>) {
    for key in keys {
        if let Err(e) = state.blobs.delete(&key).await {
            tracing::warn!(error = %e, "could not remove a draft's file; the orphan sweep will");
        }
    }
}
