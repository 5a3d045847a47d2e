//! The blob store for sealed attachments, built on `object_store`: a local directory by default
//! (`file://…`), or an S3 bucket (`s3://bucket/prefix`, issue 21). It only ever sees ciphertext.
//!
//! For the local directory it also answers how much room is left (SECURITY G6). For the orphan
//! sweep (G2) it lists old objects: on disk, unfinished uploads included; in a bucket, finished
//! objects only (S3 cannot list unfinished multipart uploads through `object_store`: a bucket
//! lifecycle rule `AbortIncompleteMultipartUpload` removes those, see the README).

use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, SystemTime};

use futures::{StreamExt, TryStreamExt};
use object_store::aws::AmazonS3Builder;
use object_store::buffered::{BufReader, BufWriter};
use object_store::local::LocalFileSystem;
use object_store::path::Path as ObjectPath;
use object_store::prefix::PrefixStore;
use object_store::{ClientOptions, GetOptions, ObjectStore, ObjectStoreExt, RetryConfig};
use tokio::io::AsyncWrite;

use sealpost_crypto::{Binding, MessageKey, SealingWriter};

use crate::StorageError;

/// Parts of a streamed upload to a local directory are written in pieces of this size, and
/// reads are refilled this much at a time, bounding memory per transfer.
const PART_BYTES: usize = 1024 * 1024;
/// Parts of a multipart upload to S3: the smallest part S3 accepts (all but the last).
const S3_PART_BYTES: usize = 5 * 1024 * 1024;
/// Parts of one upload in flight to S3 at once: memory per upload stays near
/// `S3_PART_BYTES × (S3_PARTS_IN_FLIGHT + 1)`, 15 MiB, whatever the file's size.
const S3_PARTS_IN_FLIGHT: usize = 2;
/// How long the readiness probe waits for the store to answer.
const PING_TIMEOUT: Duration = Duration::from_secs(3);

/// Where sealed attachment bytes live.
#[derive(Clone, Debug)]
pub struct BlobStore {
    store: Arc<dyn ObjectStore>,
    /// The directory, for a local store.
    root: Option<PathBuf>,
    /// Bytes per upload part.
    part_bytes: usize,
    /// Parts of one upload in flight at once.
    parts_in_flight: usize,
}

/// What a bucket needs beyond the standard `AWS_…` variables.
#[derive(Clone, Default)]
pub struct S3Options {
    /// An S3-compatible server instead of AWS (`SEALPOST_S3_ENDPOINT`): path-style requests,
    /// and plain `http://` allowed for one on the same host or network.
    pub endpoint: Option<String>,
    /// An access key id and its secret, in place of `AWS_ACCESS_KEY_ID` and
    /// `AWS_SECRET_ACCESS_KEY`.
    pub keys: Option<(String, String)>,
}

impl std::fmt::Debug for S3Options {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("S3Options")
            .field("endpoint", &self.endpoint)
            .field("keys", &self.keys.as_ref().map(|_| "[redacted]"))
            .finish()
    }
}

/// One stored object, or a local upload's staging file, as found by
/// [`BlobStore::files_modified_before`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlobFile {
    /// The object key it holds or was being written as (`attachments/<message>/<id>`).
    pub key: String,
    /// An upload that never completed (a staging file): never referenced by a row.
    pub partial: bool,
    /// The file on disk, for a local store; `None` for an object in a bucket.
    path: Option<PathBuf>,
}

/// A buffered reader of one stored object.
pub type BlobReader = Pin<Box<dyn tokio::io::AsyncBufRead + Send>>;

/// Ranges of an object in a bucket fetched ahead of the one being read: a download waits on
/// the network once, not once a range. Memory per download stays within
/// `S3_PART_BYTES × (S3_RANGES_AHEAD + 2)`, 20 MiB.
const S3_RANGES_AHEAD: usize = 2;

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
            part_bytes: PART_BYTES,
            parts_in_flight: 8,
        })
    }

    /// A store from a URL: `file:///absolute/path`, or `s3://bucket` with an optional
    /// `/prefix`. A bucket is configured by the standard `AWS_…` variables (keys, region,
    /// session token), and then by `s3` where it says more.
    pub fn from_url(url: &str, s3: &S3Options) -> Result<Self, StorageError> {
        if let Some(path) = url.strip_prefix("file://") {
            if path.starts_with('/') {
                return Self::local(Path::new(path));
            }
        } else if let Some(rest) = url.strip_prefix("s3://") {
            let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
            if !bucket.is_empty() {
                return Self::s3(bucket, prefix.trim_matches('/'), s3);
            }
        }
        Err(StorageError::Blob(
            "the blob store URL must be file:///absolute/path or s3://bucket/prefix".into(),
        ))
    }

    fn s3(bucket: &str, prefix: &str, options: &S3Options) -> Result<Self, StorageError> {
        // reqwest's TLS takes the process's rustls provider: the tree's ring (no aws-lc).
        let _ = rustls::crypto::ring::default_provider().install_default();
        // A request that fails is tried again for at most 15 s, not object_store's 3 minutes:
        // a person is waiting on most of them.
        let retry = RetryConfig {
            max_retries: 4,
            retry_timeout: Duration::from_secs(15),
            ..RetryConfig::default()
        };
        // A request that hangs is given up after 30 s (a 5 MiB part at 1.4 Mbit/s).
        let client = ClientOptions::new()
            .with_connect_timeout(Duration::from_secs(5))
            .with_timeout(Duration::from_secs(30));
        let mut builder = AmazonS3Builder::from_env()
            .with_bucket_name(bucket)
            .with_retry(retry)
            .with_client_options(client);
        if let Some(endpoint) = options.endpoint.as_deref().map(str::trim).filter(|e| !e.is_empty()) {
            builder = builder
                .with_endpoint(endpoint)
                .with_virtual_hosted_style_request(false)
                .with_allow_http(endpoint.starts_with("http://"));
        }
        if let Some((id, secret)) = &options.keys {
            builder = builder.with_access_key_id(id).with_secret_access_key(secret);
        }
        let s3 = builder.build().map_err(|e| StorageError::Blob(e.to_string()))?;
        let store: Arc<dyn ObjectStore> = if prefix.is_empty() {
            Arc::new(s3)
        } else {
            Arc::new(PrefixStore::new(s3, prefix))
        };
        Ok(Self {
            store,
            root: None,
            part_bytes: S3_PART_BYTES,
            parts_in_flight: S3_PARTS_IN_FLIGHT,
        })
    }

    /// Whether the store answers: the local directory exists, or the bucket answers a lookup
    /// (of an object that need not exist) within a few seconds.
    pub async fn ping(&self) -> Result<(), StorageError> {
        if let Some(root) = &self.root {
            return match tokio::fs::metadata(root).await {
                Ok(meta) if meta.is_dir() => Ok(()),
                Ok(_) => Err(StorageError::Blob("the blob directory is not a directory".into())),
                Err(e) => Err(StorageError::Blob(e.to_string())),
            };
        }
        let probe = ObjectPath::from("readyz-probe");
        match tokio::time::timeout(PING_TIMEOUT, self.store.head(&probe)).await {
            Ok(Ok(_) | Err(object_store::Error::NotFound { .. })) => Ok(()),
            Ok(Err(e)) => Err(self.failed(e)),
            Err(_) => Err(StorageError::BlobUnavailable("the blob store did not answer in time".into())),
        }
    }

    /// Is this a bucket rather than a local directory?
    pub fn is_remote(&self) -> bool {
        self.root.is_none()
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
        let out =
            BufWriter::with_capacity(self.store.clone(), ObjectPath::from(key), self.part_bytes).with_max_concurrency(self.parts_in_flight);
        let out = BlobWriter(out);
        message_key
            .seal_stream(binding, out)
            .await
            .map_err(|e| StorageError::Blob(e.to_string()))
    }

    /// Reads the object `key` as a buffered stream.
    pub async fn reader(&self, key: &str) -> Result<BlobReader, StorageError> {
        let path = ObjectPath::from(key);
        let meta = self.store.head(&path).await.map_err(|e| self.failed(e))?;
        if self.root.is_some() {
            // Each refill is one read of the file: a MiB at a time, not 64 KiB.
            return Ok(Box::pin(BufReader::with_capacity(self.store.clone(), &meta, PART_BYTES)));
        }
        // A bucket: one ranged GET a part, each read whole by a task of its own as soon as it
        // starts (so a slow reader never holds a request open past the client's timeout), the
        // next ones fetched while this one is read. A reader dropped early stops its fetches.
        let (store, size, part) = (self.store.clone(), meta.size, self.part_bytes as u64);
        let ranges = (0..size).step_by(self.part_bytes).map(move |start| start..(start + part).min(size));
        let parts = futures::stream::iter(ranges)
            .map(move |range| {
                let (store, path) = (store.clone(), path.clone());
                let expected = range.end - range.start;
                tokio_util::task::AbortOnDropHandle::new(tokio::spawn(async move {
                    let got = store.get_opts(&path, GetOptions::new().with_range(Some(range))).await?;
                    let bytes = got.bytes().await?;
                    if bytes.len() as u64 != expected {
                        return Err(std::io::Error::other("the blob store returned a range of the wrong length"));
                    }
                    Ok(bytes)
                }))
            })
            .buffered(S3_RANGES_AHEAD + 1)
            .map(|joined| {
                joined
                    .map_err(std::io::Error::other)
                    .and_then(|fetched: std::io::Result<bytes::Bytes>| fetched)
            });
        Ok(Box::pin(tokio_util::io::StreamReader::new(parts)))
    }

    /// Deletes the object `key` (missing is fine).
    pub async fn delete(&self, key: &str) -> Result<(), StorageError> {
        match self.store.delete(&ObjectPath::from(key)).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(self.failed(e)),
        }
    }

    /// A failure of the store as a storage error: a bucket that does not answer (a network or
    /// server error, after the retries) is unavailable, which a person may try again later.
    fn failed(&self, e: object_store::Error) -> StorageError {
        match e {
            object_store::Error::Generic { .. } if self.is_remote() => StorageError::BlobUnavailable(e.to_string()),
            e => StorageError::Blob(e.to_string()),
        }
    }
}

impl BlobStore {
    /// Bytes free to unprivileged writers on the file system holding a local store (`None` for
    /// other stores).
    pub fn free_bytes(&self) -> Option<u64> {
        self.root.as_deref().and_then(free_bytes)
    }

    /// Every object under `prefix` last modified before `cutoff`. In a local directory that
    /// includes unfinished uploads (staging files named `<key>#<n>`, `partial`); a bucket
    /// lists finished objects only.
    pub async fn files_modified_before(&self, prefix: &str, cutoff: SystemTime) -> Result<Vec<BlobFile>, StorageError> {
        let Some(root) = self.root.clone() else {
            let listed: Vec<_> = self
                .store
                .list(Some(&ObjectPath::from(prefix)))
                .try_collect()
                .await
                .map_err(|e| self.failed(e))?;
            return Ok(listed
                .into_iter()
                .filter(|meta| SystemTime::from(meta.last_modified) < cutoff)
                .map(|meta| BlobFile {
                    key: meta.location.to_string(),
                    partial: false,
                    path: None,
                })
                .collect());
        };
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
        let Some(path) = &file.path else {
            return self.delete(&file.key).await;
        };
        match tokio::fs::remove_file(path).await {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(StorageError::Blob(e.to_string())),
        }
    }
}

/// Is this I/O error, or anything it wraps, a bucket that did not answer (a network or server
/// error, after the retries) rather than a refusal (wrong keys, a missing object)?
pub fn is_unavailable(error: &(dyn std::error::Error + 'static)) -> bool {
    let mut next = Some(error);
    while let Some(e) = next {
        if let Some(object_store::Error::Generic { .. }) = e.downcast_ref::<object_store::Error>() {
            return true;
        }
        if let Some(io) = e.downcast_ref::<std::io::Error>()
            && let Some(inner) = io.get_ref()
            && is_unavailable(inner)
        {
            return true;
        }
        next = e.source();
    }
    false
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
            found.push(BlobFile {
                key,
                partial,
                path: Some(path),
            });
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
