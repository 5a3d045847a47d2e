//! The audit log's signing key (SECURITY F6): Ed25519, kept in the key directory, never in the
//! database. It signs checkpoints of the chain's head, so an exported checkpoint proves the
//! history up to it, and a database-level attacker who rewrites the log cannot sign its new
//! head.

use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use secrecy::{ExposeSecret, SecretString};
use zeroize::Zeroizing;

use sealpost_domain::hex;

use crate::{CryptoError, random::random_bytes};

/// An Ed25519 public key, written as 64 hex digits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VerifyKey([u8; 32]);

/// The private signing key. It cannot be printed or cloned.
pub struct AuditSigningKey(SigningKey);

impl AuditSigningKey {
    /// A fresh key from the OS random number generator.
    pub fn generate() -> Result<Self, CryptoError> {
        let seed = Zeroizing::new(random_bytes::<32>()?);
        Ok(Self(SigningKey::from_bytes(&seed)))
    }

    /// Parses the key file's text: comment lines (`#`) and the 32-byte seed as hex.
    pub fn parse(text: &SecretString) -> Result<Self, CryptoError> {
        let line = text
            .expose_secret()
            .lines()
            .map(str::trim)
            .find(|l| !l.is_empty() && !l.starts_with('#'))
            .ok_or(CryptoError::InvalidKey("the audit signing key file holds no key"))?;
        let seed: Zeroizing<[u8; 32]> =
            Zeroizing::new(hex::decode(line).ok_or(CryptoError::InvalidKey("the audit signing key is not 64 hex digits"))?);
        Ok(Self(SigningKey::from_bytes(&seed)))
    }

    /// The key file's text: a comment naming the public key, then the seed.
    pub fn to_file_text(&self) -> SecretString {
        SecretString::from(format!(
            "# Sealpost audit signing key (Ed25519). Public key: {}\n{}\n",
            self.verify_key(),
            hex::encode(self.0.as_bytes())
        ))
    }

    /// The public half, which anyone may hold to check checkpoints.
    pub fn verify_key(&self) -> VerifyKey {
        VerifyKey(self.0.verifying_key().to_bytes())
    }

    /// Signs `message`.
    pub fn sign(&self, message: &[u8]) -> [u8; 64] {
        self.0.sign(message).to_bytes()
    }
}

/// Shows only the public half.
impl std::fmt::Debug for AuditSigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "AuditSigningKey(public {})", self.verify_key())
    }
}

impl VerifyKey {
    /// The raw 32 bytes.
    pub fn to_bytes(self) -> [u8; 32] {
        self.0
    }

    /// Checks `signature` over `message` (strict: no malleable or weak-key signatures).
    pub fn verifies(&self, message: &[u8], signature: &[u8; 64]) -> bool {
        VerifyingKey::from_bytes(&self.0).is_ok_and(|k| k.verify_strict(message, &Signature::from_bytes(signature)).is_ok())
    }
}

impl std::fmt::Display for VerifyKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&hex::encode(&self.0))
    }
}

impl std::str::FromStr for VerifyKey {
    type Err = CryptoError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let bytes: [u8; 32] = hex::decode(text.trim()).ok_or(CryptoError::InvalidKey("a public key is 64 hex digits"))?;
        VerifyingKey::from_bytes(&bytes).map_err(|_| CryptoError::InvalidKey("not an Ed25519 public key"))?;
        Ok(Self(bytes))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signature_verifies_only_for_its_message_and_key() {
        let key = AuditSigningKey::generate().unwrap();
        let other = AuditSigningKey::generate().unwrap();
        let sig = key.sign(b"12:abcd");
        assert!(key.verify_key().verifies(b"12:abcd", &sig));
        assert!(!key.verify_key().verifies(b"12:abce", &sig));
        assert!(!other.verify_key().verifies(b"12:abcd", &sig));
        let mut bent = sig;
        bent[3] ^= 1;
        assert!(!key.verify_key().verifies(b"12:abcd", &bent));
    }

    #[test]
    fn the_key_file_round_trips_and_the_public_key_parses() {
        let key = AuditSigningKey::generate().unwrap();
        let again = AuditSigningKey::parse(&key.to_file_text()).unwrap();
        assert_eq!(again.verify_key(), key.verify_key());
        let public: VerifyKey = key.verify_key().to_string().parse().unwrap();
        assert_eq!(public, key.verify_key());
        assert!(AuditSigningKey::parse(&SecretString::from("# nothing\n".to_owned())).is_err());
        assert!("abc".parse::<VerifyKey>().is_err());
    }
}
