//! Streaming seal and open for attachments (ARCHITECTURE: "streamed through age's STREAM
//! encryption, never held wholly in memory"). The plaintext starts with the same binding line
//! as small sealed values (SECURITY E3); opening checks it before any content is returned.
//!
//! The API speaks tokio's I/O traits; age speaks the `futures` ones; `tokio-util` bridges them.

use std::io;
use std::iter;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::io::{AsyncBufRead, AsyncRead, AsyncWrite, ReadBuf};
use tokio_util::compat::{Compat, FuturesAsyncReadCompatExt, TokioAsyncReadCompatExt, TokioAsyncWriteCompatExt};

use crate::envelope::Binding;
use crate::{CryptoError, MessageKey};

/// Writes sealed bytes to `W` as plaintext is fed in. Call [`SealingWriter::finish`] at the end:
/// an unfinished stream does not decrypt.
pub struct SealingWriter<W: AsyncWrite + Unpin> {
    inner: age::stream::StreamWriter<Compat<W>>,
    written: u64,
}

impl<W: AsyncWrite + Unpin> SealingWriter<W> {
    /// Encrypts and writes one chunk of plaintext.
    pub async fn write(&mut self, chunk: &[u8]) -> io::Result<()> {
        self.inner.write_all(chunk).await?;
        self.written += chunk.len() as u64;
        Ok(())
    }

    /// Plaintext bytes written so far (not counting the binding line).
    pub fn written(&self) -> u64 {
        self.written
    }

    /// Writes the final chunk and closes the underlying writer.
    pub async fn finish(mut self) -> io::Result<()> {
        self.inner.close().await
    }
}

/// The plaintext of a sealed stream, after its binding was checked.
pub struct OpenedReader<R: AsyncBufRead + Unpin> {
    inner: Compat<age::stream::StreamReader<Compat<R>>>,
}

impl<R: AsyncBufRead + Unpin> AsyncRead for OpenedReader<R> {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl MessageKey {
    /// Starts sealing a stream of plaintext, bound to `binding`, into `out`.
    pub async fn seal_stream<W: AsyncWrite + Unpin>(&self, binding: Binding, out: W) -> Result<SealingWriter<W>, CryptoError> {
        let encryptor = self
            .with_recipient(|r| age::Encryptor::with_recipients(iter::once(r)))
            .map_err(|_| CryptoError::Encrypt)?;
        let mut inner = encryptor
            .wrap_async_output(out.compat_write())
            .await
            .map_err(|_| CryptoError::Encrypt)?;
        inner
            .write_all(binding.header().as_bytes())
            .await
            .map_err(|_| CryptoError::Encrypt)?;
        Ok(SealingWriter { inner, written: 0 })
    }

    /// Opens a sealed stream, refusing it unless it was sealed as `binding`. Damage later in
    /// the stream surfaces as a read error, never as altered plaintext.
    pub async fn open_stream<R: AsyncBufRead + Unpin>(&self, binding: Binding, input: R) -> Result<OpenedReader<R>, CryptoError> {
        let decryptor = age::Decryptor::new_async_buffered(input.compat())
            .await
            .map_err(|_| CryptoError::Decrypt)?;
        // A key opens its own envelope's files alone: scrypt for v2 keys (at its work factor
        // at most), X25519 for older ones; any other file is refused (SECURITY E6).
        let scrypt = decryptor.is_scrypt();
        let mut reader = self.with_identity(scrypt, |identity| {
            let identity = identity.ok_or(CryptoError::Decrypt)?;
            decryptor.decrypt_async(iter::once(identity)).map_err(|_| CryptoError::Decrypt)
        })?;
        let expected = binding.header();
        let mut found = vec![0u8; expected.len()];
        reader.read_exact(&mut found).await.map_err(|_| CryptoError::Decrypt)?;
        if found != expected.as_bytes() {
            return Err(CryptoError::BindingMismatch);
        }
        Ok(OpenedReader { inner: reader.compat() })
    }
}

#[cfg(test)]
mod tests {
    use tokio::io::AsyncReadExt as _;
    use uuid::Uuid;

    use super::*;
    use crate::ObjectKind;

    async fn seal(key: &MessageKey, binding: Binding, content: &[u8]) -> Vec<u8> {
        let mut out = vec![];
        let mut writer = key.seal_stream(binding, &mut out).await.unwrap();
        for chunk in content.chunks(7_000) {
            writer.write(chunk).await.unwrap();
        }
        assert_eq!(writer.written(), content.len() as u64);
        writer.finish().await.unwrap();
        out
    }

    async fn open(key: &MessageKey, binding: Binding, sealed: &[u8]) -> Result<Vec<u8>, CryptoError> {
        let mut reader = key.open_stream(binding, sealed).await?;
        let mut plain = vec![];
        reader.read_to_end(&mut plain).await.map_err(|_| CryptoError::Decrypt)?;
        Ok(plain)
    }

    #[tokio::test]
    async fn a_stream_larger_than_one_age_chunk_round_trips() {
        let key = MessageKey::generate();
        let binding = Binding::new(ObjectKind::Attachment, Uuid::new_v4());
        let content: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
        let sealed = seal(&key, binding, &content).await;
        assert!(!sealed.windows(32).any(|w| w == &content[1000..1032]));
        assert_eq!(open(&key, binding, &sealed).await.unwrap(), content);
    }

    #[tokio::test]
    async fn a_swapped_or_damaged_or_truncated_stream_is_refused() {
        let key = MessageKey::generate();
        let (a, b) = (
            Binding::new(ObjectKind::Attachment, Uuid::new_v4()),
            Binding::new(ObjectKind::Attachment, Uuid::new_v4()),
        );
        let content = vec![42u8; 150_000];
        let sealed = seal(&key, a, &content).await;
        assert!(matches!(open(&key, b, &sealed).await, Err(CryptoError::BindingMismatch)));
        let mut damaged = sealed.clone();
        let last = damaged.len() - 10;
        damaged[last] ^= 1;
        assert!(open(&key, a, &damaged).await.is_err());
        assert!(open(&key, a, &sealed[..sealed.len() - 100]).await.is_err());
        assert!(open(&MessageKey::generate(), a, &sealed).await.is_err());
    }
}
