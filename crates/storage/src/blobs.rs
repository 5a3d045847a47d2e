//! The blob store for sealed attachments, built on `object_store`: a local directory by default
//! (`file://…`), so S3-compatible storage can follow by URL. It only ever sees ciphertext.

use std::path::Path;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use object_store::buffered::{BufReader, BufWriter};
use object_store::local::LocalFileSystem;
use object_store::path::Path as ObjectPath;
use object_store::{ObjectStore, ObjectStoreExt};
use tokio::io::AsyncWrite;

use crate::StorageError;

/// Parts of a streamed upload are sent in pieces of this size, bounding memory per upload.
const PART_BYTES: usize = 1024 * 1024;

/// Where sealed attachment bytes live.
#[derive(Clone, Debug)]
pub struct BlobStore {
    store: Arc<dyn ObjectStore>,
}

/// A buffered reader of one stored object.
pub type BlobReader = BufReader;

/// A streaming upload. Shut it down to complete the object.
pub struct BlobWriter(BufWriter);

impl BlobStore {
    /// A store in a local directory (created if missing).
    pub fn local(dir: &Path) -> Result<Self, StorageError> {
        std::fs::create_dir_all(dir).map_err(|e| StorageError::Blob(e.to_string()))?;
        let fs = LocalFileSystem::new_with_prefix(dir).map_err(|e| StorageError::Blob(e.to_string()))?;
        Ok(Self { store: Arc::new(fs) })
    }

    /// A store from a URL. Only `file:///absolute/path` is supported for now.
    pub fn from_url(url: &str) -> Result<Self, StorageError> {
        match url.strip_prefix("file://") {
            Some(path) if path.starts_with('/') => Self::local(Path::new(path)),
            _ => Err(StorageError::Blob("blob store URL must be file:///absolute/path".into())),
        }
    }

    /// Starts writing the object `key`.
    pub fn writer(&self, key: &str) -> BlobWriter {
        BlobWriter(BufWriter::with_capacity(self.store.clone(), ObjectPath::from(key), PART_BYTES))
    }

    /// Reads the object `key` as a buffered stream.
    pub async fn reader(&self, key: &str) -> Result<BlobReader, StorageError> {
        let path = ObjectPath::from(key);
        let meta = self.store.head(&path).await.map_err(|e| StorageError::Blob(e.to_string()))?;
        Ok(BufReader::with_capacity(self.store.clone(), &meta, 64 * 1024))
    }

    /// Deletes the object `key` (missing is fine).
    pub async fn delete(&self, key: &str) -> Result<(), StorageError> {
        match self.store.delete(&ObjectPath::from(key)).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(StorageError::Blob(e.to_string())),
        }
    }
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
