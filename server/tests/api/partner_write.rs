//! Partners who write first (issue 16): someone outside the council proves their address with
//! a code at `/write`, sends a member of staff a sealed message with a file, the member of
//! staff reads it (flagged as from outside) and answers, and the partner reads the answer in
//! the portal. A council address that belongs to nobody gets the same answers as one that
//! does, and the limits hold under 40 requests at once.

use reqwest::StatusCode;
use sealpost_mail::testing::SmtpSink;
use serde_json::{Value, json};

use crate::staff::{message, people};
use sealpost_crypto::SecretString;
use sealpost_domain::EmailAddress;
use sealpost_server::settings::Team;

use crate::test_app::{TestApp, body, multipart, spawn_app_with, spawn_app_with_smtp};

const GP: &str = "gp@nhs.example.uk";
const ANN: &str = "ann@testshire.gov.uk";

fn write_cookie(r: &reqwest::Response) -> String {
    r.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("__Host-sealpost_write="))
        .map(|v| v.split(';').next().unwrap().to_owned())
        .expect("a write cookie")
}

fn newest_code(sink: &SmtpSink, to: &str) -> String {
    let mail = sink
        .received()
        .into_iter()
        .rev()
        .find(|m| m.contains(&format!("To: {to}")) && m.contains("confirmation code is"))
        .expect("a code");
    assert!(mail.contains("It is for writing a secure message to"), "{mail}");
    mail.split("code is:").nth(1).unwrap().trim_start().chars().take(6).collect()
}

async fn start(app: &TestApp, from: &str, to: &str) -> reqwest::Response {
    app.post("/api/v1/write/start")
        .json(&json!({ "from": from, "to": to }))
        .send()
        .await
        .unwrap()
}

/// Starts, proves `from` with the emailed code, and sends `subject` with `files`; returns
/// (status, body) of the send.
async fn write(app: &TestApp, sink: &SmtpSink, from: &str, to: &str, subject: &str, files: &[(&str, Vec<u8>)]) -> (StatusCode, Value) {
    let started = start(app, from, to).await;
    assert_eq!(started.status(), StatusCode::OK);
    let cookie = write_cookie(&started);
    let state = body(started).await;
    assert_eq!(state, json!({ "from": from, "to": to, "verified": false, "code_minutes": 10 }));
    let code = newest_code(sink, from);
    let verified = app
        .post("/api/v1/write/verify")
        .header("cookie", &cookie)
        .json(&json!({ "code": code }))
        .send()
        .await
        .unwrap();
    assert_eq!(verified.status(), StatusCode::OK);
    assert_eq!(body(verified).await["verified"], true);
    let sent = app
        .post("/api/v1/write/send")
        .header("cookie", &cookie)
        .multipart(multipart(
            "message",
            &json!({ "subject": subject, "body": "Please see the attached." }),
            files,
        ))
        .send()
        .await
        .unwrap();
    let status = sent.status();
    (status, body(sent).await)
}

#[tokio::test]
async fn a_partner_writes_first_with_a_file_staff_read_it_as_from_outside_and_answer_and_the_partner_reads_the_answer() {
    let (app, sink) = spawn_app_with_smtp(&[]).await;
    let p = people(&app).await;
    let (status, sent) = write(
        &app,
        &sink,
        GP,
        ANN,
        "Patient discharge",
        &[("discharge.txt", b"discharged today".to_vec())],
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let reference = sent["reference"].as_str().unwrap().to_owned();

    let inbox = body(app.list(&p.ann, "inbox").await).await;
    let row = &inbox[0];
    assert_eq!(
        (row["subject"].as_str(), row["sender_name"].as_str()),
        (Some("Patient discharge"), Some(GP))
    );
    assert_eq!(row["from_outside"], true);
    assert_eq!(row["reference"], reference.as_str());
    let id = row["id"].as_str().unwrap().to_owned();
    let read = body(app.read(&p.ann, &id).await).await;
    assert_eq!(
        (read["sender_email"].as_str(), read["body"].as_str()),
        (Some(GP), Some("Please see the attached."))
    );
    let file = read["attachments"][0]["id"].as_str().unwrap();
    assert_eq!(
        app.download(&p.ann, &id, file).await.bytes().await.unwrap().as_ref(),
        b"discharged today"
    );
    assert_eq!(
        app.audit_actions(&id).await,
        ["message.send", "message.read", "attachment.download"]
    );
    let events = app.audit_events(&id).await;
    assert_eq!(events[0].actor, format!("recipient:{GP}"), "the send is the partner's, on record");
    // Nobody else at the council sees it.
    assert_eq!(app.read(&p.bob, &id).await.status(), StatusCode::NOT_FOUND);

    // Ann answers; the partner is sent a link as for any message, and reads the answer.
    let answer = app
        .answer(&p.ann, &id, message(&[GP], "Re: Patient discharge", "Thank you, received."), &[])
        .await;
    assert_eq!(answer.status(), StatusCode::OK);
    let aid = body(answer).await["id"].as_str().unwrap().to_owned();
    app.deliver_due().await;
    let token = app.link_sent_to(&sink, GP);
    let gp = app.portal_sign_in(&sink, &token, None).await;
    let theirs = body(app.portal_message(&gp, &aid).await).await;
    assert_eq!(theirs["body"], "Thank you, received.");
    let thread = body(app.read(&p.ann, &aid).await).await["thread"].clone();
    let parts: Vec<&str> = thread.as_array().unwrap().iter().map(|t| t["id"].as_str().unwrap()).collect();
    assert_eq!(parts, [id.as_str(), aid.as_str()], "the answer is in the partner's conversation");
}

#[tokio::test]
async fn a_council_address_that_belongs_to_nobody_gets_the_same_answers_and_nothing_is_kept() {
    let (app, sink) = spawn_app_with_smtp(&[]).await;
    let p = people(&app).await;
    let blobs_before = app.blob_files().len();
    let (known, known_body) = write(&app, &sink, GP, ANN, "To Ann", &[("a.txt", b"a".to_vec())]).await;
    let (unknown, unknown_body) = write(
        &app,
        &sink,
        "school@school.example.uk",
        "nobody@testshire.gov.uk",
        "To nobody",
        &[("b.txt", b"b".to_vec())],
    )
    .await;
    assert_eq!((known, unknown), (StatusCode::OK, StatusCode::OK));
    let keys = |v: &Value| v.as_object().unwrap().keys().cloned().collect::<Vec<_>>();
    assert_eq!(keys(&known_body), keys(&unknown_body));
    assert_ne!(known_body["reference"], unknown_body["reference"]);
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    assert_eq!(app.blob_files().len(), blobs_before + 1, "the file to nobody is not kept");
    for cookie in [&p.ann, &p.bob, &p.cat] {
        let inbox = body(app.list(cookie, "inbox").await).await;
        assert!(inbox.as_array().unwrap().iter().all(|m| m["subject"] != "To nobody"));
    }
    let outcomes = app
        .state
        .store
        .fetch_texts("SELECT outcome FROM audit_events WHERE action = 'message.send' AND actor = 'recipient:school@school.example.uk'")
        .await
        .unwrap();
    assert_eq!(outcomes, ["failure"], "the attempt is on record");
    // An unproved visit cannot send.
    let cookie = write_cookie(&start(&app, "other@example.org", ANN).await);
    let early = app
        .post("/api/v1/write/send")
        .header("cookie", &cookie)
        .multipart(multipart("message", &json!({ "subject": "S", "body": "" }), &[]))
        .send()
        .await
        .unwrap();
    assert_eq!(early.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn forty_requests_at_once_get_no_more_codes_than_the_hourly_limits() {
    let (app, sink) = spawn_app_with_smtp(&[]).await;
    people(&app).await;
    // One address: 5 codes an hour.
    let same = (0..40).map(|_| start(&app, GP, ANN));
    let answers = futures::future::join_all(same).await;
    let ok = answers.iter().filter(|r| r.status() == StatusCode::OK).count();
    assert_eq!(ok, 5);
    assert!(
        answers
            .iter()
            .all(|r| [StatusCode::OK, StatusCode::TOO_MANY_REQUESTS].contains(&r.status()))
    );
    // One network: 20 codes an hour, whatever the addresses (5 are used already).
    let many = (0..40).map(|i| {
        let from = format!("person{i}@example.org");
        let app = &app;
        async move { start(app, &from, ANN).await.status() }
    });
    let statuses = futures::future::join_all(many).await;
    assert_eq!(statuses.iter().filter(|s| **s == StatusCode::OK).count(), 15);
    let codes = sink.received().iter().filter(|m| m.contains("writing a secure message")).count();
    assert_eq!(codes, 20, "exactly the limit of codes went out");
    let visits = app
        .state
        .store
        .fetch_texts("SELECT CAST(COUNT(*) AS TEXT) FROM write_sessions")
        .await
        .unwrap();
    assert_eq!(visits, ["20"], "a visit the limits refuse is not kept");

    // The hourly pass forgets visits and limit entries a day old, and the limits start again.
    app.clock.advance_minutes(25 * 60);
    let forgotten = sealpost_server::workers::blob_sweep::forget_old_attempts(&app.state).await.unwrap();
    assert!(forgotten >= 20 + 40, "{forgotten}: at least 20 visits and 40 limit entries");
    for table in ["write_sessions", "write_attempts"] {
        let left = app
            .state
            .store
            .fetch_texts(&format!("SELECT CAST(COUNT(*) AS TEXT) FROM {table}"))
            .await
            .unwrap();
        assert_eq!(left, ["0"], "{table}");
    }
    assert_eq!(start(&app, GP, ANN).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_team_address_reaches_each_active_member_and_nobody_else() {
    let sink = SmtpSink::start(&[]).await.unwrap();
    let url = sink.url.clone();
    let address = |a: &str| EmailAddress::parse(a).unwrap();
    let app = spawn_app_with(move |s| {
        s.smtp_url = Some(SecretString::from(url));
        s.teams = vec![Team {
            address: address("mash@testshire.gov.uk"),
            members: vec![address(ANN), address("bob@testshire.gov.uk"), address("left@testshire.gov.uk")],
        }];
    })
    .await;
    let p = people(&app).await;
    let (status, _) = write(&app, &sink, GP, "mash@testshire.gov.uk", "Referral", &[("r.txt", b"r".to_vec())]).await;
    assert_eq!(status, StatusCode::OK);
    for (cookie, gets) in [(&p.ann, true), (&p.bob, true), (&p.cat, false)] {
        let inbox = body(app.list(cookie, "inbox").await).await;
        let found = inbox
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["subject"] == "Referral" && m["from_outside"] == true);
        assert_eq!(found, gets);
    }
}

#[tokio::test]
async fn a_council_that_turns_write_off_says_so() {
    let app = spawn_app_with(|s| s.partner_write = false).await;
    let info = body(app.get("/api/v1/info").send().await.unwrap()).await;
    assert_eq!(info["partner_write"], false);
    let refused = start(&app, GP, ANN).await;
    assert_eq!(refused.status(), StatusCode::GONE);
    assert_eq!(body(refused).await["code"], "partner_write_off");
    let on = spawn_app_with(|_| {}).await;
    let info = body(on.get("/api/v1/info").send().await.unwrap()).await;
    assert_eq!(
        (info["partner_write"].as_bool(), info["deleted_days"].as_u64()),
        (Some(true), Some(30))
    );
    let bad = start(&on, "not an address", ANN).await;
    assert_eq!(bad.status(), StatusCode::BAD_REQUEST);
    assert_eq!(body(bad).await["code"], "invalid_address");
}
