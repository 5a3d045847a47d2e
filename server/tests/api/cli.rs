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
    let said = String::from_utf8_lossy(&again.stderr).into_owned();
    assert!(
        said.contains("already exists") && said.contains("sealpost user reset-password"),
        "says what to do: {said}"
    );
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
    for _ in 0..2 {
        let look = app.get(&format!("/api/v1/auth/setup/{token}")).send().await.unwrap();
        assert_eq!(look.status(), StatusCode::OK, "looking leaves the link usable");
        let who = body(look).await;
        assert_eq!(
            (who["email"].as_str(), who["display_name"].as_str()),
            (Some("new@testshire.gov.uk"), Some("New Starter"))
        );
    }
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
    let used = app.get(&format!("/api/v1/auth/setup/{token}")).send().await.unwrap();
    assert_eq!(used.status(), StatusCode::BAD_REQUEST, "a used link says so before any typing");
    assert_eq!(body(used).await["code"], "setup_link_invalid");
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

fn text(out: &Output) -> String {
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[tokio::test]
async fn it_lists_enables_changes_roles_and_resets_passwords_from_the_command_line() {
    let app = spawn_app().await;
    let ann = ["--email", "ann@testshire.gov.uk"];
    let add = |who: &'static str, role: &'static str| {
        let app = &app;
        async move {
            sealpost(
                app,
                &[
                    "user",
                    "add",
                    "--email",
                    who,
                    "--name",
                    "Ann Lee",
                    "--role",
                    role,
                    "--password-stdin",
                ],
                Some(PASSWORD),
            )
        }
    };
    text(&add("ann@testshire.gov.uk", "staff").await);
    sealpost(
        &app,
        &["user", "add", "--email", "new@testshire.gov.uk", "--name", "New Starter"],
        None,
    );
    let listed = text(&sealpost(&app, &["user", "list"], None));
    assert!(listed.contains("ann@testshire.gov.uk") && listed.contains("active"), "{listed}");
    assert!(
        listed.contains("new@testshire.gov.uk") && listed.contains("waiting for set-up"),
        "{listed}"
    );
    assert!(listed.trim_end().ends_with("2 accounts"), "{listed}");

    text(&sealpost(&app, &[&["user", "disable"][..], &ann].concat(), None));
    assert!(text(&sealpost(&app, &["user", "list"], None)).contains("disabled"));
    assert_eq!(
        app.login("ann@testshire.gov.uk", PASSWORD).await.status(),
        StatusCode::FORBIDDEN,
        "disabled"
    );
    text(&sealpost(&app, &[&["user", "enable"][..], &ann].concat(), None));
    let cookie = app.sign_in("ann@testshire.gov.uk", PASSWORD).await;

    let promoted = text(&sealpost(
        &app,
        &[&["user", "set-role"][..], &ann, &["--role", "ig"]].concat(),
        None,
    ));
    assert!(promoted.contains("now ig (was staff)"), "{promoted}");
    assert_eq!(
        app.me(&cookie).await.status(),
        StatusCode::UNAUTHORIZED,
        "a role change ends the sessions"
    );
    let me = body(app.login("ann@testshire.gov.uk", PASSWORD).await).await;
    assert_eq!(me["role"], "ig");

    let reset = text(&sealpost(&app, &[&["user", "reset-password"][..], &ann].concat(), None));
    let link = reset.split_whitespace().find(|w| w.contains("/setup/")).expect("a set-up link");
    assert_eq!(
        app.login("ann@testshire.gov.uk", PASSWORD).await.status(),
        StatusCode::UNAUTHORIZED,
        "the old password no longer works"
    );
    let new_password = "a brand new passphrase here";
    assert_eq!(
        app.setup(link.rsplit('/').next().unwrap(), new_password).await.status(),
        StatusCode::OK
    );
    assert_eq!(app.login("ann@testshire.gov.uk", new_password).await.status(), StatusCode::OK);

    // Each change is on the audit record, on the person, as the admin console's are.
    let trail = app
        .state
        .store
        .fetch_texts("SELECT action || ' ' || actor FROM audit_events WHERE object = 'person:ann@testshire.gov.uk' ORDER BY seq")
        .await
        .unwrap();
    assert_eq!(
        trail,
        [
            "account.invite system",
            "account.disable system",
            "account.enable system",
            "account.role system",
            "account.invite system"
        ]
    );

    let missing = sealpost(&app, &["user", "enable", "--email", "ghost@testshire.gov.uk"], None);
    assert!(!missing.status.success());
    assert!(String::from_utf8_lossy(&missing.stderr).contains("sealpost user add"));
}
