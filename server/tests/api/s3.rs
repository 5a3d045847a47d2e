//! Blobs in an S3 bucket (issue 21), on a real S3-compatible server (s3s-fs) the test starts:
//! a message's files go through the bucket and come back whole, only ciphertext reaches its
//! storage (SECURITY E1), `/readyz` says when the bucket is down, an outage is a 503 that loses
//! nothing, and the orphan sweep clears the bucket of files no message names.

use std::time::{Duration, SystemTime};

use reqwest::StatusCode;
use sealpost_crypto::{Binding, MessageKey, ObjectKind};
use serde_json::json;

use crate::messages::assert_no_canary;
use crate::staff::{message, people, send_ok};
use crate::test_app::{body, spawn_app_on_s3, walk};

#[tokio::test]
async fn files_go_through_the_bucket_whole_and_only_as_ciphertext() {
    let Some((app, sink)) = spawn_app_on_s3().await else { return };
    let p = people(&app).await;
    let canary = "CANARY-53b1";
    // 7 MB: more than one of S3's 5 MiB parts, so the bucket takes a multipart upload.
    let mut report: Vec<u8> = (0..7_000_000u32).map(|i| (i % 251) as u8).collect();
    report.extend_from_slice(format!("{canary} in the file").as_bytes());
    let m = json!({
        "recipients": ["bob@testshire.gov.uk", "pc.jones@police.example.uk"],
        "subject": format!("{canary} subject"), "body": "Report attached.",
        "marking": "official-sensitive", "passphrase": "river otter lamp seven"
    });
    let sent = send_ok(&app, &p.ann, m, &[("report.bin", report.clone())]).await;
    let id = sent["id"].as_str().unwrap();
    app.deliver_due().await;
    let detail = body(app.read(&p.bob, id).await).await;
    let aid = detail["attachments"][0]["id"].as_str().unwrap();
    let download = app.download(&p.bob, id, aid).await;
    assert_eq!(download.status(), StatusCode::OK);
    assert_eq!(download.bytes().await.unwrap().as_ref(), report.as_slice());
    // The partner's reply with a file goes into the bucket too, and opens for the sender.
    let token = app.link_sent_to(&sink, "pc.jones@police.example.uk");
    let pc = app.portal_sign_in(&sink, &token, Some("river otter lamp seven")).await;
    app.portal_reply_ok(&pc, id, "Thanks.", &[("answer.txt", format!("{canary} answer").into_bytes())])
        .await;
    let thread = body(app.read(&p.ann, id).await).await;
    let (reply, reply_file) = (&thread["replies"][0], &thread["replies"][0]["attachments"][0]);
    assert_eq!(reply["body"], "Thanks.", "{thread}");
    let reply_download = app
        .download(&p.ann, id, reply_file["id"].as_str().unwrap())
        .await
        .bytes()
        .await
        .unwrap();
    assert_eq!(reply_download.as_ref(), format!("{canary} answer").as_bytes());

    let in_bucket = app.blob_files();
    assert_eq!(in_bucket.len(), 2, "the file and the reply's, in the bucket: {in_bucket:?}");
    assert!(
        walk(&app.dir.path().join("data/blobs")).iter().all(|f| !f.is_file()),
        "nothing is written to the local blob directory"
    );
    assert_no_canary(&app, canary).await;
}

#[tokio::test]
async fn when_the_bucket_is_down_readyz_says_so_and_a_send_is_a_503_that_keeps_nothing() {
    let Some((mut app, _sink)) = spawn_app_on_s3().await else { return };
    let p = people(&app).await;
    let file = ("plan.pdf", b"%PDF the plan".to_vec());
    let plan = message(&["bob@testshire.gov.uk"], "Plan", "Attached.");
    let sent = send_ok(&app, &p.ann, plan, std::slice::from_ref(&file)).await;
    let id = sent["id"].as_str().unwrap();
    let aid = body(app.read(&p.bob, id).await).await["attachments"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(app.get("/readyz").send().await.unwrap().status(), StatusCode::OK);

    app.s3.as_mut().unwrap().stop();
    let ready = app.get("/readyz").send().await.unwrap();
    assert_eq!(ready.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(ready.text().await.unwrap(), "blob store unavailable");
    let refused = app
        .send(
            &p.ann,
            message(&["bob@testshire.gov.uk"], "Second plan", "Attached."),
            std::slice::from_ref(&file),
        )
        .await;
    assert_eq!(refused.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(refused.headers().contains_key("retry-after"));
    let download = app.download(&p.bob, id, &aid).await;
    assert_eq!(download.status(), StatusCode::SERVICE_UNAVAILABLE, "no content, and no 500");
    let inbox = body(app.list(&p.bob, "inbox").await).await;
    assert_eq!(inbox.as_array().unwrap().len(), 1, "the refused send left no message: {inbox}");

    app.s3.as_mut().unwrap().resume().await;
    assert_eq!(app.get("/readyz").send().await.unwrap().status(), StatusCode::OK);
    let again = app.download(&p.bob, id, &aid).await;
    assert_eq!(again.bytes().await.unwrap().as_ref(), file.1.as_slice());
    send_ok(
        &app,
        &p.ann,
        message(&["bob@testshire.gov.uk"], "Second plan", "Attached."),
        &[file],
    )
    .await;
}

#[tokio::test]
async fn the_orphan_sweep_clears_the_bucket_of_files_no_message_names() {
    let Some((app, _sink)) = spawn_app_on_s3().await else { return };
    let p = people(&app).await;
    let sent = send_ok(
        &app,
        &p.ann,
        message(&["bob@testshire.gov.uk"], "Kept", "x"),
        &[("kept.txt", b"kept".to_vec())],
    )
    .await;
    // A file sealed for a message that never committed (a crash between the two).
    let key = MessageKey::generate();
    let binding = Binding::new(ObjectKind::Attachment, uuid::Uuid::new_v4());
    let mut orphan = app
        .state
        .blobs
        .sealed_writer("attachments/never-sent/file", &key, binding)
        .await
        .unwrap();
    orphan.write(b"orphan").await.unwrap();
    orphan.finish().await.unwrap();
    assert_eq!(app.blob_files().len(), 2);

    let recent = SystemTime::now() - Duration::from_secs(3600);
    assert_eq!(sweep(&app, recent).await, 0, "files newer than the cutoff are left alone");
    let later = SystemTime::now() + Duration::from_secs(5);
    assert_eq!(sweep(&app, later).await, 1);
    let left = app.blob_files();
    assert_eq!(left.len(), 1, "{left:?}");
    assert!(
        left[0].to_string_lossy().contains(sent["id"].as_str().unwrap()),
        "the message's file stays"
    );
    let detail = body(app.read(&p.bob, sent["id"].as_str().unwrap()).await).await;
    let aid = detail["attachments"][0]["id"].as_str().unwrap();
    let download = app.download(&p.bob, sent["id"].as_str().unwrap(), aid).await;
    assert_eq!(download.bytes().await.unwrap().as_ref(), b"kept");
}

async fn sweep(app: &crate::test_app::TestApp, cutoff: SystemTime) -> usize {
    sealpost_server::workers::blob_sweep::sweep(&app.state, cutoff).await.unwrap()
}
