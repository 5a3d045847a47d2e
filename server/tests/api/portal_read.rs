//! Reading in the recipient portal: only after verification, content on record before it is
//! returned (SECURITY F1), only the recipient's own message (C1), and never after revocation.

use reqwest::StatusCode;
use sealpost_domain::Role;
use serde_json::json;

use crate::test_app::{PASSWORD, body, spawn_app_with_smtp};

#[tokio::test]
async fn a_verified_recipient_reads_the_message_and_its_file_and_the_sender_sees_it_read() {
    let (app, sink) = spawn_app_with_smtp(&[]).await;
    app.create_user("ann@testshire.gov.uk", PASSWORD, Role::Staff).await;
    let (id, token) = app
        .send_file_to_partner(&sink, "pc.jones@police.example.uk", b"%PDF referral bytes")
        .await;
    let unverified = app.portal_redeem(&token).await;
    let early = app
        .get("/api/v1/portal/message")
        .header("cookie", &unverified)
        .send()
        .await
        .unwrap();
    assert_eq!(early.status(), StatusCode::FORBIDDEN);
    assert!(!early.text().await.unwrap().contains("Details"));
    let cookie = app.portal_sign_in(&sink, &token, None).await;
    let detail = body(app.get("/api/v1/portal/message").header("cookie", &cookie).send().await.unwrap()).await;
    assert_eq!(detail["summary"]["subject"], "Referral");
    assert_eq!(detail["body"], "Details inside");
    assert_eq!(detail["recipients"], json!([]), "a recipient does not see who else it went to");
    let aid = detail["attachments"][0]["id"].as_str().unwrap();
    let file = app
        .get(&format!("/api/v1/portal/attachments/{aid}"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(file.status(), StatusCode::OK);
    assert!(file.headers()["content-disposition"].to_str().unwrap().starts_with("attachment;"));
    assert_eq!(file.bytes().await.unwrap().as_ref(), b"%PDF referral bytes");
    let events = app.state.store.audit_events_for(&format!("message:{id}")).await.unwrap();
    assert!(
        events
            .iter()
            .any(|e| e.action == "message.read" && e.actor == "recipient:pc.jones@police.example.uk")
    );
    let ann = app.sign_in("ann@testshire.gov.uk", PASSWORD).await;
    assert_eq!(body(app.read(&ann, &id).await).await["recipients"][0]["status"], "read");
}

#[tokio::test]
async fn a_recipient_cannot_reach_another_message_or_read_after_revocation() {
    let (app, sink) = spawn_app_with_smtp(&[]).await;
    app.create_user("ann@testshire.gov.uk", PASSWORD, Role::Staff).await;
    let (_, theirs) = app.send_file_to_partner(&sink, "pc.jones@police.example.uk", b"theirs").await;
    let (other_id, other_token) = app.send_file_to_partner(&sink, "head@school.example.uk", b"not theirs").await;
    let other_cookie = app.portal_sign_in(&sink, &other_token, None).await;
    let other_detail = body(
        app.get("/api/v1/portal/message")
            .header("cookie", &other_cookie)
            .send()
            .await
            .unwrap(),
    )
    .await;
    let other_aid = other_detail["attachments"][0]["id"].as_str().unwrap().to_owned();
    let cookie = app.portal_sign_in(&sink, &theirs, None).await;
    let stolen = app
        .get(&format!("/api/v1/portal/attachments/{other_aid}"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(stolen.status(), StatusCode::NOT_FOUND);
    let staff = app
        .get(&format!("/api/v1/messages/{other_id}"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(staff.status(), StatusCode::UNAUTHORIZED, "a portal session is not a staff session");
    let ann = app.sign_in("ann@testshire.gov.uk", PASSWORD).await;
    app.revoke(&ann, &other_id, None).await;
    let after = app
        .get("/api/v1/portal/message")
        .header("cookie", &other_cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(after.status(), StatusCode::GONE);
}
