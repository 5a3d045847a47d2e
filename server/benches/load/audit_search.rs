//! Scenario 6: the IG console's searches over a large audit log. The log is filled with
//! `events` chained events spread over messages, staff and partners, as a council's would be;
//! then random messages and partners are searched the way the console asks (newest 50 first).

use std::time::{Duration, Instant};

use sealpost_audit::{AuditEvent, Origin};
use sealpost_domain::MessageId;
use sealpost_storage::{AuditQuery, Store};

use crate::client::Figures;

const PER_MESSAGE: u64 = 50;
const STAFF: u64 = 2_000;
const PARTNERS: u64 = 50_000;
const BATCH: u64 = 50_000;
const QUERIES: u64 = 200;

pub struct SearchFigures {
    pub events: u64,
    pub load_seconds: f64,
    pub by_message: Figures,
    pub by_person: Figures,
}

/// Deterministic spreading, so every run searches the same log.
fn mix(n: u64) -> u64 {
    let mut x = n.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    x ^= x >> 31;
    x.wrapping_mul(0xBF58_476D_1CE4_E5B9) ^ (x >> 29)
}

fn message(m: u64) -> uuid::Uuid {
    uuid::Uuid::from_u128(0x5ea1_0000_0000_4000_8000_0000_0000_0000 | u128::from(m))
}

fn partner(p: u64) -> String {
    format!("partner{p}@nhs.example.uk")
}

fn event(k: u64, messages: u64) -> AuditEvent {
    let r = mix(k);
    let m = message(r % messages);
    let who = (r >> 20) % 10;
    let (actor, object, action) = if who < 5 {
        (
            format!("user:{}", uuid::Uuid::from_u128(u128::from((r >> 24) % STAFF))),
            format!("message:{m}"),
            "message.read",
        )
    } else if who < 9 {
        let p = partner((r >> 24) % PARTNERS);
        (format!("recipient:{p}"), format!("message:{m}"), "portal.read")
    } else {
        let p = partner((r >> 24) % PARTNERS);
        ("system".to_owned(), format!("message:{m}/to:{p}"), "notification.sent")
    };
    AuditEvent {
        at_ms: 1_780_000_000_000 + k as i64 * 100,
        actor,
        action: action.to_owned(),
        object: Some(object),
        outcome: "success".to_owned(),
        origin: Origin {
            ip: Some("10.1.2.3".to_owned()),
            user_agent: Some("Mozilla/5.0".to_owned()),
            request_id: Some(format!("{r:016x}")),
        },
    }
}

/// Fills `store` with `events` events (if it holds fewer), then times the searches.
pub async fn audit_search(store: &Store, events: u64) -> SearchFigures {
    let messages = (events / PER_MESSAGE).max(1);
    let t = Instant::now();
    let mut k = store.audit_head().await.unwrap().seq as u64;
    let indexes = store.drop_audit_indexes().await.unwrap();
    while k < events {
        let batch: Vec<AuditEvent> = (k..(k + BATCH).min(events)).map(|i| event(i, messages)).collect();
        store.append_audit_batch(&batch).await.unwrap();
        k += batch.len() as u64;
    }
    store.restore_audit_indexes(indexes).await.unwrap();
    let load_seconds = t.elapsed().as_secs_f64();
    let by_message = timed(
        QUERIES,
        |q| AuditQuery {
            message: Some(MessageId(message(mix(q + 7) % messages))),
            limit: 50,
            ..AuditQuery::default()
        },
        store,
    )
    .await;
    let by_person = timed(
        QUERIES,
        |q| {
            let p = partner(mix(q + 11) % PARTNERS);
            AuditQuery {
                actors: vec![format!("recipient:{p}"), format!("signin:{p}")],
                concerning: vec![p],
                limit: 50,
                ..AuditQuery::default()
            }
        },
        store,
    )
    .await;
    SearchFigures {
        events,
        load_seconds,
        by_message,
        by_person,
    }
}

async fn timed(queries: u64, query: impl Fn(u64) -> AuditQuery, store: &Store) -> Figures {
    let started = Instant::now();
    let (mut latencies, mut found): (Vec<Duration>, usize) = (vec![], 0);
    for q in 0..queries {
        let t = Instant::now();
        found += store.search_audit(&query(q)).await.unwrap().len();
        latencies.push(t.elapsed());
    }
    assert!(found > 0, "the searches found nothing at all");
    Figures::from_latencies(latencies, 0, started.elapsed().as_secs_f64())
}
