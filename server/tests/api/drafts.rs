//! Drafts (issue 16): saved as the author writes, sealed at rest, seen by the author alone,
//! kept across signing out, and sent as the message they hold, files and all. Opening a draft
//! is not a read of anyone's mail, so it is not audited; the send is.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::staff::people;
use crate::test_app::{PASSWORD, body, multipart, spawn_app_with};

const BOB: &str = "bob@testshire.gov.uk";

async fn drafts(app: &crate::test_app::TestApp, cookie: &str) -> Value {
    body(app.get("/api/v1/drafts").header("cookie", cookie).send().await.unwrap()).await
}

#[tokio::test]
async fn a_draft_is_saved_kept_across_signing_out_and_sent_with_its_files_by_its_author_alone() {
    let app = spawn_app_with(|_| {}).await;
    let p = people(&app).await;
    let id = app.new_draft(&p.ann, json!({ "to": [BOB], "subject": "Visit plan" })).await;
    let saved = app
        .put(&format!("/api/v1/drafts/{id}"))
        .header("cookie", &p.ann)
        .json(&json!({ "to": [BOB, "half-typed@"], "subject": "Visit plan", "body": "First draft of the plan." }))
        .send()
        .await
        .unwrap();
    assert_eq!(saved.status(), StatusCode::OK, "a half-typed address is fine in a draft");
    let files = app.attach_to_draft(&p.ann, &id, &[("plan.txt", b"the plan".to_vec())]).await;
    assert_eq!(files.status(), StatusCode::OK);
    assert_eq!(body(files).await[0]["name"], "plan.txt");

    // Nobody else learns of it, by listing or by id.
    assert_eq!(drafts(&app, &p.bob).await, json!([]));
    assert_eq!(
        app.get(&format!("/api/v1/drafts/{id}"))
            .header("cookie", &p.bob)
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::NOT_FOUND
    );

    // Signed out and in again (a new session), the author finds it as they left it.
    app.logout(&p.ann).await;
    let ann = app.sign_in("ann@testshire.gov.uk", PASSWORD).await;
    let listed = drafts(&app, &ann).await;
    assert_eq!(listed[0]["id"], id.as_str());
    assert_eq!(listed[0]["subject"], "Visit plan");
    assert_eq!(listed[0]["recipients"], json!([BOB, "half-typed@"]));
    assert_eq!(listed[0]["attachments"], 1);
    let draft = body(
        app.get(&format!("/api/v1/drafts/{id}"))
            .header("cookie", &ann)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(draft["content"]["body"], "First draft of the plan.");
    assert_eq!(draft["attachments"][0]["name"], "plan.txt");
    assert!(
        app.audit_actions(&id).await.is_empty(),
        "writing and opening a draft is not a read of mail"
    );

    // Finished and sent, with one more file: the message is the draft, its files first.
    let finished = json!({
        "recipients": [BOB], "subject": "Visit plan", "body": "The plan, final.", "draft": id
    });
    let sent = app.send(&ann, finished.clone(), &[("extra.txt", b"more".to_vec())]).await;
    assert_eq!(sent.status(), StatusCode::OK);
    let sent = body(sent).await;
    assert_eq!(sent["id"], id.as_str(), "the message takes the draft's id");
    let read = body(app.read(&p.bob, &id).await).await;
    assert_eq!(read["body"], "The plan, final.");
    let names: Vec<&str> = read["attachments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["plan.txt", "extra.txt"]);
    let plan = read["attachments"][0]["id"].as_str().unwrap();
    assert_eq!(app.download(&p.bob, &id, plan).await.bytes().await.unwrap().as_ref(), b"the plan");
    assert_eq!(
        app.audit_actions(&id).await,
        ["message.send", "message.read", "attachment.download"]
    );

    // The draft is gone, and cannot be sent twice.
    assert_eq!(drafts(&app, &ann).await, json!([]));
    let again = app.send(&ann, finished, &[]).await;
    assert_eq!(again.status(), StatusCode::GONE);
    assert_eq!(body(again).await["code"], "draft_gone");
}

#[tokio::test]
async fn a_draft_answering_a_message_is_sent_in_its_conversation() {
    let app = spawn_app_with(|_| {}).await;
    let p = people(&app).await;
    let first = crate::staff::send_ok(
        &app,
        &p.bob,
        crate::staff::message(&["ann@testshire.gov.uk"], "Rota", "Who covers Friday?"),
        &[],
    )
    .await;
    let first = first["id"].as_str().unwrap();
    let id = app
        .new_draft(
            &p.ann,
            json!({ "to": [BOB], "subject": "Re: Rota", "basis": { "kind": "answer", "message": first } }),
        )
        .await;
    let draft = body(
        app.get(&format!("/api/v1/drafts/{id}"))
            .header("cookie", &p.ann)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(draft["content"]["basis"], json!({ "kind": "answer", "message": first }));
    let answer = json!({ "recipients": [BOB], "subject": "Re: Rota", "body": "I will.", "draft": id });
    assert_eq!(app.answer(&p.ann, first, answer, &[]).await.status(), StatusCode::OK);
    let read = body(app.read(&p.bob, &id).await).await;
    let parts: Vec<&str> = read["thread"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].as_str().unwrap())
        .collect();
    assert_eq!(parts, [first, id.as_str()]);
}

#[tokio::test]
async fn a_draft_is_checked_when_sent_and_kept_when_the_send_is_refused() {
    let app = spawn_app_with(|_| {}).await;
    let p = people(&app).await;
    let id = app.new_draft(&p.ann, json!({ "to": [BOB] })).await;
    app.attach_to_draft(&p.ann, &id, &[("a.txt", b"a".to_vec())]).await;
    let no_subject = json!({ "recipients": [BOB], "subject": " ", "body": "", "draft": id });
    let refused = app.send(&p.ann, no_subject, &[]).await;
    assert_eq!(refused.status(), StatusCode::BAD_REQUEST);
    assert_eq!(body(refused).await["code"], "no_subject");
    let kept = drafts(&app, &p.ann).await;
    assert_eq!(
        (kept[0]["id"].as_str(), kept[0]["attachments"].as_u64()),
        (Some(id.as_str()), Some(1))
    );
    // Another person cannot send it as theirs.
    let theirs = json!({ "recipients": [BOB], "subject": "Mine", "body": "", "draft": id });
    assert_eq!(app.send(&p.cat, theirs, &[]).await.status(), StatusCode::GONE);
    assert_eq!(drafts(&app, &p.ann).await.as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn a_drafts_files_count_against_the_message_limits_and_go_when_it_is_discarded() {
    let app = spawn_app_with(|s| s.max_message_mib = 1).await;
    let p = people(&app).await;
    let id = app.new_draft(&p.ann, json!({})).await;
    let before = app.blob_files().len();
    let half = vec![7u8; 600 * 1024];
    assert_eq!(
        app.attach_to_draft(&p.ann, &id, &[("a.bin", half.clone())]).await.status(),
        StatusCode::OK
    );
    let too_big = app.attach_to_draft(&p.ann, &id, &[("b.bin", half)]).await;
    assert_eq!(
        too_big.status(),
        StatusCode::PAYLOAD_TOO_LARGE,
        "1,200 KiB is over the 1 MiB message limit"
    );
    let small: Vec<(String, Vec<u8>)> = (1..20).map(|i| (format!("{i}.txt"), vec![b'x'])).collect();
    let small: Vec<(&str, Vec<u8>)> = small.iter().map(|(n, b)| (n.as_str(), b.clone())).collect();
    assert_eq!(
        app.attach_to_draft(&p.ann, &id, &small).await.status(),
        StatusCode::OK,
        "20 files in all"
    );
    let over = app.attach_to_draft(&p.ann, &id, &[("21.txt", b"1".to_vec())]).await;
    assert_eq!(over.status(), StatusCode::PAYLOAD_TOO_LARGE, "a 21st file is over the count");
    // Sending adds the form's files on top of the draft's.
    let over = app
        .post("/api/v1/messages")
        .header("cookie", &p.ann)
        .multipart(multipart(
            "message",
            &json!({ "recipients": [BOB], "subject": "S", "body": "", "draft": id }),
            &[("d.txt", b"1".to_vec())],
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(over.status(), StatusCode::PAYLOAD_TOO_LARGE);
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    assert_eq!(app.blob_files().len(), before + 20, "refused files leave nothing behind");
    let discarded = app
        .delete(&format!("/api/v1/drafts/{id}"))
        .header("cookie", &p.ann)
        .send()
        .await
        .unwrap();
    assert_eq!(discarded.status(), StatusCode::NO_CONTENT);
    assert_eq!(app.blob_files().len(), before, "a discarded draft's files are deleted");
    assert_eq!(drafts(&app, &p.ann).await, json!([]));
}

#[tokio::test]
async fn a_draft_keeps_to_the_limits_on_text() {
    let app = spawn_app_with(|_| {}).await;
    let p = people(&app).await;
    let long = "x".repeat(300 * 1024);
    let refused = app
        .post("/api/v1/drafts")
        .header("cookie", &p.ann)
        .json(&json!({ "body": long }))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::BAD_REQUEST);
    assert_eq!(body(refused).await["code"], "body_too_long");
    let unknown = app
        .post("/api/v1/drafts")
        .header("cookie", &p.ann)
        .json(&json!({ "passphrase": "secret" }))
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), StatusCode::BAD_REQUEST, "a passphrase is never kept in a draft");
    assert_eq!(drafts(&app, &p.ann).await, json!([]));
}
