//! Sealpost's cryptography: the only crate that names age, argon2, Ed25519, the OS random
//! number generator and constant-time comparison.
//!
//! It owns password hashing (SECURITY A1, A5), random tokens stored as hashes (A7, B1), the
//! content envelope (E2, E3): a fresh age X25519 key per message, wrapped to the master and
//! escrow recipients, with every ciphertext bound to the object it belongs to; and the audit
//! log's Ed25519 checkpoint key (F6); and the second factor, TOTP through `totp-rs` (A6). It never does I/O beyond asking the OS for randomness,
//! and never logs.

mod envelope;
mod field;
mod keys;
mod password;
mod random;
mod signing;
mod stream;
mod token;
mod totp;

pub use envelope::{Binding, ObjectKind, Sealed, WrappedKey};
#[cfg(feature = "testing")]
pub use keys::generate_legacy_keys_on_this_thread;
pub use keys::{EscrowIdentity, EscrowRecipient, Keyring, MessageKey, NewKeyPair, generate_key_pair, open_key_backup, seal_key_backup};
pub use password::{HashMemory, PasswordHash, PasswordHasher, Verification};
pub use random::random_bytes;
pub use secrecy::{ExposeSecret, SecretSlice, SecretString};
pub use signing::{AuditSigningKey, VerifyKey};
pub use stream::{OpenedReader, SealingWriter};
pub use token::{Token, TokenHash, code_hash, code_hashes_match, secrets_match, sha256_hex, sha256_hex_of, six_digit_code};
pub use totp::{TotpSecret, recovery_code, recovery_code_hash};

/// Everything that can go wrong in this crate. Messages never contain key material.
#[derive(Debug, thiserror::Error)]
pub enum CryptoError {
    /// A key file or key string could not be parsed.
    #[error("invalid key: {0}")]
    InvalidKey(&'static str),
    /// age refused to encrypt (for example, no recipients).
    #[error("encryption failed")]
    Encrypt,
    /// The ciphertext is malformed, was altered, or no key we hold opens it.
    #[error("decryption failed: the data was altered or no key we hold opens it")]
    Decrypt,
    /// The ciphertext opened but belongs to another object (a swapped row).
    #[error("the sealed data belongs to another object")]
    BindingMismatch,
    /// A stored password hash is malformed.
    #[error("stored password hash is malformed")]
    BadPasswordHash,
    /// The OS random number generator failed.
    #[error("the operating system's random number generator failed")]
    Random,
}
