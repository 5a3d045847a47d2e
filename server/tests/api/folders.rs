//! Folders (issue 16): each person files the messages they can read in their own Archive or
//! Deleted box; nobody else's view changes. The Deleted box empties itself after the configured
//! days, or at once on "Empty", and deleted mail is not searched.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::staff::{message, people, send_ok};
use crate::test_app::{PASSWORD, TestApp, body, spawn_app};

const BOB: &str = "bob@testshire.gov.uk";

async fn subjects(app: &TestApp, cookie: &str, mailbox: &str) -> Vec<String> {
    let list: Value = body(app.list(cookie, mailbox).await).await;
    list.as_array()
        .unwrap()
        .iter()
        .map(|m| m["subject"].as_str().unwrap().to_owned())
        .collect()
}

async fn move_to(app: &TestApp, cookie: &str, id: &str, to: &str) -> StatusCode {
    app.post(&format!("/api/v1/messages/{id}/move"))
        .header("cookie", cookie)
        .json(&json!({ "to": to }))
        .send()
        .await
        .unwrap()
        .status()
}

#[tokio::test]
async fn staff_archive_and_delete_their_own_view_of_a_message_and_the_deleted_box_empties_itself() {
    let app = spawn_app().await;
    let p = people(&app).await;
    let keep = send_ok(&app, &p.ann, message(&[BOB], "Keep this", "Filed later."), &[]).await;
    app.clock.advance_minutes(1);
    let bin = send_ok(&app, &p.ann, message(&[BOB], "Not needed", "Old news about the library."), &[]).await;
    let (keep, bin) = (keep["id"].as_str().unwrap(), bin["id"].as_str().unwrap());

    assert_eq!(move_to(&app, &p.bob, keep, "archive").await, StatusCode::NO_CONTENT);
    assert_eq!(move_to(&app, &p.bob, bin, "deleted").await, StatusCode::NO_CONTENT);
    assert_eq!(subjects(&app, &p.bob, "inbox").await, Vec::<String>::new());
    assert_eq!(subjects(&app, &p.bob, "archive").await, ["Keep this"]);
    assert_eq!(subjects(&app, &p.bob, "deleted").await, ["Not needed"]);
    // Bob's filing is his own: Ann's Sent is as it was, and she may still read both.
    assert_eq!(subjects(&app, &p.ann, "sent").await, ["Not needed", "Keep this"]);
    // Deleted mail is not searched; archived mail is.
    let found = body(app.get("/api/v1/search?q=library").header("cookie", &p.bob).send().await.unwrap()).await;
    assert_eq!(found["hits"], json!([]));
    let found = body(app.get("/api/v1/search?q=filed").header("cookie", &p.bob).send().await.unwrap()).await;
    assert_eq!(found["hits"][0]["subject"], "Keep this");
    // Someone who cannot read a message cannot file it, nor learn it exists.
    assert_eq!(move_to(&app, &p.cat, keep, "archive").await, StatusCode::NOT_FOUND);
    // Back to the Inbox.
    assert_eq!(move_to(&app, &p.bob, keep, "inbox").await, StatusCode::NO_CONTENT);
    assert_eq!(subjects(&app, &p.bob, "inbox").await, ["Keep this"]);
    // The sender deletes from Sent for herself alone.
    assert_eq!(move_to(&app, &p.ann, keep, "deleted").await, StatusCode::NO_CONTENT);
    assert_eq!(subjects(&app, &p.ann, "sent").await, ["Not needed"]);
    assert_eq!(subjects(&app, &p.bob, "inbox").await, ["Keep this"]);

    // Thirty-one days on, the Deleted box has emptied itself.
    app.clock.advance_minutes(31 * 24 * 60);
    let bob = app.sign_in(BOB, PASSWORD).await;
    assert_eq!(subjects(&app, &bob, "deleted").await, Vec::<String>::new());
    assert_eq!(
        subjects(&app, &bob, "inbox").await,
        ["Keep this"],
        "emptied mail does not come back"
    );
}

#[tokio::test]
async fn empty_deleted_empties_it_at_once_and_a_bad_folder_is_refused() {
    let app = spawn_app().await;
    let p = people(&app).await;
    let sent = send_ok(&app, &p.ann, message(&[BOB], "Bin me", "x"), &[]).await;
    let id = sent["id"].as_str().unwrap();
    move_to(&app, &p.bob, id, "deleted").await;
    assert_eq!(subjects(&app, &p.bob, "deleted").await, ["Bin me"]);
    let emptied = app
        .post("/api/v1/folders/deleted/empty")
        .header("cookie", &p.bob)
        .send()
        .await
        .unwrap();
    assert_eq!(emptied.status(), StatusCode::NO_CONTENT);
    assert_eq!(subjects(&app, &p.bob, "deleted").await, Vec::<String>::new());
    assert_eq!(subjects(&app, &p.bob, "inbox").await, Vec::<String>::new());
    assert_eq!(move_to(&app, &p.bob, id, "trash").await, StatusCode::BAD_REQUEST);
}
