//! Storage contract for the recipient portal: sessions, codes, attempt counts and locks, on
//! SQLite and PostgreSQL.

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[macro_use]
mod backends;

use sealpost_audit::{AuditEvent, Origin};
use sealpost_crypto::{PasswordHash, Token};
use sealpost_domain::api_messages::Addressed;
use sealpost_domain::{DisplayName, EmailAddress, Marking, MessageId, RecipientId, Reference, Role};
use sealpost_storage::testing::{sealed, wrapped_key};
use sealpost_storage::{AttemptKind, NewMessage, NewRecipient, NewUser, Store};
use uuid::Uuid;

/// One message to one external address; returns (recipient id, link token).
async fn external(store: &Store) -> (RecipientId, Token) {
    let new = NewUser {
        email: EmailAddress::parse("ann@testshire.gov.uk").unwrap(),
        display_name: DisplayName::parse("Ann").unwrap(),
        role: Role::Staff,
        password_hash: None,
    };
    let ann = store.create_user(&new, 0).await.unwrap();
    let (rid, token) = (RecipientId(Uuid::new_v4()), Token::generate().unwrap());
    let m = NewMessage {
        id: MessageId(Uuid::new_v4()),
        reference: Reference::from_stored("SP-PORT-AL01".into()),
        sender: ann,
        marking: Marking::OfficialSensitive,
        subject: sealed("subject"),
        body: sealed("body"),
        body_html: None,
        key: wrapped_key(),
        created_at_ms: 0,
        expires_at_ms: 1_000_000,
        held_until_ms: None,
        max_opens: None,
        view_only_files: false,
        in_reply_to: None,
        outside_sender: None,
        recipients: vec![NewRecipient::External {
            id: rid,
            address: EmailAddress::parse("pc@police.example.uk").unwrap(),
            addressed: Addressed::To,
            link: token.hash(),
            sealed_link: sealed("link"),
            passphrase: Some(PasswordHash::from_phc("$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".into())),
        }],
        attachments: vec![],
    };
    let audit = AuditEvent {
        at_ms: 0,
        actor: "user:a".into(),
        action: "message.send".into(),
        object: None,
        outcome: "success".into(),
        origin: Origin::default(),
    };
    store.create_message(&m, &audit).await.unwrap();
    (rid, token)
}

contract!(a_link_is_found_by_token_hash_and_by_recipient, |store: Store| async move {
    let (rid, token) = external(&store).await;
    let by_token = store.link(&token.hash()).await.unwrap().unwrap();
    assert!(by_token.stored_hash.ct_eq(&token.hash()));
    assert_eq!(
        (
            by_token.recipient_id,
            by_token.address.as_str(),
            by_token.passphrase_required,
            by_token.revoked
        ),
        (rid, "pc@police.example.uk", true, false)
    );
    assert_eq!(by_token.reference.as_str(), "SP-PORT-AL01");
    assert!(store.link(&Token::generate().unwrap().hash()).await.unwrap().is_none());
    let live = store.live_links_for_address(&addr("pc@police.example.uk"), 0, 10).await.unwrap();
    assert_eq!(live.iter().map(|l| l.recipient_id).collect::<Vec<_>>(), [rid]);
    assert!(
        store
            .live_links_for_address(&addr("pc@police.example.uk"), 1_000_000, 10)
            .await
            .unwrap()
            .is_empty(),
        "expired"
    );
    assert!(
        store
            .live_links_for_address(&addr("other@police.example.uk"), 0, 10)
            .await
            .unwrap()
            .is_empty()
    );
    let m = by_token.message_id;
    assert_eq!(
        store
            .link_for_address(&addr("pc@police.example.uk"), m)
            .await
            .unwrap()
            .unwrap()
            .recipient_id,
        rid
    );
    assert!(store.link_for_address(&addr("other@police.example.uk"), m).await.unwrap().is_none());
    assert!(store.recipient_passphrase(rid).await.unwrap().is_some());
    store.note_on_recipient(rid, "Locked out").await.unwrap();
});

contract!(portal_sessions_and_codes_live_and_die_together, |store: Store| async move {
    let (rid, _) = external(&store).await;
    let session = Token::generate().unwrap().hash();
    store.create_portal_session(&session, rid, 10).await.unwrap();
    let s = store.portal_session(&session).await.unwrap().unwrap();
    assert_eq!((s.link.recipient_id, s.created_at_ms, s.verified_at_ms), (rid, 10, None));
    assert_eq!(s.link.reference.as_str(), "SP-PORT-AL01", "with the link it was opened for");
    store.put_portal_code(&session, &[1; 32], 500).await.unwrap();
    store.put_portal_code(&session, &[2; 32], 600).await.unwrap();
    let code = store.portal_code(&session).await.unwrap().unwrap();
    assert_eq!(
        (code.code_hash, code.expires_at_ms, code.tries),
        ([2; 32], 600, 0),
        "a new code replaces the old"
    );
    let first = store.take_portal_code_try(&session).await.unwrap().unwrap();
    assert_eq!(
        (first.code_hash, first.tries),
        ([2; 32], 1),
        "a try is taken before the code is seen"
    );
    assert_eq!(store.take_portal_code_try(&session).await.unwrap().unwrap().tries, 2);
    store.touch_portal_session(&session, 20, true).await.unwrap();
    assert_eq!(store.portal_session(&session).await.unwrap().unwrap().verified_at_ms, Some(20));
    store.delete_portal_session(&session).await.unwrap();
    assert!(
        store.portal_code(&session).await.unwrap().is_none(),
        "the code goes with its session"
    );
});

contract!(attempts_are_counted_in_a_window_and_locks_expire, |store: Store| async move {
    let (rid, token) = external(&store).await;
    for at in [10, 20, 30] {
        store.record_portal_attempt(rid, AttemptKind::CodeSent, at).await.unwrap();
    }
    let right = store.record_portal_attempt(rid, AttemptKind::PassphraseFailed, 30).await.unwrap();
    store.record_portal_attempt(rid, AttemptKind::PassphraseFailed, 30).await.unwrap();
    assert_eq!(store.count_portal_attempts(rid, AttemptKind::CodeSent, 15).await.unwrap(), 2);
    assert_eq!(store.count_portal_attempts(rid, AttemptKind::PassphraseFailed, 0).await.unwrap(), 2);
    store.forget_portal_attempt(right).await.unwrap();
    assert_eq!(
        store.count_portal_attempts(rid, AttemptKind::PassphraseFailed, 0).await.unwrap(),
        1,
        "forgetting one attempt leaves the other made at the same moment"
    );
    let link = async || store.link(&token.hash()).await.unwrap().unwrap();
    assert_eq!(link().await.locked_until_ms, None);
    store.lock_recipient(rid, 100).await.unwrap();
    store.lock_recipient(rid, 200).await.unwrap();
    assert_eq!(link().await.locked_until_ms, Some(200), "the link carries its lock");
    assert!(link().await.is_locked(199));
    assert!(!link().await.is_locked(200), "a lock ends on time");
});

fn addr(text: &str) -> EmailAddress {
    EmailAddress::parse(text).unwrap()
}
