//! The sealed-data format: age ciphertext whose plaintext starts with a binding line naming the
//! kind and id of the object it belongs to (SECURITY E3). age has no associated data, so this
//! is how a ciphertext copied into another row is caught on open.

use std::io::{Read, Write};
use std::iter;

use secrecy::SecretSlice;
use uuid::Uuid;
use zeroize::Zeroizing;

use crate::CryptoError;
use crate::field::{FieldKey, open_small};

/// What a sealed blob is. Part of the binding, so a subject cannot be opened as a body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ObjectKind {
    /// A per-message key wrapped to the master and escrow recipients.
    MessageKey,
    /// A message subject.
    Subject,
    /// A message body.
    Body,
    /// A message's HTML body (mail taken in from Outlook), cleaned before it was sealed.
    BodyHtml,
    /// An attachment's file name.
    AttachmentName,
    /// An attachment's bytes.
    Attachment,
    /// A recipient's link token, kept sealed until the notification is sent.
    LinkToken,
    /// The text of a recipient's secure reply.
    ReplyBody,
    /// The fields of a draft (one JSON document), sealed with the draft's key.
    DraftContent,
    /// A staff account's TOTP secret, sealed to the master and escrow recipients.
    TotpSecret,
    /// A backup's copy of the key directory, sealed to a recipient the admin gives.
    KeyBackup,
}

impl ObjectKind {
    fn as_str(self) -> &'static str {
        match self {
            ObjectKind::MessageKey => "message-key",
            ObjectKind::Subject => "subject",
            ObjectKind::Body => "body",
            ObjectKind::BodyHtml => "body-html",
            ObjectKind::AttachmentName => "attachment-name",
            ObjectKind::Attachment => "attachment",
            ObjectKind::LinkToken => "link-token",
            ObjectKind::ReplyBody => "reply-body",
            ObjectKind::DraftContent => "draft-content",
            ObjectKind::TotpSecret => "totp-secret",
            ObjectKind::KeyBackup => "key-backup",
        }
    }
}

/// The object a ciphertext belongs to: its kind and its row id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Binding {
    /// What it is.
    pub kind: ObjectKind,
    /// The id of the row (message, attachment) that holds it.
    pub id: Uuid,
}

impl Binding {
    /// A binding of `kind` to the row `id`.
    pub fn new(kind: ObjectKind, id: Uuid) -> Self {
        Self { kind, id }
    }

    pub(crate) fn header(&self) -> String {
        format!("sealpost/v1 {} {}\n", self.kind.as_str(), self.id.as_hyphenated())
    }
}

macro_rules! ciphertext_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, PartialEq, Eq)]
        pub struct $name(Vec<u8>);

        impl $name {
            /// The ciphertext bytes, for storage.
            pub fn as_bytes(&self) -> &[u8] {
                &self.0
            }
        }

        impl AsRef<[u8]> for $name {
            fn as_ref(&self) -> &[u8] {
                &self.0
            }
        }

        impl std::fmt::Debug for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                write!(f, concat!(stringify!($name), "({} bytes)"), self.0.len())
            }
        }
    };
}

ciphertext_type!(
    /// age ciphertext of content (subject, body, file name...), fresh from [`MessageKey::seal`]:
    /// the only form in which storage accepts content. Nothing outside this crate can make one
    /// (there is no constructor from bytes), so storing plaintext does not compile. What
    /// storage reads back is its own type, which cannot be written again as if new.
    ///
    /// ```compile_fail
    /// // Plaintext cannot be passed off as sealed: there is no way to wrap bytes.
    /// let sealed = sealpost_crypto::Sealed::from_stored(b"plain text".to_vec());
    /// ```
    ///
    /// ```compile_fail
    /// let sealed = sealpost_crypto::Sealed(b"plain text".to_vec());
    /// ```
    ///
    /// ```
    /// // The one way to make one: seal it.
    /// use sealpost_crypto::{Binding, MessageKey, ObjectKind, Sealed};
    /// let key = MessageKey::generate();
    /// let sealed: Sealed = key.seal(Binding::new(ObjectKind::Body, uuid::Uuid::nil()), b"text").unwrap();
    /// assert!(!sealed.as_bytes().windows(4).any(|w| w == b"text"));
    /// ```
    ///
    /// [`MessageKey::seal`]: crate::MessageKey::seal
    Sealed
);
ciphertext_type!(
    /// A per-message key, age-encrypted to the master and escrow recipients by
    /// [`Keyring::wrap`](crate::Keyring::wrap); like [`Sealed`], only this crate makes one.
    WrappedKey
);

impl Sealed {
    pub(crate) fn new(bytes: Vec<u8>) -> Self {
        Self(bytes)
    }
}

impl WrappedKey {
    pub(crate) fn new(bytes: Vec<u8>) -> Self {
        Self(bytes)
    }
}

/// Encrypts `binding ‖ plaintext` to every recipient.
pub(crate) fn seal_to(recipients: &[&dyn age::Recipient], binding: Binding, plaintext: &[u8]) -> Result<Vec<u8>, CryptoError> {
    let encryptor = age::Encryptor::with_recipients(recipients.iter().copied()).map_err(|_| CryptoError::Encrypt)?;
    let mut out = Vec::with_capacity(plaintext.len() + 256);
    let mut writer = encryptor.wrap_output(&mut out).map_err(|_| CryptoError::Encrypt)?;
    writer.write_all(binding.header().as_bytes()).map_err(|_| CryptoError::Encrypt)?;
    writer.write_all(plaintext).map_err(|_| CryptoError::Encrypt)?;
    writer.finish().map_err(|_| CryptoError::Encrypt)?;
    Ok(out)
}

/// Decrypts with the first identity that fits and checks the binding. Passphrase (scrypt)
/// files are refused outright (SECURITY E6).
pub(crate) fn open_with(identities: &[&dyn age::Identity], binding: Binding, ciphertext: &[u8]) -> Result<SecretSlice<u8>, CryptoError> {
    let decryptor = age::Decryptor::new_buffered(ciphertext).map_err(|_| CryptoError::Decrypt)?;
    if decryptor.is_scrypt() {
        return Err(CryptoError::Decrypt);
    }
    read_bound(decryptor, identities, binding)
}

/// Opens a field sealed with a message key (envelope v2): a file with one scrypt stanza,
/// opened with `identity` (the message key, with its work-factor ceiling), and nothing else.
pub(crate) fn open_field(identity: &dyn age::Identity, binding: Binding, ciphertext: &[u8]) -> Result<SecretSlice<u8>, CryptoError> {
    let decryptor = age::Decryptor::new_buffered(ciphertext).map_err(|_| CryptoError::Decrypt)?;
    if !decryptor.is_scrypt() {
        return Err(CryptoError::Decrypt);
    }
    read_bound(decryptor, &[identity], binding)
}

/// [`open_field`] for a field of one STREAM chunk, without age's reader (see
/// [`crate::field`]); `None` when `ciphertext` is not in that shape.
pub(crate) fn open_small_field(key: &FieldKey<'_>, binding: Binding, ciphertext: &[u8]) -> Option<Result<SecretSlice<u8>, CryptoError>> {
    open_small(key, ciphertext).map(|opened| unbind(&opened?, binding))
}

fn read_bound<R: std::io::BufRead>(
    decryptor: age::Decryptor<R>,
    identities: &[&dyn age::Identity],
    binding: Binding,
) -> Result<SecretSlice<u8>, CryptoError> {
    let mut reader = decryptor.decrypt(identities.iter().copied()).map_err(|_| CryptoError::Decrypt)?;
    let mut plain = Zeroizing::new(Vec::new());
    reader.read_to_end(&mut plain).map_err(|_| CryptoError::Decrypt)?;
    unbind(&plain, binding)
}

/// The content of an opened `plain`, which must start with `binding`'s line.
fn unbind(plain: &[u8], binding: Binding) -> Result<SecretSlice<u8>, CryptoError> {
    plain
        .strip_prefix(binding.header().as_bytes())
        .map(|content| SecretSlice::from(content.to_vec()))
        .ok_or(CryptoError::BindingMismatch)
}

/// A single-identity convenience for [`open_with`].
pub(crate) fn open_one(identity: &dyn age::Identity, binding: Binding, ciphertext: &[u8]) -> Result<SecretSlice<u8>, CryptoError> {
    open_with(&[identity], binding, ciphertext)
}

/// A single-recipient convenience for [`seal_to`].
pub(crate) fn seal_one(recipient: &dyn age::Recipient, binding: Binding, plaintext: &[u8]) -> Result<Vec<u8>, CryptoError> {
    seal_to(iter::once(recipient).collect::<Vec<_>>().as_slice(), binding, plaintext)
}

#[cfg(test)]
mod tests {
    use secrecy::SecretString;

    use super::*;

    #[test]
    fn passphrase_files_are_refused_even_with_the_right_passphrase() {
        let passphrase = SecretString::from("correct horse battery staple");
        let binding = Binding::new(ObjectKind::Body, Uuid::nil());
        let mut file = vec![];
        let mut writer = age::Encryptor::with_user_passphrase(passphrase.clone())
            .wrap_output(&mut file)
            .unwrap();
        writer.write_all(binding.header().as_bytes()).unwrap();
        writer.write_all(b"content").unwrap();
        writer.finish().unwrap();
        let identity = age::scrypt::Identity::new(passphrase);
        assert!(matches!(open_with(&[&identity], binding, &file), Err(CryptoError::Decrypt)));
        // The same file opens with age directly: it is our check that refuses it.
        let opened = age::decrypt(
            &age::scrypt::Identity::new(SecretString::from("correct horse battery staple")),
            &file,
        )
        .unwrap();
        assert!(opened.ends_with(b"content"));
    }
}
