//! Signed checkpoints of the chain's head (SECURITY F6). Sealpost signs `(seq, hash, time)`
//! with its audit key every so many events or minutes. A checkpoint exported and kept
//! elsewhere proves the history up to it: someone with the database but not the key can
//! rewrite the whole table and recompute every hash, but cannot sign the new head, and the
//! exported checkpoint no longer lies on their chain.
//!
//! This module is pure: it fixes the bytes that are signed and the text of an exported file.
//! Signing and checking the signature belong to the crypto crate.

use sealpost_domain::{hex, time};

use crate::chain::Head;

const SIGNED_VERSION: &[u8] = b"sealpost-audit-checkpoint-v1";
const FILE_TITLE: &str = "Sealpost audit checkpoint v1";

/// A head and when it was signed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Checkpoint {
    /// The chain's head at the time.
    pub head: Head,
    /// When it was signed (Unix ms, UTC).
    pub at_ms: i64,
}

impl Checkpoint {
    /// The bytes the audit key signs: a version tag, then seq, hash and time at fixed widths.
    pub fn signed_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(SIGNED_VERSION.len() + 48);
        out.extend_from_slice(SIGNED_VERSION);
        out.extend_from_slice(&self.head.seq.to_be_bytes());
        out.extend_from_slice(&self.head.hash);
        out.extend_from_slice(&self.at_ms.to_be_bytes());
        out
    }
}

/// A checkpoint with the public key and signature that vouch for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SignedCheckpoint {
    /// What was signed.
    pub checkpoint: Checkpoint,
    /// The Ed25519 public key that signed it.
    pub key: [u8; 32],
    /// The Ed25519 signature over [`Checkpoint::signed_bytes`].
    pub signature: [u8; 64],
}

/// The exported file: a title line, then `name: value` lines a person can read.
impl std::fmt::Display for SignedCheckpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let c = &self.checkpoint;
        writeln!(f, "{FILE_TITLE}")?;
        writeln!(f, "head: {}", c.head)?;
        writeln!(f, "signed-at: {}", time::rfc3339(c.at_ms))?;
        writeln!(f, "signed-at-ms: {}", c.at_ms)?;
        writeln!(f, "key: {}", hex::encode(&self.key))?;
        writeln!(f, "signature: {}", hex::encode(&self.signature))
    }
}

/// Why an exported checkpoint file could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a Sealpost audit checkpoint file: {0}")]
pub struct FileError(&'static str);

impl std::str::FromStr for SignedCheckpoint {
    type Err = FileError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let mut lines = text.lines().map(str::trim).filter(|l| !l.is_empty());
        if lines.next() != Some(FILE_TITLE) {
            return Err(FileError("the first line must read \"Sealpost audit checkpoint v1\""));
        }
        let (mut head, mut at_ms, mut key, mut signature) = (None, None, None, None);
        for line in lines {
            let (name, value) = line.split_once(':').ok_or(FileError("every line after the first is NAME: VALUE"))?;
            let value = value.trim();
            match name.trim() {
                "head" => head = Some(value.parse::<Head>().map_err(FileError)?),
                "signed-at-ms" => at_ms = Some(value.parse::<i64>().map_err(|_| FileError("signed-at-ms is a number"))?),
                "key" => key = Some(hex::decode(value).ok_or(FileError("key is 64 hex digits"))?),
                "signature" => signature = Some(hex::decode(value).ok_or(FileError("signature is 128 hex digits"))?),
                _ => {} // signed-at, for people
            }
        }
        Ok(SignedCheckpoint {
            checkpoint: Checkpoint {
                head: head.ok_or(FileError("no head line"))?,
                at_ms: at_ms.ok_or(FileError("no signed-at-ms line"))?,
            },
            key: key.ok_or(FileError("no key line"))?,
            signature: signature.ok_or(FileError("no signature line"))?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> SignedCheckpoint {
        SignedCheckpoint {
            checkpoint: Checkpoint {
                head: Head { seq: 1234, hash: [7; 32] },
                at_ms: 1_795_392_000_000,
            },
            key: [9; 32],
            signature: [3; 64],
        }
    }

    #[test]
    fn the_file_round_trips_and_reads_plainly() {
        let text = sample().to_string();
        assert!(text.starts_with("Sealpost audit checkpoint v1\nhead: 1234:0707"));
        assert!(text.contains("signed-at: 2026-11-23T00:00:00.000Z\n"));
        assert_eq!(text.parse::<SignedCheckpoint>(), Ok(sample()));
    }

    #[test]
    fn a_damaged_file_is_refused_with_what_is_wrong() {
        let text = sample().to_string();
        assert!("hello".parse::<SignedCheckpoint>().is_err());
        let no_sig: String = text
            .lines()
            .filter(|l| !l.starts_with("signature"))
            .map(|l| format!("{l}\n"))
            .collect();
        assert_eq!(no_sig.parse::<SignedCheckpoint>(), Err(FileError("no signature line")));
        let short = text.replace("key: 0909", "key: 09");
        assert_eq!(short.parse::<SignedCheckpoint>(), Err(FileError("key is 64 hex digits")));
    }

    #[test]
    fn every_signed_field_changes_the_signed_bytes() {
        let base = sample().checkpoint;
        let mut seq = base;
        seq.head.seq += 1;
        let mut hash = base;
        hash.head.hash[31] ^= 1;
        let mut at = base;
        at.at_ms += 1;
        for other in [seq, hash, at] {
            assert_ne!(other.signed_bytes(), base.signed_bytes());
        }
    }
}
