//! Undo send (issue 20), on both backends: for `SEALPOST_SEND_HOLD_SECONDS` after a send nobody
//! else sees the message and no notification reaches the SMTP relay; the sender may recall it
//! in that window, which crypto-shreds it and records it as recalled; after the window it goes
//! as usual, even across a kill -9 during the hold.

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use sealpost_mail::testing::SmtpSink;
use serde_json::{Value, json};

use crate::real_server::Installation;
use crate::staff::{message, people};
use crate::test_app::{TestApp, body, spawn_app_with};

const PARTNER: &str = "pc.jones@met.police.uk";
const BOB: &str = "bob@testshire.gov.uk";

async fn held_app() -> (TestApp, SmtpSink) {
    let sink = SmtpSink::start(&[]).await.unwrap();
    let url = sink.url.clone();
    let app = spawn_app_with(move |s| {
        s.smtp_url = Some(sealpost_crypto::SecretString::from(url));
        s.send_hold_seconds = 30;
    })
    .await;
    (app, sink)
}

async fn inbox_ids(app: &TestApp, cookie: &str) -> Vec<String> {
    let list = body(app.list(cookie, "inbox").await).await;
    list.as_array()
        .or_else(|| list["messages"].as_array())
        .unwrap()
        .iter()
        .map(|m| m["id"].as_str().unwrap().to_owned())
        .collect()
}

fn recall(app: &TestApp, cookie: &str, id: &str) -> reqwest::RequestBuilder {
    app.post(&format!("/api/v1/messages/{id}/recall")).header("cookie", cookie)
}

#[tokio::test]
async fn a_held_send_reaches_nobody_until_its_window_ends_then_everyone() {
    let (app, sink) = held_app().await;
    let p = people(&app).await;
    let sent_at = app.state.now_ms();
    let response = app.send(&p.ann, message(&[BOB, PARTNER], "Visit", "Tuesday at ten."), &[]).await;
    assert_eq!(response.status(), StatusCode::OK);
    let sent = body(response).await;
    let id = sent["id"].as_str().unwrap();
    assert_eq!(sent["held_until"].as_i64(), Some(sent_at + 30_000), "{sent}");
    // The sender sees it, with the end of the window; nobody else does, anywhere.
    let mine = body(app.read(&p.ann, id).await).await;
    assert_eq!(mine["held_until"].as_i64(), Some(sent_at + 30_000));
    for r in mine["recipients"].as_array().unwrap() {
        assert_eq!(r["detail"], "not yet: after the undo window", "{mine}");
    }
    assert!(inbox_ids(&app, &p.bob).await.is_empty());
    assert_eq!(app.read(&p.bob, id).await.status(), StatusCode::NOT_FOUND);
    let search = body(app.get("/api/v1/search?q=Visit").header("cookie", &p.bob).send().await.unwrap()).await;
    assert!(!search.to_string().contains(id), "{search}");
    // The worker runs in the window: nothing reaches the relay.
    app.deliver_due().await;
    assert!(sink.received().is_empty(), "nothing leaves in the window");
    // The window ends: the colleague has it without the outbox worker (which these tests run
    // by hand), and the partner is notified when it runs.
    app.clock.advance_minutes(1);
    let waited = Instant::now();
    while inbox_ids(&app, &p.bob).await.is_empty() && waited.elapsed() < Duration::from_secs(5) {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(inbox_ids(&app, &p.bob).await, [id], "released on time");
    assert_eq!(app.deliver_due().await, 2, "the partner's link and the colleague's notice");
    assert!(sink.received().iter().any(|m| m.contains(&format!("To: {PARTNER}"))));
    assert_eq!(inbox_ids(&app, &p.bob).await, [id]);
    assert_eq!(app.read(&p.bob, id).await.status(), StatusCode::OK);
    assert!(body(app.read(&p.ann, id).await).await.get("held_until").is_none());
    // Too late to undo now.
    let late = recall(&app, &p.ann, id).send().await.unwrap();
    assert_eq!(late.status(), StatusCode::CONFLICT);
    assert_eq!(body(late).await["code"], "too_late_to_undo");
}

#[tokio::test]
async fn a_send_undone_in_its_window_never_reaches_the_relay_and_is_shredded_on_record() {
    let (app, sink) = held_app().await;
    let p = people(&app).await;
    let files_before = app.blob_files().len();
    let response = app
        .send(
            &p.ann,
            message(&[BOB, PARTNER], "Wrong family", "Oops."),
            &[("notes.pdf", b"%PDF-1.4 plan".to_vec())],
        )
        .await;
    let id = body(response).await["id"].as_str().unwrap().to_owned();
    // Only the sender may undo it; to anyone else it does not exist.
    assert_eq!(recall(&app, &p.bob, &id).send().await.unwrap().status(), StatusCode::NOT_FOUND);
    // 40 at once: one undoes it, the rest are told it has gone.
    let tries: Vec<_> = (0..40).map(|_| recall(&app, &p.ann, &id).send()).collect();
    let statuses: Vec<StatusCode> = futures::future::join_all(tries)
        .await
        .into_iter()
        .map(|r| r.unwrap().status())
        .collect();
    assert_eq!(statuses.iter().filter(|s| **s == StatusCode::OK).count(), 1, "{statuses:?}");
    assert!(
        statuses.iter().all(|s| *s == StatusCode::OK || *s == StatusCode::CONFLICT),
        "{statuses:?}"
    );
    let seen: Value = body(app.read(&p.ann, &id).await).await;
    assert!(seen["body"].as_str().unwrap().contains("Cancelled by its sender"), "{seen}");
    assert!(seen.get("held_until").is_none());
    assert!(
        seen["recipients"].as_array().unwrap().iter().all(|r| r["status"] == "revoked"),
        "{seen}"
    );
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(app.blob_files().len(), files_before, "its file is gone");
    let actions = app.audit_actions(&id).await;
    assert_eq!(actions.iter().filter(|a| *a == "message.recalled").count(), 1, "{actions:?}");
    // Nothing to give back: its recipients were never sent it.
    let regrant = app
        .post(&format!("/api/v1/messages/{id}/regrant"))
        .header("cookie", &p.ann)
        .json(&json!({ "recipient": BOB }))
        .send()
        .await
        .unwrap();
    assert_eq!(regrant.status(), StatusCode::GONE);
    // Long after the window: nothing was ever sent, and the colleague never had it.
    app.clock.advance_minutes(10);
    app.deliver_due().await;
    assert!(sink.received().is_empty(), "{:?}", sink.received());
    assert!(inbox_ids(&app, &p.bob).await.is_empty());
    assert_eq!(app.read(&p.bob, &id).await.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_hold_survives_a_kill_and_the_message_goes_when_it_ends() {
    let mut install = Installation::new().await;
    let sink = SmtpSink::start(&[]).await.unwrap();
    install.env.push(("SEALPOST_SMTP_URL".into(), sink.url.clone()));
    install.env.push(("SEALPOST_SEND_HOLD_SECONDS".into(), "3".into()));
    install.create_user("ann@testshire.gov.uk").await;
    let server = install.start().await;
    let ann = server.sign_in("ann@testshire.gov.uk").await;
    let sent_at = Instant::now();
    let (status, sent) = server
        .send(&ann, &json!({"recipients": [PARTNER], "subject": "Visit", "body": "Tuesday."}), &[])
        .await
        .unwrap();
    assert_eq!(status, StatusCode::OK, "{sent}");
    server.kill();
    drop(server);
    let _restarted = install.start().await;
    while sink.received().is_empty() && sent_at.elapsed() < Duration::from_secs(30) {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let waited = sent_at.elapsed();
    assert_eq!(sink.received().len(), 1, "the notification arrives once");
    assert!(waited >= Duration::from_secs(3), "it left after {waited:?}, inside the 3 s window");
}

#[tokio::test]
async fn the_window_is_at_most_five_minutes() {
    let env = |v: &str| vec![("SEALPOST_SEND_HOLD_SECONDS".to_owned(), v.to_owned())];
    let err = sealpost_server::settings::Settings::load(None, false, env("301")).unwrap_err();
    assert!(err.to_string().contains("SEALPOST_SEND_HOLD_SECONDS"), "{err}");
    let ok = sealpost_server::settings::Settings::load(None, false, env("300")).unwrap();
    assert_eq!(ok.send_hold_seconds, 300);
    let default = sealpost_server::settings::Settings::load(None, false, Vec::new()).unwrap();
    assert_eq!(default.send_hold_seconds, 30);
}
