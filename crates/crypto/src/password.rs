//! Password hashing with argon2id (SECURITY A1) and verification that takes the same time for
//! unknown accounts (A5) by checking against a dummy hash.

use argon2::password_hash::{self, PasswordHasher as _, PasswordVerifier as _, SaltString};
use std::sync::atomic::{AtomicU64, Ordering};

use argon2::{Algorithm, Argon2, Params, Version};
use secrecy::{ExposeSecret, SecretString};

use crate::{CryptoError, random::random_bytes};

/// Memory cost in KiB, time cost and lanes: OWASP's argon2id minimum (A1).
const M_COST: u32 = 19_456;
const T_COST: u32 = 2;
const P_COST: u32 = 1;

/// A PHC-format argon2id hash (parameters and salt included). Not secret, but not for logs.
#[derive(Clone, PartialEq, Eq)]
pub struct PasswordHash(String);

impl std::fmt::Debug for PasswordHash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PasswordHash(..)")
    }
}

impl PasswordHash {
    /// Wraps a PHC string read back from storage.
    pub fn from_phc(phc: String) -> Self {
        Self(phc)
    }

    /// The PHC string to store.
    pub fn as_phc(&self) -> &str {
        &self.0
    }
}

/// The outcome of checking a password.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verification {
    /// Right password. `needs_rehash` is true when the stored hash used weaker parameters.
    Match {
        /// Re-hash with current parameters and store the result.
        needs_rehash: bool,
    },
    /// Wrong password, or no such account.
    Mismatch,
}

/// Hashes and verifies passwords with one fixed set of parameters.
pub struct PasswordHasher {
    argon2: Argon2<'static>,
    dummy: PasswordHash,
    verifications: AtomicU64,
}

impl PasswordHasher {
    /// The hasher with Sealpost's parameters. Computes one dummy hash up front.
    pub fn new() -> Result<Self, CryptoError> {
        let params = Params::new(M_COST, T_COST, P_COST, None).map_err(|_| CryptoError::BadPasswordHash)?;
        let argon2 = Argon2::new(Algorithm::Argon2id, Version::V0x13, params);
        let mut hasher = Self {
            argon2,
            dummy: PasswordHash(String::new()),
            verifications: AtomicU64::new(0),
        };
        hasher.dummy = hasher.hash(&SecretString::from("sealpost dummy password for unknown accounts"))?;
        Ok(hasher)
    }

    /// Hashes a password with a fresh 16-byte salt from the OS RNG.
    pub fn hash(&self, password: &SecretString) -> Result<PasswordHash, CryptoError> {
        let salt = SaltString::encode_b64(&random_bytes::<16>()?).map_err(|_| CryptoError::Random)?;
        let hash = self
            .argon2
            .hash_password(password.expose_secret().as_bytes(), &salt)
            .map_err(|_| CryptoError::BadPasswordHash)?;
        Ok(PasswordHash(hash.to_string()))
    }

    /// Verifies `password` against `stored`, or against a dummy hash when there is no account,
    /// so both paths cost one argon2id computation.
    pub fn verify(&self, password: &SecretString, stored: Option<&PasswordHash>) -> Result<Verification, CryptoError> {
        let phc = stored.unwrap_or(&self.dummy);
        let parsed = password_hash::PasswordHash::new(&phc.0).map_err(|_| CryptoError::BadPasswordHash)?;
        let ok = self.argon2.verify_password(password.expose_secret().as_bytes(), &parsed).is_ok();
        self.verifications.fetch_add(1, Ordering::Relaxed);
        if !ok || stored.is_none() {
            return Ok(Verification::Mismatch);
        }
        Ok(Verification::Match {
            needs_rehash: is_weaker(&parsed),
        })
    }
}

impl PasswordHasher {
    /// How many argon2id verifications this hasher has run: the same for a wrong password and
    /// an unknown account (SECURITY A5), which tests and metrics check.
    pub fn verification_count(&self) -> u64 {
        self.verifications.load(Ordering::Relaxed)
    }
}

/// True when a stored hash is not argon2id or uses less than the current parameters.
fn is_weaker(parsed: &password_hash::PasswordHash<'_>) -> bool {
    let Ok(params) = Params::try_from(parsed) else { return true };
    parsed.algorithm.as_str() != "argon2id"
        || params.m_cost() < M_COST
        || params.t_cost() < T_COST
        || parsed.salt.is_none_or(|s| s.len() < 22)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pw(s: &str) -> SecretString {
        SecretString::from(s)
    }

    #[test]
    fn hashes_are_argon2id_with_owasp_parameters_and_a_16_byte_salt() {
        let h = PasswordHasher::new().unwrap().hash(&pw("correct horse battery")).unwrap();
        let parsed = password_hash::PasswordHash::new(h.as_phc()).unwrap();
        assert_eq!(parsed.algorithm.as_str(), "argon2id");
        let params = Params::try_from(&parsed).unwrap();
        assert!(params.m_cost() >= 19_456 && params.t_cost() >= 2 && params.p_cost() == 1);
        // 16 bytes of salt are 22 characters of unpadded base64.
        assert_eq!(parsed.salt.unwrap().len(), 22);
    }

    #[test]
    fn right_password_matches_and_wrong_or_unknown_does_not() {
        let hasher = PasswordHasher::new().unwrap();
        let h = hasher.hash(&pw("correct horse battery")).unwrap();
        assert_eq!(
            hasher.verify(&pw("correct horse battery"), Some(&h)).unwrap(),
            Verification::Match { needs_rehash: false }
        );
        assert_eq!(
            hasher.verify(&pw("correct horse batterY"), Some(&h)).unwrap(),
            Verification::Mismatch
        );
        assert_eq!(hasher.verify(&pw("correct horse battery"), None).unwrap(), Verification::Mismatch);
    }

    #[test]
    fn a_hash_with_weaker_parameters_asks_to_be_upgraded() {
        let weak = Argon2::new(Algorithm::Argon2id, Version::V0x13, Params::new(4096, 1, 1, None).unwrap());
        let salt = SaltString::encode_b64(&[7u8; 16]).unwrap();
        let phc = weak.hash_password(b"correct horse battery", &salt).unwrap().to_string();
        let hasher = PasswordHasher::new().unwrap();
        let got = hasher
            .verify(&pw("correct horse battery"), Some(&PasswordHash::from_phc(phc)))
            .unwrap();
        assert_eq!(got, Verification::Match { needs_rehash: true });
    }

    #[test]
    fn a_malformed_stored_hash_is_an_error_not_a_match() {
        let hasher = PasswordHasher::new().unwrap();
        assert!(hasher.verify(&pw("x"), Some(&PasswordHash::from_phc("nonsense".into()))).is_err());
    }
}
