//! The portal's limits under parallel requests (SECURITY A10, B3, B4): 40 attempts fired at
//! once are never 40 evaluations, and each limit holds exactly.

use reqwest::StatusCode;
use sealpost_mail::testing::SmtpSink;
use serde_json::Value;

use crate::partner::portal_cookie;
use crate::portal::partner_link;
use crate::portal_verify::{last_code, redeem, verify};
use crate::test_app::{TestApp, body, spawn_app_with_smtp};

const PARALLEL: usize = 40;

/// The `code` of each answer's JSON body (or its status, for answers without one).
async fn outcomes(responses: Vec<reqwest::Response>) -> Vec<String> {
    let mut out = Vec::new();
    for r in responses {
        let status = r.status();
        let v: Value = r.json().await.unwrap_or(Value::Null);
        out.push(v["code"].as_str().map_or_else(|| status.as_u16().to_string(), str::to_owned));
    }
    out
}

fn count(outcomes: &[String], code: &str) -> usize {
    outcomes.iter().filter(|o| *o == code).count()
}

fn wrong_code(code: &str) -> &'static str {
    if code == "000000" { "111111" } else { "000000" }
}

#[tokio::test]
async fn forty_parallel_wrong_codes_are_five_evaluations_and_then_the_right_code_is_gone() {
    let (app, sink) = spawn_app_with_smtp(&[]).await;
    let (id, token) = partner_link(&app, &sink, "official", None).await;
    let cookie = portal_cookie(&redeem(&app, &token).await);
    let (code, _) = last_code(&sink);
    let answers = futures::future::join_all((0..PARALLEL).map(|_| verify(&app, &cookie, wrong_code(&code), None))).await;
    let got = outcomes(answers).await;
    assert_eq!(count(&got, "code_wrong"), 4, "{got:?}");
    assert_eq!(
        count(&got, "code_wrong") + count(&got, "code_used_up") + count(&got, "no_code"),
        PARALLEL
    );
    let failed = app
        .audit_actions(&id)
        .await
        .into_iter()
        .filter(|a| a == "portal.code_failed")
        .count();
    assert_eq!(failed, 5, "exactly five guesses were compared");
    let late = verify(&app, &cookie, &code, None).await;
    assert_eq!(body(late).await["code"], "no_code", "the right code no longer works");
}

#[tokio::test]
async fn forty_parallel_code_requests_send_exactly_the_hourly_five_then_lock() {
    let (app, sink) = spawn_app_with_smtp(&[]).await;
    let (_, token) = partner_link(&app, &sink, "official", None).await;
    let cookie = portal_cookie(&redeem(&app, &token).await);
    let codes_before = code_emails(&sink);
    assert_eq!(codes_before, 1);
    let answers = futures::future::join_all((0..PARALLEL).map(|_| app.post("/api/v1/portal/code").header("cookie", &cookie).send())).await;
    let statuses: Vec<StatusCode> = answers.into_iter().map(|r| r.unwrap().status()).collect();
    let sent = statuses.iter().filter(|s| **s == StatusCode::NO_CONTENT).count();
    assert_eq!(sent, 4, "{statuses:?}");
    assert_eq!(
        statuses.iter().filter(|s| **s == StatusCode::TOO_MANY_REQUESTS).count(),
        PARALLEL - 4
    );
    assert_eq!(code_emails(&sink), 5, "five code emails in the hour, no more");
    assert_eq!(redeem(&app, &token).await.status(), StatusCode::TOO_MANY_REQUESTS, "locked out");
}

fn code_emails(sink: &SmtpSink) -> usize {
    sink.received().iter().filter(|m| m.contains("confirmation code is")).count()
}

/// Four portal sessions, each with its own live code: 20 code tries, more than the 10
/// passphrase guesses a day, so only the passphrase limit can stop a parallel burst.
async fn sessions_with_codes(app: &TestApp, sink: &SmtpSink, token: &str) -> Vec<(String, String)> {
    let mut sessions = Vec::new();
    for _ in 0..4 {
        let cookie = portal_cookie(&redeem(app, token).await);
        sessions.push((cookie, last_code(sink).0));
    }
    sessions
}

#[tokio::test]
async fn forty_parallel_wrong_passphrases_are_ten_evaluations_and_the_right_one_after_them_is_refused() {
    let (app, sink) = spawn_app_with_smtp(&[]).await;
    let (_, token) = partner_link(&app, &sink, "official-sensitive", Some("river otter lamp seven")).await;
    let sessions = sessions_with_codes(&app, &sink, &token).await;
    let checked_before = app.state.hasher.verification_count();
    let answers = futures::future::join_all((0..PARALLEL).map(|i| {
        let (cookie, code) = &sessions[i % sessions.len()];
        verify(&app, cookie, code, Some("river otter lamp eight"))
    }))
    .await;
    let got = outcomes(answers).await;
    let checked = app.state.hasher.verification_count() - checked_before;
    assert_eq!(checked, 10, "exactly ten passphrases were hashed: {got:?}");
    let refusals = ["passphrase_wrong", "too_many_requests", "code_used_up", "no_code"];
    assert!(got.iter().all(|o| refusals.contains(&o.as_str())), "nobody got in: {got:?}");
    assert!(count(&got, "too_many_requests") > 0, "the tenth failure locks the link: {got:?}");
    let (cookie, code) = &sessions[0];
    let right = verify(&app, cookie, code, Some("river otter lamp seven")).await;
    assert_eq!(
        right.status(),
        StatusCode::TOO_MANY_REQUESTS,
        "locked for the hour, even the right passphrase"
    );
}

#[tokio::test]
async fn a_malformed_code_uses_no_try_and_the_tries_left_are_counted_in_words() {
    let (app, sink) = spawn_app_with_smtp(&[]).await;
    let (_, token) = partner_link(&app, &sink, "official-sensitive", Some("river otter lamp seven")).await;
    let cookie = portal_cookie(&redeem(&app, &token).await);
    let (code, _) = last_code(&sink);
    for typed in ["abc", "12345", "1234567", ""] {
        assert_eq!(
            body(verify(&app, &cookie, typed, None).await).await["code"],
            "code_format",
            "{typed:?}"
        );
    }
    let missing = body(verify(&app, &cookie, &code, None).await).await;
    assert_eq!(missing["code"], "passphrase_required", "asked for before a try is used");
    for left in [4, 3, 2] {
        let wrong = body(verify(&app, &cookie, wrong_code(&code), Some("river otter lamp seven")).await).await;
        assert_eq!(wrong["code"], "code_wrong");
        assert!(
            wrong["message"]
                .as_str()
                .unwrap()
                .ends_with(&format!("You have {left} more tries.")),
            "{wrong}"
        );
    }
    let wrong = body(verify(&app, &cookie, wrong_code(&code), Some("river otter lamp seven")).await).await;
    assert!(wrong["message"].as_str().unwrap().ends_with("You have 1 more try."), "{wrong}");
    let spaced = format!("{} {}", &code[..3], &code[3..]);
    let bad_phrase = body(verify(&app, &cookie, &spaced, Some("river otter lamp six")).await).await;
    assert_eq!(bad_phrase["code"], "passphrase_wrong", "a code typed with a space still counts");
    assert!(
        bad_phrase["message"].as_str().unwrap().ends_with("You have 9 more tries today."),
        "{bad_phrase}"
    );
}
