//! The operator's command line, run as a real process against the test's database.

use std::io::Write;
use std::process::{Command, Output, Stdio};

use reqwest::StatusCode;

use crate::test_app::{PASSWORD, TestApp, body, session_cookie, spawn_app};

/// Runs the `sealpost` binary with the test server's settings.
pub fn sealpost(app: &TestApp, args: &[&str], stdin: Option<&str>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_sealpost"))
        .args(args)
        .env("SEALPOST_DATABASE_URL", &app.db.url)
        .env("SEALPOST_DATA_DIR", app.dir.path().join("data"))
        .env("SEALPOST_KEY_DIR", app.dir.path().join("keys"))
        .env("SEALPOST_PUBLIC_URL", &app.address)
        .env("SEALPOST_CONFIG", app.dir.path().join("none.toml"))
        .env_remove("SEALPOST_CONFIG")
        .current_dir(app.dir.path())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    if let Some(text) = stdin {
        child.stdin.take().unwrap().write_all(text.as_bytes()).unwrap();
    }
    drop(child.stdin.take());
    child.wait_with_output().unwrap()
}

#[tokio::test]
async fn user_add_with_a_password_on_stdin_creates_an_account_that_signs_in() {
    let app = spawn_app().await;
    let out = sealpost(
        &app,
        &[
            "user",
            "add",
            "--email",
            "ig@testshire.gov.uk",
            "--name",
            "Ida Governance",
            "--role",
            "ig",
            "--password-stdin",
        ],
        Some(&format!("{PASSWORD}\n")),
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let response = app.login("ig@testshire.gov.uk", PASSWORD).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(body(response).await["role"], "ig");
    let again = sealpost(
        &app,
        &["user", "add", "--email", "IG@testshire.gov.uk", "--name", "Dup", "--password-stdin"],
        Some(PASSWORD),
    );
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("already exists"));
}

#[tokio::test]
async fn user_add_refuses_a_weak_password_or_a_bad_address_clearly() {
    let app = spawn_app().await;
    let weak = sealpost(
        &app,
        &["user", "add", "--email", "a@testshire.gov.uk", "--name", "A", "--password-stdin"],
        Some("short"),
    );
    assert!(!weak.status.success());
    assert!(String::from_utf8_lossy(&weak.stderr).contains("at least 12 characters"));
    let bad = sealpost(
        &app,
        &["user", "add", "--email", "nope", "--name", "A", "--password-stdin"],
        Some(PASSWORD),
    );
    assert!(String::from_utf8_lossy(&bad.stderr).contains("--email"));
    assert_eq!(app.state.store.count_users().await.unwrap(), 0);
}

#[tokio::test]
async fn user_add_without_a_password_prints_a_set_up_link_that_works_once() {
    let app = spawn_app().await;
    let out = sealpost(
        &app,
        &["user", "add", "--email", "new@testshire.gov.uk", "--name", "New Starter"],
        None,
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let stdout = String::from_utf8(out.stdout).unwrap();
    let link = stdout.split_whitespace().find(|w| w.contains("/setup/")).expect("a set-up link");
    assert!(link.starts_with(&app.address));
    let token = link.rsplit('/').next().unwrap();
    assert_eq!(
        app.login("new@testshire.gov.uk", PASSWORD).await.status(),
        StatusCode::UNAUTHORIZED,
        "no password yet"
    );
    let weak = app.setup(token, "short").await;
    assert_eq!(weak.status(), StatusCode::BAD_REQUEST);
    let done = app.setup(token, PASSWORD).await;
    assert_eq!(done.status(), StatusCode::OK);
    assert!(session_cookie(&done).is_some(), "set-up signs the person in");
    assert_eq!(
        app.setup(token, PASSWORD).await.status(),
        StatusCode::BAD_REQUEST,
        "the link works once"
    );
    assert_eq!(app.login("new@testshire.gov.uk", PASSWORD).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn user_disable_ends_sessions_at_once() {
    let app = spawn_app().await;
    sealpost(
        &app,
        &[
            "user",
            "add",
            "--email",
            "ann@testshire.gov.uk",
            "--name",
            "Ann",
            "--password-stdin",
        ],
        Some(PASSWORD),
    );
    let cookie = app.sign_in("ann@testshire.gov.uk", PASSWORD).await;
    let out = sealpost(&app, &["user", "disable", "--email", "ann@testshire.gov.uk"], None);
    assert!(out.status.success());
    assert_eq!(app.me(&cookie).await.status(), StatusCode::UNAUTHORIZED);
}
