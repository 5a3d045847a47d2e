//! Scenario 1c: the audit appender alone, the one serial step of an audited read. Tasks append
//! a portal open's event back to back, straight to the writer (no HTTP, no reads, no
//! decryption): how many audited reads a second the appender takes on this machine's disk,
//! at the open's own concurrency and at four times it. Run after every other load, since it
//! leaves hundreds of thousands of events in the log.

use std::sync::Arc;
use std::time::Duration;

use sealpost_audit::{Action, Actor, AuditEvent, Object, Origin, Outcome};
use sealpost_domain::{EmailAddress, MessageId};

use crate::client::{self, load};
use crate::commits;
use crate::setup::{PARTNER, Server};

/// Prints one line per number of callers.
pub async fn rows(name: &str, s: &Server, connections: usize, length: Duration) {
    let partner = Actor::Recipient(EmailAddress::parse(PARTNER).unwrap());
    let origin = Origin {
        ip: Some("127.0.0.1".into()),
        user_agent: None,
        request_id: Some(uuid::Uuid::new_v4().to_string()),
    };
    let event = AuditEvent::new(
        s.state.now_ms(),
        &partner,
        Action::MessageRead,
        Some(Object::Message(MessageId(uuid::Uuid::new_v4()))),
        Outcome::Success,
        origin,
    );
    for callers in [connections, 4 * connections] {
        let writer = s.state.audit.clone();
        let event = event.clone();
        let append: client::Request = Arc::new(move || {
            let (writer, event) = (writer.clone(), event.clone());
            Box::pin(async move { writer.append(event).await.is_ok() })
        });
        let before = commits::snapshot();
        let f = load(callers, length, append).await;
        println!(
            "   1c. the audit appender alone ({name}), {callers} callers: {:.0} events/s, p99 {:.2} ms, {} errors; {}",
            f.per_second(),
            f.p99_ms,
            f.errors,
            commits::since(&before, f.seconds)
        );
    }
}
