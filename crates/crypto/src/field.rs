//! The stanza that seals a message's fields (envelope v2): age's own `scrypt` recipient
//! format, at work factor 1, with the message key's text as the passphrase. Made and read
//! here rather than through `age::scrypt`, whose types time a scrypt run on every
//! construction to pick a work factor for a human passphrase (about a millisecond each);
//! the bytes are the same, so the reference `age` CLI opens a field with the key by hand.
//!
//! A field of one STREAM chunk (under 64 KiB: every subject, and most bodies) is also opened
//! here, by [`open_small`], in the same steps as age's reader but without its chunk buffer:
//! the reader allocates and zeroes 64 KiB for each field whatever its size, which was most of
//! the cost of opening a subject. Anything not in the exact shape our writer gives goes to
//! age's reader, so this is only ever a faster way to the answer age would give.

use std::collections::HashSet;
use std::sync::{Mutex, PoisonError};

use age::{DecryptError, EncryptError};
use age_core::format::{FILE_KEY_BYTES, FileKey, Stanza};
use age_core::primitives::{aead_decrypt, aead_encrypt, hkdf};
use base64::Engine as _;
use base64::prelude::BASE64_STANDARD_NO_PAD;
use chacha20poly1305::aead::AeadInPlace;
use chacha20poly1305::{ChaCha20Poly1305, KeyInit, Tag};
use hmac::{Hmac, Mac};
use secrecy::{ExposeSecret, SecretString};
use zeroize::{Zeroize, Zeroizing};

use crate::CryptoError;

const TAG: &str = "scrypt";
const SALT_LABEL: &[u8] = b"age-encryption.org/v1/scrypt";
const SALT_LEN: usize = 16;
/// The work factor of every field, and the only one accepted. The passphrase is a random
/// 256-bit key, not something a person chose, so scrypt needs no work to resist guessing.
const LOG_N: u8 = 1;
const LOG_N_TEXT: &str = "1";

/// A message key's text, as the recipient and the identity of its fields, with the file keys
/// it has already opened.
pub(crate) struct FieldKey<'a>(pub(crate) &'a SecretString, pub(crate) &'a FileKeys);

/// The most file keys one message key remembers: a message's subject, bodies and a few file
/// names.
const REMEMBERED: usize = 8;

/// The file keys of the fields a message key has opened, by their stanza (salt and wrapped
/// key), so a field opened again skips scrypt: a member of staff's inbox opens the same fifty
/// subjects on every refresh. Each is a function of the message key and the stanza alone, so
/// remembering it beside the key adds nothing to what the key already opens; they zeroize
/// when the key is dropped (the server keeps a key a minute at most). Room for all of them is
/// taken at the first, so no file key is left behind in a block a growing list moved out of.
#[derive(Default)]
pub(crate) struct FileKeys(Mutex<Vec<Remembered>>);

/// A stanza's salt and wrapped key, and the file key they hold.
struct Remembered {
    stanza: [u8; SALT_LEN + FILE_KEY_BYTES + TAG_LEN],
    file_key: Zeroizing<[u8; FILE_KEY_BYTES]>,
}

impl FileKeys {
    fn get(&self, stanza: &[u8]) -> Option<Zeroizing<[u8; FILE_KEY_BYTES]>> {
        let kept = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        kept.iter().find(|r| r.stanza == stanza).map(|r| r.file_key.clone())
    }

    fn keep(&self, stanza: &[u8], file_key: &[u8; FILE_KEY_BYTES]) {
        let Ok(stanza) = stanza.try_into() else { return };
        let mut kept = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        if kept.iter().any(|r| r.stanza == stanza) {
            return;
        }
        if kept.capacity() == 0 {
            kept.reserve_exact(REMEMBERED);
        }
        if kept.len() >= REMEMBERED {
            kept.remove(0);
        }
        kept.push(Remembered {
            stanza,
            file_key: Zeroizing::new(*file_key),
        });
    }

    /// How many file keys are remembered (for tests).
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.0.lock().unwrap_or_else(PoisonError::into_inner).len()
    }
}

impl FieldKey<'_> {
    /// The key that wraps a field's file key, for `salt`.
    fn wrapping_key(&self, salt: &[u8; SALT_LEN]) -> Option<[u8; 32]> {
        let mut inner = Vec::with_capacity(SALT_LABEL.len() + SALT_LEN);
        inner.extend_from_slice(SALT_LABEL);
        inner.extend_from_slice(salt);
        let params = scrypt::Params::new(LOG_N, 8, 1, 32).ok()?;
        let mut key = [0u8; 32];
        scrypt::scrypt(self.0.expose_secret().as_bytes(), &inner, &params, &mut key).ok()?;
        Some(key)
    }

    /// The file key of a stanza with `salt`, whose body is `wrapped`: remembered, or
    /// unwrapped (and then remembered).
    fn file_key(&self, salt: &[u8; SALT_LEN], wrapped: &[u8]) -> Option<Zeroizing<[u8; FILE_KEY_BYTES]>> {
        let stanza = [salt.as_slice(), wrapped].concat();
        if let Some(file_key) = self.1.get(&stanza) {
            return Some(file_key);
        }
        let mut key = self.wrapping_key(salt)?;
        let opened = aead_decrypt(&key, FILE_KEY_BYTES, wrapped);
        key.zeroize();
        let mut plain = opened.ok()?;
        let file_key = <[u8; FILE_KEY_BYTES]>::try_from(plain.as_slice()).ok().map(Zeroizing::new);
        plain.zeroize();
        if let Some(file_key) = &file_key {
            self.1.keep(&stanza, file_key);
        }
        file_key
    }
}

/// age's file header as our writer makes it for a field, up to the stanza's salt.
const HEADER_START: &[u8] = b"age-encryption.org/v1\n-> scrypt ";
/// Base64 (unpadded) lengths of the salt, of the stanza's body (a 16-byte file key and its
/// 16-byte tag) and of the header's MAC.
const SALT_B64: usize = 22;
const BODY_B64: usize = 43;
const MAC_B64: usize = 43;
/// age's payload: a 16-byte nonce, then chunks of 64 KiB of plaintext and a 16-byte tag.
const NONCE_LEN: usize = 16;
const TAG_LEN: usize = 16;
const ENCRYPTED_CHUNK: usize = 64 * 1024 + TAG_LEN;

/// The parts of a field of one STREAM chunk, borrowed from its bytes.
struct SmallField<'a> {
    salt: [u8; SALT_LEN],
    wrapped: [u8; FILE_KEY_BYTES + TAG_LEN],
    /// The header up to and including `---`: what its MAC covers.
    maced: &'a [u8],
    mac: [u8; 32],
    nonce: &'a [u8],
    chunk: &'a [u8],
}

impl<'a> SmallField<'a> {
    /// `bytes` split as our writer lays out a field of one chunk, or `None`.
    fn parse(bytes: &'a [u8]) -> Option<Self> {
        let rest = bytes.strip_prefix(HEADER_START)?;
        let (salt, rest) = rest.split_at_checked(SALT_B64)?;
        let rest = rest.strip_prefix(b" ")?.strip_prefix(LOG_N_TEXT.as_bytes())?.strip_prefix(b"\n")?;
        let (wrapped, rest) = rest.split_at_checked(BODY_B64)?;
        let rest = rest.strip_prefix(b"\n---")?;
        let maced = &bytes[..bytes.len() - rest.len()];
        let (mac, payload) = rest.strip_prefix(b" ")?.split_at_checked(MAC_B64)?;
        let (nonce, chunk) = payload.strip_prefix(b"\n")?.split_at_checked(NONCE_LEN)?;
        // One chunk, the last: shorter than a full one (age tries a full one both ways).
        if chunk.len() < TAG_LEN || chunk.len() >= ENCRYPTED_CHUNK {
            return None;
        }
        Some(Self {
            salt: decode(salt)?,
            wrapped: decode(wrapped)?,
            maced,
            mac: decode(mac)?,
            nonce,
            chunk,
        })
    }
}

/// Canonical unpadded base64 of exactly `N` bytes, as age writes and requires.
fn decode<const N: usize>(text: &[u8]) -> Option<[u8; N]> {
    let mut out = [0u8; N];
    (BASE64_STANDARD_NO_PAD.decode_slice(text, &mut out).ok()? == N).then_some(out)
}

/// Opens a field of one STREAM chunk sealed with `key`: its plaintext, or `Err` when it does
/// not open (a wrong key, an altered byte). `None` when the bytes are not a field of one chunk
/// in our writer's layout; age's reader then decides.
pub(crate) fn open_small(key: &FieldKey<'_>, bytes: &[u8]) -> Option<Result<Zeroizing<Vec<u8>>, CryptoError>> {
    let field = SmallField::parse(bytes)?;
    Some(open_parsed(key, &field).ok_or(CryptoError::Decrypt))
}

fn open_parsed(key: &FieldKey<'_>, field: &SmallField<'_>) -> Option<Zeroizing<Vec<u8>>> {
    let file_key = key.file_key(&field.salt, &field.wrapped)?;
    // The header's MAC (age's `mac_key`: HKDF with no salt and the label "header").
    let mac_key = Zeroizing::new(hkdf(&[], b"header", file_key.as_slice()));
    let mut mac = <Hmac<sha2::Sha256> as Mac>::new_from_slice(mac_key.as_slice()).ok()?;
    mac.update(field.maced);
    mac.verify_slice(&field.mac).ok()?;
    // The payload key (HKDF salted with the nonce, label "payload"), and the one chunk under
    // the STREAM nonce for chunk 0, the last: eleven zero bytes of counter, then 1.
    let payload_key = Zeroizing::new(hkdf(field.nonce, b"payload", file_key.as_slice()));
    let cipher = ChaCha20Poly1305::new(payload_key.as_slice().into());
    let mut nonce = [0u8; 12];
    nonce[11] = 1;
    let (sealed, tag) = field.chunk.split_at(field.chunk.len() - TAG_LEN);
    let mut plain = Zeroizing::new(sealed.to_vec());
    cipher
        .decrypt_in_place_detached(&nonce.into(), &[], plain.as_mut_slice(), Tag::from_slice(tag))
        .ok()?;
    Some(plain)
}

impl age::Recipient for FieldKey<'_> {
    fn wrap_file_key(&self, file_key: &FileKey) -> Result<(Vec<Stanza>, HashSet<String>), EncryptError> {
        let salt = crate::random_bytes::<SALT_LEN>().map_err(|_| EncryptError::Io(std::io::ErrorKind::Other.into()))?;
        let mut key = self
            .wrapping_key(&salt)
            .ok_or_else(|| EncryptError::Io(std::io::ErrorKind::Other.into()))?;
        let body = aead_encrypt(&key, file_key.expose_secret());
        key.zeroize();
        let stanza = Stanza {
            tag: TAG.to_owned(),
            args: vec![BASE64_STANDARD_NO_PAD.encode(salt), LOG_N_TEXT.to_owned()],
            body,
        };
        // A label of its own, as age gives a passphrase: it is never mixed with a recipient.
        Ok((vec![stanza], HashSet::from(["sealpost-field".to_owned()])))
    }
}

impl age::Identity for FieldKey<'_> {
    fn unwrap_stanza(&self, stanza: &Stanza) -> Option<Result<FileKey, DecryptError>> {
        if stanza.tag != TAG {
            return None;
        }
        let [salt, log_n] = stanza.args.as_slice() else {
            return Some(Err(DecryptError::InvalidHeader));
        };
        // Anything asking for more work is refused before any is done.
        if log_n != LOG_N_TEXT {
            return Some(Err(DecryptError::DecryptionFailed));
        }
        let Some(salt) = decode::<SALT_LEN>(salt.as_bytes()) else {
            return Some(Err(DecryptError::InvalidHeader));
        };
        Some(
            self.file_key(&salt, &stanza.body)
                .map(|key| FileKey::init_with_mut(|k| k.copy_from_slice(key.as_slice())))
                .ok_or(DecryptError::DecryptionFailed),
        )
    }
}
