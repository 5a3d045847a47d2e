//! Secure replies from the portal: only a verified recipient with a live link may reply; the
//! reply and its file join the thread in the sender's inbox; partners never see each other's
//! replies and colleagues copied on the message see none (SECURITY C1); every reply is audited.

use reqwest::StatusCode;
use sealpost_domain::Role;
use sealpost_mail::testing::SmtpSink;
use serde_json::json;

use crate::staff::{message, send_ok};
use crate::test_app::{PASSWORD, body, spawn_app_with, spawn_app_with_smtp};

const PC: &str = "pc.jones@police.example.uk";

#[tokio::test]
async fn a_partner_replies_with_a_file_and_the_sender_finds_it_in_the_inbox_thread() {
    let (app, sink) = spawn_app_with_smtp(&[]).await;
    app.create_user("ann@testshire.gov.uk", PASSWORD, Role::Staff).await;
    let (id, token) = app.send_file_to_partner(&sink, PC, b"referral").await;
    let pc = app.portal_sign_in(&sink, &token, None).await;
    let statement: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
    app.portal_reply_ok(
        &pc,
        &id,
        "Received, statement attached.",
        &[("statement 12.pdf", statement.clone())],
    )
    .await;

    let ann = app.sign_in("ann@testshire.gov.uk", PASSWORD).await;
    let inbox = body(app.list(&ann, "inbox").await).await;
    assert_eq!(inbox.as_array().unwrap().len(), 1, "the thread is in the sender's inbox: {inbox}");
    assert_eq!(inbox[0]["id"], id.as_str());
    assert_eq!(inbox[0]["unread"], true);
    assert_eq!(inbox[0]["replies"], 1);
    assert_eq!(inbox[0]["last_reply_from"], PC);

    let thread = body(app.read(&ann, &id).await).await;
    assert_eq!(thread["body"], "Details inside");
    assert_eq!(
        thread["attachments"].as_array().unwrap().len(),
        1,
        "the reply's file is not the message's"
    );
    let reply = &thread["replies"][0];
    assert_eq!(reply["from"], PC);
    assert_eq!(reply["body"], "Received, statement attached.");
    assert_eq!(reply["attachments"][0]["name"], "statement 12.pdf");
    assert_eq!(reply["attachments"][0]["size"], 200_000);
    let aid = reply["attachments"][0]["id"].as_str().unwrap();
    let file = app.download(&ann, &id, aid).await;
    assert_eq!(file.status(), StatusCode::OK);
    assert_eq!(file.bytes().await.unwrap().as_ref(), statement.as_slice());
    assert_eq!(
        body(app.list(&ann, "inbox").await).await[0]["unread"],
        false,
        "opening the thread reads the reply"
    );
    assert_eq!(body(app.list(&ann, "sent").await).await[0]["replies"], 1);

    // The partner sees the thread too, and can fetch their own file back.
    let theirs = body(app.portal_message(&pc, &id).await).await;
    assert_eq!(theirs["replies"][0]["body"], "Received, statement attached.");
    assert_eq!(app.portal_download(&pc, &id, aid).await.status(), StatusCode::OK);

    let actions = app.audit_actions(&id).await;
    assert_eq!(actions.iter().filter(|a| *a == "message.reply").count(), 1, "{actions:?}");
    // The sender is told by email, with the reference and none of the reply.
    let notice = wait_for_mail(&sink, |m| m.contains("To: ann@testshire.gov.uk") && m.contains("secure reply")).await;
    assert!(notice.contains(thread["summary"]["reference"].as_str().unwrap()));
    assert!(!notice.contains("Received, statement") && !notice.contains("statement 12.pdf"));
}

#[tokio::test]
async fn replies_are_seen_only_by_their_author_and_the_sender() {
    let (app, sink) = spawn_app_with_smtp(&[]).await;
    for who in ["ann", "bob"] {
        app.create_user(&format!("{who}@testshire.gov.uk"), PASSWORD, Role::Staff).await;
    }
    let ann = app.sign_in("ann@testshire.gov.uk", PASSWORD).await;
    let to = ["bob@testshire.gov.uk", PC, "head@school.example.uk"];
    let id = send_ok(&app, &ann, message(&to, "Strategy meeting", "Agenda"), &[]).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    app.deliver_due().await;
    let pc = app.portal_sign_in(&sink, &app.link_sent_to(&sink, PC), None).await;
    app.portal_reply_ok(&pc, &id, "Police view: see file", &[("view.txt", b"police only".to_vec())])
        .await;
    let aid = body(app.read(&ann, &id).await).await["replies"][0]["attachments"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();

    let head = app
        .portal_sign_in(&sink, &app.link_sent_to(&sink, "head@school.example.uk"), None)
        .await;
    assert_eq!(body(app.portal_message(&head, &id).await).await["replies"], json!([]));
    assert_eq!(app.portal_download(&head, &id, &aid).await.status(), StatusCode::NOT_FOUND);

    let bob = app.sign_in("bob@testshire.gov.uk", PASSWORD).await;
    assert_eq!(body(app.read(&bob, &id).await).await["replies"], json!([]));
    assert_eq!(app.download(&bob, &id, &aid).await.status(), StatusCode::NOT_FOUND);
    assert_eq!(body(app.list(&bob, "inbox").await).await[0]["replies"], 0);
}

#[tokio::test]
async fn a_reply_needs_a_verified_session_some_content_a_live_link_and_the_upload_limits() {
    let sink = SmtpSink::start(&[]).await.unwrap();
    let url = sink.url.clone();
    let app = spawn_app_with(move |s| {
        s.smtp_url = Some(url.into());
        s.max_attachment_mib = 1;
    })
    .await;
    app.create_user("ann@testshire.gov.uk", PASSWORD, Role::Staff).await;
    let (id, token) = app.send_file_to_partner(&sink, PC, b"referral").await;
    let unverified = app.portal_redeem(&token).await;
    let early = app.portal_reply(&unverified, &id, "hello", &[]).await;
    assert_eq!(early.status(), StatusCode::FORBIDDEN);

    let pc = app.portal_sign_in(&sink, &token, None).await;
    let empty = app.portal_reply(&pc, &id, "  \n ", &[]).await;
    assert_eq!(empty.status(), StatusCode::BAD_REQUEST);
    assert_eq!(body(empty).await["code"], "empty_reply");
    let blobs_before = app.blob_files().len();
    let big = app
        .portal_reply(&pc, &id, "too big", &[("big.bin", vec![7; 1024 * 1024 + 1])])
        .await;
    assert_eq!(big.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert!(body(big).await["message"].as_str().unwrap().contains("big.bin"));
    let at_limit = app.portal_reply(&pc, &id, "just fits", &[("fits.bin", vec![7; 1024 * 1024])]).await;
    assert_eq!(at_limit.status(), StatusCode::OK);
    // The refused file's blob is removed in the background: wait for it, for up to 5 s.
    for _ in 0..100 {
        if app.blob_files().len() == blobs_before + 1 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(app.blob_files().len(), blobs_before + 1, "only the accepted file is kept");

    let ann = app.sign_in("ann@testshire.gov.uk", PASSWORD).await;
    assert_eq!(body(app.read(&ann, &id).await).await["replies"].as_array().unwrap().len(), 1);
    app.revoke(&ann, &id, None).await;
    assert_eq!(app.portal_reply(&pc, &id, "after revoke", &[]).await.status(), StatusCode::GONE);
    assert_eq!(body(app.read(&ann, &id).await).await["replies"].as_array().unwrap().len(), 1);
}

/// The first email the sink accepts that matches `wanted`, waiting up to 5 s (notices to the
/// sender are sent after the answer).
async fn wait_for_mail(sink: &SmtpSink, wanted: impl Fn(&str) -> bool) -> String {
    for _ in 0..100 {
        if let Some(m) = sink.received().into_iter().find(|m| wanted(m)) {
            return m;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("no such email arrived");
}

#[tokio::test]
async fn a_partner_can_send_at_most_fifty_replies_to_one_message() {
    let (app, sink) = spawn_app_with_smtp(&[]).await;
    app.create_user("ann@testshire.gov.uk", PASSWORD, Role::Staff).await;
    let (id, token) = app.send_file_to_partner(&sink, PC, b"referral").await;
    let pc = app.portal_sign_in(&sink, &token, None).await;
    for n in 0..sealpost_server::app::reply::MAX_REPLIES {
        app.portal_reply_ok(&pc, &id, &format!("reply {n}"), &[]).await;
    }
    let one_more = app.portal_reply(&pc, &id, "one more", &[]).await;
    assert_eq!(one_more.status(), StatusCode::BAD_REQUEST);
    assert_eq!(body(one_more).await["code"], "too_many_replies");
    let ann = app.sign_in("ann@testshire.gov.uk", PASSWORD).await;
    assert_eq!(body(app.read(&ann, &id).await).await["replies"].as_array().unwrap().len(), 50);
}
