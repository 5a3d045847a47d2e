//! The secure link page (recipient portal, first slice): SECURITY B1, B2 and the dead ends.

use reqwest::StatusCode;
use sealpost_domain::Role;
use serde_json::json;

use crate::test_app::{PASSWORD, TestApp, body, link_token, spawn_app_with_smtp};

/// Sends Ann's message to a partner and returns (message id, the partner's link token).
pub async fn partner_link(
    app: &TestApp,
    sink: &sealpost_mail::testing::SmtpSink,
    marking: &str,
    passphrase: Option<&str>,
) -> (String, String) {
    app.create_user("ann@testshire.gov.uk", PASSWORD, Role::Staff).await;
    let cookie = app.sign_in("ann@testshire.gov.uk", PASSWORD).await;
    let m = json!({"recipients": ["pc.jones@police.example.uk"], "subject": "SECRET subject", "body": "SECRET body", "marking": marking, "passphrase": passphrase});
    let sent = body(app.send(&cookie, m, &[]).await).await;
    app.deliver_due().await;
    let mail = sink.received().pop().expect("a notification");
    let token = link_token(&mail);
    (sent["id"].as_str().unwrap().to_owned(), token)
}

/// Everything a link visit could plausibly change, as text.
async fn snapshot(app: &TestApp) -> String {
    let queries = [
        "SELECT COUNT(*) || '' FROM audit_events",
        "SELECT COUNT(*) || '' FROM sessions",
        "SELECT COUNT(*) || '' FROM login_failures",
        "SELECT COALESCE(MAX(status || ':' || COALESCE(read_at, 0) || ':' || COALESCE(revoked_at, 0)), '') FROM recipients",
        "SELECT COALESCE(MAX(state || ':' || attempts || ':' || next_attempt_at), '') FROM outbox",
    ];
    let mut out = String::new();
    for q in queries {
        let v = app.state.store.fetch_texts(q).await.unwrap().remove(0);
        out.push_str(&v);
        out.push('|');
    }
    out
}

#[tokio::test]
async fn opening_a_link_three_times_and_a_head_request_change_nothing() {
    let (app, sink) = spawn_app_with_smtp(&[]).await;
    let (_, token) = partner_link(&app, &sink, "official", None).await;
    let before = snapshot(&app).await;
    for path in [format!("/s/{token}"), format!("/api/v1/portal/links/{token}")] {
        for _ in 0..3 {
            assert!(app.get(&path).send().await.unwrap().status().is_success(), "{path}");
        }
        let head = app.client.head(format!("{}{path}", app.address)).send().await.unwrap();
        assert!(head.status().is_success(), "HEAD {path}");
    }
    assert_eq!(snapshot(&app).await, before, "a scanner opening the link left a trace");
}

#[tokio::test]
async fn the_link_page_names_sender_council_marking_and_reference_but_no_content() {
    let (app, sink) = spawn_app_with_smtp(&[]).await;
    let (_, token) = partner_link(&app, &sink, "official-sensitive", Some("river otter lamp seven")).await;
    let response = app.get(&format!("/api/v1/portal/links/{token}")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["referrer-policy"], "no-referrer");
    let view = body(response).await;
    assert_eq!(view["sender_name"], "Test Person");
    assert_eq!(view["organisation"], "Testshire County Council");
    assert_eq!(view["marking"], "official-sensitive");
    assert_eq!(view["passphrase_required"], true);
    assert!(view["reference"].as_str().unwrap().starts_with("SP-"));
    assert!(!view.to_string().contains("SECRET"));
}

#[tokio::test]
async fn revoked_expired_unknown_and_malformed_links_each_say_what_happened() {
    let (app, sink) = spawn_app_with_smtp(&[]).await;
    let (id, token) = partner_link(&app, &sink, "official", None).await;
    let lookup = |t: String| {
        let app = &app;
        async move { app.get(&format!("/api/v1/portal/links/{t}")).send().await.unwrap() }
    };
    let unknown = lookup("ab".repeat(32)).await;
    assert_eq!(unknown.status(), StatusCode::NOT_FOUND);
    let malformed = lookup("not-a-token".into()).await;
    assert_eq!(malformed.status(), StatusCode::NOT_FOUND);
    assert_eq!(body(unknown).await, body(malformed).await, "unknown and malformed look the same");

    app.clock.advance_minutes(31 * 24 * 60);
    let expired = lookup(token.clone()).await;
    assert_eq!(expired.status(), StatusCode::GONE);
    let b = body(expired).await;
    assert_eq!(b["code"], "link_expired");
    assert!(b["message"].as_str().unwrap().contains("Test Person") && !b.to_string().contains("SECRET"));

    app.clock.advance_minutes(-31 * 24 * 60);
    let cookie = app.sign_in("ann@testshire.gov.uk", PASSWORD).await;
    app.revoke(&cookie, &id, Some("pc.jones@police.example.uk")).await;
    let revoked = lookup(token).await;
    assert_eq!(revoked.status(), StatusCode::GONE);
    assert_eq!(body(revoked).await["code"], "link_revoked");
}
