//! Password hashing with argon2id (SECURITY A1) and verification that takes the same time for
//! unknown accounts (A5) by checking against a dummy hash.

use argon2::password_hash::{self, Output, ParamsString, SaltString};
use std::sync::atomic::{AtomicU64, Ordering};

use argon2::{Algorithm, Argon2, Block, Params, Version};
use secrecy::{ExposeSecret, SecretString};
use subtle::ConstantTimeEq;

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

/// The 19 MiB of working memory one argon2id computation needs. A hashing worker keeps one and
/// reuses it for every password, so a storm of sign-ins cannot strand a fresh block in every
/// thread's allocator arena (SECURITY A11).
pub struct HashMemory(Vec<Block>);

impl HashMemory {
    /// Memory for Sealpost's parameters.
    pub fn new() -> Self {
        Self(vec![Block::default(); M_COST as usize])
    }

    /// The blocks for `params`: these, or (for an old hash with more memory) a one-off buffer.
    fn blocks_for(&mut self, params: &Params) -> BlocksFor<'_> {
        let needed = params.block_count();
        if needed <= self.0.len() {
            BlocksFor::Reused(&mut self.0[..needed])
        } else {
            BlocksFor::OneOff(vec![Block::default(); needed])
        }
    }
}

impl Default for HashMemory {
    fn default() -> Self {
        Self::new()
    }
}

enum BlocksFor<'a> {
    Reused(&'a mut [Block]),
    OneOff(Vec<Block>),
}

impl AsMut<[Block]> for BlocksFor<'_> {
    fn as_mut(&mut self) -> &mut [Block] {
        match self {
            BlocksFor::Reused(b) => b,
            BlocksFor::OneOff(v) => v,
        }
    }
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

    /// Hashes a password with a fresh 16-byte salt from the OS RNG, in memory of its own.
    pub fn hash(&self, password: &SecretString) -> Result<PasswordHash, CryptoError> {
        self.hash_in(&mut HashMemory::new(), password)
    }

    /// Hashes a password with a fresh 16-byte salt from the OS RNG, in `memory`.
    pub fn hash_in(&self, memory: &mut HashMemory, password: &SecretString) -> Result<PasswordHash, CryptoError> {
        let salt = SaltString::encode_b64(&random_bytes::<16>()?).map_err(|_| CryptoError::Random)?;
        let params = self.argon2.params().clone();
        let output = compute(&self.argon2, memory, &params, password, &salt)?;
        let phc = password_hash::PasswordHash {
            algorithm: Algorithm::Argon2id.ident(),
            version: Some(Version::V0x13.into()),
            params: ParamsString::try_from(&params).map_err(|_| CryptoError::BadPasswordHash)?,
            salt: Some(salt.as_salt()),
            hash: Some(output),
        };
        Ok(PasswordHash(phc.to_string()))
    }

    /// Verifies `password` against `stored` in memory of its own (see [`Self::verify_in`]).
    pub fn verify(&self, password: &SecretString, stored: Option<&PasswordHash>) -> Result<Verification, CryptoError> {
        self.verify_in(&mut HashMemory::new(), password, stored)
    }

    /// Verifies `password` against `stored`, or against a dummy hash when there is no account,
    /// so both paths cost one argon2id computation. The comparison is constant-time.
    pub fn verify_in(
        &self,
        memory: &mut HashMemory,
        password: &SecretString,
        stored: Option<&PasswordHash>,
    ) -> Result<Verification, CryptoError> {
        let phc = stored.unwrap_or(&self.dummy);
        let parsed = password_hash::PasswordHash::new(&phc.0).map_err(|_| CryptoError::BadPasswordHash)?;
        let (Some(salt), Some(expected)) = (parsed.salt, parsed.hash) else {
            return Err(CryptoError::BadPasswordHash);
        };
        let algorithm = Algorithm::try_from(parsed.algorithm).map_err(|_| CryptoError::BadPasswordHash)?;
        let version = parsed
            .version
            .map_or(Ok(Version::V0x13), Version::try_from)
            .map_err(|_| CryptoError::BadPasswordHash)?;
        let params = Params::try_from(&parsed).map_err(|_| CryptoError::BadPasswordHash)?;
        let argon2 = Argon2::new(algorithm, version, params.clone());
        let salt_string = SaltString::from_b64(salt.as_str()).map_err(|_| CryptoError::BadPasswordHash)?;
        let got = compute_len(&argon2, memory, &params, password, &salt_string, expected.len())?;
        let ok: bool = got.as_bytes().ct_eq(expected.as_bytes()).into();
        self.verifications.fetch_add(1, Ordering::Relaxed);
        if !ok || stored.is_none() {
            return Ok(Verification::Mismatch);
        }
        Ok(Verification::Match {
            needs_rehash: is_weaker(&parsed),
        })
    }
}

/// One argon2 computation of the default output length, in `memory`.
fn compute(
    argon2: &Argon2<'_>,
    memory: &mut HashMemory,
    params: &Params,
    password: &SecretString,
    salt: &SaltString,
) -> Result<Output, CryptoError> {
    compute_len(
        argon2,
        memory,
        params,
        password,
        salt,
        params.output_len().unwrap_or(Params::DEFAULT_OUTPUT_LEN),
    )
}

fn compute_len(
    argon2: &Argon2<'_>,
    memory: &mut HashMemory,
    params: &Params,
    password: &SecretString,
    salt: &SaltString,
    len: usize,
) -> Result<Output, CryptoError> {
    let mut salt_buf = [0u8; 64];
    let salt = salt.as_salt().decode_b64(&mut salt_buf).map_err(|_| CryptoError::BadPasswordHash)?;
    let blocks = memory.blocks_for(params);
    Output::init_with(len, |out| {
        argon2
            .hash_password_into_with_memory(password.expose_secret().as_bytes(), salt, out, blocks)
            .map_err(|_| password_hash::Error::Password)
    })
    .map_err(|_| CryptoError::BadPasswordHash)
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
    use argon2::password_hash::{PasswordHasher as _, PasswordVerifier as _};

    #[test]
    fn hashes_made_in_reused_memory_are_standard_phc_strings_both_ways() {
        let hasher = PasswordHasher::new().unwrap();
        let mut memory = HashMemory::new();
        let ours = hasher.hash_in(&mut memory, &pw("correct horse battery")).unwrap();
        let parsed = password_hash::PasswordHash::new(ours.as_phc()).unwrap();
        assert!(Argon2::default().verify_password(b"correct horse battery", &parsed).is_ok());
        let salt = SaltString::encode_b64(&[9u8; 16]).unwrap();
        let theirs = hasher.argon2.hash_password(b"correct horse battery", &salt).unwrap().to_string();
        let theirs = PasswordHash::from_phc(theirs);
        for _ in 0..2 {
            // The same memory, reused, gives the same answers.
            assert_eq!(
                hasher.verify_in(&mut memory, &pw("correct horse battery"), Some(&theirs)).unwrap(),
                Verification::Match { needs_rehash: false }
            );
            assert_eq!(
                hasher.verify_in(&mut memory, &pw("correct horse batterx"), Some(&theirs)).unwrap(),
                Verification::Mismatch
            );
        }
    }

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
