//! Reading in the recipient portal: only after verification, content on record before it is
//! returned (SECURITY F1), only messages to the recipient's own address (C1), never after
//! revocation; a returning recipient sees all of theirs.

use reqwest::StatusCode;
use sealpost_domain::Role;
use serde_json::json;

use crate::staff::{message, send_ok};
use crate::test_app::{PASSWORD, body, spawn_app_with_smtp};

#[tokio::test]
async fn a_verified_recipient_reads_the_message_and_its_file_and_the_sender_sees_it_read() {
    let (app, sink) = spawn_app_with_smtp(&[]).await;
    app.create_user("ann@testshire.gov.uk", PASSWORD, Role::Staff).await;
    let (id, token) = app
        .send_file_to_partner(&sink, "pc.jones@police.example.uk", b"%PDF referral bytes")
        .await;
    let unverified = app.portal_redeem(&token).await;
    let early = app.portal_message(&unverified, &id).await;
    assert_eq!(early.status(), StatusCode::FORBIDDEN);
    assert!(!early.text().await.unwrap().contains("Details"));
    let cookie = app.portal_sign_in(&sink, &token, None).await;
    let detail = body(app.portal_message(&cookie, &id).await).await;
    assert_eq!(detail["summary"]["subject"], "Referral");
    assert_eq!(detail["body"], "Details inside");
    assert_eq!(detail["recipients"], json!([]), "a recipient does not see who else it went to");
    let aid = detail["attachments"][0]["id"].as_str().unwrap();
    let file = app.portal_download(&cookie, &id, aid).await;
    assert_eq!(file.status(), StatusCode::OK);
    assert!(file.headers()["content-disposition"].to_str().unwrap().starts_with("attachment;"));
    assert_eq!(file.bytes().await.unwrap().as_ref(), b"%PDF referral bytes");
    let events = app.audit_events(&id).await;
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
    let (id, theirs) = app.send_file_to_partner(&sink, "pc.jones@police.example.uk", b"theirs").await;
    let (other_id, other_token) = app.send_file_to_partner(&sink, "head@school.example.uk", b"not theirs").await;
    let other_cookie = app.portal_sign_in(&sink, &other_token, None).await;
    let other_detail = body(app.portal_message(&other_cookie, &other_id).await).await;
    let other_aid = other_detail["attachments"][0]["id"].as_str().unwrap().to_owned();
    let cookie = app.portal_sign_in(&sink, &theirs, None).await;
    for stolen in [
        app.portal_message(&cookie, &other_id).await,
        app.portal_download(&cookie, &other_id, &other_aid).await,
        app.portal_download(&cookie, &id, &other_aid).await,
    ] {
        assert_eq!(stolen.status(), StatusCode::NOT_FOUND, "another recipient's message or file");
    }
    let staff = app
        .get(&format!("/api/v1/messages/{other_id}"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(staff.status(), StatusCode::UNAUTHORIZED, "a portal session is not a staff session");
    let ann = app.sign_in("ann@testshire.gov.uk", PASSWORD).await;
    app.revoke(&ann, &other_id, None).await;
    let after = app.portal_message(&other_cookie, &other_id).await;
    assert_eq!(after.status(), StatusCode::GONE);
}

#[tokio::test]
async fn a_returning_recipient_sees_every_live_message_to_their_address_but_not_others() {
    let (app, sink) = spawn_app_with_smtp(&[]).await;
    app.create_user("ann@testshire.gov.uk", PASSWORD, Role::Staff).await;
    let ann = app.sign_in("ann@testshire.gov.uk", PASSWORD).await;
    let pc = "pc.jones@police.example.uk";
    let send = |subject: &'static str, extra: serde_json::Value| {
        let mut m = message(&[pc], subject, "text");
        m.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
        let (app, ann) = (&app, &ann);
        async move {
            app.clock.advance_minutes(1); // each message a minute newer than the last
            send_ok(app, ann, m, &[]).await["id"].as_str().unwrap().to_owned()
        }
    };
    let first = send("First referral", json!({})).await;
    app.deliver_due().await;
    let first_link = app.link_sent_to(&sink, pc);
    let sensitive = send(
        "Sensitive referral",
        json!({"marking": "official-sensitive", "passphrase": "river otter lamp seven"}),
    )
    .await;
    app.deliver_due().await;
    let sensitive_link = app.link_sent_to(&sink, pc);
    let withdrawn = send("Withdrawn referral", json!({})).await;
    app.revoke(&ann, &withdrawn, None).await;
    let (someone_else, _) = app.send_file_to_partner(&sink, "head@school.example.uk", b"theirs").await;

    let cookie = app.portal_sign_in(&sink, &first_link, None).await;
    let list = body(app.portal_list(&cookie).await).await;
    let seen: Vec<(&str, Option<&str>, bool)> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|i| (i["id"].as_str().unwrap(), i["subject"].as_str(), i["current"].as_bool().unwrap()))
        .collect();
    assert_eq!(
        seen,
        [(sensitive.as_str(), None, false), (first.as_str(), Some("First referral"), true)],
        "live messages to this address, newest first; a passphrase-protected one without its subject"
    );
    assert_eq!(app.portal_message(&cookie, &sensitive).await.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        app.portal_reply(&cookie, &sensitive, "no passphrase", &[]).await.status(),
        StatusCode::FORBIDDEN,
        "nor can it be answered without its passphrase"
    );
    assert_eq!(app.portal_message(&cookie, &withdrawn).await.status(), StatusCode::GONE);
    assert_eq!(app.portal_message(&cookie, &someone_else).await.status(), StatusCode::NOT_FOUND);

    // Opened from the sensitive message's own link, with its passphrase, both open.
    let both = app.portal_sign_in(&sink, &sensitive_link, Some("river otter lamp seven")).await;
    let list = body(app.portal_list(&both).await).await;
    assert_eq!(list[0]["subject"], "Sensitive referral");
    assert_eq!(list[1]["current"], false);
    assert_eq!(
        body(app.portal_message(&both, &first).await).await["summary"]["subject"],
        "First referral"
    );
    app.portal_reply_ok(&both, &first, "A reply to the older message", &[]).await;
    let thread = body(app.read(&ann, &first).await).await;
    assert_eq!(thread["replies"][0]["body"], "A reply to the older message");
    let listed = app.audit_actions(&first).await;
    assert!(listed.contains(&"message.reply".to_owned()), "{listed:?}");
}

#[tokio::test]
async fn when_the_audit_log_cannot_be_written_a_recipient_gets_503_and_no_content() {
    let (app, sink) = spawn_app_with_smtp(&[]).await;
    app.create_user("ann@testshire.gov.uk", PASSWORD, Role::Staff).await;
    let (id, token) = app
        .send_file_to_partner(&sink, "pc.jones@police.example.uk", b"secret file bytes")
        .await;
    let cookie = app.portal_sign_in(&sink, &token, None).await;
    let aid = body(app.portal_message(&cookie, &id).await).await["attachments"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    // Break the audit table on purpose.
    let rename = "ALTER TABLE audit_events RENAME TO audit_events_gone";
    app.state.store.execute_raw(rename).await.unwrap();
    for response in [
        app.portal_list(&cookie).await,
        app.portal_message(&cookie, &id).await,
        app.portal_download(&cookie, &id, &aid).await,
    ] {
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        let text = response.text().await.unwrap();
        assert!(
            !text.contains("Referral") && !text.contains("Details") && !text.contains("secret file"),
            "{text}"
        );
    }
}
