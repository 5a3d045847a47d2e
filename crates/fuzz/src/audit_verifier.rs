//! The audit verifier (SECURITY F4). The bytes build a chain of up to eight events, then choose
//! one edit: none, a changed field, a deleted, swapped, repeated or re-hashed event, or a
//! cut-off tail. The untouched chain must verify to its own head; every edit must be refused
//! (a cut-off tail against the head exported before the cut). Stored rows made of the raw
//! bytes must never make the verifier panic.

use sealpost_audit::AuditEvent;
use sealpost_audit::chain::{ChainedEvent, GENESIS, Hash, Head, verify};

/// Reads bytes one at a time, then zeros.
struct Bytes<'a>(std::slice::Iter<'a, u8>);

impl Bytes<'_> {
    fn byte(&mut self) -> u8 {
        self.0.next().copied().unwrap_or(0)
    }

    fn text(&mut self) -> String {
        let len = usize::from(self.byte() % 12);
        (0..len).map(|_| char::from(b' ' + self.byte() % 95)).collect()
    }

    fn hash(&mut self) -> Hash {
        std::array::from_fn(|_| self.byte())
    }
}

fn event(b: &mut Bytes<'_>) -> AuditEvent {
    AuditEvent {
        at_ms: i64::from(b.byte()) * 1_000,
        actor: b.text(),
        action: b.text(),
        object: b.byte().is_multiple_of(2).then(|| b.text()),
        outcome: b.text(),
        origin: sealpost_audit::Origin {
            ip: b.byte().is_multiple_of(2).then(|| b.text()),
            user_agent: b.byte().is_multiple_of(2).then(|| b.text()),
            request_id: b.byte().is_multiple_of(2).then(|| b.text()),
        },
    }
}

/// Builds, edits and verifies a chain from `data`.
pub fn audit_verifier(data: &[u8]) {
    let mut b = Bytes(data.iter());
    let count = usize::from(b.byte() % 8) + 1;
    let mut chain: Vec<ChainedEvent> = vec![];
    for _ in 0..count {
        let (seq, prev) = chain.last().map_or((0, GENESIS), |e| (e.seq, e.hash));
        chain.push(ChainedEvent::link(event(&mut b), seq, prev));
    }
    let last = &chain[count - 1];
    let head = Head {
        seq: last.seq,
        hash: last.hash,
    };
    assert_eq!(verify(&chain, None), Ok(head), "an untouched chain verifies");
    assert_eq!(verify(&chain, Some(head)), Ok(head), "and passes through its own head");

    let (i, j) = (usize::from(b.byte()) % count, usize::from(b.byte()) % count);
    let mut edited = chain.clone();
    let anchor = match b.byte() % 7 {
        0 => return stored_garbage(&mut b),
        1 => {
            let e = &mut edited[i].event;
            match b.byte() % 8 {
                0 => e.at_ms += 1,
                1 => e.actor.push('x'),
                2 => e.action.push('.'),
                3 => e.object = if e.object.is_some() { None } else { Some(String::new()) },
                4 => e.origin.ip = if e.origin.ip.is_some() { None } else { Some(String::new()) },
                5 => e.origin.user_agent.get_or_insert_default().push('/'),
                6 => e.origin.request_id = if e.origin.request_id.is_some() { None } else { Some("r".into()) },
                _ => e.outcome.push('!'),
            }
            None
        }
        2 if count > 1 && i + 1 < count => {
            edited.remove(i);
            None
        }
        3 if i != j => {
            edited.swap(i, j);
            None
        }
        4 => {
            edited.insert(i, chain[j].clone());
            None
        }
        5 => {
            edited[i].hash[usize::from(b.byte()) % 32] ^= 1;
            None
        }
        _ => {
            edited.truncate(i);
            Some(head) // a shorter chain is only caught against a head exported earlier
        }
    };
    if edited != chain {
        assert!(verify(&edited, anchor).is_err(), "an edited chain verified");
    }
}

/// Rows as a database could hand them back after any tampering: no panic, whatever they hold.
fn stored_garbage(b: &mut Bytes<'_>) {
    let rows: Vec<ChainedEvent> = (0..usize::from(b.byte() % 6))
        .map(|_| ChainedEvent {
            seq: i64::from(b.byte() % 8) - 1,
            event: event(b),
            prev_hash: b.hash(),
            hash: b.hash(),
        })
        .collect();
    let anchor = b.byte().is_multiple_of(2).then(|| Head {
        seq: i64::from(b.byte() % 8),
        hash: b.hash(),
    });
    let _ = verify(&rows, anchor);
}
