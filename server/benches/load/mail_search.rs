//! Scenario 9: a member of staff searching a mailbox of 10,000 messages (issue 16). The
//! messages are stored as a send stores them (each with its own key, wrapped to the master and
//! escrow keys, subject and body sealed), half received and half sent, with words drawn from a
//! vocabulary so that searches find from a handful to a few hundred. The first search builds
//! the person's index (every message opened once); the searches after it are timed over HTTP,
//! one at a time, as a person searching would.

use std::time::Instant;

use sealpost_audit::{AuditEvent, Origin};
use sealpost_crypto::{Binding, MessageKey, ObjectKind};
use sealpost_domain::api_messages::Addressed;
use sealpost_domain::{EmailAddress, Marking, MessageId, RecipientId, Reference, UserId};
use sealpost_storage::{NewMessage, NewRecipient};

use crate::client::Figures;
use crate::setup::Server;

const QUERIES: u64 = 200;

const WORDS: &[&str] = &[
    "visit",
    "referral",
    "school",
    "housing",
    "review",
    "meeting",
    "plan",
    "report",
    "family",
    "safeguarding",
    "police",
    "health",
    "budget",
    "contract",
    "invoice",
    "rota",
    "library",
    "transport",
    "planning",
    "licence",
    "council",
    "agenda",
    "minutes",
    "complaint",
    "tenant",
    "repair",
    "benefit",
    "grant",
    "survey",
    "training",
    "audit",
    "risk",
    "incident",
    "support",
    "care",
    "education",
    "youth",
    "adult",
    "carer",
    "assessment",
    "placement",
    "court",
    "order",
    "consent",
    "record",
    "request",
];

pub struct MailSearchFigures {
    pub messages: u64,
    pub seed_seconds: f64,
    pub first_ms: f64,
    pub warm: Figures,
}

fn mix(n: u64) -> u64 {
    let mut x = n.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    x ^= x >> 31;
    x.wrapping_mul(0xBF58_476D_1CE4_E5B9) ^ (x >> 29)
}

fn word(r: u64) -> &'static str {
    WORDS[(r % WORDS.len() as u64) as usize]
}

/// `count` messages between `me` and `other`, alternately received and sent.
async fn seed(s: &Server, me: (UserId, &str), other: (UserId, &str), count: u64) {
    let start = s.state.now_ms() - i64::try_from(count).unwrap() * 60_000;
    for n in 0..count {
        let r = mix(n);
        let subject = format!("{} {} {}", word(r), word(r >> 8), n);
        let body: Vec<&str> = (0..60).map(|i| word(mix(n * 64 + i))).collect();
        let (from, to) = if n % 2 == 0 { (other, me) } else { (me, other) };
        let id = MessageId(uuid::Uuid::new_v4());
        let key = MessageKey::generate();
        let at = start + i64::try_from(n).unwrap() * 60_000;
        let m = NewMessage {
            id,
            reference: Reference::from_random(sealpost_crypto::random_bytes::<8>().unwrap()),
            sender: from.0,
            marking: Marking::Official,
            subject: key.seal(Binding::new(ObjectKind::Subject, id.0), subject.as_bytes()).unwrap(),
            body: key.seal(Binding::new(ObjectKind::Body, id.0), body.join(" ").as_bytes()).unwrap(),
            body_html: None,
            key: s.state.keyring.wrap(&key, id.0).unwrap(),
            created_at_ms: at,
            expires_at_ms: at + 30 * 86_400_000,
            held_until_ms: None,
            max_opens: None,
            view_only_files: false,
            in_reply_to: None,
            outside_sender: None,
            recipients: vec![NewRecipient::Internal {
                id: RecipientId(uuid::Uuid::new_v4()),
                address: EmailAddress::parse(to.1).unwrap(),
                addressed: Addressed::To,
                user: to.0,
                notify: false,
            }],
            attachments: vec![],
        };
        let event = AuditEvent {
            at_ms: at,
            actor: format!("user:{}", from.0),
            action: "message.send".into(),
            object: Some(format!("message:{id}")),
            outcome: "success".into(),
            origin: Origin::default(),
        };
        s.state.store.create_message(&m, &event).await.unwrap();
    }
}

/// Seeds `count` messages for a new person and times their searches.
pub async fn mail_search(s: &Server, count: u64) -> MailSearchFigures {
    let cookie = s.account("searcher@testshire.gov.uk").await;
    s.account("colleague@testshire.gov.uk").await;
    let id = |email: &'static str| {
        let store = s.state.store.clone();
        async move { store.user_by_email(&EmailAddress::parse(email).unwrap()).await.unwrap().unwrap().id }
    };
    let me = (id("searcher@testshire.gov.uk").await, "searcher@testshire.gov.uk");
    let other = (id("colleague@testshire.gov.uk").await, "colleague@testshire.gov.uk");
    let started = Instant::now();
    seed(s, me, other, count).await;
    let seed_seconds = started.elapsed().as_secs_f64();
    let ask = |query: String| {
        let request = s.client.get(format!("{}/api/v1/search?{query}", s.base)).header("cookie", &cookie);
        async move {
            let r = request.send().await.unwrap();
            assert!(r.status().is_success(), "search failed: {}", r.status());
            r.bytes().await.unwrap();
        }
    };
    let t = Instant::now();
    ask("q=visit".into()).await;
    let first_ms = t.elapsed().as_secs_f64() * 1e3;
    let mut latencies = Vec::new();
    let warm = Instant::now();
    for q in 0..QUERIES {
        let r = mix(1_000_000 + q);
        let query = match q % 4 {
            0 => format!("q={}", word(r)),
            1 => format!("q={}+{}", word(r), word(r >> 8)),
            2 => format!("q={}&who=colleague", word(r)),
            _ => format!("q={}&box=sent", word(r)),
        };
        let t = Instant::now();
        ask(query).await;
        latencies.push(t.elapsed());
    }
    MailSearchFigures {
        messages: count,
        seed_seconds,
        first_ms,
        warm: Figures::from_latencies(latencies, 0, warm.elapsed().as_secs_f64()),
    }
}
