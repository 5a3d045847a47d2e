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

const RESTORE_VERSION: &[u8] = b"sealpost-audit-restore-v1";

/// A restore from a backup, signed by `sealpost restore` with the audit key. A restore rolls
/// the log back to the backup's head, which tamper evidence must see as a rollback. This
/// record makes a legitimate one explicit: it names the head the log went back to and the last
/// head signed before, so `audit verify` can set aside the checkpoints of the history it
/// abandoned, and only those: a rollback made by hand has no record and is still a break.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Restore {
    /// The backup's head: the log was restored to it, and must pass through it.
    pub restored: Head,
    /// The last head this installation had signed before the restore (the same as `restored`
    /// when nothing was signed after the backup).
    pub last_signed: Head,
    /// When the restore was made (Unix ms, UTC).
    pub at_ms: i64,
}

impl Restore {
    /// The bytes the audit key signs: a version tag (not a checkpoint's), the two heads and
    /// the time, at fixed widths.
    pub fn signed_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(RESTORE_VERSION.len() + 88);
        out.extend_from_slice(RESTORE_VERSION);
        for head in [self.restored, self.last_signed] {
            out.extend_from_slice(&head.seq.to_be_bytes());
            out.extend_from_slice(&head.hash);
        }
        out.extend_from_slice(&self.at_ms.to_be_bytes());
        out
    }

    /// Whether checkpoint `c` belongs to the history this restore abandoned: signed before
    /// the restore, past the backup's head. (Not bounded by `last_signed`: when the keys came
    /// back from the backup too, they know nothing of the checkpoints signed after it, which
    /// IG may still hold.)
    pub fn abandoned(&self, c: &Checkpoint) -> bool {
        c.at_ms <= self.at_ms && c.head.seq > self.restored.seq
    }

    /// The events of the abandoned history that were signed (none when nothing was).
    pub fn events_lost(&self) -> i64 {
        (self.last_signed.seq - self.restored.seq).max(0)
    }
}

/// In words, for `audit verify` and the IG console.
impl std::fmt::Display for Restore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Restored from a backup on {}: the log went back to event {}",
            time::rfc3339(self.at_ms),
            self.restored.seq
        )?;
        match self.events_lost() {
            0 => write!(f, "; no checkpoint signed after it was on record here."),
            1 => write!(
                f,
                "; the 1 event signed after it (event {}) is not in this log.",
                self.last_signed.seq
            ),
            n => write!(
                f,
                "; the {n} events signed after it (up to event {}) are not in this log.",
                self.last_signed.seq
            ),
        }
    }
}

/// A restore record with the public key and signature that vouch for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SignedRestore {
    /// What was signed.
    pub restore: Restore,
    /// The Ed25519 public key that signed it.
    pub key: [u8; 32],
    /// The Ed25519 signature over [`Restore::signed_bytes`].
    pub signature: [u8; 64],
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

    fn restore() -> Restore {
        Restore {
            restored: Head { seq: 100, hash: [1; 32] },
            last_signed: Head { seq: 150, hash: [2; 32] },
            at_ms: 2_000,
        }
    }

    #[test]
    fn a_restore_sets_aside_only_the_checkpoints_of_the_history_it_abandoned() {
        let r = restore();
        let at = |seq, at_ms| Checkpoint {
            head: Head { seq, hash: [5; 32] },
            at_ms,
        };
        assert!(r.abandoned(&at(101, 1_000)) && r.abandoned(&at(150, 2_000)));
        // At or before the backup's head: on the restored log, so still checked.
        assert!(!r.abandoned(&at(100, 1_000)));
        // Beyond the last head this server knew it had signed: still abandoned (IG may hold
        // checkpoints the backup's keys never saw). Signed after the restore: never.
        assert!(r.abandoned(&at(151, 1_000)));
        assert!(!r.abandoned(&at(120, 2_001)));
        assert_eq!(r.events_lost(), 50);
        assert_eq!(
            r.to_string(),
            "Restored from a backup on 1970-01-01T00:00:02.000Z: the log went back to event 100; the 50 events signed after it (up to event 150) are not in this log."
        );
    }

    #[test]
    fn a_restore_signs_other_bytes_than_any_checkpoint() {
        let r = restore();
        let c = Checkpoint {
            head: r.restored,
            at_ms: r.at_ms,
        };
        assert!(!r.signed_bytes().starts_with(SIGNED_VERSION) && r.signed_bytes() != c.signed_bytes());
        let mut later = r;
        later.last_signed.hash[0] ^= 1;
        assert_ne!(later.signed_bytes(), r.signed_bytes());
    }
}
