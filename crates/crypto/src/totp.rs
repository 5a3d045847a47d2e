//! The second factor (SECURITY A6): time-based one-time passwords (RFC 6238: HMAC-SHA-1, six
//! digits, 30-second steps, one step of clock skew either way) through `totp-rs`, and
//! single-use recovery codes. The secret is random from the OS, shown once as base32 and an
//! `otpauth://` address for the QR code, and stored only sealed to the keyring
//! ([`crate::Keyring::seal_secret`]). Which step a code matched is returned, so the caller can
//! refuse the same step twice (RFC 6238 §5.2: a code is accepted once).

use secrecy::{ExposeSecret, SecretBox, SecretString};
use sha2::{Digest, Sha256};
use totp_rs::{Algorithm, Builder, Secret, Totp};

use crate::{CryptoError, random_bytes};

const STEP_SECONDS: u64 = 30;
const SECRET_BYTES: usize = 20;

/// A TOTP secret (160 random bits).
pub struct TotpSecret(SecretBox<[u8; SECRET_BYTES]>);

impl TotpSecret {
    /// A fresh secret.
    pub fn generate() -> Result<Self, CryptoError> {
        Ok(Self(SecretBox::new(Box::new(random_bytes::<SECRET_BYTES>()?))))
    }

    /// The secret from its stored bytes.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, CryptoError> {
        let array: [u8; SECRET_BYTES] = bytes.try_into().map_err(|_| CryptoError::InvalidKey("a TOTP secret is 20 bytes"))?;
        Ok(Self(SecretBox::new(Box::new(array))))
    }

    /// The secret as an authenticator app takes it: base32, spaces ignored.
    pub fn from_base32(text: &str) -> Result<Self, CryptoError> {
        let plain: String = text.chars().filter(|c| !c.is_whitespace()).collect::<String>().to_uppercase();
        let secret = Secret::try_from_base32(plain).map_err(|_| CryptoError::InvalidKey("not base32"))?;
        Self::from_bytes(secret.as_bytes())
    }

    /// The bytes, to seal for storage.
    pub fn expose_bytes(&self) -> &[u8] {
        self.0.expose_secret()
    }

    /// The secret as people type it into an authenticator app: base32, in groups of four.
    pub fn expose_base32(&self) -> SecretString {
        let plain = Secret::new_stack(*self.0.expose_secret()).to_base32();
        let grouped: Vec<String> = plain
            .as_bytes()
            .chunks(4)
            .map(|c| String::from_utf8_lossy(c).into_owned())
            .collect();
        SecretString::from(grouped.join(" "))
    }

    /// The `otpauth://totp/…` address an authenticator app reads from the QR code.
    pub fn expose_otpauth_url(&self, issuer: &str, account: &str) -> Result<SecretString, CryptoError> {
        let clean = |s: &str| s.replace(':', " ");
        let totp = Builder::new()
            .with_algorithm(Algorithm::SHA1)
            .with_digits(6)
            .with_skew(1)
            .with_step_duration(STEP_SECONDS)
            .with_secret(Secret::new_stack(*self.0.expose_secret()))
            .with_issuer(Some(clean(issuer)))
            .with_account_name(clean(account))
            .build()
            .map_err(|_| CryptoError::InvalidKey("the TOTP settings"))?;
        totp.to_url()
            .map(SecretString::from)
            .map_err(|_| CryptoError::InvalidKey("the TOTP address"))
    }

    /// The step `code` is right for at `unix_seconds`, allowing one step either way; `None`
    /// for a wrong code or anything that is not six digits.
    pub fn check(&self, code: &str, unix_seconds: u64) -> Option<u64> {
        let digits: String = code.chars().filter(|c| !c.is_whitespace()).collect();
        if digits.len() != 6 || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        self.totp().check(&digits, unix_seconds)
    }

    /// The code for `unix_seconds` (what the person's app shows then).
    pub fn code_at(&self, unix_seconds: u64) -> String {
        self.totp().generate(unix_seconds).to_string()
    }

    fn totp(&self) -> Totp {
        Builder::new()
            .with_algorithm(Algorithm::SHA1)
            .with_digits(6)
            .with_skew(1)
            .with_step_duration(STEP_SECONDS)
            .with_secret(Secret::new_stack(*self.0.expose_secret()))
            .build_noncompliant()
    }
}

/// A recovery code: ten lower-case letters and digits (about 50 bits) in two groups,
/// `abcde-12345`, from the OS RNG.
pub fn recovery_code() -> Result<SecretString, CryptoError> {
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyz23456789";
    let mut out = String::with_capacity(11);
    let mut taken = 0;
    while taken < 10 {
        for b in random_bytes::<16>()? {
            // 31 letters: reject the top of the byte range so each is equally likely.
            if usize::from(b) < ALPHABET.len() * 8 && taken < 10 {
                if taken == 5 {
                    out.push('-');
                }
                out.push(char::from(ALPHABET[usize::from(b) % ALPHABET.len()]));
                taken += 1;
            }
        }
    }
    Ok(SecretString::from(out))
}

/// The stored form of a recovery code: SHA-256 of it, lower case, without spaces or dashes.
/// (The code is random and long enough that a fast hash is the right one.)
pub fn recovery_code_hash(code: &str) -> [u8; 32] {
    let normal: String = code
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_lowercase())
        .collect();
    Sha256::digest(normal.as_bytes()).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn totp_step(unix_seconds: u64) -> u64 {
        unix_seconds / STEP_SECONDS
    }

    #[test]
    fn a_code_is_right_for_its_step_and_one_either_side_and_no_further() {
        let secret = TotpSecret::generate().unwrap();
        let now = 1_800_000_000;
        let code = secret.code_at(now);
        assert_eq!(secret.check(&code, now), Some(totp_step(now)));
        assert_eq!(secret.check(&code, now + 30), Some(totp_step(now)));
        assert_eq!(secret.check(&code, now - 30), Some(totp_step(now)));
        assert_eq!(secret.check(&code, now + 90), None);
        assert_eq!(secret.check("12345", now), None);
        assert_eq!(secret.check("abcdef", now), None);
        assert_eq!(secret.check(&format!("{} {}", &code[..3], &code[3..]), now), Some(totp_step(now)));
    }

    #[test]
    fn rfc_6238_test_vector() {
        // RFC 6238 appendix B, SHA-1, secret "12345678901234567890", T = 59 s: 94287082
        // (eight digits); the six-digit code is its last six.
        let secret = TotpSecret::from_bytes(b"12345678901234567890").unwrap();
        assert_eq!(secret.code_at(59), "287082");
        assert_eq!(secret.code_at(1_111_111_109), "081804");
    }

    #[test]
    fn the_secret_reads_back_and_the_address_names_issuer_and_account() {
        let secret = TotpSecret::generate().unwrap();
        let again = TotpSecret::from_bytes(secret.expose_bytes()).unwrap();
        assert_eq!(again.code_at(1000), secret.code_at(1000));
        let base32 = secret.expose_base32();
        let typed = TotpSecret::from_base32(&base32.expose_secret().to_lowercase()).unwrap();
        assert_eq!(typed.code_at(1000), secret.code_at(1000));
        assert_eq!(base32.expose_secret().replace(' ', "").len(), 32);
        let url = secret.expose_otpauth_url("Testshire: Council", "ann@testshire.gov.uk").unwrap();
        let url = url.expose_secret();
        assert!(url.starts_with("otpauth://totp/"), "{url}");
        assert!(url.contains(&base32.expose_secret().replace(' ', "")), "{url}");
        assert!(
            url.contains("ann%40testshire.gov.uk") || url.contains("ann@testshire.gov.uk"),
            "{url}"
        );
    }

    #[test]
    fn recovery_codes_are_random_and_match_however_typed() {
        let a = recovery_code().unwrap();
        let b = recovery_code().unwrap();
        assert_ne!(a.expose_secret(), b.expose_secret());
        assert_eq!(a.expose_secret().len(), 11);
        let typed = a.expose_secret().to_uppercase().replace('-', " ");
        assert_eq!(recovery_code_hash(&typed), recovery_code_hash(a.expose_secret()));
        assert_ne!(recovery_code_hash(a.expose_secret()), recovery_code_hash(b.expose_secret()));
    }
}
