//! External notifications through a real SMTP listener started by the test (SECURITY B5, G3).

use reqwest::StatusCode;
use sealpost_domain::Role;
use serde_json::json;

use crate::test_app::{PASSWORD, TestApp, body, spawn_app, spawn_app_with_smtp};

async fn ann(app: &TestApp) -> String {
    app.create_user("ann@testshire.gov.uk", PASSWORD, Role::Staff).await;
    app.sign_in("ann@testshire.gov.uk", PASSWORD).await
}

async fn send_external(app: &TestApp, cookie: &str) -> (String, String) {
    let m = json!({
        "recipients": ["pc.jones@police.example.uk"],
        "subject": "SUBJECT-canary", "body": "BODY-canary", "marking": "official"
    });
    let response = app.send(cookie, m, &[("FILENAME-canary.pdf", b"%PDF".to_vec())]).await;
    assert_eq!(response.status(), StatusCode::OK);
    let b = body(response).await;
    (b["id"].as_str().unwrap().to_owned(), b["reference"].as_str().unwrap().to_owned())
}

/// The sender's view of delivery, signing in afresh: these tests move the clock by hours.
async fn statuses(app: &TestApp, _cookie: &str, id: &str) -> serde_json::Value {
    let cookie = app.sign_in("ann@testshire.gov.uk", PASSWORD).await;
    body(app.read(&cookie, id).await).await["recipients"].clone()
}

/// Runs outbox passes, moving the clock an hour each time, until `done` or 20 passes.
async fn deliver_until(app: &TestApp, done: impl Fn() -> bool) {
    for _ in 0..20 {
        app.deliver_due().await;
        if done() {
            return;
        }
        app.clock.advance_minutes(61);
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn the_notification_carries_the_link_and_reference_and_nothing_of_the_message() {
    let (app, sink) = spawn_app_with_smtp(&[]).await;
    let cookie = ann(&app).await;
    let (id, reference) = send_external(&app, &cookie).await;
    deliver_until(&app, || sink.received().len() == 1).await;
    let received = sink.received();
    assert_eq!(received.len(), 1);
    let mail = &received[0];
    assert!(mail.contains(&reference), "reference");
    assert!(mail.contains("Testshire County Council") && mail.contains("OFFICIAL"));
    let link_start = mail.find(&format!("{}/s/", app.address)).expect("the link");
    let token: String = mail[link_start..]
        .split("/s/")
        .nth(1)
        .unwrap()
        .chars()
        .take_while(char::is_ascii_hexdigit)
        .collect();
    assert_eq!(token.len(), 64, "a 256-bit token");
    for secret in ["SUBJECT-canary", "BODY-canary", "FILENAME-canary"] {
        assert!(!mail.contains(secret), "{secret} leaked into the notification");
    }
    assert!(mail.contains(&"Message-ID: <".to_string()) || mail.contains("Message-Id: <"));
    assert_eq!(statuses(&app, &cookie, &id).await[0]["status"], "sent");
    // The sealed link is gone once sent: the database cannot re-create the email.
    let links = app
        .state
        .store
        .fetch_texts("SELECT CASE WHEN sealed_link IS NULL THEN 'gone' ELSE 'kept' END FROM outbox")
        .await
        .unwrap();
    assert_eq!(links, ["gone"]);
    let events = app.audit_events(&id).await;
    let to = format!("message:{id}/to:pc.jones@police.example.uk");
    assert!(
        events
            .iter()
            .any(|e| e.action == "notification.sent" && e.actor == "system" && e.object.as_deref() == Some(to.as_str()))
    );
}

#[tokio::test]
async fn a_relay_answering_421_five_times_then_accepting_delivers_exactly_once() {
    let (app, sink) = spawn_app_with_smtp(&[421, 421, 421, 421, 421]).await;
    let cookie = ann(&app).await;
    let (id, _) = send_external(&app, &cookie).await;
    deliver_until(&app, || sink.received().len() == 1).await;
    assert_eq!(statuses(&app, &cookie, &id).await[0]["status"], "sent");
    // More passes, hours later, send nothing more.
    for _ in 0..3 {
        app.clock.advance_minutes(120);
        app.deliver_due().await;
    }
    assert_eq!(sink.received().len(), 1, "delivered exactly once");
    assert_eq!(sink.attempts(), 6, "five refusals, then the delivery");
}

#[tokio::test]
async fn a_permanent_refusal_marks_the_recipient_failed_and_the_sender_sees_why() {
    let (app, sink) = spawn_app_with_smtp(&[550]).await;
    let cookie = ann(&app).await;
    let (id, _) = send_external(&app, &cookie).await;
    deliver_until(&app, || sink.attempts() == 1).await;
    let fresh = app.sign_in("ann@testshire.gov.uk", PASSWORD).await;
    for _ in 0..50 {
        if body(app.read(&fresh, &id).await).await["recipients"][0]["status"] == "failed" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let s = statuses(&app, &cookie, &id).await;
    assert_eq!(s[0]["status"], "failed");
    assert_eq!(s[0]["detail"], "the relay answered 550");
    app.clock.advance_minutes(600);
    app.deliver_due().await;
    assert_eq!(sink.attempts(), 1, "a permanent failure is not retried");
}

#[tokio::test]
async fn a_relay_that_stays_down_is_retried_for_72_hours_then_reported() {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let app = crate::test_app::spawn_app_with(move |s| s.smtp_url = Some(format!("smtp://127.0.0.1:{port}").into())).await;
    let cookie = ann(&app).await;
    let (id, _) = send_external(&app, &cookie).await;
    app.deliver_due().await;
    // The relay was tried, and the try is counted: the row waits for its retry (30 s later)
    // with one attempt on it, and the recipient stays queued.
    app.clock.advance_minutes(1);
    let due = app.state.store.claim_due_notifications(app.state.now_ms(), 1, 10).await.unwrap();
    assert_eq!(due.iter().map(|n| n.attempts).collect::<Vec<_>>(), [1], "one attempt, counted");
    assert_eq!(
        statuses(&app, &cookie, &id).await[0]["status"],
        "queued",
        "a transient failure keeps it queued"
    );
    for _ in 0..80 {
        app.clock.advance_minutes(60);
        app.deliver_due().await;
    }
    let s = statuses(&app, &cookie, &id).await;
    assert_eq!(s[0]["status"], "failed");
    assert_eq!(s[0]["detail"], "the relay could not be reached");
}

#[tokio::test]
async fn revoking_before_the_notification_goes_out_cancels_it() {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let app = crate::test_app::spawn_app_with(move |s| s.smtp_url = Some(format!("smtp://127.0.0.1:{port}").into())).await;
    let cookie = ann(&app).await;
    let (id, _) = send_external(&app, &cookie).await;
    let after = body(app.revoke(&cookie, &id, Some("pc.jones@police.example.uk")).await).await;
    assert_eq!(after[0]["status"], "revoked");
    app.clock.advance_minutes(60);
    assert_eq!(app.deliver_due().await, 0, "nothing left to send");
}

#[tokio::test]
async fn without_a_relay_notifications_are_written_as_eml_files_in_the_data_directory() {
    let app = spawn_app().await;
    let cookie = ann(&app).await;
    let (id, reference) = send_external(&app, &cookie).await;
    app.deliver_due().await;
    let outbox = app.dir.path().join("data/outbox");
    let mut found = false;
    for _ in 0..50 {
        let files: Vec<_> = std::fs::read_dir(&outbox).map(|d| d.flatten().collect()).unwrap_or_default();
        if let Some(f) = files.first() {
            let text = std::fs::read_to_string(f.path()).unwrap();
            assert!(text.contains(&reference) && !text.contains("BODY-canary"));
            found = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert!(found, "an .eml file in {}", outbox.display());
    assert_eq!(statuses(&app, &cookie, &id).await[0]["status"], "sent");
}

#[tokio::test]
async fn notifications_queued_while_the_relay_is_down_each_arrive_exactly_once_when_it_returns() {
    // The relay comes up later on this port: one outside the ephemeral range, so no other
    // test's listener (bound to port 0) can take it meanwhile.
    let port = quiet_port();
    let app = crate::test_app::spawn_app_with(move |s| s.smtp_url = Some(format!("smtp://127.0.0.1:{port}").into())).await;
    let cookie = ann(&app).await;
    let mut references = vec![];
    for i in 0..5 {
        let m = json!({
            "recipients": ["pc.jones@police.example.uk", "gp@nhs.example.uk"],
            "subject": format!("Referral {i}"), "body": "x"
        });
        let response = app.send(&cookie, m, &[]).await;
        references.push(body(response).await["reference"].as_str().unwrap().to_owned());
    }
    for _ in 0..3 {
        app.deliver_due().await;
        app.clock.advance_minutes(10);
    }
    let sink = sealpost_mail::testing::SmtpSink::start_on(&format!("127.0.0.1:{port}"), &[])
        .await
        .unwrap();
    deliver_until(&app, || sink.received().len() >= 10).await;
    for _ in 0..3 {
        app.clock.advance_minutes(120);
        app.deliver_due().await;
    }
    let mail = sink.received();
    assert_eq!(mail.len(), 10, "each notification exactly once");
    for reference in &references {
        for to in ["pc.jones@police.example.uk", "gp@nhs.example.uk"] {
            let copies = mail
                .iter()
                .filter(|m| m.contains(reference.as_str()) && m.contains(&format!("To: {to}")))
                .count();
            assert_eq!(copies, 1, "{reference} to {to}");
        }
    }
}

#[tokio::test]
async fn a_colleague_is_emailed_that_mail_is_waiting_with_no_content_unless_they_turn_it_off() {
    let (app, sink) = spawn_app_with_smtp(&[]).await;
    let ann = ann(&app).await;
    app.create_user("bob@testshire.gov.uk", PASSWORD, Role::Staff).await;
    let bob = app.sign_in("bob@testshire.gov.uk", PASSWORD).await;
    let me = body(app.me(&bob).await).await;
    assert_eq!(me["notify_by_email"], true, "on by default");
    let send = |subject: &'static str| {
        let (app, ann) = (&app, ann.clone());
        async move {
            let m = json!({ "recipients": ["bob@testshire.gov.uk"], "subject": subject, "body": "BODY-canary", "marking": "official-sensitive" });
            let r = app.send(&ann, m, &[("FILENAME-canary.pdf", b"%PDF".to_vec())]).await;
            assert_eq!(r.status(), StatusCode::OK);
            let b = body(r).await;
            (b["id"].as_str().unwrap().to_owned(), b["reference"].as_str().unwrap().to_owned())
        }
    };
    let (id, reference) = send("SUBJECT-canary").await;
    app.deliver_due().await;
    let notice = sink
        .received()
        .into_iter()
        .find(|m| m.contains("To: bob@testshire.gov.uk"))
        .expect("a notice to Bob");
    assert!(notice.contains(&reference) && notice.contains("OFFICIAL-SENSITIVE"), "{notice}");
    assert!(notice.contains(&format!("/messages/{id}")), "a link to the message in Sealpost");
    for canary in ["SUBJECT-canary", "BODY-canary", "FILENAME-canary"] {
        assert!(!notice.contains(canary), "{canary} leaked into the notice");
    }
    // Bob turns the notices off; the next message arrives without one.
    let off = app
        .client
        .put(format!("{}/api/v1/auth/preferences", app.address))
        .header("x-sealpost-csrf", "1")
        .header("cookie", &bob)
        .json(&json!({ "notify_by_email": false }))
        .send()
        .await
        .unwrap();
    assert_eq!(off.status(), StatusCode::OK);
    assert_eq!(body(off).await["notify_by_email"], false);
    let before = sink.received().len();
    let (_, second) = send("Second").await;
    app.deliver_due().await;
    assert_eq!(sink.received().len(), before, "no notice once turned off");
    let inbox = body(app.get("/api/v1/messages?box=inbox").header("cookie", &bob).send().await.unwrap()).await;
    assert!(inbox.to_string().contains(&second), "the message itself still arrives");
}

#[tokio::test]
async fn a_senders_telephone_number_set_by_it_reaches_the_partner_where_they_are_told_whom_to_contact() {
    let (app, sink) = spawn_app_with_smtp(&[]).await;
    let ann = ann(&app).await;
    let bad = crate::cli::sealpost(
        &app,
        &["user", "set-phone", "--email", "ann@testshire.gov.uk", "--phone", "call me"],
        None,
    );
    assert!(!bad.status.success() && String::from_utf8_lossy(&bad.stderr).contains("telephone number"));
    let set = crate::cli::sealpost(
        &app,
        &["user", "set-phone", "--email", "ann@testshire.gov.uk", "--phone", "01632  960123"],
        None,
    );
    assert!(set.status.success(), "{}", String::from_utf8_lossy(&set.stderr));
    let (id, _) = send_external(&app, &ann).await;
    app.deliver_due().await;
    let mail = sink.received().pop().unwrap();
    assert!(mail.contains("contact Ann") || mail.contains("contact Test Person"), "{mail}");
    assert!(mail.contains("or on 01632 960123"), "{mail}");
    let token = app.link_sent_to(&sink, "pc.jones@police.example.uk");
    let page = body(app.get(&format!("/api/v1/portal/links/{token}")).send().await.unwrap()).await;
    assert_eq!(page["sender_phone"], "01632 960123");
    app.revoke(&ann, &id, None).await;
    let gone = body(app.get(&format!("/api/v1/portal/links/{token}")).send().await.unwrap()).await;
    assert!(gone["message"].as_str().unwrap().contains("01632 960123"), "{gone}");
}

/// A free port below Linux's ephemeral range (32768–60999 by default), where listeners bound to
/// port 0 never land.
fn quiet_port() -> u16 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    let start = u64::from(std::process::id()) * 7_919 + u64::from(nanos);
    (0..10_000u64)
        .map(|i| 20_000 + u16::try_from((start + i * 997) % 10_000).unwrap())
        .find(|port| std::net::TcpListener::bind(("127.0.0.1", *port)).is_ok())
        .expect("a free port between 20000 and 29999")
}
