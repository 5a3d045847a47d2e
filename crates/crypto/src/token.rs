//! Bearer tokens (session cookies, secure links): 256 bits from the OS RNG, shown to the holder
//! once as hex, and stored only as their SHA-256 (SECURITY A7, B1).

use secrecy::{ExposeSecret, SecretBox};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use sealpost_domain::hex;

use crate::{CryptoError, random::random_bytes};

const TOKEN_BYTES: usize = 32;

/// A secret bearer token. It cannot be printed, cloned or serialised by accident.
pub struct Token(SecretBox<[u8; TOKEN_BYTES]>);

/// The SHA-256 of a token: what the database keeps and looks up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TokenHash([u8; 32]);

impl Token {
    /// A fresh random token.
    pub fn generate() -> Result<Self, CryptoError> {
        Ok(Self(SecretBox::new(Box::new(random_bytes::<TOKEN_BYTES>()?))))
    }

    /// Parses the hex form a client presents. Anything else is `None`.
    pub fn parse(text: &str) -> Option<Self> {
        hex::decode::<TOKEN_BYTES>(text).map(|bytes| Self(SecretBox::new(Box::new(bytes))))
    }

    /// The hex form handed to the client (a cookie value or link). Loud on purpose.
    pub fn expose_hex(&self) -> String {
        hex::encode(self.0.expose_secret())
    }

    /// The hash stored at rest.
    pub fn hash(&self) -> TokenHash {
        TokenHash(Sha256::digest(self.0.expose_secret()).into())
    }
}

impl TokenHash {
    /// Rebuilds a hash read back from storage.
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// The bytes to store.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// Compares in constant time, so timing reveals nothing about how much of a guess matched.
    pub fn ct_eq(&self, other: &TokenHash) -> bool {
        self.0.ct_eq(&other.0).into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn tokens_are_256_random_bits_in_hex() {
        let a = Token::generate().unwrap();
        let b = Token::generate().unwrap();
        assert_eq!(a.expose_hex().len(), 64);
        assert_ne!(a.expose_hex(), b.expose_hex());
        assert!(!a.hash().ct_eq(&b.hash()));
    }

    #[test]
    fn a_parsed_token_hashes_like_the_original() {
        let t = Token::generate().unwrap();
        let back = Token::parse(&t.expose_hex()).unwrap();
        assert!(back.hash().ct_eq(&t.hash()));
        assert_ne!(t.hash().as_bytes().as_slice(), t.expose_hex().as_bytes());
    }

    #[test]
    fn only_64_hex_digits_parse() {
        let good = "0123456789abcdefABCDEF".repeat(3)[..64].to_owned();
        assert!(Token::parse(&good).is_some());
        let plus = format!("+f{}", &good[2..]);
        assert!(Token::parse(&plus).is_none(), "a sign is not a hex digit");
        assert!(Token::parse(&good[..63]).is_none());
        assert!(Token::parse(&format!("{good}0")).is_none());
    }

    proptest! {
        #[test]
        fn parsing_arbitrary_text_never_panics(s in "\\PC{0,70}") {
            if let Some(t) = Token::parse(&s) {
                prop_assert_eq!(t.expose_hex(), s.to_lowercase());
            }
        }

        #[test]
        fn any_64_hex_digits_round_trip(s in "[0-9a-fA-F]{64}") {
            let t = Token::parse(&s).unwrap();
            prop_assert_eq!(t.expose_hex(), s.to_lowercase());
        }
    }
}

/// A six-digit one-time code from the OS RNG, uniform over 000000–999999 (SECURITY B3).
pub fn six_digit_code() -> Result<secrecy::SecretString, CryptoError> {
    // Reject the top of the u32 range so every code is equally likely.
    const LIMIT: u32 = 4_294_000_000;
    loop {
        let n = u32::from_le_bytes(random_bytes::<4>()?);
        if n < LIMIT {
            return Ok(secrecy::SecretString::from(format!("{:06}", n % 1_000_000)));
        }
    }
}

/// The stored form of a code: SHA-256 over the portal session's token hash and the code, so a
/// code is bound to the session it was sent for.
pub fn code_hash(session: &TokenHash, code: &str) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(session.as_bytes());
    h.update(code.as_bytes());
    h.finalize().into()
}

/// Whether two shared secrets (e.g. the intake's header secret) are equal, in constant time
/// whatever their lengths: their SHA-256 digests are compared.
pub fn secrets_match(given: &str, expected: &str) -> bool {
    let (a, b): ([u8; 32], [u8; 32]) = (Sha256::digest(given.as_bytes()).into(), Sha256::digest(expected.as_bytes()).into());
    a.ct_eq(&b).into()
}

/// Compares two code hashes in constant time.
pub fn code_hashes_match(a: &[u8; 32], b: &[u8; 32]) -> bool {
    a.ct_eq(b).into()
}

#[cfg(test)]
mod code_tests {
    #[test]
    fn shared_secrets_match_only_when_equal() {
        assert!(super::secrets_match("s3cret-value", "s3cret-value"));
        assert!(!super::secrets_match("s3cret-valu", "s3cret-value"));
        assert!(!super::secrets_match("", "s3cret-value"));
    }

    use secrecy::ExposeSecret;

    use super::*;

    #[test]
    fn codes_are_six_digits_and_bound_to_their_session() {
        let code = six_digit_code().unwrap();
        assert_eq!(code.expose_secret().len(), 6);
        assert!(code.expose_secret().bytes().all(|b| b.is_ascii_digit()));
        let (a, b) = (Token::generate().unwrap().hash(), Token::generate().unwrap().hash());
        assert!(code_hashes_match(&code_hash(&a, "123456"), &code_hash(&a, "123456")));
        assert!(!code_hashes_match(&code_hash(&a, "123456"), &code_hash(&b, "123456")));
        assert!(!code_hashes_match(&code_hash(&a, "123456"), &code_hash(&a, "123457")));
    }
}

/// The SHA-256 of `bytes` in lower-case hex (a backup manifest's file hashes).
pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

/// [`sha256_hex`] of everything `reader` yields, read a block at a time (a backup's files,
/// which may be gigabytes).
pub fn sha256_hex_of(mut reader: impl std::io::Read) -> std::io::Result<String> {
    let mut hasher = Sha256::new();
    let mut block = vec![0; 64 * 1024];
    loop {
        match reader.read(&mut block)? {
            0 => return Ok(hex::encode(&hasher.finalize())),
            n => hasher.update(&block[..n]),
        }
    }
}
