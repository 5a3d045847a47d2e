//! Multipart forms that carry a JSON part and files: used by a staff send and by a recipient's
//! reply. The JSON part comes first and is small; each file streams through age STREAM straight
//! into the blob store, counted against the D5 limits as it arrives and never held whole in
//! memory. Until the caller commits, dropping [`Uploads`] removes every blob it wrote, so a
//! refused or abandoned form leaves nothing behind. Its blobs are marked in flight meanwhile, so
//! the orphan sweep never takes a file a message is still being written for.
//!
//! A form is also refused (507) while the disk is nearly full, before anything is written and
//! again every few MiB, so the space that is left keeps the audit log, and so reads, working
//! (SECURITY G6). A disk that fills up anyway gives the same clean refusal.

use std::future::Future;

use bytes::Bytes;
use sealpost_checks::{ContentFindings, StreamScan, is_text_file};
use sealpost_crypto::{Binding, MessageKey, ObjectKind};
use sealpost_domain::{AttachmentId, MessageId, sanitise_file_name};
use sealpost_mail::html::CleanHtml;
use sealpost_storage::NewAttachment;
use serde::de::DeserializeOwned;
use uuid::Uuid;

use tokio::io::AsyncReadExt;

use crate::app::disclosure::Download;
use crate::error::AppError;
use crate::state::AppState;

/// A form as it arrives, read a part at a time: what a send or a reply is given, whatever
/// carried it (`routes/` adapts HTTP multipart to it). Errors are already the person's.
pub trait Form: Send {
    /// One part being read.
    type Part<'a>: FormPart
    where
        Self: 'a;

    /// The next part, or `None` at the end of the form.
    fn next_part(&mut self) -> impl Future<Output = Result<Option<Self::Part<'_>>, AppError>> + Send;

    /// The message's HTML body, cleaned: only mail taken in from Outlook has one. A browser's
    /// form never does (Sealpost's own messages are text).
    fn html(&mut self) -> Option<CleanHtml> {
        None
    }
}

/// One part of a [`Form`]: its name, the file name it came with, and its bytes a chunk at a time.
pub trait FormPart: Send {
    /// The part's name (`message`, `reply`, `attachment`).
    fn name(&self) -> Option<&str>;
    /// The file name the sender's browser gave, unsanitised.
    fn file_name(&self) -> Option<&str>;
    /// The next chunk of bytes, or `None` at the end of the part.
    fn chunk(&mut self) -> impl Future<Output = Result<Option<Bytes>, AppError>> + Send;
}

/// The JSON part may be at most this large.
const MAX_JSON_PART: usize = 2 * 1024 * 1024;

/// How often, in bytes streamed, an upload looks at the free space again.
const ROOM_CHECK_BYTES: u64 = 4 * 1024 * 1024;

/// Refuses a write while the data directory, the SQLite database's directory or the blob store
/// has less free space than the reserve.
pub fn ensure_room(state: &AppState) -> Result<(), AppError> {
    let reserve = u64::from(state.settings.min_free_mib) * 1024 * 1024;
    let database_dir = state
        .settings
        .sqlite_file()
        .and_then(|f| f.parent().map(std::path::Path::to_path_buf));
    let free = [
        sealpost_storage::free_bytes(&state.settings.data_dir),
        database_dir.and_then(|d| sealpost_storage::free_bytes(&d)),
        state.blobs.free_bytes(),
    ];
    if free.into_iter().flatten().any(|bytes| bytes < reserve) {
        return Err(AppError::DiskFull);
    }
    Ok(())
}

/// A failed write of sealed bytes: a full disk is the person's clean refusal, a bucket that
/// does not answer is a 503 to try again later, anything else is ours.
fn write_error(e: std::io::Error, remote: bool) -> AppError {
    crate::metrics::blob_error();
    if sealpost_storage::is_disk_full(&e) {
        AppError::DiskFull
    } else if remote && sealpost_storage::is_unavailable(&e) {
        AppError::Unavailable(sealpost_storage::StorageError::BlobUnavailable(e.to_string()))
    } else {
        AppError::Internal(e.into())
    }
}

/// Reads the form's first part, which must be named `name`, as JSON.
pub async fn json_part<T: DeserializeOwned>(form: &mut impl Form, name: &'static str) -> Result<T, AppError> {
    let missing = || AppError::bad("missing_message", format!("The first part of the form must be the {name}."));
    let first = form.next_part().await?.ok_or_else(missing)?;
    if first.name() != Some(name) {
        return Err(missing());
    }
    let json = read_small(first, MAX_JSON_PART).await?;
    // serde's message names the field at fault, e.g. "unknown field `reply_to`": a client that sends
    // a field we do not have must hear so, not have it silently dropped.
    serde_json::from_slice(&json).map_err(|e| AppError::bad("invalid_message", format!("The {name} part is not valid: {e}.")))
}

/// The blobs written for one form. Dropped without [`Uploads::keep`], it deletes them.
pub struct Uploads {
    state: AppState,
    started: Vec<String>,
    /// Files the message already has (a draft's), counted against the per-message limit.
    held: usize,
    /// Plaintext bytes written so far, and held, counted against the per-message limit.
    total: u64,
    /// What the text files written held, when they are read for the content checks (see
    /// [`Uploads::scan_text`]).
    found: Option<ContentFindings>,
}

impl Uploads {
    /// Nothing written yet.
    pub fn new(state: &AppState) -> Self {
        Self::holding(state, 0, 0)
    }

    /// Nothing written yet, for a message that already has `files` files of `bytes` bytes in
    /// all (a draft's): what is written counts against the limits on top of them.
    pub fn holding(state: &AppState, files: usize, bytes: u64) -> Self {
        Self {
            state: state.clone(),
            started: vec![],
            held: files,
            total: bytes,
            found: None,
        }
    }

    /// Reads each text file (see [`is_text_file`]) for the content checks as it is written.
    pub fn scan_text(&mut self) {
        self.found.get_or_insert_default();
    }

    /// What the text files written so far held (nothing unless [`Uploads::scan_text`]).
    pub fn found(&self) -> ContentFindings {
        self.found.unwrap_or_default()
    }

    /// Streams every remaining `attachment` part of `form` through `key` into the blob store,
    /// under `message`, enforcing the per-file, per-form and count limits.
    pub async fn receive(&mut self, key: &MessageKey, message: MessageId, form: &mut impl Form) -> Result<Vec<NewAttachment>, AppError> {
        ensure_room(&self.state)?;
        let mut done = vec![];
        while let Some(field) = form.next_part().await? {
            if field.name() != Some("attachment") {
                return Err(AppError::bad("unexpected_part", "The form has a part this server does not accept."));
            }
            done.push(self.seal_one(key, message, field).await?);
        }
        Ok(done)
    }

    /// Seals each of `files` (opened from another message: forwarded, or kept in an answer)
    /// again with `key`, streamed, under `message`: they count against the same limits as
    /// files uploaded with the form, which follow them.
    pub async fn carry(&mut self, key: &MessageKey, message: MessageId, files: Vec<Download>) -> Result<Vec<NewAttachment>, AppError> {
        ensure_room(&self.state)?;
        let mut done = vec![];
        for file in files {
            done.push(self.seal_one(key, message, Carried(file)).await?);
        }
        Ok(done)
    }

    /// The form's rows are committed: its blobs stay.
    pub fn keep(mut self) {
        self.forget_in_flight();
        self.started.clear();
    }

    /// Settles the blobs after the commit that needed them. Committed (as `committed` judges
    /// the result): they stay. The database gone mid-commit: the rows may exist after all, so
    /// the blobs stay and the orphan sweep judges them later. Anything else: they go.
    pub fn settle<T>(self, result: Result<T, AppError>, committed: impl Fn(&T) -> bool) -> Result<T, AppError> {
        match &result {
            Ok(value) if committed(value) => self.keep(),
            Err(AppError::Unavailable(_)) => self.keep(),
            _ => drop(self),
        }
        result
    }

    fn forget_in_flight(&self) {
        if let Ok(mut in_flight) = self.state.uploads_in_flight.lock() {
            for key in &self.started {
                in_flight.remove(key);
            }
        }
    }

    /// Seals the file in `field` as a new attachment of `message`, enforcing the per-file,
    /// per-message and count limits and the block list.
    async fn seal_one(&mut self, key: &MessageKey, message: MessageId, mut field: impl FormPart) -> Result<NewAttachment, AppError> {
        let name = sanitise_file_name(field.file_name().unwrap_or("attachment"));
        refuse_blocked_type(&self.state, &name)?;
        let limits = self.state.limits;
        if self.held + self.started.len() >= limits.max_attachments as usize {
            return Err(AppError::TooLarge(format!(
                "A message can have at most {} attachments.",
                limits.max_attachments
            )));
        }
        let id = AttachmentId(Uuid::new_v4());
        let blob_key = format!("attachments/{message}/{id}");
        self.started.push(blob_key.clone());
        if let Ok(mut in_flight) = self.state.uploads_in_flight.lock() {
            in_flight.insert(blob_key.clone());
        }
        let binding = Binding::new(ObjectKind::Attachment, id.0);
        let mut sealer = self.state.blobs.sealed_writer(&blob_key, key, binding).await?;
        let remote = self.state.blobs.is_remote();
        let keywords = (self.found.is_some() && is_text_file(&name)).then(|| self.state.settings.check_keywords.clone());
        let mut scanner = keywords.as_ref().map(StreamScan::new);
        while let Some(chunk) = field.chunk().await? {
            self.total += chunk.len() as u64;
            if sealer.written() + chunk.len() as u64 > limits.max_attachment_bytes {
                let mb = limits.max_attachment_bytes / (1024 * 1024);
                return Err(AppError::TooLarge(format!(
                    "“{name}” is larger than the {mb} MB limit for one file."
                )));
            }
            if self.total > limits.max_message_bytes {
                let mb = limits.max_message_bytes / (1024 * 1024);
                return Err(AppError::TooLarge(format!(
                    "The attachments add up to more than the {mb} MB limit for one message."
                )));
            }
            if (sealer.written() + chunk.len() as u64) / ROOM_CHECK_BYTES > sealer.written() / ROOM_CHECK_BYTES {
                ensure_room(&self.state)?;
            }
            if let Some(s) = scanner.as_mut() {
                s.feed(&chunk);
            }
            sealer.write(&chunk).await.map_err(|e| write_error(e, remote))?;
        }
        if let (Some(s), Some(found)) = (scanner, self.found.as_mut()) {
            *found = found.and(s.finish());
        }
        let size = sealer.written();
        sealer.finish().await.map_err(|e| write_error(e, remote))?;
        Ok(NewAttachment {
            id,
            name: key.seal(Binding::new(ObjectKind::AttachmentName, id.0), name.as_bytes())?,
            size,
            blob_key,
        })
    }
}

/// A file opened from another message, read as if it were a form's file part.
struct Carried(Download);

impl FormPart for Carried {
    fn name(&self) -> Option<&str> {
        Some("attachment")
    }

    fn file_name(&self) -> Option<&str> {
        Some(&self.0.name)
    }

    async fn chunk(&mut self) -> Result<Option<Bytes>, AppError> {
        let mut buffer = vec![0u8; 64 * 1024];
        let n = self.0.reader.read(&mut buffer).await.map_err(|e| AppError::Internal(e.into()))?;
        buffer.truncate(n);
        Ok((n > 0).then(|| Bytes::from(buffer)))
    }
}

/// Refuses a file whose ending is on the block list (programs and scripts), before any of it
/// is stored: what comes after the last dot decides, so `report.pdf.exe` is an `.exe`.
fn refuse_blocked_type(state: &AppState, name: &str) -> Result<(), AppError> {
    let Some((_, ending)) = name.rsplit_once('.') else { return Ok(()) };
    let ending = ending.trim().to_lowercase();
    if state.settings.blocked_file_types.contains(&ending) {
        return Err(AppError::bad(
            "blocked_file_type",
            format!(
                "“{name}” can't be sent: .{ending} files can run programs when opened. If the recipient needs it, put it in a zip file or ask IT."
            ),
        ));
    }
    Ok(())
}

impl Drop for Uploads {
    fn drop(&mut self) {
        if self.started.is_empty() {
            return;
        }
        self.forget_in_flight();
        let (state, keys) = (self.state.clone(), std::mem::take(&mut self.started));
        tokio::spawn(async move {
            for key in keys {
                if let Err(e) = state.blobs.delete(&key).await {
                    tracing::warn!(error = %e, "could not remove an abandoned upload");
                }
            }
        });
    }
}

async fn read_small(mut field: impl FormPart, max: usize) -> Result<Vec<u8>, AppError> {
    let mut out = vec![];
    while let Some(chunk) = field.chunk().await? {
        if out.len() + chunk.len() > max {
            return Err(AppError::TooLarge("The message text is too large.".into()));
        }
        out.extend_from_slice(&chunk);
    }
    Ok(out)
}
