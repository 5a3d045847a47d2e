//! Recipient verification (SECURITY B3, B4, A9 portal timeouts): redeem a link, receive a code
//! at a real SMTP listener, enter it (and the passphrase), within the limits.

use reqwest::{Response, StatusCode};
use sealpost_mail::testing::SmtpSink;
use serde_json::{Value, json};

use crate::partner::portal_cookie;
use crate::portal::partner_link;
use crate::test_app::{PASSWORD, TestApp, body, spawn_app_with_smtp};

pub(crate) async fn redeem(app: &TestApp, token: &str) -> Response {
    app.post("/api/v1/portal/redeem")
        .json(&json!({ "token": token }))
        .send()
        .await
        .unwrap()
}

pub(crate) async fn verify(app: &TestApp, cookie: &str, code: &str, passphrase: Option<&str>) -> Response {
    app.post("/api/v1/portal/verify")
        .header("cookie", cookie)
        .json(&json!({ "code": code, "passphrase": passphrase }))
        .send()
        .await
        .unwrap()
}

/// The newest code emailed, and the whole email.
pub(crate) fn last_code(sink: &SmtpSink) -> (String, String) {
    let mail = sink
        .received()
        .into_iter()
        .rev()
        .find(|m| m.contains("confirmation code is"))
        .expect("a code email");
    let code: String = mail.split("code is:").nth(1).unwrap().trim_start().chars().take(6).collect();
    (code, mail)
}

async fn code_error(r: Response) -> String {
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    body(r).await["code"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn a_redeemed_link_sends_a_code_that_verifies_once() {
    let (app, sink) = spawn_app_with_smtp(&[]).await;
    let (id, token) = partner_link(&app, &sink, "official", None).await;
    let r = redeem(&app, &token).await;
    assert_eq!(r.status(), StatusCode::OK);
    let cookie = portal_cookie(&r);
    assert_eq!(body(r).await["verified"], false);
    let (code, mail) = last_code(&sink);
    assert!(code.chars().all(|c| c.is_ascii_digit()) && code.len() == 6);
    assert!(
        mail.contains("SP-") && !mail.contains("SECRET"),
        "the code email repeats the reference, never content"
    );
    let wrong = if code == "000000" { "111111" } else { "000000" };
    assert_eq!(code_error(verify(&app, &cookie, wrong, None).await).await, "code_wrong");
    let ok = verify(&app, &cookie, &code, None).await;
    assert_eq!(ok.status(), StatusCode::OK);
    assert_eq!(body(ok).await["verified"], true);
    assert_eq!(
        code_error(verify(&app, &cookie, &code, None).await).await,
        "no_code",
        "a code works once"
    );
    let session: Value = body(app.get("/api/v1/portal/session").header("cookie", &cookie).send().await.unwrap()).await;
    assert_eq!(session["verified"], true);
    let actions = app.audit_actions(&id).await;
    for a in ["portal.redeem", "portal.code_sent", "portal.code_failed", "portal.verified"] {
        assert!(actions.iter().any(|x| x == a), "{a} missing from {actions:?}");
    }
}

#[tokio::test]
async fn five_wrong_tries_use_a_code_up_and_an_old_code_expires_after_ten_minutes() {
    let (app, sink) = spawn_app_with_smtp(&[]).await;
    let (_, token) = partner_link(&app, &sink, "official", None).await;
    let cookie = portal_cookie(&redeem(&app, &token).await);
    let (code, _) = last_code(&sink);
    let wrong = if code == "000000" { "111111" } else { "000000" };
    for _ in 0..4 {
        assert_eq!(code_error(verify(&app, &cookie, wrong, None).await).await, "code_wrong");
    }
    assert_eq!(code_error(verify(&app, &cookie, wrong, None).await).await, "code_used_up");
    assert_eq!(
        code_error(verify(&app, &cookie, &code, None).await).await,
        "no_code",
        "even the right code is gone"
    );
    let resend = app.post("/api/v1/portal/code").header("cookie", &cookie).send().await.unwrap();
    assert_eq!(resend.status(), StatusCode::NO_CONTENT);
    let (fresh, _) = last_code(&sink);
    app.clock.advance_minutes(11);
    let again = app.post("/api/v1/portal/code").header("cookie", &cookie).send().await.unwrap();
    assert_eq!(again.status(), StatusCode::NO_CONTENT, "the session is still live (idle < 15 min)");
    let (newest, _) = last_code(&sink);
    app.clock.advance_minutes(11);
    assert_eq!(code_error(verify(&app, &cookie, &newest, None).await).await, "code_expired");
    let _ = fresh;
}

#[tokio::test]
async fn a_sixth_code_within_the_hour_locks_the_recipient_and_the_sender_sees_it() {
    let (app, sink) = spawn_app_with_smtp(&[]).await;
    let (id, token) = partner_link(&app, &sink, "official", None).await;
    for _ in 0..5 {
        assert_eq!(redeem(&app, &token).await.status(), StatusCode::OK);
    }
    let locked = redeem(&app, &token).await;
    assert_eq!(locked.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(body(locked).await["message"].as_str().unwrap().contains("locked for an hour"));
    let ann = app.sign_in("ann@testshire.gov.uk", PASSWORD).await;
    let detail = body(app.read(&ann, &id).await).await;
    assert!(
        detail["recipients"][0]["detail"].as_str().unwrap().contains("Locked out"),
        "{detail}"
    );
    // The sender is also told by email, with the reference and nothing of the content.
    let notice = sink
        .received()
        .into_iter()
        .find(|m| m.contains("To: ann@testshire.gov.uk"))
        .expect("a lockout email to the sender");
    assert!(notice.contains("pc.jones@police.example.uk") && notice.contains(detail["summary"]["reference"].as_str().unwrap()));
    assert!(!notice.contains("SECRET"));
    let page = |app: &TestApp| app.get(&format!("/api/v1/portal/links/{token}")).send();
    let locked = body(page(&app).await.unwrap()).await;
    assert!(
        locked["locked_until"].as_i64().is_some(),
        "the link page knows, so it offers no code: {locked}"
    );
    app.clock.advance_minutes(61);
    assert!(body(page(&app).await.unwrap()).await.get("locked_until").is_none());
    assert_eq!(
        redeem(&app, &token).await.status(),
        StatusCode::OK,
        "after an hour the link works again"
    );
}

#[tokio::test]
async fn official_sensitive_needs_the_passphrase_given_by_phone() {
    let (app, sink) = spawn_app_with_smtp(&[]).await;
    let (_, token) = partner_link(&app, &sink, "official-sensitive", Some("river otter lamp seven")).await;
    let r = redeem(&app, &token).await;
    let cookie = portal_cookie(&r);
    assert_eq!(body(r).await["link"]["passphrase_required"], true);
    let (code, _) = last_code(&sink);
    assert_eq!(code_error(verify(&app, &cookie, &code, None).await).await, "passphrase_required");
    assert_eq!(
        code_error(verify(&app, &cookie, &code, Some("river otter lamp six")).await).await,
        "passphrase_wrong"
    );
    let ok = verify(&app, &cookie, &code, Some("river otter lamp seven")).await;
    assert_eq!(body(ok).await["verified"], true);
}

#[tokio::test]
async fn portal_sessions_end_after_fifteen_idle_minutes_and_at_once_on_revocation() {
    let (app, sink) = spawn_app_with_smtp(&[]).await;
    let (id, token) = partner_link(&app, &sink, "official", None).await;
    let cookie = portal_cookie(&redeem(&app, &token).await);
    let session = |c: String| {
        let app = &app;
        async move { app.get("/api/v1/portal/session").header("cookie", c).send().await.unwrap().status() }
    };
    app.clock.advance_minutes(14);
    assert_eq!(session(cookie.clone()).await, StatusCode::OK);
    app.clock.advance_minutes(15);
    assert_eq!(session(cookie.clone()).await, StatusCode::UNAUTHORIZED, "15 minutes idle");
    let cookie = portal_cookie(&redeem(&app, &token).await);
    let ann = app.sign_in("ann@testshire.gov.uk", PASSWORD).await;
    app.revoke(&ann, &id, None).await;
    assert_eq!(session(cookie).await, StatusCode::GONE, "revocation ends access at once");
}

#[tokio::test]
async fn portal_tokens_and_codes_are_stored_only_as_hashes() {
    let (app, sink) = spawn_app_with_smtp(&[]).await;
    let (_, token) = partner_link(&app, &sink, "official", None).await;
    let cookie = portal_cookie(&redeem(&app, &token).await);
    let raw = cookie.split_once('=').unwrap().1.to_owned();
    let (code, _) = last_code(&sink);
    let joined = "FROM portal_sessions s JOIN portal_codes c ON c.session_hash = s.token_hash";
    let sessions = app.state.store.fetch_bytes(&format!("SELECT s.token_hash {joined}")).await.unwrap();
    let codes = app.state.store.fetch_bytes(&format!("SELECT c.code_hash {joined}")).await.unwrap();
    let rows: Vec<(Vec<u8>, Vec<u8>)> = sessions.into_iter().zip(codes).collect();
    assert_eq!(rows.len(), 1);
    let (session_hash, code_hash) = &rows[0];
    assert_eq!(
        session_hash.as_slice(),
        sealpost_crypto::Token::parse(&raw).unwrap().hash().as_bytes().as_slice()
    );
    assert_ne!(code_hash.as_slice(), code.as_bytes());
    assert_eq!(code_hash.len(), 32);
}

#[tokio::test]
async fn a_lockout_also_stops_a_browser_that_was_already_verified() {
    let (app, sink) = spawn_app_with_smtp(&[]).await;
    let (id, token) = partner_link(&app, &sink, "official", None).await;
    let verified = app.portal_sign_in(&sink, &token, None).await;
    assert_eq!(app.portal_message(&verified, &id).await.status(), StatusCode::OK);
    // Someone else with the link asks for codes until the recipient is locked out.
    for _ in 0..4 {
        assert_eq!(redeem(&app, &token).await.status(), StatusCode::OK);
    }
    assert_eq!(redeem(&app, &token).await.status(), StatusCode::TOO_MANY_REQUESTS);
    let blocked = app.portal_message(&verified, &id).await;
    assert_eq!(blocked.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(body(blocked).await["message"].as_str().unwrap().contains("locked for an hour"));
    let list = app.portal_list(&verified).await;
    assert_eq!(list.status(), StatusCode::TOO_MANY_REQUESTS, "nor does it list the subjects");
}

#[tokio::test]
async fn another_message_whose_link_is_locked_out_is_listed_without_its_subject() {
    let (app, sink) = spawn_app_with_smtp(&[]).await;
    let (first, first_token) = partner_link(&app, &sink, "official", None).await;
    let ann = app.sign_in("ann@testshire.gov.uk", PASSWORD).await;
    app.clock.advance_minutes(1); // the second message is the newer
    let m =
        json!({"recipients": ["pc.jones@police.example.uk"], "subject": "Second subject", "body": "Second body", "marking": "official"});
    let second = body(app.send(&ann, m, &[]).await).await["id"].as_str().unwrap().to_owned();
    app.deliver_due().await;
    let second_token = app.link_sent_to(&sink, "pc.jones@police.example.uk");
    let verified = app.portal_sign_in(&sink, &first_token, None).await;
    let subjects = |list: Value| -> Vec<(String, Value)> {
        list.as_array()
            .unwrap()
            .iter()
            .map(|i| (i["id"].as_str().unwrap().to_owned(), i["subject"].clone()))
            .collect()
    };
    assert_eq!(
        subjects(body(app.portal_list(&verified).await).await),
        [(second.clone(), json!("Second subject")), (first.clone(), json!("SECRET subject"))]
    );
    // Someone with the second link asks for codes until that recipient row is locked out.
    for _ in 0..5 {
        assert_eq!(redeem(&app, &second_token).await.status(), StatusCode::OK);
    }
    assert_eq!(redeem(&app, &second_token).await.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(
        subjects(body(app.portal_list(&verified).await).await),
        [(second.clone(), Value::Null), (first, json!("SECRET subject"))],
        "the locked message stays listed, without its subject"
    );
    assert_eq!(app.portal_message(&verified, &second).await.status(), StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test]
async fn a_partner_signs_out_on_a_shared_computer_and_the_session_ends_on_the_server() {
    let (app, sink) = spawn_app_with_smtp(&[]).await;
    let (id, token) = partner_link(&app, &sink, "official", None).await;
    let cookie = app.portal_sign_in(&sink, &token, None).await;
    assert_eq!(app.portal_message(&cookie, &id).await.status(), StatusCode::OK);
    let out = app.post("/api/v1/portal/signout").header("cookie", &cookie).send().await.unwrap();
    assert_eq!(out.status(), StatusCode::NO_CONTENT);
    let cleared = out.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(
        cleared.starts_with("__Host-sealpost_portal=;") && cleared.contains("Max-Age=0"),
        "{cleared}"
    );
    assert_eq!(
        app.portal_message(&cookie, &id).await.status(),
        StatusCode::UNAUTHORIZED,
        "a copy of the old cookie no longer opens anything"
    );
    assert!(app.audit_actions(&id).await.iter().any(|a| a == "portal.sign_out"));
    let again = app.post("/api/v1/portal/signout").header("cookie", &cookie).send().await.unwrap();
    assert_eq!(again.status(), StatusCode::NO_CONTENT, "signing out twice is harmless");
}
