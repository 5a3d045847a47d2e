//! The hash chain over audit events (SECURITY F3, F4). Each event is encoded canonically, and
//! `hash = SHA-256(prev_hash ‖ canonical bytes)`, with the first event's `prev_hash` all zeros.
//! The encoding names its version and length-prefixes every field, so no two different events
//! share an encoding, and the sequence number is inside it, so no event can move.
//!
//! [`Verifier`] walks a chain in order, a batch at a time, and reports the head it reached or
//! the first event that breaks it: an edited field, a deleted, inserted or reordered event. A
//! cut-off tail leaves a valid shorter chain, so it is caught against an anchor the verifier is
//! given: a checkpoint exported earlier (F6).

use sealpost_domain::hex;
use sha2::{Digest, Sha256};

use crate::AuditEvent;

/// A SHA-256 value in the chain.
pub type Hash = [u8; 32];

/// The `prev_hash` of the first event.
pub const GENESIS: Hash = [0; 32];

const VERSION: &[u8] = b"sealpost-audit-v1";

/// An event with its place in the chain, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainedEvent {
    /// Its position: 1, 2, 3, … with no gaps.
    pub seq: i64,
    /// What happened.
    pub event: AuditEvent,
    /// The hash of the event before it.
    pub prev_hash: Hash,
    /// This event's hash.
    pub hash: Hash,
}

impl ChainedEvent {
    /// Links `event` after the event at (`prev_seq`, `prev_hash`).
    pub fn link(event: AuditEvent, prev_seq: i64, prev_hash: Hash) -> Self {
        let seq = prev_seq + 1;
        let hash = chain_hash(&prev_hash, &canonical(seq, &event));
        Self {
            seq,
            event,
            prev_hash,
            hash,
        }
    }
}

/// The canonical bytes of event `e` at position `seq`.
pub fn canonical(seq: i64, e: &AuditEvent) -> Vec<u8> {
    let mut out = Vec::with_capacity(256);
    field(&mut out, Some(VERSION));
    field(&mut out, Some(&seq.to_be_bytes()));
    field(&mut out, Some(&e.at_ms.to_be_bytes()));
    field(&mut out, Some(e.actor.as_bytes()));
    field(&mut out, Some(e.action.as_bytes()));
    field(&mut out, e.object.as_deref().map(str::as_bytes));
    field(&mut out, Some(e.outcome.as_bytes()));
    field(&mut out, e.origin.ip.as_deref().map(str::as_bytes));
    field(&mut out, e.origin.user_agent.as_deref().map(str::as_bytes));
    field(&mut out, e.origin.request_id.as_deref().map(str::as_bytes));
    out
}

/// A presence byte, then the length (8 bytes, big-endian) and the bytes.
fn field(out: &mut Vec<u8>, value: Option<&[u8]>) {
    match value {
        None => out.push(0),
        Some(v) => {
            out.push(1);
            out.extend_from_slice(&(v.len() as u64).to_be_bytes());
            out.extend_from_slice(v);
        }
    }
}

/// `SHA-256(prev ‖ canonical)`.
pub fn chain_hash(prev: &Hash, canonical: &[u8]) -> Hash {
    let mut h = Sha256::new();
    h.update(prev);
    h.update(canonical);
    h.finalize().into()
}

/// Where a verified chain ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Head {
    /// The last event's position (0 for an empty chain).
    pub seq: i64,
    /// The last event's hash ([`GENESIS`] for an empty chain).
    pub hash: Hash,
}

/// Written `SEQ:HEX` (the position, a colon, 64 hex digits), as `audit verify` prints a head
/// and takes a checkpoint.
impl std::fmt::Display for Head {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.seq, hex::encode(&self.hash))
    }
}

impl std::str::FromStr for Head {
    type Err = &'static str;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        const USAGE: &str = "a checkpoint is SEQ:HASH, the hash as 64 hex digits";
        let (seq, hex_digits) = text.trim().split_once(':').ok_or(USAGE)?;
        let seq: i64 = seq.parse().map_err(|_| USAGE)?;
        let hash = hex::decode(hex_digits).ok_or(USAGE)?;
        if seq < 0 {
            return Err(USAGE);
        }
        Ok(Head { seq, hash })
    }
}

/// The first thing wrong with a chain.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Break {
    /// An event is missing, added or out of place: the positions do not run 1, 2, 3, ….
    #[error("event {found} is where event {expected} should be")]
    Sequence {
        /// The position expected here.
        expected: i64,
        /// The position found.
        found: i64,
    },
    /// The event does not point at the hash of the one before it.
    #[error("event {seq} does not follow the event before it")]
    Link {
        /// The event.
        seq: i64,
    },
    /// The event's content does not match its hash: it was edited.
    #[error("event {seq} was altered after it was written")]
    Altered {
        /// The event.
        seq: i64,
    },
    /// The chain is shorter than a checkpoint, or differs from it at its position.
    #[error("the log does not match the checkpoint at event {seq}")]
    Checkpoint {
        /// The checkpoint's position.
        seq: i64,
    },
    /// A stored checkpoint is not signed by this server's audit key: it was forged.
    #[error("the checkpoint at event {seq} is not signed by this server's audit key")]
    Forged {
        /// The checkpoint's position.
        seq: i64,
    },
}

impl Break {
    /// The position of the event (or checkpoint) where the chain breaks.
    pub fn seq(&self) -> i64 {
        match *self {
            Break::Sequence { expected, .. } => expected,
            Break::Link { seq } | Break::Altered { seq } | Break::Checkpoint { seq } | Break::Forged { seq } => seq,
        }
    }
}

/// Walks a chain in order, one event at a time.
#[derive(Debug, Clone)]
pub struct Verifier {
    head: Head,
    /// Checkpoints the chain must pass through, latest first (so the next is at the end).
    anchors: Vec<Head>,
}

impl Verifier {
    /// A verifier for a chain from its first event; `anchor` (a checkpoint) must be on it.
    pub fn new(anchor: Option<Head>) -> Self {
        Self::with_anchors(anchor.into_iter().collect())
    }

    /// A verifier that carries on from `from`, a head already verified (a trusted checkpoint).
    pub fn resume(from: Head) -> Self {
        Self {
            head: from,
            anchors: Vec::new(),
        }
    }

    /// A verifier for a chain that must pass through every one of `anchors`.
    pub fn with_anchors(mut anchors: Vec<Head>) -> Self {
        anchors.retain(|a| a.seq != 0 || a.hash != GENESIS);
        anchors.sort_by_key(|a| std::cmp::Reverse(a.seq));
        Self {
            head: Head { seq: 0, hash: GENESIS },
            anchors,
        }
    }

    /// Checks the next event.
    pub fn push(&mut self, e: &ChainedEvent) -> Result<(), Break> {
        let expected = self.head.seq + 1;
        if e.seq != expected {
            return Err(Break::Sequence { expected, found: e.seq });
        }
        if e.prev_hash != self.head.hash {
            return Err(Break::Link { seq: e.seq });
        }
        if chain_hash(&e.prev_hash, &canonical(e.seq, &e.event)) != e.hash {
            return Err(Break::Altered { seq: e.seq });
        }
        self.head = Head { seq: e.seq, hash: e.hash };
        while let Some(a) = self.anchors.last().copied()
            && a.seq <= e.seq
        {
            if a.seq < e.seq || a.hash != e.hash {
                return Err(Break::Checkpoint { seq: a.seq });
            }
            self.anchors.pop();
        }
        Ok(())
    }

    /// The head reached, once every event has been pushed.
    pub fn finish(self) -> Result<Head, Break> {
        match self.anchors.last() {
            Some(a) => Err(Break::Checkpoint { seq: a.seq }),
            None => Ok(self.head),
        }
    }
}

/// Verifies a whole chain held in memory.
pub fn verify<'a>(events: impl IntoIterator<Item = &'a ChainedEvent>, anchor: Option<Head>) -> Result<Head, Break> {
    let mut v = Verifier::new(anchor);
    for e in events {
        v.push(e)?;
    }
    v.finish()
}
