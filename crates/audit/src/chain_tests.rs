//! The chain catches every edit, deletion, insertion, reordering and truncation (SECURITY F4):
//! naive ones on its own, and rewrites that recompute every later hash against a checkpoint.

use proptest::prelude::*;

use crate::chain::{Break, ChainedEvent, GENESIS, Head, verify};
use crate::{AuditEvent, Origin};

fn event(i: u32) -> AuditEvent {
    AuditEvent {
        at_ms: 1_700_000_000_000 + i64::from(i),
        actor: format!("user:{i}"),
        action: if i.is_multiple_of(2) {
            "message.read"
        } else {
            "attachment.download"
        }
        .into(),
        object: (!i.is_multiple_of(3)).then(|| format!("message:{i}")),
        outcome: "success".into(),
        origin: Origin {
            ip: Some("10.0.0.1".into()),
            user_agent: i.is_multiple_of(5).then(|| "Mozilla/5.0".into()),
            request_id: Some(format!("req-{i}")),
        },
    }
}

fn chain(events: impl IntoIterator<Item = AuditEvent>) -> Vec<ChainedEvent> {
    let mut out: Vec<ChainedEvent> = vec![];
    for e in events {
        let (seq, hash) = out.last().map_or((0, GENESIS), |p| (p.seq, p.hash));
        out.push(ChainedEvent::link(e, seq, hash));
    }
    out
}

/// Recomputes every link and hash after an attacker's change, keeping the positions given.
fn rehash(events: Vec<ChainedEvent>) -> Vec<ChainedEvent> {
    let mut out: Vec<ChainedEvent> = vec![];
    for e in events {
        let prev = out.last().map_or(GENESIS, |p| p.hash);
        out.push(ChainedEvent::link(e.event, e.seq - 1, prev));
    }
    out
}

fn head(events: &[ChainedEvent]) -> Head {
    events
        .last()
        .map_or(Head { seq: 0, hash: GENESIS }, |e| Head { seq: e.seq, hash: e.hash })
}

#[derive(Debug, Clone)]
enum Mutation {
    Edit { at: usize, field: u8 },
    Delete { at: usize },
    Insert { at: usize },
    Swap { a: usize, b: usize },
    Truncate { keep: usize },
}

fn mutation(len: usize) -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (0..len, 0u8..7).prop_map(|(at, field)| Mutation::Edit { at, field }),
        (0..len).prop_map(|at| Mutation::Delete { at }),
        // Before an existing event: a forged event added after the last one is an append, which
        // no chain can tell from a real one (the triggers and checkpoints bound that).
        (0..len).prop_map(|at| Mutation::Insert { at }),
        (0..len, 0..len)
            .prop_filter("two places", |(a, b)| a != b)
            .prop_map(|(a, b)| Mutation::Swap { a, b }),
        (0..len).prop_map(|keep| Mutation::Truncate { keep }),
    ]
}

fn apply(events: &mut Vec<ChainedEvent>, m: &Mutation) {
    match *m {
        Mutation::Edit { at, field } => {
            let e = &mut events[at].event;
            match field {
                0 => e.at_ms += 1,
                1 => e.actor.push('x'),
                2 => e.action = "message.revoke".into(),
                3 => e.object = if e.object.is_some() { None } else { Some("message:x".into()) },
                4 => e.outcome = "failure".into(),
                5 => e.origin.ip = Some("192.0.2.9".into()),
                _ => e.origin.request_id = None,
            }
        }
        Mutation::Delete { at } => drop(events.remove(at)),
        Mutation::Insert { at } => {
            // A forged event that claims the place and links to the event before it.
            let (seq, hash) = if at == 0 {
                (0, GENESIS)
            } else {
                (events[at - 1].seq, events[at - 1].hash)
            };
            events.insert(at, ChainedEvent::link(event(9_999), seq, hash));
        }
        Mutation::Swap { a, b } => events.swap(a, b),
        Mutation::Truncate { keep } => events.truncate(keep),
    }
}

#[test]
fn an_untouched_chain_verifies_to_its_head() {
    let c = chain((0..50).map(event));
    assert_eq!(verify(&c, None), Ok(head(&c)));
    assert_eq!(verify(&c, Some(head(&c[..20]))), Ok(head(&c)), "an earlier checkpoint is on it");
    assert_eq!(verify(&[], None), Ok(Head { seq: 0, hash: GENESIS }));
}

#[test]
fn each_kind_of_break_is_named_at_its_event() {
    let c = chain((0..5).map(event));
    let mut edited = c.clone();
    edited[2].event.actor = "user:someone-else".into();
    assert_eq!(verify(&edited, None), Err(Break::Altered { seq: 3 }));
    let mut gap = c.clone();
    gap.remove(1);
    assert_eq!(verify(&gap, None), Err(Break::Sequence { expected: 2, found: 3 }));
    assert_eq!(verify(&c[..3], Some(head(&c))), Err(Break::Checkpoint { seq: 5 }));
}

#[test]
fn every_stored_checkpoint_must_lie_on_the_chain() {
    let c = chain((0..30).map(event));
    let on = |n: usize| head(&c[..n]);
    let run = |anchors: Vec<Head>| {
        let mut v = crate::chain::Verifier::with_anchors(anchors);
        c.iter().try_for_each(|e| v.push(e)).and_then(|()| v.finish())
    };
    assert_eq!(run(vec![on(20), on(5), on(30), on(5)]), Ok(head(&c)), "in any order, repeated");
    let mut forged = on(12);
    forged.hash[0] ^= 1;
    assert_eq!(run(vec![on(5), forged, on(20)]), Err(Break::Checkpoint { seq: 12 }));
    let beyond = Head { seq: 31, hash: [1; 32] };
    assert_eq!(run(vec![on(5), beyond]), Err(Break::Checkpoint { seq: 31 }), "a cut-off tail");
}

#[test]
fn a_head_prints_and_parses_as_seq_colon_hex() {
    let c = chain((0..3).map(event));
    let text = head(&c).to_string();
    assert!(text.starts_with("3:") && text.len() == 2 + 64, "{text}");
    assert_eq!(text.parse::<Head>(), Ok(head(&c)));
    for bad in [
        "",
        "3",
        "x:00",
        "-1:00",
        &format!("3:{}", "0".repeat(63)),
        &format!("3:{}", "g".repeat(64)),
    ] {
        assert!(bad.parse::<Head>().is_err(), "{bad:?}");
    }
}

#[test]
fn the_encoding_keeps_fields_apart() {
    // "ab" + "c" and "a" + "bc" must not hash alike.
    let mut a = event(1);
    let mut b = event(1);
    (a.actor, a.action) = ("ab".into(), "c".into());
    (b.actor, b.action) = ("a".into(), "bc".into());
    assert_ne!(crate::chain::canonical(1, &a), crate::chain::canonical(1, &b));
    a.object = None;
    b.object = Some(String::new());
    assert_ne!(
        crate::chain::canonical(1, &a),
        crate::chain::canonical(1, &b),
        "absent is not empty"
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn every_naive_mutation_is_caught((len, m) in (2usize..40).prop_flat_map(|n| (Just(n), mutation(n)))) {
        let original = chain((0..len as u32).map(event));
        let mut changed = original.clone();
        apply(&mut changed, &m);
        // Cutting the tail (a truncation, or deleting the last event) leaves a valid shorter
        // chain: only an anchor can tell.
        let tail_cut = match m {
            Mutation::Truncate { .. } => true,
            Mutation::Delete { at } => at == len - 1,
            _ => false,
        };
        let anchor = tail_cut.then(|| head(&original));
        prop_assert!(verify(&changed, anchor).is_err(), "{m:?} was not caught");
    }

    #[test]
    fn a_rewrite_that_recomputes_the_hashes_is_caught_against_a_checkpoint(
        (len, m) in (2usize..40).prop_flat_map(|n| (Just(n), mutation(n)))
    ) {
        let original = chain((0..len as u32).map(event));
        let checkpoint = head(&original);
        let mut changed = original.clone();
        apply(&mut changed, &m);
        // Renumber too, so the forged chain is internally perfect.
        for (i, e) in changed.iter_mut().enumerate() {
            e.seq = i as i64 + 1;
        }
        let forged = rehash(changed);
        prop_assert!(verify(&forged, None).is_ok(), "the forgery is self-consistent");
        prop_assert!(verify(&forged, Some(checkpoint)).is_err(), "{m:?} was not caught");
    }
}
