//! The stanza that seals a message's fields (envelope v2): age's own `scrypt` recipient
//! format, at work factor 1, with the message key's text as the passphrase. Made and read
//! here rather than through `age::scrypt`, whose types time a scrypt run on every
//! construction to pick a work factor for a human passphrase (about a millisecond each);
//! the bytes are the same, so the reference `age` CLI opens a field with the key by hand.

use std::collections::HashSet;

use age::{DecryptError, EncryptError};
use age_core::format::{FILE_KEY_BYTES, FileKey, Stanza};
use age_core::primitives::{aead_decrypt, aead_encrypt};
use base64::Engine as _;
use base64::prelude::BASE64_STANDARD_NO_PAD;
use secrecy::{ExposeSecret, SecretString};
use zeroize::Zeroize;

const TAG: &str = "scrypt";
const SALT_LABEL: &[u8] = b"age-encryption.org/v1/scrypt";
const SALT_LEN: usize = 16;
/// The work factor of every field, and the only one accepted. The passphrase is a random
/// 256-bit key, not something a person chose, so scrypt needs no work to resist guessing.
const LOG_N: u8 = 1;
const LOG_N_TEXT: &str = "1";

/// A message key's text, as the recipient and the identity of its fields.
pub(crate) struct FieldKey<'a>(pub(crate) &'a SecretString);

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
        let Some(salt) = BASE64_STANDARD_NO_PAD
            .decode(salt)
            .ok()
            .and_then(|s| <[u8; SALT_LEN]>::try_from(s).ok())
        else {
            return Some(Err(DecryptError::InvalidHeader));
        };
        let Some(mut key) = self.wrapping_key(&salt) else {
            return Some(Err(DecryptError::DecryptionFailed));
        };
        let opened = aead_decrypt(&key, FILE_KEY_BYTES, &stanza.body);
        key.zeroize();
        Some(opened.map_err(|_| DecryptError::DecryptionFailed).and_then(|mut plain| {
            let file_key = FileKey::try_init_with_mut(|k| {
                k.copy_from_slice(plain.get(..FILE_KEY_BYTES).ok_or(DecryptError::DecryptionFailed)?);
                Ok(())
            });
            plain.zeroize();
            file_key
        }))
    }
}
