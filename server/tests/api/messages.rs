//! Sending and reading secure mail between staff: access control (C1), revocation, log before
//! reveal (F1) and encryption at rest (E1). Upload limits are in `uploads.rs`.

use reqwest::StatusCode;
use sealpost_domain::Role;
use serde_json::json;

use crate::staff::{message, people, send_file_to_bob, send_ok};
use crate::test_app::{PASSWORD, TestApp, body, spawn_app, spawn_app_with_smtp, walk};

#[tokio::test]
async fn a_colleague_reads_a_message_and_downloads_its_attachment_and_the_sender_sees_it_read() {
    let app = spawn_app().await;
    let p = people(&app).await;
    let report: Vec<u8> = (0..300_000u32).map(|i| (i % 256) as u8).collect();
    let sent = send_ok(
        &app,
        &p.ann,
        message(
            &["Bob@testshire.gov.uk"],
            "Case 4471 review",
            "Please see the attached report.\nThanks, Ann",
        ),
        &[("report 4471.pdf", report.clone())],
    )
    .await;
    let id = sent["id"].as_str().unwrap();
    assert!(sent["reference"].as_str().unwrap().starts_with("SP-"));

    let inbox = body(app.list(&p.bob, "inbox").await).await;
    assert_eq!(inbox.as_array().unwrap().len(), 1);
    assert_eq!(inbox[0]["subject"], "Case 4471 review");
    assert_eq!(inbox[0]["unread"], true);
    assert_eq!(inbox[0]["attachments"], 1);

    let detail = body(app.read(&p.bob, id).await).await;
    assert_eq!(detail["body"], "Please see the attached report.\nThanks, Ann");
    assert_eq!(detail["attachments"][0]["name"], "report 4471.pdf");
    assert_eq!(detail["attachments"][0]["size"], 300_000);
    assert_eq!(detail["recipients"], json!([]), "only the sender sees delivery status");
    let aid = detail["attachments"][0]["id"].as_str().unwrap();

    let download = app.download(&p.bob, id, aid).await;
    assert_eq!(download.status(), StatusCode::OK);
    let h = download.headers();
    assert_eq!(h["content-type"], "application/octet-stream");
    assert_eq!(h["x-content-type-options"], "nosniff");
    assert_eq!(
        h["content-disposition"],
        "attachment; filename=\"report 4471.pdf\"; filename*=UTF-8''report%204471.pdf"
    );
    assert_eq!(download.bytes().await.unwrap().as_ref(), report.as_slice());

    assert_eq!(body(app.list(&p.bob, "inbox").await).await[0]["unread"], false);
    let sent_view = body(app.read(&p.ann, id).await).await;
    assert_eq!(sent_view["recipients"][0]["status"], "read");
    let sent_list = body(app.list(&p.ann, "sent").await).await;
    assert_eq!(sent_list[0]["recipients"][0]["address"], "bob@testshire.gov.uk");
    assert_eq!(sent_list[0]["recipients"][0]["status"], "read", "the sent list shows it read too");
    let actions = app.audit_actions(id).await;
    assert_eq!(actions, ["message.send", "message.read", "attachment.download", "message.read"]);
}

#[tokio::test]
async fn a_file_damaged_on_disk_is_cut_off_where_the_damage_is_and_never_served_whole() {
    let app = spawn_app().await;
    let p = people(&app).await;
    let report: Vec<u8> = (0..3_000_000u32).map(|i| (i % 251) as u8).collect();
    let m = message(&["bob@testshire.gov.uk"], "Damaged on disk", "See the file.");
    let sent = send_ok(&app, &p.ann, m, &[("scan.bin", report.clone())]).await;
    let id = sent["id"].as_str().unwrap();
    let [blob] = app.blob_files().try_into().expect("one sealed file");
    let mut sealed = std::fs::read(&blob).unwrap();
    sealed[2_000_000] ^= 1; // a bit flipped two thirds of the way in
    std::fs::write(&blob, sealed).unwrap();
    let aid = body(app.read(&p.bob, id).await).await["attachments"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut download = app.download(&p.bob, id, &aid).await;
    assert_eq!(download.status(), StatusCode::OK, "the damage is further in than the first frames");
    let mut received = vec![];
    let ended = loop {
        match download.chunk().await {
            Ok(Some(frame)) => received.extend_from_slice(&frame),
            Ok(None) => break "cleanly",
            Err(_) => break "with an error",
        }
    };
    assert_eq!(ended, "with an error", "a damaged file must not look complete");
    assert!(
        received.len() < 2_000_000,
        "only what came before the damage: {} bytes",
        received.len()
    );
    assert!(report.starts_with(&received), "and that part unaltered");
}

#[tokio::test]
async fn anyone_else_gets_404_for_messages_and_attachments_not_addressed_to_them() {
    let app = spawn_app().await;
    let p = people(&app).await;
    let (id, aid) = send_file_to_bob(&app, &p, "For Bob", "only", ("a.txt", b"secret file")).await;
    let id = id.as_str();
    // Cat has a message of her own; Bob's attachment id under it is still not hers.
    let other = send_ok(&app, &p.ann, message(&["cat@testshire.gov.uk"], "For Cat", "hers"), &[]).await;
    let missing = "00000000-0000-4000-8000-000000000000";
    for (what, response) in [
        ("read", app.read(&p.cat, id).await),
        ("download", app.download(&p.cat, id, &aid).await),
        ("revoke", app.revoke(&p.cat, id, None).await),
        ("revoke by a recipient", app.revoke(&p.bob, id, None).await),
        ("missing message", app.read(&p.cat, missing).await),
        ("malformed id", app.read(&p.cat, "not-an-id").await),
        ("missing attachment", app.download(&p.bob, id, missing).await),
        (
            "attachment under another message",
            app.download(&p.cat, other["id"].as_str().unwrap(), &aid).await,
        ),
    ] {
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{what}");
        assert_eq!(
            body(response).await,
            json!({"code": "not_found", "message": "Not found."}),
            "{what}"
        );
    }
    let cats = body(app.list(&p.cat, "inbox").await).await;
    assert_eq!(cats.as_array().unwrap().len(), 1, "only her own message");
    assert_eq!(cats[0]["subject"], "For Cat");
    assert_eq!(
        app.get(&format!("/api/v1/messages/{id}")).send().await.unwrap().status(),
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn a_disabled_colleague_is_refused_as_a_recipient_rather_than_sent_a_link() {
    let app = spawn_app().await;
    let p = people(&app).await;
    let leaver = app.create_user("leaver@testshire.gov.uk", PASSWORD, Role::Staff).await;
    app.state.store.disable_user(leaver).await.unwrap();
    let response = app.send(&p.ann, message(&["leaver@testshire.gov.uk"], "Hi", "x"), &[]).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert!(body(response).await["message"].as_str().unwrap().contains("has been disabled"));
}

#[tokio::test]
async fn revoking_a_colleague_removes_the_message_from_their_inbox_at_once() {
    let app = spawn_app().await;
    let p = people(&app).await;
    let sent = send_ok(
        &app,
        &p.ann,
        message(&["bob@testshire.gov.uk", "cat@testshire.gov.uk"], "Oops", "wrong person"),
        &[],
    )
    .await;
    let id = sent["id"].as_str().unwrap();
    let statuses = body(app.revoke(&p.ann, id, Some("cat@testshire.gov.uk")).await).await;
    assert_eq!(statuses[0]["status"], "delivered");
    assert_eq!(statuses[1]["status"], "revoked");
    assert_eq!(app.read(&p.cat, id).await.status(), StatusCode::NOT_FOUND);
    assert_eq!(body(app.list(&p.cat, "inbox").await).await, json!([]));
    assert_eq!(app.read(&p.bob, id).await.status(), StatusCode::OK);
    let not_recipient = app.revoke(&p.ann, id, Some("dan@testshire.gov.uk")).await;
    assert_eq!(not_recipient.status(), StatusCode::BAD_REQUEST);
    let (file_id, file_aid) = send_file_to_bob(&app, &p, "File", "x", ("f.txt", b"data")).await;
    let file_id = file_id.as_str();
    app.revoke(&p.ann, file_id, None).await;
    assert_eq!(
        app.download(&p.bob, file_id, &file_aid).await.status(),
        StatusCode::NOT_FOUND,
        "a revoked recipient cannot download"
    );
    app.revoke(&p.ann, id, None).await;
    assert_eq!(app.read(&p.bob, id).await.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_canary_sent_through_every_path_never_reaches_the_disk_in_the_clear() {
    let (app, sink) = spawn_app_with_smtp(&[]).await;
    let p = people(&app).await;
    let canary = "CANARY-7f3a9c";
    let m = json!({
        "recipients": ["bob@testshire.gov.uk", "pc.jones@police.example.uk"],
        "subject": format!("{canary} subject"), "body": format!("{canary} body"),
        "marking": "official-sensitive", "passphrase": "river otter lamp seven"
    });
    let sent = send_ok(
        &app,
        &p.ann,
        m,
        &[(&format!("{canary}-name.txt"), format!("{canary} file content").into_bytes())],
    )
    .await;
    let id = sent["id"].as_str().unwrap();
    app.deliver_due().await;
    let detail = body(app.read(&p.bob, id).await).await;
    let aid = detail["attachments"][0]["id"].as_str().unwrap();
    assert!(String::from_utf8_lossy(&app.download(&p.bob, id, aid).await.bytes().await.unwrap()).contains(canary));
    // The partner's secure reply, with a file, goes through the same test (E1 covers replies).
    let token = app.link_sent_to(&sink, "pc.jones@police.example.uk");
    let pc = app.portal_sign_in(&sink, &token, Some("river otter lamp seven")).await;
    let reply_file = (format!("{canary}-reply-name.txt"), format!("{canary} reply file").into_bytes());
    app.portal_reply_ok(&pc, id, &format!("{canary} reply body"), &[(&reply_file.0, reply_file.1)])
        .await;
    let thread = body(app.read(&p.ann, id).await).await;
    assert!(thread["replies"][0]["body"].as_str().unwrap().contains(canary), "the reply opens");
    // A draft still being written, with a file, is sealed like a message (issue 16).
    let draft = app
        .new_draft(&p.ann, json!({ "to": [format!("{canary}@example.org")], "subject": format!("{canary} draft subject"), "body": format!("{canary} draft body") }))
        .await;
    let draft_file = (format!("{canary}-draft-name.txt"), format!("{canary} draft file").into_bytes());
    assert_eq!(
        app.attach_to_draft(&p.ann, &draft, &[(&draft_file.0, draft_file.1)]).await.status(),
        StatusCode::OK
    );
    let opened = body(
        app.get(&format!("/api/v1/drafts/{draft}"))
            .header("cookie", &p.ann)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert!(opened["content"]["body"].as_str().unwrap().contains(canary), "the draft opens");
    for passphrase in ["river otter lamp seven", "river"] {
        assert_no_canary(&app, passphrase).await;
    }
    assert_no_canary(&app, canary).await;
}

/// Every file under the data directory (blobs, outbox .eml files) and the database, SQLite
/// file and WAL or every PostgreSQL row as text, must be free of `needle`.
pub(crate) async fn assert_no_canary(app: &TestApp, needle: &str) {
    let mut files = app.blob_files();
    files.extend(walk(&app.dir.path().join("data")));
    if let Some(dir) = &app.db.dir {
        files.extend(walk(dir.path()));
    }
    assert!(
        files.iter().any(|f| f.to_string_lossy().ends_with("-wal")) || app.db.dir.is_none(),
        "the WAL was checked"
    );
    for f in files {
        let bytes = std::fs::read(&f).unwrap();
        assert!(
            !bytes.windows(needle.len()).any(|w| w == needle.as_bytes()),
            "{needle} found in {}",
            f.display()
        );
    }
    if app.state.store.backend() == "postgres" {
        for table in [
            "users",
            "sessions",
            "messages",
            "message_keys",
            "recipients",
            "attachments",
            "replies",
            "outbox",
            "audit_events",
            "drafts",
            "draft_attachments",
        ] {
            // Row text shows BYTEA columns as hex, so look for the hex form too.
            let hex: String = needle.bytes().map(|b| format!("{b:02x}")).collect();
            let rows = app
                .state
                .store
                .fetch_texts(&format!("SELECT t::text FROM {table} t"))
                .await
                .unwrap();
            assert!(
                !rows.iter().any(|r| r.contains(needle) || r.contains(&hex)),
                "{needle} found in {table}"
            );
        }
    }
}

#[tokio::test]
async fn when_the_audit_log_cannot_be_written_the_reader_gets_503_and_no_content() {
    let app = spawn_app().await;
    let p = people(&app).await;
    let (id, aid) = send_file_to_bob(&app, &p, "Audited subject", "Audited body", ("f.txt", b"file bytes")).await;
    let id = id.as_str();
    // Break the audit table on purpose.
    app.state
        .store
        .execute_raw("ALTER TABLE audit_events RENAME TO audit_events_gone")
        .await
        .unwrap();
    for response in [app.read(&p.bob, id).await, app.download(&p.bob, id, &aid).await] {
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        let text = response.text().await.unwrap();
        assert!(!text.contains("Audited") && !text.contains("file bytes"), "{text}");
    }
}

#[tokio::test]
async fn a_send_with_fields_we_do_not_have_is_refused_naming_them_and_nobody_is_sent_anything() {
    let app = spawn_app().await;
    let p = people(&app).await;
    let mut m = message(&["bob@testshire.gov.uk"], "Replies", "For Bob, answers to Cat");
    m["reply_to"] = json!(["cat@testshire.gov.uk"]);
    let refused = app.send(&p.ann, m, &[]).await;
    assert_eq!(refused.status(), StatusCode::BAD_REQUEST);
    let why = body(refused).await;
    assert!(why["message"].as_str().unwrap().contains("unknown field `reply_to`"), "{why}");
    let inbox = body(app.get("/api/v1/messages?box=inbox").header("cookie", &p.bob).send().await.unwrap()).await;
    assert_eq!(inbox.as_array().unwrap().len(), 0, "nothing was sent to Bob either");
}

#[tokio::test]
async fn a_sender_gives_access_back_and_a_partner_gets_a_new_link_while_the_old_one_stays_dead() {
    let (app, sink) = spawn_app_with_smtp(&[]).await;
    let p = people(&app).await;
    let partner = "pc.jones@police.example.uk";
    let sent = send_ok(&app, &p.ann, message(&["bob@testshire.gov.uk", partner], "Regrant", "Body"), &[]).await;
    let id = sent["id"].as_str().unwrap().to_owned();
    app.deliver_due().await;
    let old_token = app.link_sent_to(&sink, partner);
    let old_session = app.portal_sign_in(&sink, &old_token, None).await;
    for who in [partner, "bob@testshire.gov.uk"] {
        assert_eq!(app.revoke(&p.ann, &id, Some(who)).await.status(), StatusCode::OK);
    }
    let regrant = |who: &'static str, cookie: String| {
        let (app, id) = (&app, id.clone());
        async move {
            app.post(&format!("/api/v1/messages/{id}/regrant"))
                .header("cookie", cookie)
                .json(&json!({ "recipient": who }))
                .send()
                .await
                .unwrap()
        }
    };
    assert_eq!(
        regrant(partner, p.bob.clone()).await.status(),
        StatusCode::NOT_FOUND,
        "only the sender"
    );
    let back = regrant(partner, p.ann.clone()).await;
    assert_eq!(back.status(), StatusCode::OK);
    let statuses = body(back).await;
    let row = statuses
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["address"] == partner)
        .unwrap()
        .clone();
    assert_eq!(row["status"], "queued", "{statuses}");
    app.deliver_due().await;
    let new_token = app.link_sent_to(&sink, partner);
    assert_ne!(new_token, old_token, "a fresh link");
    assert_eq!(
        app.get(&format!("/api/v1/portal/links/{old_token}")).send().await.unwrap().status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.portal_message(&old_session, &id).await.status(),
        StatusCode::UNAUTHORIZED,
        "old sessions end"
    );
    let fresh = app.portal_sign_in(&sink, &new_token, None).await;
    assert_eq!(app.portal_message(&fresh, &id).await.status(), StatusCode::OK);

    assert_eq!(
        app.read(&p.bob, &id).await.status(),
        StatusCode::NOT_FOUND,
        "Bob is still withdrawn"
    );
    assert_eq!(regrant("bob@testshire.gov.uk", p.ann.clone()).await.status(), StatusCode::OK);
    assert_eq!(app.read(&p.bob, &id).await.status(), StatusCode::OK, "back in Bob's inbox");
    let again = regrant("bob@testshire.gov.uk", p.ann.clone()).await;
    assert_eq!(body(again).await["code"], "not_withdrawn");
    let actions = app.audit_actions(&id).await;
    assert_eq!(actions.iter().filter(|a| *a == "message.regrant").count(), 2, "{actions:?}");

    assert_eq!(app.revoke(&p.ann, &id, Some(partner)).await.status(), StatusCode::OK);
    app.clock.advance_minutes(31 * 24 * 60);
    let ann = app.sign_in("ann@testshire.gov.uk", PASSWORD).await;
    let late = regrant(partner, ann).await;
    assert_eq!(
        body(late).await["code"],
        "message_expired",
        "an expired message is sent again instead"
    );
}
