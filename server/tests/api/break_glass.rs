//! Break-glass (SECURITY C3): IG and admins get 404 for content, like anyone it was not sent to;
//! an IG officer who gives a reason and their password again opens it for a limited time, with
//! exactly one audit event and one email to the DPO, which names the reason but no content.

use reqwest::StatusCode;
use sealpost_domain::Role;
use sealpost_mail::testing::SmtpSink;
use serde_json::{Value, json};

use crate::staff::{people, send_file_to_bob};
use crate::test_app::{PASSWORD, TestApp, body, spawn_app_with};

const DPO: &str = "dpo@testshire.gov.uk";
const REASON: &str = "Subject access request SAR-2291 from the data subject";

async fn app_with_dpo(script: &[u16], dpo: Option<&str>) -> (TestApp, SmtpSink) {
    let sink = SmtpSink::start(script).await.unwrap();
    let url = sink.url.clone();
    let dpo = dpo.map(|d| sealpost_domain::EmailAddress::parse(d).unwrap());
    let app = spawn_app_with(move |s| {
        s.smtp_url = Some(sealpost_crypto::SecretString::from(url));
        s.dpo_email = dpo;
    })
    .await;
    (app, sink)
}

async fn break_glass(app: &TestApp, cookie: &str, reference: &str, reason: &str, password: &str) -> (StatusCode, Value) {
    let r = app
        .post(&format!("/api/v1/audit/break-glass/{reference}"))
        .header("cookie", cookie)
        .json(&json!({ "reason": reason, "password": password }))
        .send()
        .await
        .unwrap();
    let status = r.status();
    (status, body(r).await)
}

async fn get_status(app: &TestApp, cookie: &str, path: &str) -> StatusCode {
    app.get(path).header("cookie", cookie).send().await.unwrap().status()
}

/// A message from Ann to Bob with one file, and an IG officer and an admin signed in.
async fn scene(app: &TestApp) -> (String, String, String, String, String) {
    let p = people(app).await;
    let (id, aid) = send_file_to_bob(
        app,
        &p,
        "Safeguarding case 8812",
        "Body text CANARY-BODY",
        ("case.txt", b"CANARY-FILE bytes"),
    )
    .await;
    app.create_user("ida@testshire.gov.uk", PASSWORD, Role::Ig).await;
    app.create_user("ad@testshire.gov.uk", PASSWORD, Role::Admin).await;
    let ida = app.sign_in("ida@testshire.gov.uk", PASSWORD).await;
    let admin = app.sign_in("ad@testshire.gov.uk", PASSWORD).await;
    let reference = body(app.read(&p.ann, &id).await).await["summary"]["reference"]
        .as_str()
        .unwrap()
        .to_owned();
    (id, aid, reference, ida, admin)
}

#[tokio::test]
async fn ig_and_admins_get_404_for_content_and_break_glass_opens_it_once_recorded_and_reported() {
    let (app, sink) = app_with_dpo(&[], Some(DPO)).await;
    let (id, aid, reference, ida, admin) = scene(&app).await;
    for cookie in [&ida, &admin] {
        assert_eq!(
            get_status(&app, cookie, &format!("/api/v1/messages/{id}")).await,
            StatusCode::NOT_FOUND
        );
        assert_eq!(
            get_status(&app, cookie, &format!("/api/v1/messages/{id}/attachments/{aid}")).await,
            StatusCode::NOT_FOUND
        );
    }
    assert_eq!(
        get_status(&app, &ida, &format!("/api/v1/audit/break-glass/{reference}")).await,
        StatusCode::NOT_FOUND,
        "no grant yet"
    );
    let (status, _) = break_glass(&app, &admin, &reference, REASON, PASSWORD).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "admins do not break glass");
    let (status, e) = break_glass(&app, &ida, &reference, "because", PASSWORD).await;
    assert_eq!((status, e["code"].as_str()), (StatusCode::BAD_REQUEST, Some("reason_required")));

    let before = app.state.store.audit_head().await.unwrap().seq;
    let mails_before = sink.received().len();
    let (status, access) = break_glass(&app, &ida, &reference, REASON, PASSWORD).await;
    assert_eq!(status, StatusCode::OK, "{access}");
    assert_eq!(access["detail"]["body"], "Body text CANARY-BODY");
    assert_eq!(access["detail"]["attachments"][0]["name"], "case.txt");
    assert_eq!(access["reason"], REASON);
    let events = app.state.store.audit_chain_page(before, 100).await.unwrap();
    assert_eq!(events.len(), 1, "exactly one audit event");
    let e = &events[0].event;
    assert_eq!((e.action.as_str(), e.outcome.as_str()), ("audit.break_glass", "success"));
    assert_eq!(e.object.as_deref(), Some(format!("message:{id}").as_str()));
    let mails = sink.received();
    assert_eq!(mails.len(), mails_before + 1, "exactly one email");
    let dpo_mail = mails.last().unwrap();
    assert!(dpo_mail.contains(&format!("To: {DPO}")) && dpo_mail.contains(&reference) && dpo_mail.contains("SAR-2291"));
    for content in ["Safeguarding case 8812", "CANARY-BODY", "CANARY-FILE", "case.txt"] {
        assert!(!dpo_mail.contains(content), "{content} must not be in the DPO's email");
    }

    // Within the grant: a re-read and the file, each recorded; the sender's read state untouched.
    assert_eq!(
        get_status(&app, &ida, &format!("/api/v1/audit/break-glass/{reference}")).await,
        StatusCode::OK
    );
    let file = app
        .get(&format!("/api/v1/audit/break-glass/{reference}/attachments/{aid}"))
        .header("cookie", &ida)
        .send()
        .await
        .unwrap();
    assert_eq!(file.bytes().await.unwrap().as_ref(), b"CANARY-FILE bytes");
    let after: Vec<String> = app
        .state
        .store
        .audit_chain_page(before + 1, 100)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.event.action)
        .collect();
    assert_eq!(after, ["message.read", "attachment.download"]);
    assert_eq!(
        get_status(&app, &ida, &format!("/api/v1/messages/{id}")).await,
        StatusCode::NOT_FOUND,
        "still not an addressee"
    );

    // The grant is Ida's alone: another IG officer still gets 404.
    app.create_user("ian@testshire.gov.uk", PASSWORD, Role::Ig).await;
    let ian = app.sign_in("ian@testshire.gov.uk", PASSWORD).await;
    assert_eq!(
        get_status(&app, &ian, &format!("/api/v1/audit/break-glass/{reference}")).await,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        get_status(&app, &ian, &format!("/api/v1/audit/break-glass/{reference}/attachments/{aid}")).await,
        StatusCode::NOT_FOUND
    );
    let (status, e) = break_glass(&app, &ian, &reference, &"x".repeat(2001), PASSWORD).await;
    assert_eq!(
        (status, e["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("reason_required")),
        "too long a reason"
    );

    // The grant ends (as does her idle session: she signs in again).
    app.clock.advance_minutes(31);
    let ida = app.sign_in("ida@testshire.gov.uk", PASSWORD).await;
    assert_eq!(
        get_status(&app, &ida, &format!("/api/v1/audit/break-glass/{reference}")).await,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        get_status(&app, &ida, &format!("/api/v1/audit/break-glass/{reference}/attachments/{aid}")).await,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn a_wrong_password_opens_nothing_and_is_recorded() {
    let (app, sink) = app_with_dpo(&[], Some(DPO)).await;
    let (_, _, reference, ida, _) = scene(&app).await;
    let before = app.state.store.audit_head().await.unwrap().seq;
    let (status, e) = break_glass(&app, &ida, &reference, REASON, "not my password at all").await;
    assert_eq!((status, e["code"].as_str()), (StatusCode::BAD_REQUEST, Some("password_incorrect")));
    assert!(e.get("detail").is_none());
    let events = app.state.store.audit_chain_page(before, 100).await.unwrap();
    assert_eq!(events.len(), 1);
    assert_eq!(
        (events[0].event.action.as_str(), events[0].event.outcome.as_str()),
        ("audit.break_glass", "failure")
    );
    assert!(
        sink.received().iter().all(|m| !m.contains(&format!("To: {DPO}"))),
        "nothing to report"
    );
}

#[tokio::test]
async fn without_a_dpo_address_or_with_the_relay_down_nothing_is_opened() {
    let (app, _sink) = app_with_dpo(&[], None).await;
    let (_, _, reference, ida, _) = scene(&app).await;
    let (status, e) = break_glass(&app, &ida, &reference, REASON, PASSWORD).await;
    assert_eq!((status, e["code"].as_str()), (StatusCode::BAD_REQUEST, Some("no_dpo")));

    // With no relay, the "email" would only land in a folder on this server: refused too.
    let app = crate::test_app::spawn_app_with(|s| s.dpo_email = Some(sealpost_domain::EmailAddress::parse(DPO).unwrap())).await;
    let (_, _, reference, ida, _) = scene(&app).await;
    let (status, e) = break_glass(&app, &ida, &reference, REASON, PASSWORD).await;
    assert_eq!((status, e["code"].as_str()), (StatusCode::BAD_REQUEST, Some("no_relay")));

    // The relay refuses the DPO's email: 503, no grant, no content, no event.
    let (app, _sink) = app_with_dpo(&[554, 554, 554, 554, 554, 554, 554, 554], Some(DPO)).await;
    let (_, _, reference, ida, _) = scene(&app).await;
    let before = app.state.store.audit_head().await.unwrap().seq;
    let (status, e) = break_glass(&app, &ida, &reference, REASON, PASSWORD).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{e}");
    assert!(e.get("detail").is_none());
    assert!(app.state.store.audit_chain_page(before, 100).await.unwrap().is_empty());
    assert_eq!(
        get_status(&app, &ida, &format!("/api/v1/audit/break-glass/{reference}")).await,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn wrong_break_glass_passwords_count_towards_the_accounts_sign_in_limit() {
    let sink = SmtpSink::start(&[]).await.unwrap();
    let url = sink.url.clone();
    let app = spawn_app_with(move |s| {
        s.smtp_url = Some(sealpost_crypto::SecretString::from(url));
        s.dpo_email = Some(sealpost_domain::EmailAddress::parse(DPO).unwrap());
        s.login_account_failures_per_hour = 2;
    })
    .await;
    let (_, _, reference, ida, _) = scene(&app).await;
    for _ in 0..2 {
        let (status, e) = break_glass(&app, &ida, &reference, REASON, "guess guess guess").await;
        assert_eq!((status, e["code"].as_str()), (StatusCode::BAD_REQUEST, Some("password_incorrect")));
    }
    let (status, _) = break_glass(&app, &ida, &reference, REASON, PASSWORD).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "even the right password waits out the hour");
    assert_eq!(
        app.login("ida@testshire.gov.uk", PASSWORD).await.status(),
        StatusCode::TOO_MANY_REQUESTS,
        "and so does sign-in"
    );
    assert!(
        sink.received().iter().all(|m| !m.contains(&format!("To: {DPO}"))),
        "nothing was opened"
    );
}

#[tokio::test]
async fn an_officer_locked_out_by_strangers_can_still_break_glass_from_her_own_browser() {
    let (app, _sink) = app_with_dpo(&[], Some(DPO)).await;
    let (_, _, reference, _, _) = scene(&app).await;
    let signed_in = app.login("ida@testshire.gov.uk", PASSWORD).await;
    let session = crate::test_app::session_cookie(&signed_in).unwrap();
    let device = crate::test_app::device_cookie(&signed_in).unwrap();
    for _ in 0..20 {
        app.login("ida@testshire.gov.uk", "wrong password guess").await;
    }
    let (refused, _) = break_glass(&app, &session, &reference, REASON, PASSWORD).await;
    assert_eq!(
        refused,
        StatusCode::TOO_MANY_REQUESTS,
        "without her browser's cookie the address's lock holds"
    );
    let (opened, access) = break_glass(&app, &format!("{session}; {device}"), &reference, REASON, PASSWORD).await;
    assert_eq!(opened, StatusCode::OK, "{access}");
}
