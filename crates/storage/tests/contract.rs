//! Storage contract: every case runs against SQLite and, when `SEALPOST_TEST_POSTGRES_URL` is
//! set (CI sets it), against a fresh PostgreSQL database too.

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[macro_use]
mod backends;

use sealpost_crypto::{PasswordHash, Token};
use sealpost_domain::{DisplayName, EmailAddress, Role};
use sealpost_storage::testing::TestDatabase;
use sealpost_storage::{NewUser, StorageError, Store};

fn new_user(email: &str) -> NewUser {
    NewUser {
        email: EmailAddress::parse(email).unwrap(),
        display_name: DisplayName::parse("Ann Example").unwrap(),
        role: Role::Staff,
        password_hash: Some(PasswordHash::from_phc(
            "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0$aGFzaA".into(),
        )),
    }
}

contract!(migrations_are_idempotent, |store: Store| async move {
    assert_eq!(store.migrate(1).await.unwrap(), 0, "a migrated store has nothing left to apply");
    store.ping().await.unwrap();
});

contract!(users_are_created_and_found_by_email_and_id, |store: Store| async move {
    let id = store.create_user(&new_user("Ann@Example.gov.uk"), 5).await.unwrap();
    let by_email = store
        .user_by_email(&EmailAddress::parse("ann@example.gov.uk").unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(by_email.id, id);
    assert_eq!(by_email.role, Role::Staff);
    assert!(!by_email.disabled);
    let by_id = store.user_by_id(id).await.unwrap().unwrap();
    assert_eq!(by_id.email.as_str(), "ann@example.gov.uk");
    assert_eq!(store.count_users().await.unwrap(), 1);
    assert!(
        store
            .user_by_email(&EmailAddress::parse("nobody@example.gov.uk").unwrap())
            .await
            .unwrap()
            .is_none()
    );
});

contract!(a_second_account_with_the_same_address_is_a_duplicate, |store: Store| async move {
    store.create_user(&new_user("ann@example.gov.uk"), 0).await.unwrap();
    let again = store.create_user(&new_user("ANN@example.gov.uk"), 0).await;
    assert!(matches!(again, Err(StorageError::Duplicate)), "{again:?}");
});

contract!(sessions_are_stored_by_hash_and_touched, |store: Store| async move {
    let user = store.create_user(&new_user("ann@example.gov.uk"), 0).await.unwrap();
    let token = Token::generate().unwrap();
    store
        .create_session(&token.hash(), user, 1_000, sealpost_storage::SessionStage::Full)
        .await
        .unwrap();
    let s = store.session(&token.hash()).await.unwrap().unwrap();
    assert_eq!((s.user.id, s.created_at_ms, s.last_seen_at_ms), (user, 1_000, 1_000));
    store.touch_session(&token.hash(), 2_000).await.unwrap();
    assert_eq!(store.session(&token.hash()).await.unwrap().unwrap().last_seen_at_ms, 2_000);
    store.delete_session(&token.hash()).await.unwrap();
    assert!(store.session(&token.hash()).await.unwrap().is_none());
});

contract!(password_change_and_disable_end_every_session, |store: Store| async move {
    let user = store.create_user(&new_user("ann@example.gov.uk"), 0).await.unwrap();
    for _ in 0..2 {
        store
            .create_session(&Token::generate().unwrap().hash(), user, 0, sealpost_storage::SessionStage::Full)
            .await
            .unwrap();
    }
    let new_hash = PasswordHash::from_phc("$argon2id$v=19$m=19456,t=2,p=1$bmV3c2FsdG5ld3NhbHQ$bmV3".into());
    assert!(store.set_password(user, &new_hash).await.unwrap());
    assert_eq!(store.count_sessions(user).await.unwrap(), 0);
    assert_eq!(store.user_by_id(user).await.unwrap().unwrap().password_hash, Some(new_hash));
    let token = Token::generate().unwrap();
    store
        .create_session(&token.hash(), user, 0, sealpost_storage::SessionStage::Full)
        .await
        .unwrap();
    assert!(store.disable_user(user).await.unwrap());
    assert!(store.session(&token.hash()).await.unwrap().is_none());
    assert!(store.user_by_id(user).await.unwrap().unwrap().disabled);
});

contract!(
    login_attempts_are_counted_in_a_window_forgotten_and_pruned,
    |store: Store| async move {
        let ann = EmailAddress::parse("ann@example.gov.uk").unwrap();
        let bob = EmailAddress::parse("bob@example.gov.uk").unwrap();
        for t in [10, 20, 30] {
            store.record_login_attempt(&ann, t).await.unwrap();
        }
        let succeeded = store.record_login_attempt(&ann, 35).await.unwrap();
        store.forget_login_attempt(succeeded).await.unwrap();
        store.record_login_attempt(&bob, 30).await.unwrap();
        assert_eq!(store.count_login_failures(&ann, 20).await.unwrap(), 2);
        assert_eq!(store.count_login_failures(&bob, 0).await.unwrap(), 1);
        assert_eq!(store.prune_login_failures(25).await.unwrap(), 2);
        assert_eq!(store.count_login_failures(&ann, 0).await.unwrap(), 1);
    }
);

contract!(
    a_known_device_belongs_to_one_address_and_has_its_own_failure_limit,
    |store: Store| async move {
        let ann = EmailAddress::parse("ann@example.gov.uk").unwrap();
        let bob = EmailAddress::parse("bob@example.gov.uk").unwrap();
        let device = Token::generate().unwrap().hash();
        assert!(!store.known_device(&device, &ann, 0, 10).await.unwrap(), "unknown before");
        store.remember_device(&device, &ann, 100).await.unwrap();
        assert!(store.known_device(&device, &ann, 50, 200).await.unwrap());
        assert!(!store.known_device(&device, &bob, 0, 200).await.unwrap(), "another address's");
        assert!(!store.known_device(&device, &ann, 250, 300).await.unwrap(), "not used since");
        for at in 0..3 {
            assert!(store.take_device_login_attempt(&device, 0, 3, at).await.unwrap().is_some());
        }
        assert!(
            store.take_device_login_attempt(&device, 0, 3, 4).await.unwrap().is_none(),
            "its limit"
        );
        assert_eq!(
            store.count_login_failures(&ann, 0).await.unwrap(),
            0,
            "kept apart from the address's"
        );
        assert!(store.take_login_attempt(&ann, 0, 3, 5).await.unwrap().is_some());
    }
);

contract!(setup_tokens_work_once_and_not_after_expiry, |store: Store| async move {
    let user = store
        .create_user(
            &NewUser {
                password_hash: None,
                ..new_user("new@example.gov.uk")
            },
            0,
        )
        .await
        .unwrap();
    let (replaced, live, stale) = (Token::generate().unwrap(), Token::generate().unwrap(), Token::generate().unwrap());
    store.create_setup_token(&replaced.hash(), user, 1_000).await.unwrap();
    store.create_setup_token(&live.hash(), user, 100).await.unwrap();
    assert_eq!(
        store.consume_setup_token(&replaced.hash(), 99).await.unwrap(),
        None,
        "a new link ends the old"
    );
    assert_eq!(store.consume_setup_token(&live.hash(), 99).await.unwrap(), Some(user));
    assert_eq!(store.consume_setup_token(&live.hash(), 99).await.unwrap(), None, "second use");
    store.create_setup_token(&stale.hash(), user, 100).await.unwrap();
    assert_eq!(store.consume_setup_token(&stale.hash(), 100).await.unwrap(), None, "expired");
});

contract!(the_raw_session_token_is_never_stored, |store: Store| async move {
    let user = store.create_user(&new_user("ann@example.gov.uk"), 0).await.unwrap();
    let token = Token::generate().unwrap();
    store
        .create_session(&token.hash(), user, 0, sealpost_storage::SessionStage::Full)
        .await
        .unwrap();
    let raw = token.expose_hex();
    let stored = store.fetch_bytes("SELECT token_hash FROM sessions").await.unwrap();
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].as_slice(), token.hash().as_bytes().as_slice());
    assert_ne!(stored[0].as_slice(), raw.as_bytes());
});

contract!(a_totp_step_and_a_recovery_code_are_each_taken_once, |store: Store| async move {
    use sealpost_crypto::{Binding, Keyring, ObjectKind, generate_key_pair};
    use sealpost_storage::SessionStage;
    let user = store.create_user(&new_user("ann@example.gov.uk"), 0).await.unwrap();
    let pair = generate_key_pair();
    let keyring = Keyring::from_identity_file(&pair.identity, sealpost_crypto::EscrowRecipient::parse(&pair.recipient).unwrap()).unwrap();
    let sealed = keyring
        .seal_secret(Binding::new(ObjectKind::TotpSecret, user.0), b"0123456789abcdefghij")
        .unwrap();
    assert!(!store.take_totp_step(user, 5).await.unwrap(), "no second factor yet");
    assert!(!store.confirm_totp(user, 5, &[[1; 32]]).await.unwrap(), "nothing pending");
    store.put_pending_totp(user, &sealed).await.unwrap();
    assert!(store.totp_secret(user, false).await.unwrap().is_none());
    assert_eq!(store.totp_secret(user, true).await.unwrap().unwrap(), sealed);
    assert!(store.confirm_totp(user, 5, &[[1; 32], [2; 32]]).await.unwrap());
    assert!(store.user_by_id(user).await.unwrap().unwrap().has_second_factor);
    assert_eq!(store.totp_secret(user, false).await.unwrap().unwrap(), sealed);
    assert!(!store.take_totp_step(user, 5).await.unwrap(), "the enrolment's step is used");
    assert!(store.take_totp_step(user, 6).await.unwrap());
    assert!(!store.take_totp_step(user, 6).await.unwrap(), "a step is taken once");
    assert!(!store.take_totp_step(user, 4).await.unwrap(), "never an earlier one");
    assert!(store.use_recovery_code(user, &[2; 32], 9).await.unwrap());
    assert!(
        !store.use_recovery_code(user, &[2; 32], 9).await.unwrap(),
        "a recovery code is used once"
    );
    assert!(!store.use_recovery_code(user, &[3; 32], 9).await.unwrap());
    assert_eq!(store.recovery_codes_left(user).await.unwrap(), 1);
    let token = Token::generate().unwrap();
    store
        .create_session(&token.hash(), user, 0, SessionStage::SecondFactor)
        .await
        .unwrap();
    assert_eq!(
        store.session(&token.hash()).await.unwrap().unwrap().stage,
        SessionStage::SecondFactor
    );
    store.set_session_stage(&token.hash(), SessionStage::Full).await.unwrap();
    assert_eq!(store.session(&token.hash()).await.unwrap().unwrap().stage, SessionStage::Full);
    assert!(store.reset_second_factor(user).await.unwrap());
    assert!(store.session(&token.hash()).await.unwrap().is_none(), "a reset ends the sessions");
    assert!(!store.user_by_id(user).await.unwrap().unwrap().has_second_factor);
    assert_eq!(store.recovery_codes_left(user).await.unwrap(), 0);
});

#[tokio::test]
async fn sqlite_runs_with_wal_full_sync_busy_timeout_foreign_keys_and_secure_delete() {
    let db = TestDatabase::sqlite().await.unwrap();
    let s = db.store.sqlite_settings().await.unwrap().unwrap();
    assert_eq!(s.journal_mode, "wal");
    assert_eq!(s.synchronous, 2);
    assert!(s.busy_timeout_ms >= 5000);
    assert_eq!((s.foreign_keys, s.secure_delete), (1, 1));
}

#[tokio::test]
async fn a_url_that_is_neither_sqlite_nor_postgres_is_refused() {
    assert!(matches!(Store::connect("mysql://x").await, Err(StorageError::UnsupportedUrl)));
}

contract!(
    a_single_sign_on_state_is_taken_once_and_only_while_fresh,
    |store: Store| async move {
        use sealpost_storage::PendingSso;
        let pending = PendingSso {
            nonce: "n".into(),
            pkce_verifier: "v".into(),
        };
        let (fresh, old) = (Token::generate().unwrap().hash(), Token::generate().unwrap().hash());
        store.start_sso(&fresh, &pending, 1_000).await.unwrap();
        store.start_sso(&old, &pending, 10).await.unwrap();
        assert_eq!(store.take_sso(&fresh, 500).await.unwrap(), Some(pending.clone()));
        assert_eq!(store.take_sso(&fresh, 500).await.unwrap(), None, "a state works once");
        assert_eq!(store.take_sso(&old, 500).await.unwrap(), None, "too old");
        assert_eq!(store.take_sso(&old, 0).await.unwrap(), None, "and gone once asked for");
        store.start_sso(&fresh, &pending, 10).await.unwrap();
        assert_eq!(store.forget_old_sso(500).await.unwrap(), 1);
    }
);

contract!(an_account_links_to_one_sso_id_and_an_id_to_one_account, |store: Store| async move {
    let ann = store.create_user(&new_user("ann@example.gov.uk"), 0).await.unwrap();
    let bob = store.create_user(&new_user("bob@example.gov.uk"), 0).await.unwrap();
    assert!(store.link_sso(ann, "oid-ann").await.unwrap());
    assert!(
        store.link_sso(ann, "oid-ann").await.unwrap(),
        "the same link again (a racing first sign-in)"
    );
    assert!(!store.link_sso(ann, "oid-other").await.unwrap(), "already linked");
    assert!(!store.link_sso(bob, "oid-ann").await.unwrap(), "the id is Ann's");
    assert_eq!(store.user_by_sso_id("oid-ann").await.unwrap().unwrap().id, ann);
    assert!(store.user_by_sso_id("oid-bob").await.unwrap().is_none());
});
