//! Staff sign-in, sign-out and set-up (SECURITY A1, A5, A7, A8).

use reqwest::StatusCode;
use sealpost_crypto::PasswordHash;
use sealpost_domain::Role;

use crate::test_app::{PASSWORD, body, session_cookie, set_cookie, spawn_app};

#[tokio::test]
async fn a_staff_member_signs_in_and_the_api_knows_who_they_are() {
    let app = spawn_app().await;
    app.create_user("ann@testshire.gov.uk", PASSWORD, Role::Staff).await;
    let response = app.login("Ann@Testshire.gov.uk", PASSWORD).await;
    assert_eq!(response.status(), StatusCode::OK);
    let cookie = session_cookie(&response).unwrap();
    let me = body(app.me(&cookie).await).await;
    assert_eq!(me["email"], "ann@testshire.gov.uk");
    assert_eq!(me["role"], "staff");
    assert_eq!(me["organisation"], "Testshire County Council");
}

#[tokio::test]
async fn the_session_cookie_is_host_only_secure_httponly_and_strict() {
    let app = spawn_app().await;
    app.create_user("ann@testshire.gov.uk", PASSWORD, Role::Staff).await;
    let header = set_cookie(&app.login("ann@testshire.gov.uk", PASSWORD).await).unwrap();
    for attribute in ["Path=/", "Secure", "HttpOnly", "SameSite=Strict"] {
        assert!(header.split("; ").any(|a| a == attribute), "{attribute} missing from {header}");
    }
    assert!(!header.contains("Domain="));
    let token = header.split(';').next().unwrap().split_once('=').unwrap().1;
    assert_eq!(token.len(), 64, "256 bits in hex");
}

#[tokio::test]
async fn only_the_hash_of_the_session_token_is_stored() {
    let app = spawn_app().await;
    app.create_user("ann@testshire.gov.uk", PASSWORD, Role::Staff).await;
    let cookie = app.sign_in("ann@testshire.gov.uk", PASSWORD).await;
    let raw = cookie.split_once('=').unwrap().1.to_owned();
    let stored = app.state.store.fetch_bytes("SELECT token_hash FROM sessions").await.unwrap();
    assert_eq!(stored.len(), 1);
    let token = sealpost_crypto::Token::parse(&raw).unwrap();
    assert_eq!(stored[0].as_slice(), token.hash().as_bytes().as_slice());
    if let Some(dir) = &app.db.dir {
        for entry in std::fs::read_dir(dir.path()).unwrap() {
            let bytes = std::fs::read(entry.unwrap().path()).unwrap();
            assert!(
                !bytes.windows(raw.len()).any(|w| w == raw.as_bytes()),
                "raw token found in a database file"
            );
            assert!(
                !bytes.windows(32).any(|w| w == token_bytes(&raw)),
                "raw token bytes found in a database file"
            );
        }
    }
}

fn token_bytes(hex: &str) -> Vec<u8> {
    (0..32).map(|i| u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).unwrap()).collect()
}

#[tokio::test]
async fn a_wrong_password_and_an_unknown_account_get_the_same_answer_after_the_same_work() {
    let app = spawn_app().await;
    app.create_user("ann@testshire.gov.uk", PASSWORD, Role::Staff).await;
    let hasher = &app.state.hasher;
    let before = hasher.verification_count();
    let wrong = app.login("ann@testshire.gov.uk", "not the right password").await;
    assert_eq!(
        hasher.verification_count(),
        before + 1,
        "a wrong password costs one argon2id verification"
    );
    let unknown = app.login("nobody@testshire.gov.uk", "not the right password").await;
    assert_eq!(
        hasher.verification_count(),
        before + 2,
        "so does an unknown account (the dummy hash)"
    );
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(unknown.status(), StatusCode::UNAUTHORIZED);
    assert!(session_cookie(&wrong).is_none() && session_cookie(&unknown).is_none());
    assert_eq!(body(wrong).await, body(unknown).await);
}

#[tokio::test]
async fn a_disabled_account_cannot_sign_in_even_with_the_right_password() {
    let app = spawn_app().await;
    let id = app.create_user("ann@testshire.gov.uk", PASSWORD, Role::Staff).await;
    let cookie = app.sign_in("ann@testshire.gov.uk", PASSWORD).await;
    app.state.store.disable_user(id).await.unwrap();
    assert_eq!(
        app.me(&cookie).await.status(),
        StatusCode::UNAUTHORIZED,
        "disabling ends the session"
    );
    let wrong = app.login("ann@testshire.gov.uk", "wrong password guess").await;
    assert_eq!(body(wrong).await["code"], "invalid_credentials", "a wrong password learns nothing");
    let response = app.login("ann@testshire.gov.uk", PASSWORD).await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert!(session_cookie(&response).is_none());
    let said = body(response).await;
    assert_eq!(said["code"], "account_disabled", "the right password is told plainly: {said}");
    assert!(said["message"].as_str().unwrap().contains("contact your IT service desk"));
}

#[tokio::test]
async fn signing_in_again_issues_a_new_session_and_ends_the_one_presented() {
    let app = spawn_app().await;
    app.create_user("ann@testshire.gov.uk", PASSWORD, Role::Staff).await;
    let first = app.sign_in("ann@testshire.gov.uk", PASSWORD).await;
    let response = app.login_with_cookie("ann@testshire.gov.uk", PASSWORD, &first).await;
    let second = session_cookie(&response).unwrap();
    assert_ne!(first, second);
    assert_eq!(app.me(&first).await.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(app.me(&second).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn signing_out_ends_the_session_on_the_server() {
    let app = spawn_app().await;
    app.create_user("ann@testshire.gov.uk", PASSWORD, Role::Staff).await;
    let cookie = app.sign_in("ann@testshire.gov.uk", PASSWORD).await;
    let response = app.logout(&cookie).await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    assert!(set_cookie(&response).unwrap().contains("Max-Age=0"));
    // Replaying the old cookie does not work: the session is gone, not just forgotten.
    assert_eq!(app.me(&cookie).await.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_password_change_ends_every_session_of_the_account() {
    let app = spawn_app().await;
    let id = app.create_user("ann@testshire.gov.uk", PASSWORD, Role::Staff).await;
    let laptop = app.sign_in("ann@testshire.gov.uk", PASSWORD).await;
    let phone = app.sign_in("ann@testshire.gov.uk", PASSWORD).await;
    let hash = app.state.hasher.hash(&"a brand new passphrase".to_owned().into()).unwrap();
    app.state.store.set_password(id, &hash).await.unwrap();
    assert_eq!(app.me(&laptop).await.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(app.me(&phone).await.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        app.login("ann@testshire.gov.uk", "a brand new passphrase").await.status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn a_hash_with_weaker_parameters_is_upgraded_at_the_next_sign_in() {
    let app = spawn_app().await;
    let id = app.create_user("ann@testshire.gov.uk", PASSWORD, Role::Staff).await;
    // PASSWORD hashed with argon2id at m=8 MiB, t=1 (made with argon2-cffi, a second
    // implementation): weaker than today's parameters, and verifiable.
    let phc = "$argon2id$v=19$m=8192,t=1,p=1$CQkJCQkJCQkJCQkJCQkJCQ$tFkpFyjOzAabcNUE84nCjmsW7dUvM3H6dDZfMFfR7/A".to_owned();
    app.state
        .store
        .upgrade_password_hash(id, &PasswordHash::from_phc(phc.clone()))
        .await
        .unwrap();
    assert_eq!(app.login("ann@testshire.gov.uk", PASSWORD).await.status(), StatusCode::OK);
    let stored = app.state.store.user_by_id(id).await.unwrap().unwrap().password_hash.unwrap();
    assert_ne!(stored.as_phc(), phc);
    assert!(
        stored.as_phc().starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
        "{}",
        stored.as_phc()
    );
}

#[tokio::test]
async fn me_without_a_session_is_401_and_a_malformed_cookie_is_ignored() {
    let app = spawn_app().await;
    assert_eq!(app.get("/api/v1/auth/me").send().await.unwrap().status(), StatusCode::UNAUTHORIZED);
    assert_eq!(app.me("__Host-sealpost_session=zzzz").await.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn malformed_sign_in_bodies_get_a_clear_400_or_422() {
    let app = spawn_app().await;
    let bad_email = app.login("not-an-email", PASSWORD).await;
    assert_eq!(bad_email.status(), StatusCode::BAD_REQUEST);
    assert!(body(bad_email).await["message"].as_str().unwrap().contains("correct format"));
    let not_json = app
        .post("/api/v1/auth/login")
        .header("content-type", "application/json")
        .body("{")
        .send()
        .await
        .unwrap();
    assert_eq!(not_json.status(), StatusCode::BAD_REQUEST);
    assert_eq!(body(not_json).await["code"], "invalid_json", "in the API's JSON error shape");
    let no_type = app.post("/api/v1/auth/login").body("{}").send().await.unwrap();
    assert_eq!(no_type.status(), StatusCode::BAD_REQUEST);
    assert_eq!(body(no_type).await["code"], "not_json");
    let extra = app
        .post("/api/v1/auth/login")
        .json(&serde_json::json!({ "email": "ann@testshire.gov.uk", "password": PASSWORD, "remember": true }))
        .send()
        .await
        .unwrap();
    assert_eq!(extra.status(), StatusCode::BAD_REQUEST);
    assert!(body(extra).await["message"].as_str().unwrap().contains("unknown field `remember`"));
}

#[tokio::test]
async fn each_sign_in_failure_sign_in_and_sign_out_is_one_audit_event_without_the_password() {
    let app = spawn_app().await;
    let ann = app.create_user("ann@testshire.gov.uk", PASSWORD, Role::Staff).await;
    assert_eq!(
        app.login("ann@testshire.gov.uk", "not the right password").await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.login("nobody@testshire.gov.uk", PASSWORD).await.status(),
        StatusCode::UNAUTHORIZED
    );
    let cookie = app.sign_in("ann@testshire.gov.uk", PASSWORD).await;
    app.logout(&cookie).await;
    let events = app.state.store.audit_chain_page(0, 100).await.unwrap();
    let seen: Vec<(&str, &str, &str)> = events
        .iter()
        .map(|e| (e.event.action.as_str(), e.event.actor.as_str(), e.event.outcome.as_str()))
        .collect();
    let me = format!("user:{ann}");
    assert_eq!(
        seen,
        [
            ("auth.sign_in", "signin:ann@testshire.gov.uk", "failure"),
            ("auth.sign_in", "signin:nobody@testshire.gov.uk", "failure"),
            ("auth.sign_in", me.as_str(), "success"),
            ("auth.sign_out", me.as_str(), "success"),
        ]
    );
    for e in &events {
        assert_eq!(e.event.origin.ip.as_deref(), Some("127.0.0.1"));
        assert!(e.event.origin.request_id.is_some());
        let all = format!("{:?}", e.event);
        assert!(
            !all.contains("correct horse") && !all.contains("not the right"),
            "no password in {all}"
        );
    }
}
