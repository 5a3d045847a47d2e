//! Staff fixtures shared by the mail tests: three colleagues signed in, and ways to send.

use reqwest::StatusCode;
use sealpost_domain::Role;
use serde_json::{Value, json};

use crate::test_app::{PASSWORD, TestApp, body};

/// Ann, Bob and Cat, each signed in (their session cookies).
pub struct People {
    pub ann: String,
    pub bob: String,
    pub cat: String,
}

/// Creates the three accounts and signs each in.
pub async fn people(app: &TestApp) -> People {
    for who in ["ann", "bob", "cat"] {
        app.create_user(&format!("{who}@testshire.gov.uk"), PASSWORD, Role::Staff).await;
    }
    People {
        ann: app.sign_in("ann@testshire.gov.uk", PASSWORD).await,
        bob: app.sign_in("bob@testshire.gov.uk", PASSWORD).await,
        cat: app.sign_in("cat@testshire.gov.uk", PASSWORD).await,
    }
}

/// A `message` part.
pub fn message(to: &[&str], subject: &str, text: &str) -> Value {
    json!({ "recipients": to, "subject": subject, "body": text })
}

/// Sends and expects 200.
pub async fn send_ok(app: &TestApp, cookie: &str, m: Value, files: &[(&str, Vec<u8>)]) -> Value {
    let response = app.send(cookie, m, files).await;
    let status = response.status();
    let b = body(response).await;
    assert_eq!(status, StatusCode::OK, "{b}");
    b
}

/// Ann sends Bob a message with one file; returns (message id, attachment id).
pub async fn send_file_to_bob(app: &TestApp, p: &People, subject: &str, text: &str, file: (&str, &[u8])) -> (String, String) {
    let sent = send_ok(
        app,
        &p.ann,
        message(&["bob@testshire.gov.uk"], subject, text),
        &[(file.0, file.1.to_vec())],
    )
    .await;
    let id = sent["id"].as_str().unwrap().to_owned();
    let aid = body(app.read(&p.bob, &id).await).await["attachments"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    (id, aid)
}
