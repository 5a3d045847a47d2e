//! The blob store for sealed attachments, built on `object_store`: a local directory by default
//! (`file://…`), so S3-compatible storage can follow by URL. It only ever sees ciphertext.
//!
//! For the local directory it also answers how much room is left (SECURITY G6) and lists the
//! files on disk, unfinished uploads included, for the orphan sweep (G2).

use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::SystemTime;

use object_store::buffered::{BufReader, BufWriter};
use object_store::local::LocalFileSystem;
use object_store::path::Path as ObjectPath;
use object_store::{ObjectStore, ObjectStoreExt};
use tokio::io::AsyncWrite;

use sealpost_crypto::{Binding, MessageKey, SealingWriter};

use crate::StorageError;

/// Parts of a streamed upload are sent in pieces of this size, bounding memory per upload.
const PART_BYTES: usize = 1024 * 1024;

/// Where sealed attachment bytes live.
#[derive(Clone, Debug)]
pub struct BlobStore {
    store: Arc<dyn ObjectStore>,
    /// The directory, for a local store.
    root: Option<PathBuf>,
}

/// One file of the local blob store, as found on disk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlobFile {
    /// The object key it holds or was being written as (`attachments/<message>/<id>`).
    pub key: String,
    /// An upload that never completed (a staging file): never referenced by a row.
    pub partial: bool,
    path: PathBuf,
}

/// A buffered reader of one stored object.
pub type BlobReader = BufReader;

/// A streaming upload of ciphertext, only ever inside a [`SealingWriter`].
pub struct BlobWriter(BufWriter);

impl BlobStore {
    /// A store in a local directory (created if missing).
    pub fn local(dir: &Path) -> Result<Self, StorageError> {
        std::fs::create_dir_all(dir).map_err(|e| StorageError::Blob(e.to_string()))?;
        let fs = LocalFileSystem::new_with_prefix(dir).map_err(|e| StorageError::Blob(e.to_string()))?;
        Ok(Self {
            store: Arc::new(fs),
            root: Some(dir.to_path_buf()),
        })
    }

    /// A store from a URL. Only `file:///absolute/path` is supported for now.
    pub fn from_url(url: &str) -> Result<Self, StorageError> {
        match url.strip_prefix("file://") {
            Some(path) if path.starts_with('/') => Self::local(Path::new(path)),
            _ => Err(StorageError::Blob("blob store URL must be file:///absolute/path".into())),
        }
    }

    /// Starts writing the object `key`, sealed with `message_key` as `binding`: the store takes
    /// nothing but ciphertext (there is no plain writer). Finish the writer to complete the
    /// object; one never finished leaves only a staging file for the orphan sweep.
    pub async fn sealed_writer(
        &self,
        key: &str,
        message_key: &MessageKey,
        binding: Binding,
    ) -> Result<SealingWriter<BlobWriter>, StorageError> {
        let out = BlobWriter(BufWriter::with_capacity(self.store.clone(), ObjectPath::from(key), PART_BYTES));
        message_key
            .seal_stream(binding, out)
            .await
            .map_err(|e| StorageError::Blob(e.to_string()))
    }

    /// Reads the object `key` as a buffered stream.
    pub async fn reader(&self, key: &str) -> Result<BlobReader, StorageError> {
        let path = ObjectPath::from(key);
        let meta = self.store.head(&path).await.map_err(|e| StorageError::Blob(e.to_string()))?;
        // Each refill is one ranged read of the object: a MiB at a time, not 64 KiB.
        Ok(BufReader::with_capacity(self.store.clone(), &meta, PART_BYTES))
    }

    /// Deletes the object `key` (missing is fine).
    pub async fn delete(&self, key: &str) -> Result<(), StorageError> {
        match self.store.delete(&ObjectPath::from(key)).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(StorageError::Blob(e.to_string())),
        }
    }
}

impl BlobStore {
    /// Bytes free to unprivileged writers on the file system holding a local store (`None` for
    /// other stores).
    pub fn free_bytes(&self) -> Option<u64> {
        self.root.as_deref().and_then(free_bytes)
    }

    /// Every file under `prefix` last modified before `cutoff`, finished or not (local stores;
    /// empty for others). Staging files of unfinished uploads are named `<key>#<n>`.
    pub async fn files_modified_before(&self, prefix: &str, cutoff: SystemTime) -> Result<Vec<BlobFile>, StorageError> {
        let Some(root) = self.root.clone() else { return Ok(vec![]) };
        let prefix = prefix.to_owned();
        tokio::task::spawn_blocking(move || {
            let mut found = vec![];
            walk(&root, &root.join(&prefix), cutoff, &mut found)?;
            Ok(found)
        })
        .await
        .map_err(|e| StorageError::Blob(e.to_string()))?
        .map_err(|e: std::io::Error| StorageError::Blob(e.to_string()))
    }

    /// Removes one file found by [`BlobStore::files_modified_before`] (missing is fine).
    pub async fn remove_file(&self, file: &BlobFile) -> Result<(), StorageError> {
        match tokio::fs::remove_file(&file.path).await {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(StorageError::Blob(e.to_string())),
        }
    }
}

/// Bytes available to unprivileged writers on the file system holding `path`.
pub fn free_bytes(path: &Path) -> Option<u64> {
    let stat = rustix::fs::statvfs(path).ok()?;
    Some(stat.f_bavail.saturating_mul(stat.f_frsize))
}

/// Is this I/O error, or anything it wraps, a full disk (`ENOSPC`, `EDQUOT`)?
pub fn is_disk_full(error: &(dyn std::error::Error + 'static)) -> bool {
    let mut next = Some(error);
    while let Some(e) = next {
        if let Some(io) = e.downcast_ref::<std::io::Error>() {
            // ENOSPC is 28 and EDQUOT 122 on Linux.
            if io.kind() == std::io::ErrorKind::StorageFull || matches!(io.raw_os_error(), Some(28 | 122)) {
                return true;
            }
            // object_store wraps the file system's error inside its own, inside an io::Error.
            if let Some(inner) = io.get_ref()
                && is_disk_full(inner)
            {
                return true;
            }
        }
        next = e.source();
    }
    false
}

fn walk(root: &Path, dir: &Path, cutoff: SystemTime, found: &mut Vec<BlobFile>) -> std::io::Result<()> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e),
    };
    for entry in entries {
        let entry = entry?;
        // An upload finishing (renamed) or abandoned (removed) mid-walk is simply not found.
        let meta = match entry.metadata() {
            Ok(meta) => meta,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => return Err(e),
        };
        let path = entry.path();
        if meta.is_dir() {
            walk(root, &path, cutoff, found)?;
        } else if meta.modified()? < cutoff {
            let relative = path.strip_prefix(root).map_err(std::io::Error::other)?;
            let Some(relative) = relative.to_str() else { continue };
            let (key, partial) = match relative.split_once('#') {
                Some((key, _)) => (key.to_owned(), true),
                None => (relative.to_owned(), false),
            };
            found.push(BlobFile { key, partial, path });
        }
    }
    Ok(())
}

impl AsyncWrite for BlobWriter {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.0).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.0).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.0).poll_shutdown(cx)
    }
}

/// An exclusive lock on a file, held until dropped: `sealpost serve` takes one on its data
/// directory, so it knows whether another server shares its files.
#[derive(Debug)]
pub struct DirectoryLock(#[allow(dead_code)] std::fs::File);

impl DirectoryLock {
    /// Takes the lock on `path` (created if missing), or `None` if another process holds it.
    pub fn try_take(path: &Path) -> std::io::Result<Option<Self>> {
        let file = std::fs::OpenOptions::new().create(true).truncate(false).write(true).open(path)?;
        match rustix::fs::flock(&file, rustix::fs::FlockOperation::NonBlockingLockExclusive) {
            Ok(()) => Ok(Some(Self(file))),
            Err(e) if e == rustix::io::Errno::WOULDBLOCK => Ok(None),
            Err(e) => Err(e.into()),
        }
    }
}
