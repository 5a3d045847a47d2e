//! Retention (issue 19, SECURITY E4): a message past its days is crypto-shredded with its
//! replies and files. Its readers see when and why, never an error; nothing of it opens; its
//! key's bytes are in neither the SQLite file nor the WAL; its record and the audit chain stay.
//! A message on legal hold, or of a marking kept for ever, survives.

use reqwest::StatusCode;
use sealpost_audit::{Action, Actor, AuditEvent, Object, Origin, Outcome};
use sealpost_domain::MessageId;

use crate::cli::sealpost;
use crate::staff::{People, message, people, send_ok};
use crate::test_app::{PASSWORD, TestApp, body, spawn_app_with};

const DAY_MINUTES: i64 = 24 * 60;

/// Runs the retention pass the server's housekeeping runs: how many messages went.
async fn run_retention(app: &TestApp) -> usize {
    let state = &app.state;
    sealpost_server::app::retention::run(&state.store, &state.blobs, &state.settings, state.now_ms(), |id| {
        state.message_keys.forget(id)
    })
    .await
    .unwrap()
}

/// The SQLite database file and its WAL, as bytes one after the other.
fn on_disk(app: &TestApp) -> Vec<u8> {
    let db = app.db.url.trim_start_matches("sqlite://");
    let mut bytes = std::fs::read(db).unwrap();
    bytes.extend(std::fs::read(format!("{db}-wal")).unwrap_or_default());
    bytes
}

/// Ann sends Bob a message with a file; its id.
async fn sent_to_bob(app: &TestApp, p: &People, subject: &str, marking: &str) -> String {
    let mut m = message(&["bob@testshire.gov.uk"], subject, "Words to be shredded");
    m["marking"] = marking.into();
    send_ok(app, &p.ann, m, &[("notes.txt", b"file to be shredded".to_vec())]).await["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn a_message_past_its_days_is_shredded_and_its_readers_are_told_when_and_why() {
    let app = spawn_app_with(|s| {
        s.retention_days_official = 30;
        s.retention_days_sensitive = 0; // kept for ever
    })
    .await;
    let p = people(&app).await;
    let old = sent_to_bob(&app, &p, "Old case", "official").await;
    let held = sent_to_bob(&app, &p, "Held case", "official").await;
    let sensitive = sent_to_bob(&app, &p, "Sensitive case", "official-sensitive").await;
    let aid = body(app.read(&p.bob, &old).await).await["attachments"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let wrapped = app
        .state
        .store
        .fetch_bytes(&format!("SELECT wrapped FROM message_keys WHERE message_id = '{old}'"))
        .await
        .unwrap();
    assert_eq!(wrapped.len(), 1);
    let held_id = MessageId(held.parse().unwrap());
    let ig = app.create_user("ida@testshire.gov.uk", PASSWORD, sealpost_domain::Role::Ig).await;
    let event = |action| {
        AuditEvent::new(
            app.state.now_ms(),
            &Actor::User(ig),
            action,
            Some(Object::Message(held_id)),
            Outcome::Success,
            Origin::default(),
        )
    };
    let reason = "Litigation: case 12";
    assert!(
        app.state
            .store
            .place_legal_hold(held_id, reason, ig, app.state.now_ms(), &event(Action::MessageHoldPlaced))
            .await
            .unwrap()
    );
    assert!(
        !app.state
            .store
            .place_legal_hold(held_id, reason, ig, app.state.now_ms(), &event(Action::MessageHoldPlaced))
            .await
            .unwrap(),
        "once"
    );
    assert_eq!(app.blob_files().len(), 3);

    if app.db.url.starts_with("sqlite://") {
        assert!(
            on_disk(&app).windows(wrapped[0].len()).any(|w| w == wrapped[0].as_slice()),
            "the scan finds the key while it exists"
        );
    }
    app.clock.advance_minutes(29 * DAY_MINUTES);
    assert_eq!(run_retention(&app).await, 0, "not yet");
    app.clock.advance_minutes(2 * DAY_MINUTES);
    assert_eq!(run_retention(&app).await, 1, "the old one; the held and the kept stay");
    assert_eq!(run_retention(&app).await, 0, "once");

    // A month on: both sign in again and see the record, told when and why.
    let (ann, bob) = (
        app.sign_in("ann@testshire.gov.uk", PASSWORD).await,
        app.sign_in("bob@testshire.gov.uk", PASSWORD).await,
    );
    let inbox = body(app.list(&bob, "inbox").await).await;
    let row = inbox
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["id"] == old.as_str())
        .expect("still listed");
    assert!(
        row["subject"]
            .as_str()
            .unwrap()
            .starts_with("Deleted under the council's retention policy on "),
        "{row}"
    );
    assert!(row["deleted_at"].as_i64().is_some());
    for cookie in [&ann, &bob] {
        let read = app.read(cookie, &old).await;
        assert_eq!(read.status(), StatusCode::OK, "never an error");
        let detail = body(read).await;
        assert!(detail["body"].as_str().unwrap().contains("can no longer be opened"), "{detail}");
        assert_eq!(detail["attachments"], serde_json::json!([]));
        assert_eq!(detail["summary"]["reference"].as_str().unwrap().len(), 12, "the record stays");
    }
    assert_eq!(app.download(&bob, &old, &aid).await.status(), StatusCode::GONE);
    let found = body(app.get("/api/v1/search?q=shredded").header("cookie", &bob).send().await.unwrap()).await;
    let hits: Vec<&str> = found["hits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["found"]["id"].as_str().unwrap_or_default())
        .collect();
    assert!(
        !hits.contains(&old.as_str()) && hits.len() == 2,
        "search finds the two left, not the shredded one: {found}"
    );
    let answer = app.answer(&ann, &old, message(&["bob@testshire.gov.uk"], "Re", "x"), &[]).await;
    assert_eq!(answer.status(), StatusCode::GONE, "nothing of it opens to be answered");
    // The others open as before.
    for other in [&held, &sensitive] {
        assert_eq!(body(app.read(&bob, other).await).await["body"], "Words to be shredded");
    }

    // Gone for good: the key row, its bytes from the database file and WAL, and the file.
    assert!(
        app.state
            .store
            .fetch_bytes(&format!("SELECT wrapped FROM message_keys WHERE message_id = '{old}'"))
            .await
            .unwrap()
            .is_empty()
    );
    if app.db.url.starts_with("sqlite://") {
        assert!(
            !on_disk(&app).windows(wrapped[0].len()).any(|w| w == wrapped[0].as_slice()),
            "the wrapped key is still in the database file or the WAL"
        );
    }
    assert_eq!(app.blob_files().len(), 2, "its file went");
    assert!(app.audit_actions(&old).await.contains(&"message.shredded".to_owned()));
    let out = sealpost(&app, &["audit", "verify"], None);
    assert!(
        out.status.success(),
        "the chain is intact: {}",
        String::from_utf8_lossy(&out.stderr)
    );

    // Lifted, the hold no longer protects it.
    assert!(
        app.state
            .store
            .lift_legal_hold(held_id, &event(Action::MessageHoldLifted))
            .await
            .unwrap()
    );
    assert_eq!(run_retention(&app).await, 1);
}

#[tokio::test]
async fn sealpost_retention_run_shreds_what_is_due_from_the_command_line() {
    let app = spawn_app_with(|_| {}).await;
    let p = people(&app).await;
    let old = sent_to_bob(&app, &p, "Three years old", "official").await;
    let new = sent_to_bob(&app, &p, "New", "official").await;
    // Sent three years ago (the command runs on the real clock).
    let three_years = app.state.now_ms() - 3 * 365 * 86_400_000;
    app.state
        .store
        .execute_raw(&format!("UPDATE messages SET created_at = {three_years} WHERE id = '{old}'"))
        .await
        .unwrap();
    let out = sealpost(&app, &["retention", "run"], None);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("Deleted 1 message "),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(body(app.read(&p.bob, &old).await).await["summary"]["deleted_at"].is_i64());
    assert_eq!(body(app.read(&p.bob, &new).await).await["body"], "Words to be shredded");
}

/// `POST` (or `DELETE` with no body) of an IG lifecycle route: status and JSON.
async fn lifecycle(
    app: &TestApp,
    cookie: &str,
    method: reqwest::Method,
    path: &str,
    reason: Option<&str>,
) -> (StatusCode, serde_json::Value) {
    let mut request = app
        .client
        .request(method, format!("{}/api/v1/audit/messages/{path}", app.address))
        .header("x-sealpost-csrf", "1")
        .header("cookie", cookie);
    if let Some(reason) = reason {
        request = request.json(&serde_json::json!({ "reason": reason }));
    }
    let response = request.send().await.unwrap();
    (response.status(), body(response).await)
}

#[tokio::test]
async fn ig_holds_one_message_and_erases_another_and_the_dpo_and_administrators_are_told() {
    let sink = sealpost_mail::testing::SmtpSink::start(&[]).await.unwrap();
    let url = sink.url.clone();
    let app = spawn_app_with(move |s| {
        s.smtp_url = Some(sealpost_crypto::SecretString::from(url));
        s.dpo_email = Some(sealpost_domain::EmailAddress::parse("dpo@testshire.gov.uk").unwrap());
    })
    .await;
    let p = people(&app).await;
    let kept = sent_to_bob(&app, &p, "Evidence for the tribunal", "official").await;
    let wrong = sent_to_bob(&app, &p, "Sent to the wrong school", "official-sensitive").await;
    let reference_of = async |id: &str| {
        body(app.read(&p.ann, id).await).await["summary"]["reference"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let (kept_ref, wrong_ref) = (reference_of(&kept).await, reference_of(&wrong).await);
    app.create_user("ida@testshire.gov.uk", PASSWORD, sealpost_domain::Role::Ig).await;
    app.create_user("ad@testshire.gov.uk", PASSWORD, sealpost_domain::Role::Admin).await;
    let ida = app.sign_in("ida@testshire.gov.uk", PASSWORD).await;
    let post = reqwest::Method::POST;

    // Only IG; a reason is needed.
    let (status, _) = lifecycle(&app, &p.ann, post.clone(), &format!("{kept_ref}/hold"), Some("Tribunal case 2291")).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, e) = lifecycle(&app, &ida, post.clone(), &format!("{kept_ref}/hold"), Some("x")).await;
    assert_eq!((status, e["code"].as_str()), (StatusCode::BAD_REQUEST, Some("reason_required")));

    // The hold: on the timeline, and the message cannot be erased while it lasts.
    let (status, timeline) = lifecycle(&app, &ida, post.clone(), &format!("{kept_ref}/hold"), Some("Tribunal case 2291")).await;
    assert_eq!(status, StatusCode::OK, "{timeline}");
    assert_eq!(timeline["legal_hold"]["reason"], "Tribunal case 2291");
    assert!(
        timeline["legal_hold"]["placed_by"]
            .as_str()
            .unwrap()
            .contains("ida@testshire.gov.uk")
    );
    let (status, e) = lifecycle(&app, &ida, post.clone(), &format!("{kept_ref}/hold"), Some("Tribunal case 2291")).await;
    assert_eq!((status, e["code"].as_str()), (StatusCode::BAD_REQUEST, Some("already_held")));
    let (status, e) = lifecycle(
        &app,
        &ida,
        post.clone(),
        &format!("{kept_ref}/erase"),
        Some("Tidying up the old case"),
    )
    .await;
    assert_eq!((status, e["code"].as_str()), (StatusCode::BAD_REQUEST, Some("on_legal_hold")));

    // The erasure: the record says who, when and why; the readers are told; nothing opens.
    let why = "Sent to the wrong school by mistake; the school has confirmed deletion";
    let (status, timeline) = lifecycle(&app, &ida, post.clone(), &format!("{wrong_ref}/erase"), Some(why)).await;
    assert_eq!(status, StatusCode::OK, "{timeline}");
    assert_eq!(timeline["deleted"]["erased"], true);
    assert_eq!(timeline["deleted"]["reason"], why);
    assert!(
        timeline["events"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["action"] == "message.shredded"),
        "{timeline}"
    );
    let detail = body(app.read(&p.bob, &wrong).await).await;
    assert!(
        detail["summary"]["subject"]
            .as_str()
            .unwrap()
            .starts_with("Erased by the council's information governance team on "),
        "{detail}"
    );
    assert_eq!(
        body(app.read(&p.bob, &kept).await).await["body"],
        "Words to be shredded",
        "the held one is untouched"
    );
    let (status, _) = lifecycle(&app, &ida, post.clone(), &format!("{wrong_ref}/erase"), Some(why)).await;
    assert_eq!(status, StatusCode::GONE, "once");
    let (status, _) = lifecycle(&app, &ida, post.clone(), &format!("{wrong_ref}/hold"), Some("Too late for this")).await;
    assert_eq!(status, StatusCode::GONE, "nothing left to hold");
    for to in ["dpo@testshire.gov.uk", "ad@testshire.gov.uk"] {
        let told = sink
            .received()
            .into_iter()
            .find(|m| m.contains(&format!("To: {to}")) && m.contains("Erased:"))
            .expect(to);
        assert!(told.contains(&wrong_ref) && told.contains("wrong school by mistake"), "{told}");
        assert!(!told.contains("Words to be shredded"), "no content");
    }

    // Lifted: the timeline says so, and lifting twice is refused.
    let (status, timeline) = lifecycle(&app, &ida, reqwest::Method::DELETE, &format!("{kept_ref}/hold"), None).await;
    assert_eq!(status, StatusCode::OK);
    assert!(timeline.get("legal_hold").is_none(), "{timeline}");
    let (status, e) = lifecycle(&app, &ida, reqwest::Method::DELETE, &format!("{kept_ref}/hold"), None).await;
    assert_eq!((status, e["code"].as_str()), (StatusCode::BAD_REQUEST, Some("not_held")));
    let actions = app.audit_actions(&kept).await;
    assert!(
        actions.contains(&"message.hold_placed".to_owned()) && actions.contains(&"message.hold_lifted".to_owned()),
        "{actions:?}"
    );
}

#[tokio::test]
async fn sealpost_backup_copies_the_database_and_files_with_a_manifest_of_their_hashes() {
    let app = spawn_app_with(|_| {}).await;
    let p = people(&app).await;
    for n in 0..3 {
        sent_to_bob(&app, &p, &format!("Backed up {n}"), "official").await;
    }
    let out_dir = app.dir.path().join("backup");
    let out = sealpost(&app, &["backup", "--out", out_dir.to_str().unwrap()], None);
    if !app.db.url.starts_with("sqlite://") {
        assert!(!out.status.success() && String::from_utf8_lossy(&out.stderr).contains("pg_dump"));
        return;
    }
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let manifest = std::fs::read_to_string(out_dir.join("manifest.txt")).unwrap();
    let files: Vec<(&str, &str)> = manifest
        .lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| l.split_once("  "))
        .collect();
    assert_eq!(files.len(), 4, "the database and three files: {manifest}");
    for (hash, path) in &files {
        assert_eq!(
            *hash,
            sealpost_crypto::sha256_hex(&std::fs::read(out_dir.join(path)).unwrap()),
            "{path}"
        );
    }
    let head = app.state.store.audit_head().await.unwrap();
    assert!(
        manifest.contains(&format!("# audit head {head} ")),
        "the chain's head when it was taken: {manifest}"
    );
    // The copy is a whole database with the three messages.
    let copy = sealpost_storage::Store::connect(&format!("sqlite://{}", out_dir.join("sealpost.db").display()))
        .await
        .unwrap();
    assert_eq!(copy.fetch_texts("SELECT id FROM messages").await.unwrap().len(), 3);
    // Never over an earlier backup.
    let again = sealpost(&app, &["backup", "--out", out_dir.to_str().unwrap()], None);
    assert!(!again.status.success() && String::from_utf8_lossy(&again.stderr).contains("is not empty"));
}
