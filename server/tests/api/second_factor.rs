//! The second factor (issue 17, SECURITY A6): an account that must have one sets up TOTP
//! after its password (nothing else answers until it has); the next sign-in asks for a code;
//! a code is taken once per step (a replay is refused); a wrong code counts against the same
//! limit as a wrong password, under 40 requests at once; a recovery code works exactly once;
//! IT can reset a lost one.

use reqwest::StatusCode;
use sealpost_crypto::TotpSecret;
use sealpost_domain::Role;
use sealpost_server::settings::MfaRequired;
use serde_json::{Value, json};

use crate::test_app::{PASSWORD, TestApp, body, session_cookie, spawn_app_with};

const ANN: &str = "ann@testshire.gov.uk";

async fn post(app: &TestApp, cookie: &str, path: &str, payload: Value) -> (StatusCode, Value) {
    let r = app.post(path).header("cookie", cookie).json(&payload).send().await.unwrap();
    let status = r.status();
    (status, body(r).await)
}

/// Signs in with the password: the session cookie and where the sign-in stands.
async fn password(app: &TestApp, email: &str) -> (String, Value) {
    let r = app.login(email, PASSWORD).await;
    assert_eq!(r.status(), StatusCode::OK);
    let cookie = session_cookie(&r).expect("a session cookie");
    (cookie, body(r).await["next_step"].clone())
}

fn code_now(app: &TestApp, secret: &TotpSecret) -> String {
    secret.code_at(u64::try_from(app.state.now_ms() / 1000).unwrap())
}

/// Enrols `email` (who must set up a second factor) and returns its secret and recovery codes.
async fn enrol(app: &TestApp, email: &str) -> (TotpSecret, Vec<String>) {
    let (cookie, next) = password(app, email).await;
    assert_eq!(next, "enrol");
    let (status, started) = post(app, &cookie, "/api/v1/auth/totp/start", json!({})).await;
    assert_eq!(status, StatusCode::OK, "{started}");
    let secret = TotpSecret::from_base32(started["secret"].as_str().unwrap()).unwrap();
    let (status, done) = post(app, &cookie, "/api/v1/auth/totp/confirm", json!({ "code": code_now(app, &secret) })).await;
    assert_eq!(status, StatusCode::OK, "{done}");
    let codes = done["recovery_codes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap().to_owned())
        .collect();
    (secret, codes)
}

#[tokio::test]
async fn enrol_then_sign_in_with_a_code_once_a_step_and_a_recovery_code_once() {
    let app = spawn_app_with(|s| s.mfa_required = MfaRequired::All).await;
    app.create_user(ANN, PASSWORD, Role::Staff).await;

    // After the password, nothing but the set-up answers.
    let (cookie, next) = password(&app, ANN).await;
    assert_eq!(next, "enrol");
    let me = body(app.me(&cookie).await).await;
    assert_eq!(me["next_step"], "enrol");
    assert_eq!(app.list(&cookie, "inbox").await.status(), StatusCode::UNAUTHORIZED);
    let (status, started) = post(&app, &cookie, "/api/v1/auth/totp/start", json!({})).await;
    assert_eq!(status, StatusCode::OK);
    assert!(started["otpauth_url"].as_str().unwrap().starts_with("otpauth://totp/"));
    assert!(started["qr_size"].as_u64().unwrap() >= 21 && started["qr_path"].as_str().unwrap().starts_with('M'));
    let secret = TotpSecret::from_base32(started["secret"].as_str().unwrap()).unwrap();
    let right = code_now(&app, &secret);
    let wrong = if right == "000000" { "111111" } else { "000000" };
    let (status, said) = post(&app, &cookie, "/api/v1/auth/totp/confirm", json!({ "code": wrong })).await;
    assert_eq!((status, said["code"].as_str()), (StatusCode::BAD_REQUEST, Some("code_wrong")));
    let (status, done) = post(&app, &cookie, "/api/v1/auth/totp/confirm", json!({ "code": right })).await;
    assert_eq!(status, StatusCode::OK);
    let recovery: Vec<String> = done["recovery_codes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap().to_owned())
        .collect();
    assert_eq!(recovery.len(), 10);
    assert_eq!(done["me"]["next_step"], Value::Null);
    assert_eq!(app.list(&cookie, "inbox").await.status(), StatusCode::OK, "signed in once set up");

    // The next sign-in asks for a code; the one used to set up (same step) is refused.
    let (cookie, next) = password(&app, ANN).await;
    assert_eq!(next, "second_factor");
    assert_eq!(app.list(&cookie, "inbox").await.status(), StatusCode::UNAUTHORIZED);
    let (status, said) = post(&app, &cookie, "/api/v1/auth/second-factor", json!({ "code": right })).await;
    assert_eq!(
        (status, said["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("code_wrong")),
        "a replay is refused"
    );
    app.clock.advance_minutes(1);
    let fresh = code_now(&app, &secret);
    let (status, me) = post(&app, &cookie, "/api/v1/auth/second-factor", json!({ "code": fresh })).await;
    assert_eq!((status, me["next_step"].clone()), (StatusCode::OK, Value::Null));
    assert_eq!(app.list(&cookie, "inbox").await.status(), StatusCode::OK);
    // The same code again, in another sign-in within its step: refused.
    let (other, _) = password(&app, ANN).await;
    let (status, _) = post(&app, &other, "/api/v1/auth/second-factor", json!({ "code": fresh })).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    // A recovery code works once, however it is typed.
    let typed = recovery[3].to_uppercase().replace('-', " ");
    let (status, _) = post(&app, &other, "/api/v1/auth/second-factor", json!({ "code": typed })).await;
    assert_eq!(status, StatusCode::OK);
    let (again, _) = password(&app, ANN).await;
    let (status, _) = post(&app, &again, "/api/v1/auth/second-factor", json!({ "code": recovery[3] })).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "a recovery code is used up");
    let actions = app
        .state
        .store
        .fetch_texts("SELECT action FROM audit_events WHERE action LIKE 'auth.%' ORDER BY seq")
        .await
        .unwrap();
    assert!(
        actions.contains(&"auth.second_factor_enrol".to_owned()) && actions.contains(&"auth.recovery_code".to_owned()),
        "{actions:?}"
    );
}

#[tokio::test]
async fn a_half_made_sign_in_cannot_set_up_or_replace_a_factor_out_of_turn_and_soon_ends() {
    let app = spawn_app_with(|s| s.mfa_required = MfaRequired::All).await;
    app.create_user(ANN, PASSWORD, Role::Staff).await;
    let (secret, _) = enrol(&app, ANN).await;
    app.clock.advance_minutes(1);
    // Waiting for the code: no set-up, and a right password alone is on record.
    let (waiting, _) = password(&app, ANN).await;
    for path in ["/api/v1/auth/totp/start", "/api/v1/auth/totp/confirm"] {
        let (status, said) = post(&app, &waiting, path, json!({ "code": code_now(&app, &secret) })).await;
        assert_eq!(
            (status, said["code"].as_str()),
            (StatusCode::BAD_REQUEST, Some("not_enrolling")),
            "{path}"
        );
    }
    let accepted = app
        .state
        .store
        .fetch_texts("SELECT action FROM audit_events WHERE action = 'auth.password_accepted'")
        .await
        .unwrap();
    assert_eq!(accepted.len(), 2, "the enrolment's password and this one");
    // Signed in, the factor cannot be replaced from the session either.
    let (status, _) = post(
        &app,
        &waiting,
        "/api/v1/auth/second-factor",
        json!({ "code": code_now(&app, &secret) }),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = post(&app, &waiting, "/api/v1/auth/totp/start", json!({})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    // A sign-in left waiting for its code ends after 15 minutes, however often it is asked.
    let (left, _) = password(&app, ANN).await;
    for _ in 0..3 {
        app.clock.advance_minutes(5);
        let _ = app.me(&left).await;
    }
    assert_eq!(app.me(&left).await.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_new_sign_in_does_not_start_the_code_limit_again() {
    let app = spawn_app_with(|s| s.mfa_required = MfaRequired::All).await;
    app.create_user(ANN, PASSWORD, Role::Staff).await;
    let (secret, _) = enrol(&app, ANN).await;
    let right = code_now(&app, &secret);
    let wrong = if right == "000000" { "111111" } else { "000000" };
    let mut checked = 0;
    // Each password gives a fresh session (and no device cookie): the 20 an hour are the
    // account's, across sessions.
    for _ in 0..2 {
        let r = app.login(ANN, PASSWORD).await;
        assert_eq!(r.status(), StatusCode::OK);
        assert!(
            r.headers()
                .get_all("set-cookie")
                .iter()
                .all(|c| !c.to_str().unwrap().contains("device"))
        );
        let cookie = session_cookie(&r).unwrap();
        for _ in 0..15 {
            let (status, _) = post(&app, &cookie, "/api/v1/auth/second-factor", json!({ "code": wrong })).await;
            if status == StatusCode::BAD_REQUEST {
                checked += 1;
            } else {
                assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
            }
        }
    }
    assert_eq!(checked, 20);
}

#[tokio::test]
async fn forty_wrong_codes_at_once_count_against_the_password_limit() {
    let app = spawn_app_with(|s| s.mfa_required = MfaRequired::All).await;
    app.create_user(ANN, PASSWORD, Role::Staff).await;
    let (secret, _) = enrol(&app, ANN).await;
    app.clock.advance_minutes(1);
    let (cookie, next) = password(&app, ANN).await;
    assert_eq!(next, "second_factor");
    let right = code_now(&app, &secret);
    let wrong = if right == "000000" { "111111" } else { "000000" };
    let tries = (0..40).map(|_| post(&app, &cookie, "/api/v1/auth/second-factor", json!({ "code": wrong })));
    let statuses: Vec<StatusCode> = futures::future::join_all(tries).await.into_iter().map(|(s, _)| s).collect();
    let wrong_answers = statuses.iter().filter(|s| **s == StatusCode::BAD_REQUEST).count();
    let limited = statuses.iter().filter(|s| **s == StatusCode::TOO_MANY_REQUESTS).count();
    assert_eq!(wrong_answers, 20, "exactly the hourly limit of wrong codes is tried");
    assert_eq!(limited, 20);
    // The limit is the password's too: even the right code and the right password wait now.
    let (status, _) = post(&app, &cookie, "/api/v1/auth/second-factor", json!({ "code": right })).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(app.login(ANN, PASSWORD).await.status(), StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test]
async fn it_resets_a_lost_second_factor_and_only_admins_and_ig_must_have_one_when_so_set() {
    let app = spawn_app_with(|s| s.mfa_required = MfaRequired::AdminAndIg).await;
    app.create_user(ANN, PASSWORD, Role::Staff).await;
    app.create_user("ida@testshire.gov.uk", PASSWORD, Role::Ig).await;
    app.create_user("it@testshire.gov.uk", PASSWORD, Role::Admin).await;
    let (_, next) = password(&app, ANN).await;
    assert_eq!(next, Value::Null, "staff need not");
    let (ida, next) = password(&app, "ida@testshire.gov.uk").await;
    assert_eq!(next, "enrol", "IG must");
    assert_eq!(
        app.get("/api/v1/audit/events")
            .header("cookie", &ida)
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::UNAUTHORIZED
    );
    let (secret, _) = enrol(&app, "ida@testshire.gov.uk").await;
    let (it_secret, _) = enrol(&app, "it@testshire.gov.uk").await;
    app.clock.advance_minutes(1);
    let (ida, _) = password(&app, "ida@testshire.gov.uk").await;
    let (status, _) = post(&app, &ida, "/api/v1/auth/second-factor", json!({ "code": code_now(&app, &secret) })).await;
    assert_eq!(status, StatusCode::OK);
    let (it, _) = password(&app, "it@testshire.gov.uk").await;
    let (status, _) = post(
        &app,
        &it,
        "/api/v1/auth/second-factor",
        json!({ "code": code_now(&app, &it_secret) }),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let list = body(app.get("/api/v1/admin/users").header("cookie", &it).send().await.unwrap()).await;
    let row = list
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["email"] == "ida@testshire.gov.uk")
        .unwrap()
        .clone();
    assert_eq!(row["second_factor"], true);

    // Ida lost her phone: IT resets it; her session ends and she sets one up again.
    let id = row["id"].as_str().unwrap();
    let (status, reset) = post(&app, &it, &format!("/api/v1/admin/users/{id}/second-factor/reset"), json!({})).await;
    assert_eq!((status, reset["second_factor"].as_bool()), (StatusCode::OK, Some(false)));
    assert_eq!(app.me(&ida).await.status(), StatusCode::UNAUTHORIZED);
    let (_, next) = password(&app, "ida@testshire.gov.uk").await;
    assert_eq!(next, "enrol");
}

#[tokio::test]
async fn a_sign_in_waiting_for_its_code_gets_nothing_from_any_staff_route() {
    let app = spawn_app_with(|s| s.mfa_required = MfaRequired::All).await;
    app.create_user(ANN, PASSWORD, Role::Staff).await;
    app.create_user("ida@testshire.gov.uk", PASSWORD, Role::Ig).await;
    app.create_user("it@testshire.gov.uk", PASSWORD, Role::Admin).await;
    let doc: Value = app.get("/api/v1/openapi.json").send().await.unwrap().json().await.unwrap();
    // The routes a half-made sign-in is for, and those that ask for no staff session at all.
    let its_own = [
        "/api/v1/auth/me",
        "/api/v1/auth/second-factor",
        "/api/v1/auth/totp/start",
        "/api/v1/auth/totp/confirm",
        "/api/v1/auth/logout",
    ];
    let mut asked = 0;
    for who in [ANN, "ida@testshire.gov.uk", "it@testshire.gov.uk"] {
        let (cookie, next) = password(&app, who).await;
        assert_eq!(next, "enrol");
        for (path, item) in doc["paths"].as_object().unwrap() {
            let elsewhere = path.starts_with("/api/v1/portal/") || path.starts_with("/api/v1/write/");
            if its_own.contains(&path.as_str()) || elsewhere {
                continue;
            }
            let concrete = path
                .replace("{id}", "00000000-0000-4000-8000-000000000000")
                .replace("{attachment}", "00000000-0000-4000-8000-000000000000")
                .replace("{reference}", "SP-AAAA-AAAA")
                .replace("{token}", &"a".repeat(64));
            for (method, operation) in item.as_object().unwrap() {
                if operation["security"] == json!([]) {
                    continue;
                }
                let request = match method.as_str() {
                    "get" => app.get(&concrete),
                    "put" => app.put(&concrete),
                    "delete" => app.delete(&concrete),
                    _ => app.post(&concrete),
                };
                let status = request.header("cookie", &cookie).json(&json!({})).send().await.unwrap().status();
                assert_eq!(status, StatusCode::UNAUTHORIZED, "{method} {path} as {who}");
                asked += 1;
            }
        }
    }
    assert!(asked > 100, "{asked}");
}
