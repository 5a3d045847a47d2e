//! Sealed bytes as read back, and the checks that turn stored text into domain types. A value
//! that does not decode is [`StorageError::Corrupt`], naming the column: corrupt data is an
//! error, never a different truth (an unknown status is not "revoked", a bad address is not
//! dropped).

use sealpost_crypto::{Sealed, WrappedKey};
use sealpost_domain::EmailAddress;
use sealpost_domain::api_messages::{Addressed, DeliveryStatus};
use uuid::Uuid;

use crate::StorageError;

/// Sealed bytes as read back from the database: a subject, body, file name, link token or
/// wrapped key. Open them with the message key (which checks they are genuine and belong to
/// the row). Only this crate makes one, and no write takes one: what is stored is always
/// [`Sealed`] (or [`WrappedKey`]) fresh from the crypto crate.
///
/// ```compile_fail
/// // Bytes cannot be passed off as read back from storage…
/// let c = sealpost_storage::Ciphertext(b"plain text".to_vec());
/// ```
///
/// ```compile_fail
/// // …and what was read back cannot be written as a new reply's body.
/// fn copy(r: sealpost_storage::StoredReply, n: &mut sealpost_storage::NewReply) {
///     n.body = r.body;
/// }
/// ```
///
/// ```
/// // A new reply's body is sealed by the message key, the one way to make a `Sealed`.
/// use sealpost_crypto::{Binding, MessageKey, ObjectKind};
/// fn seal(n: &mut sealpost_storage::NewReply, key: &MessageKey) {
///     n.body = key.seal(Binding::new(ObjectKind::ReplyBody, n.id.0), b"text").unwrap();
/// }
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct Ciphertext(Vec<u8>);

impl Ciphertext {
    pub(crate) fn from_stored(bytes: Vec<u8>) -> Self {
        Self(bytes)
    }

    /// The bytes as stored.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

impl AsRef<[u8]> for Ciphertext {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

impl std::fmt::Debug for Ciphertext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Ciphertext({} bytes)", self.0.len())
    }
}

impl PartialEq<Sealed> for Ciphertext {
    fn eq(&self, other: &Sealed) -> bool {
        self.0 == other.as_bytes()
    }
}

impl PartialEq<WrappedKey> for Ciphertext {
    fn eq(&self, other: &WrappedKey) -> bool {
        self.0 == other.as_bytes()
    }
}

/// A stored id.
pub(crate) fn id(text: &str, column: &'static str) -> Result<Uuid, StorageError> {
    Uuid::parse_str(text).map_err(|_| StorageError::Corrupt(column))
}

/// A stored address.
pub(crate) fn address(text: &str, column: &'static str) -> Result<EmailAddress, StorageError> {
    EmailAddress::parse(text).map_err(|_| StorageError::Corrupt(column))
}

/// A stored envelope line (To, Cc, Bcc).
pub(crate) fn addressed(text: &str) -> Result<Addressed, StorageError> {
    Addressed::parse(text).ok_or(StorageError::Corrupt("recipients.addressed"))
}

/// A stored recipient status.
pub(crate) fn status(text: &str) -> Result<DeliveryStatus, StorageError> {
    DeliveryStatus::parse(text).ok_or(StorageError::Corrupt("recipients.status"))
}
