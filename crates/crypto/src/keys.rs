//! Keys: the master keyring (active identity, older identities kept for decryption, and the
//! escrow recipient), the escrow identity the council keeps offline, and per-message keys
//! (SECURITY E2). Master keys come from files or the environment, never from the database.

use std::str::FromStr;

use age::x25519;
use secrecy::{ExposeSecret, SecretSlice, SecretString};

use crate::CryptoError;
use crate::envelope::{Binding, ObjectKind, Sealed, WrappedKey, open_field, open_one, open_small_field, open_with, seal_one, seal_to};
use crate::field::{FieldKey, FileKeys};

/// A freshly generated key pair, as text: the secret identity and its public recipient.
pub struct NewKeyPair {
    /// `AGE-SECRET-KEY-1…`: goes into a 0600 file or offline storage, never a log.
    pub identity: SecretString,
    /// `age1…`: safe to print and share.
    pub recipient: String,
}

/// Generates an age X25519 key pair (used by `sealpost keys init`).
pub fn generate_key_pair() -> NewKeyPair {
    let id = x25519::Identity::generate();
    NewKeyPair {
        recipient: id.to_public().to_string(),
        identity: id.to_string(),
    }
}

/// The public escrow key: every message key is also wrapped to it.
#[derive(Clone)]
pub struct EscrowRecipient(x25519::Recipient);

impl EscrowRecipient {
    /// Parses an `age1…` recipient.
    pub fn parse(text: &str) -> Result<Self, CryptoError> {
        x25519::Recipient::from_str(text.trim())
            .map(Self)
            .map_err(|_| CryptoError::InvalidKey("escrow recipient is not an age1… X25519 recipient"))
    }
}

/// The escrow identity, which the council keeps offline; it alone can unwrap any message key.
pub struct EscrowIdentity(x25519::Identity);

impl EscrowIdentity {
    /// Parses an `AGE-SECRET-KEY-1…` identity.
    pub fn parse(text: &SecretString) -> Result<Self, CryptoError> {
        parse_identity(text.expose_secret()).map(Self)
    }

    /// Unwraps a message key without the master keyring.
    pub fn unwrap(&self, wrapped: impl AsRef<[u8]>, message: uuid::Uuid) -> Result<MessageKey, CryptoError> {
        let plain = open_one(&self.0, Binding::new(ObjectKind::MessageKey, message), wrapped.as_ref())?;
        MessageKey::from_plain(&plain)
    }
}

/// Seals `bundle` (a backup's copy of the key directory) to `recipient`, an `age1…` X25519
/// recipient the admin gives (`sealpost backup --with-keys`). A plain age file: the reference
/// CLI opens it with the matching identity.
pub fn seal_key_backup(recipient: &str, bundle: &[u8]) -> Result<Vec<u8>, CryptoError> {
    let recipient = x25519::Recipient::from_str(recipient.trim())
        .map_err(|_| CryptoError::InvalidKey("the backup's recipient is not an age1… X25519 recipient"))?;
    seal_one(&recipient, Binding::new(ObjectKind::KeyBackup, uuid::Uuid::nil()), bundle)
}

/// Opens what [`seal_key_backup`] sealed, with the identities in `identity_file` (one
/// `AGE-SECRET-KEY-1…` a line, `#` comments allowed).
pub fn open_key_backup(identity_file: &SecretString, sealed: &[u8]) -> Result<SecretSlice<u8>, CryptoError> {
    let identities = parse_identities(identity_file.expose_secret())?;
    let ids: Vec<&dyn age::Identity> = identities.iter().map(|i| i as &dyn age::Identity).collect();
    open_with(&ids, Binding::new(ObjectKind::KeyBackup, uuid::Uuid::nil()), sealed)
}

/// The server's master keys: the first identity is active; the rest are older ones kept so
/// keys wrapped before a rotation still open.
pub struct Keyring {
    identities: Vec<x25519::Identity>,
    escrow: EscrowRecipient,
}

impl Keyring {
    /// Builds the keyring from an identity file's text (one `AGE-SECRET-KEY-1…` a line, `#`
    /// comments allowed; the first is active) and the escrow recipient.
    pub fn from_identity_file(text: &SecretString, escrow: EscrowRecipient) -> Result<Self, CryptoError> {
        let identities = parse_identities(text.expose_secret())?;
        if identities.is_empty() {
            return Err(CryptoError::InvalidKey("the master key file holds no identity"));
        }
        Ok(Self { identities, escrow })
    }

    /// The active master key's public recipient (safe to print).
    pub fn active_recipient(&self) -> String {
        self.identities[0].to_public().to_string()
    }

    /// Wraps `key` for `message` to the active master recipient and the escrow recipient.
    pub fn wrap(&self, key: &MessageKey, message: uuid::Uuid) -> Result<WrappedKey, CryptoError> {
        let master = self.identities[0].to_public();
        let recipients: [&dyn age::Recipient; 2] = [&master, &self.escrow.0];
        let text = key.to_plain();
        seal_to(
            &recipients,
            Binding::new(ObjectKind::MessageKey, message),
            text.expose_secret().as_bytes(),
        )
        .map(WrappedKey::new)
    }

    /// Unwraps the key of `message` (a [`WrappedKey`]'s bytes, as read back from storage)
    /// with any master identity held.
    pub fn unwrap(&self, wrapped: impl AsRef<[u8]>, message: uuid::Uuid) -> Result<MessageKey, CryptoError> {
        let ids: Vec<&dyn age::Identity> = self.identities.iter().map(|i| i as &dyn age::Identity).collect();
        let plain = open_with(&ids, Binding::new(ObjectKind::MessageKey, message), wrapped.as_ref())?;
        MessageKey::from_plain(&plain)
    }
}

/// Master-key rotation (SECURITY E5): wrapped keys and sealed secrets are re-wrapped to a new
/// active identity; content is never re-encrypted.
impl Keyring {
    /// This keyring with a fresh identity made active in front of the ones it holds (which
    /// stay, so what was wrapped before still opens).
    pub fn rotated(&self) -> Self {
        let mut identities = vec![x25519::Identity::generate()];
        identities.extend(self.identities.iter().cloned());
        Self {
            identities,
            escrow: self.escrow.clone(),
        }
    }

    /// This keyring with its active identity alone (once nothing needs the older ones).
    pub fn retired(&self) -> Self {
        Self {
            identities: self.identities.iter().take(1).cloned().collect(),
            escrow: self.escrow.clone(),
        }
    }

    /// This keyring with `other`'s identities after its own (its active one stays active):
    /// for re-wrapping what only `other` opens.
    pub fn and(&self, other: &Keyring) -> Self {
        Self {
            identities: self.identities.iter().chain(&other.identities).cloned().collect(),
            escrow: self.escrow.clone(),
        }
    }

    /// How many identities it holds (the active one first).
    pub fn len(&self) -> usize {
        self.identities.len()
    }

    /// Never: a keyring holds at least its active identity.
    pub fn is_empty(&self) -> bool {
        self.identities.is_empty()
    }

    /// The identity file for this keyring: the active identity first, each with its recipient.
    pub fn identity_file(&self) -> SecretString {
        let mut text = String::from("# Sealpost master key (active first).\n");
        for identity in &self.identities {
            text.push_str(&format!(
                "# Recipient: {}\n{}\n",
                identity.to_public(),
                identity.to_string().expose_secret()
            ));
        }
        SecretString::from(text)
    }

    /// Whether `sealed` (wrapped or sealed by this server, bound to `binding`) opens with the
    /// active identity alone.
    pub fn opens_with_active(&self, binding: Binding, sealed: impl AsRef<[u8]>) -> bool {
        open_with(&[&self.identities[0] as &dyn age::Identity], binding, sealed.as_ref()).is_ok()
    }

    /// `sealed` opened with any identity held and sealed again to the active one and the
    /// escrow recipient, under the same `binding`.
    pub fn rewrap(&self, binding: Binding, sealed: impl AsRef<[u8]>) -> Result<Vec<u8>, CryptoError> {
        let ids: Vec<&dyn age::Identity> = self.identities.iter().map(|i| i as &dyn age::Identity).collect();
        let plain = open_with(&ids, binding, sealed.as_ref())?;
        let master = self.identities[0].to_public();
        let recipients: [&dyn age::Recipient; 2] = [&master, &self.escrow.0];
        seal_to(&recipients, binding, plain.expose_secret())
    }
}

impl Keyring {
    /// Seals a small secret of the server's own (a TOTP secret) to the active master
    /// recipient and the escrow recipient, bound to `binding`.
    pub fn seal_secret(&self, binding: Binding, secret: &[u8]) -> Result<Sealed, CryptoError> {
        let master = self.identities[0].to_public();
        let recipients: [&dyn age::Recipient; 2] = [&master, &self.escrow.0];
        seal_to(&recipients, binding, secret).map(Sealed::new)
    }

    /// Opens what [`Keyring::seal_secret`] sealed, with any master identity held.
    pub fn open_secret(&self, binding: Binding, sealed: impl AsRef<[u8]>) -> Result<SecretSlice<u8>, CryptoError> {
        let ids: Vec<&dyn age::Identity> = self.identities.iter().map(|i| i as &dyn age::Identity).collect();
        open_with(&ids, binding, sealed.as_ref())
    }
}

/// What a message key's wrapped plaintext starts with (the envelope's second version).
const KEY_PREFIX: &str = "sealpost-message-key-v2:";

/// A per-message key (SECURITY E2): content of one message (and its replies and attachments)
/// is sealed with it, and it is wrapped to the master and escrow recipients.
///
/// Since envelope v2 it is a random 256-bit key, and each field is a standard age file whose
/// one stanza is scrypt at work factor 1 with the key's text as passphrase: every field still
/// gets its own file key, salt and STREAM payload, the reference `age` CLI opens it with the
/// key by hand, and opening costs symmetric crypto only. A key made before v2 (an X25519
/// identity) still opens and seals what was sealed to it, until `sealpost keys upgrade`.
pub struct MessageKey {
    kind: Kind,
    /// The file keys of the fields this key has opened.
    opened: FileKeys,
}

enum Kind {
    /// `sealpost-message-key-v2:` and 64 hex digits.
    Symmetric(SecretString),
    /// Envelope v1: an X25519 identity per message.
    X25519(x25519::Identity),
    /// A v1 key upgraded (`sealpost keys upgrade`): its fields re-sealed with the symmetric
    /// key, its files (and anything sealed while it ran) still opening with the identity.
    Upgraded(SecretString, x25519::Identity),
}

#[cfg(feature = "testing")]
thread_local! {
    static LEGACY: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Test support: while `on`, keys generated on this thread are of envelope v1 (an X25519
/// identity), as every key was before v2, so the upgrade can be tested end to end.
#[cfg(feature = "testing")]
pub fn generate_legacy_keys_on_this_thread(on: bool) {
    LEGACY.with(|l| l.set(on));
}

impl MessageKey {
    fn of(kind: Kind) -> Self {
        Self {
            kind,
            opened: FileKeys::default(),
        }
    }

    /// A fresh key for a new message.
    pub fn generate() -> Self {
        #[cfg(feature = "testing")]
        if LEGACY.with(std::cell::Cell::get) {
            return Self::of(Kind::X25519(x25519::Identity::generate()));
        }
        Self::generate_symmetric()
    }

    /// Whether this key is of the envelope before v2 (an X25519 identity), not yet upgraded.
    pub fn is_legacy(&self) -> bool {
        matches!(self.kind, Kind::X25519(_))
    }

    /// For a v1 key, the same key upgraded: a fresh symmetric key beside the identity, to
    /// re-seal its fields with. `None` for a key that needs no upgrade.
    pub fn upgraded(&self) -> Option<Self> {
        let Kind::X25519(identity) = &self.kind else { return None };
        let Kind::Symmetric(secret) = Self::generate_symmetric().kind else {
            return None;
        };
        Some(Self::of(Kind::Upgraded(secret, identity.clone())))
    }

    #[allow(clippy::expect_used)] // as age's own key generation: no key without randomness
    fn generate_symmetric() -> Self {
        let bytes = crate::random_bytes::<32>().expect("the OS random number generator failed");
        Self::of(Kind::Symmetric(SecretString::from(format!(
            "{KEY_PREFIX}{}",
            sealpost_domain::hex::encode(&bytes)
        ))))
    }

    /// Seals `plaintext` as the object named by `binding`.
    pub fn seal(&self, binding: Binding, plaintext: &[u8]) -> Result<Sealed, CryptoError> {
        self.with_recipient(|r| seal_one(r, binding, plaintext)).map(Sealed::new)
    }

    /// Opens `sealed` (a [`Sealed`]'s bytes, as read back from storage), refusing it unless it
    /// was sealed as the object named by `binding`. Bytes that are not genuine do not open.
    pub fn open(&self, binding: Binding, sealed: impl AsRef<[u8]>) -> Result<SecretSlice<u8>, CryptoError> {
        if let Kind::Symmetric(secret) | Kind::Upgraded(secret, _) = &self.kind
            && let Some(opened) = open_small_field(&FieldKey(secret, &self.opened), binding, sealed.as_ref())
        {
            return opened;
        }
        let scrypt = age::Decryptor::new_buffered(sealed.as_ref())
            .map_err(|_| CryptoError::Decrypt)?
            .is_scrypt();
        match (&self.kind, scrypt) {
            (Kind::Symmetric(secret) | Kind::Upgraded(secret, _), true) => {
                open_field(&FieldKey(secret, &self.opened), binding, sealed.as_ref())
            }
            (Kind::X25519(identity) | Kind::Upgraded(_, identity), false) => open_one(identity, binding, sealed.as_ref()),
            _ => Err(CryptoError::Decrypt),
        }
    }

    /// Calls `f` with the recipient this key seals to.
    pub(crate) fn with_recipient<T>(&self, f: impl FnOnce(&dyn age::Recipient) -> T) -> T {
        match &self.kind {
            Kind::Symmetric(secret) | Kind::Upgraded(secret, _) => f(&FieldKey(secret, &self.opened)),
            Kind::X25519(identity) => f(&identity.to_public()),
        }
    }

    /// Calls `f` with the identity that opens a file of this key's: a scrypt (v2) one when
    /// `scrypt`, else an X25519 one; `None` when this key has no such identity.
    pub(crate) fn with_identity<T>(&self, scrypt: bool, f: impl FnOnce(Option<&dyn age::Identity>) -> T) -> T {
        match (&self.kind, scrypt) {
            (Kind::Symmetric(secret) | Kind::Upgraded(secret, _), true) => f(Some(&FieldKey(secret, &self.opened))),
            (Kind::X25519(identity) | Kind::Upgraded(_, identity), false) => f(Some(identity)),
            _ => f(None),
        }
    }

    /// The text wrapped to the master and escrow recipients: the symmetric key's line, then
    /// the identity's line for a v1 or upgraded key.
    pub(crate) fn to_plain(&self) -> SecretString {
        match &self.kind {
            Kind::Symmetric(secret) => secret.clone(),
            Kind::X25519(identity) => identity.to_string(),
            Kind::Upgraded(secret, identity) => {
                SecretString::from(format!("{}\n{}", secret.expose_secret(), identity.to_string().expose_secret()))
            }
        }
    }

    fn from_plain(plain: &SecretSlice<u8>) -> Result<Self, CryptoError> {
        let text = std::str::from_utf8(plain.expose_secret()).map_err(|_| CryptoError::Decrypt)?;
        let (first, identity) = match text.split_once('\n') {
            Some((first, rest)) => (first, Some(parse_identity(rest)?)),
            None => (text, None),
        };
        let secret = match first.strip_prefix(KEY_PREFIX) {
            Some(hex) if sealpost_domain::hex::decode::<32>(hex).is_some() => Some(SecretString::from(first.to_owned())),
            Some(_) => return Err(CryptoError::InvalidKey("a damaged message key")),
            None => None,
        };
        match (secret, identity) {
            (Some(secret), None) => Ok(Self::of(Kind::Symmetric(secret))),
            (Some(secret), Some(identity)) => Ok(Self::of(Kind::Upgraded(secret, identity))),
            (None, None) => parse_identity(first).map(|id| Self::of(Kind::X25519(id))),
            (None, Some(_)) => Err(CryptoError::InvalidKey("a damaged message key")),
        }
    }
}

/// Every identity in an identity file's text: one `AGE-SECRET-KEY-1…` a line, `#` comments.
fn parse_identities(text: &str) -> Result<Vec<x25519::Identity>, CryptoError> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(parse_identity)
        .collect()
}

fn parse_identity(text: &str) -> Result<x25519::Identity, CryptoError> {
    x25519::Identity::from_str(text.trim()).map_err(|_| CryptoError::InvalidKey("not an AGE-SECRET-KEY-1… X25519 identity"))
}

#[cfg(test)]
#[path = "keys_tests.rs"]
mod tests;

macro_rules! redacted_debug {
    ($($name:ident),*) => {$(
        impl std::fmt::Debug for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(concat!(stringify!($name), "([redacted])"))
            }
        }
    )*};
}
redacted_debug!(Keyring, MessageKey, EscrowIdentity, NewKeyPair);
