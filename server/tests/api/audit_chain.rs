//! The audit chain end to end (SECURITY F3, F4, F6): what the server records verifies with
//! `sealpost audit verify`; an event edited behind the server's back is named; an exported
//! checkpoint must still be on the chain.

use reqwest::StatusCode;
use sealpost_domain::Role;

use crate::cli::sealpost;
use crate::staff::{people, send_file_to_bob};
use crate::test_app::{PASSWORD, TestApp, body, spawn_app};

/// Edits event `seq` directly in the database, lifting the append-only guard as someone with
/// the database's owner rights could.
async fn tamper(app: &TestApp, seq: i64) {
    let edit = format!("UPDATE audit_events SET actor = 'user:someone-else' WHERE seq = {seq}");
    let sql = match app.state.store.backend() {
        "sqlite" => format!("DROP TRIGGER audit_events_no_update; {edit}"),
        _ => format!("ALTER TABLE audit_events DISABLE TRIGGER audit_events_no_change; {edit}"),
    };
    app.state.store.execute_raw(&sql).await.unwrap();
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[tokio::test]
async fn audit_verify_reports_the_head_names_an_edited_event_and_holds_to_a_checkpoint() {
    let app = spawn_app().await;
    let p = people(&app).await;
    send_file_to_bob(&app, &p, "Chained", "Body", ("f.txt", b"bytes")).await;
    let out = sealpost(&app, &["audit", "verify"], None);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    let head = app.state.store.audit_head().await.unwrap();
    assert!(head.seq >= 2, "the send and the read were recorded");
    assert!(stdout.contains(&format!("intact: {} events, head {head}", head.seq)), "{stdout}");

    // More activity: the earlier head is still on the chain.
    send_file_to_bob(&app, &p, "Later", "Body", ("g.txt", b"more")).await;
    let checkpoint = head.to_string();
    let held = sealpost(&app, &["audit", "verify", "--checkpoint", &checkpoint], None);
    assert!(held.status.success(), "{}", text(&held.stderr));
    let forged = format!("{}:{}", head.seq, "ab".repeat(32));
    let refused = sealpost(&app, &["audit", "verify", "--checkpoint", &forged], None);
    assert!(!refused.status.success());
    assert!(text(&refused.stderr).contains(&format!("does not match the checkpoint at event {}", head.seq)));
    let malformed = sealpost(&app, &["audit", "verify", "--checkpoint", "12"], None);
    assert!(text(&malformed.stderr).contains("SEQ:HASH"));

    tamper(&app, 2).await;
    let broken = sealpost(&app, &["audit", "verify"], None);
    assert!(!broken.status.success());
    assert!(
        text(&broken.stderr).contains("NOT intact: event 2 was altered"),
        "{}",
        text(&broken.stderr)
    );
}

#[tokio::test]
async fn an_ig_officer_verifies_the_chain_staff_may_not_and_the_check_is_itself_recorded() {
    let app = spawn_app().await;
    let p = people(&app).await;
    app.create_user("ida@testshire.gov.uk", PASSWORD, Role::Ig).await;
    let ida = app.sign_in("ida@testshire.gov.uk", PASSWORD).await;
    send_file_to_bob(&app, &p, "Chained", "Body", ("f.txt", b"bytes")).await;
    let verify = |cookie: String| {
        let app = &app;
        async move { app.post("/api/v1/audit/verify").header("cookie", cookie).send().await.unwrap() }
    };
    assert_eq!(verify(p.ann.clone()).await.status(), StatusCode::FORBIDDEN, "staff do not verify");

    let before = app.state.store.audit_head().await.unwrap();
    let result = body(verify(ida.clone()).await).await;
    assert_eq!(result["intact"], true);
    assert_eq!(result["events"], before.seq);
    assert_eq!(result["head"], before.to_string());
    let after = app.state.store.audit_chain_page(before.seq, 10).await.unwrap();
    assert_eq!(after.len(), 1);
    assert_eq!(
        (after[0].event.action.as_str(), after[0].event.outcome.as_str()),
        ("audit.verify", "success")
    );

    tamper(&app, 3).await;
    let broken = body(verify(ida).await).await;
    assert_eq!(broken["intact"], false);
    assert_eq!(broken["events"], 2);
    assert!(broken["problem"].as_str().unwrap().contains("event 3 was altered"), "{broken}");
}

/// Rewrites the whole log as an attacker with the database (but not the key directory) could:
/// `edit` changes the events, every hash is recomputed so the chain is self-consistent, and
/// the rows are replaced with the guards lifted. With `drop_checkpoints`, the stored signed
/// checkpoints go too.
async fn rewrite_whole_log(app: &TestApp, edit: impl Fn(&mut sealpost_audit::AuditEvent), drop_checkpoints: bool) {
    use sealpost_audit::chain::{ChainedEvent, GENESIS};
    let old = app.state.store.audit_chain_page(0, 100_000).await.unwrap();
    let (mut seq, mut hash) = (0, GENESIS);
    let sqlite = app.state.store.backend() == "sqlite";
    let blob = |h: &[u8]| {
        let hex = sealpost_domain::hex::encode(h);
        if sqlite {
            format!("X'{hex}'")
        } else {
            format!("'\\x{hex}'::bytea")
        }
    };
    let text = |t: &Option<String>| t.as_ref().map_or("NULL".to_owned(), |t| format!("'{}'", t.replace('\'', "''")));
    let mut sql = String::from(if sqlite {
        "DROP TRIGGER IF EXISTS audit_events_no_delete; DROP TRIGGER IF EXISTS audit_checkpoints_no_delete; DELETE FROM audit_events;"
    } else {
        "ALTER TABLE audit_events DISABLE TRIGGER audit_events_no_change; \
         ALTER TABLE audit_checkpoints DISABLE TRIGGER audit_checkpoints_no_change; DELETE FROM audit_events;"
    });
    for e in old {
        let mut event = e.event;
        edit(&mut event);
        let c = ChainedEvent::link(event, seq, hash);
        (seq, hash) = (c.seq, c.hash);
        let e = &c.event;
        sql += &format!(
            "INSERT INTO audit_events (seq, at, actor, action, object, outcome, ip, user_agent, request_id, prev_hash, hash) \
             VALUES ({}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {});",
            c.seq,
            e.at_ms,
            text(&Some(e.actor.clone())),
            text(&Some(e.action.clone())),
            text(&e.object),
            text(&Some(e.outcome.clone())),
            text(&e.origin.ip),
            text(&e.origin.user_agent),
            text(&e.origin.request_id),
            blob(&c.prev_hash),
            blob(&c.hash)
        );
    }
    if drop_checkpoints {
        sql += "DELETE FROM audit_checkpoints;";
    }
    app.state.store.execute_raw(&sql).await.unwrap();
}

#[tokio::test]
async fn a_whole_table_rewrite_is_caught_against_a_signed_exported_checkpoint() {
    let app = spawn_app().await;
    let p = people(&app).await;
    send_file_to_bob(&app, &p, "Chained", "Body", ("f.txt", b"bytes")).await;
    let file = app.dir.path().join("checkpoint.txt");
    let file = file.to_str().unwrap();
    let out = sealpost(&app, &["audit", "checkpoint", "--out", file], None);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let head = app.state.store.audit_head().await.unwrap();
    let exported = std::fs::read_to_string(file).unwrap();
    assert!(exported.contains(&format!("head: {head}")), "{exported}");
    send_file_to_bob(&app, &p, "Later", "Body", ("g.txt", b"more")).await;
    let ok = sealpost(&app, &["audit", "verify", "--checkpoint-file", file], None);
    assert!(ok.status.success(), "{}", text(&ok.stderr));
    assert!(text(&ok.stdout).contains("checked against 1 signed checkpoint and the ones given"));

    // A file altered by hand, or signed by another key, proves nothing.
    let bent = app.dir.path().join("bent.txt");
    let bent_head = format!("head: {}:{}", head.seq, "00".repeat(32));
    std::fs::write(&bent, exported.replace(&format!("head: {head}"), &bent_head)).unwrap();
    let refused = sealpost(&app, &["audit", "verify", "--checkpoint-file", bent.to_str().unwrap()], None);
    assert!(
        text(&refused.stderr).contains("is not signed by this server's audit key"),
        "{}",
        text(&refused.stderr)
    );

    // The stored checkpoint alone catches a rewrite that leaves it in place…
    rewrite_whole_log(&app, |e| e.actor = e.actor.replace("user:", "user:x"), false).await;
    let caught = sealpost(&app, &["audit", "verify"], None);
    assert!(
        text(&caught.stderr).contains(&format!("does not match the checkpoint at event {}", head.seq)),
        "{}",
        text(&caught.stderr)
    );
    // …and when the attacker deletes the checkpoints too, the record of the last checkpoint
    // signed, kept in the key directory, still catches it, and the signer refuses to vouch for
    // the rewritten chain.
    rewrite_whole_log(&app, |_| {}, true).await;
    let caught = sealpost(&app, &["audit", "verify"], None);
    assert!(text(&caught.stderr).contains(&format!("does not match the checkpoint at event {}", head.seq)));
    let refused = sealpost(&app, &["audit", "checkpoint"], None);
    assert!(!refused.status.success());
    assert!(
        text(&refused.stderr).contains("no checkpoint was signed"),
        "{}",
        text(&refused.stderr)
    );
    // Verified from elsewhere, with only the public key, the rewrite is self-consistent: only
    // the checkpoint file kept outside can tell.
    std::fs::remove_file(app.dir.path().join("keys/audit-last-checkpoint.txt")).unwrap();
    let fooled = sealpost(&app, &["audit", "verify"], None);
    assert!(fooled.status.success(), "a consistent rewrite verifies on its own");
    let caught = sealpost(&app, &["audit", "verify", "--checkpoint-file", file], None);
    assert!(!caught.status.success());
    assert!(text(&caught.stderr).contains(&format!("does not match the checkpoint at event {}", head.seq)));
}

#[tokio::test]
async fn the_server_signs_checkpoints_as_events_accrue_and_refuses_a_forged_one() {
    let app = crate::test_app::spawn_app_with(|s| s.audit_checkpoint_events = 3).await;
    let p = people(&app).await;
    send_file_to_bob(&app, &p, "Chained", "Body", ("f.txt", b"bytes")).await;
    let mut latest = None;
    for _ in 0..100 {
        latest = app
            .state
            .store
            .latest_audit_checkpoint_by(&app.state.audit_key.verify_key().to_bytes())
            .await
            .unwrap();
        if latest.is_some() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    let latest = latest.expect("the worker signed a checkpoint within 20 s");
    let key = app.state.audit_key.verify_key();
    assert!(key.verifies(&latest.checkpoint.signed_bytes(), &latest.signature));
    assert_eq!(latest.key, key.to_bytes());
    let verified = sealpost_server::app::audit::verify_chain(&app.state.store, &key, &[], &[])
        .await
        .unwrap()
        .unwrap();
    assert!(verified.checkpoints >= 1);

    // A checkpoint row written by someone without the key is named as forged.
    let mut forged = latest;
    forged.checkpoint.head = app.state.store.audit_head().await.unwrap();
    forged.checkpoint.head.seq += 1;
    assert!(app.state.store.insert_audit_checkpoint(&forged).await.unwrap());
    let broken = sealpost_server::app::audit::verify_chain(&app.state.store, &key, &[], &[])
        .await
        .unwrap();
    assert_eq!(
        broken,
        Err(sealpost_audit::chain::Break::Forged {
            seq: forged.checkpoint.head.seq
        })
    );
}

#[tokio::test]
async fn concurrent_records_share_group_commits_and_each_caller_learns_its_own_outcome() {
    let app = spawn_app().await;
    let event = |i: i64| sealpost_audit::AuditEvent {
        at_ms: i,
        actor: format!("user:caller-{i}"),
        action: "message.read".into(),
        object: None,
        outcome: "success".into(),
        origin: Default::default(),
    };
    let callers: Vec<_> = (0..300)
        .map(|i| {
            let writer = app.state.audit.clone();
            tokio::spawn(async move { writer.append(event(i)).await })
        })
        .collect();
    let mut seqs = Vec::new();
    for c in callers {
        seqs.push(c.await.unwrap().expect("committed"));
    }
    seqs.sort_unstable();
    assert_eq!(seqs, (1..=300).collect::<Vec<i64>>(), "each caller got its own place in the chain");
    let chain = app.state.store.audit_chain_page(0, 1000).await.unwrap();
    sealpost_audit::chain::verify(&chain, None).unwrap();
    for (i, e) in chain.iter().enumerate() {
        assert_eq!(e.seq, seqs[i]);
    }

    // When the table cannot be written, every waiting caller is told, and nothing is stored.
    let rename = "ALTER TABLE audit_events RENAME TO audit_events_gone";
    app.state.store.execute_raw(rename).await.unwrap();
    let failing: Vec<_> = (0..20)
        .map(|i| {
            let writer = app.state.audit.clone();
            tokio::spawn(async move { writer.append(event(1000 + i)).await })
        })
        .collect();
    for f in failing {
        assert!(f.await.unwrap().is_err());
    }
}

#[tokio::test]
async fn an_ig_officer_downloads_the_newest_signed_checkpoint_and_it_verifies_from_a_file() {
    let app = spawn_app().await;
    let p = people(&app).await;
    app.create_user("ida@testshire.gov.uk", PASSWORD, Role::Ig).await;
    let ida = app.sign_in("ida@testshire.gov.uk", PASSWORD).await;
    let fetch = |cookie: String| {
        let app = &app;
        async move { app.get("/api/v1/audit/checkpoint").header("cookie", cookie).send().await.unwrap() }
    };
    assert_eq!(fetch(p.ann.clone()).await.status(), StatusCode::FORBIDDEN, "IG only");
    assert_eq!(fetch(ida.clone()).await.status(), StatusCode::NOT_FOUND, "none signed yet");
    let before = app.state.store.audit_head().await.unwrap();
    let again = fetch(ida.clone()).await;
    assert_eq!(again.status(), StatusCode::NOT_FOUND, "the GET signs nothing itself");
    // Verifying (a POST) signs the intact chain as it stands, its own event included.
    let verified = app.post("/api/v1/audit/verify").header("cookie", &ida).send().await.unwrap();
    assert_eq!(body(verified).await["intact"], true);
    let head = app.state.store.audit_head().await.unwrap();
    assert!(head.seq > before.seq);
    let file = fetch(ida).await;
    assert_eq!(file.status(), StatusCode::OK);
    let disposition = file.headers()["content-disposition"].to_str().unwrap().to_owned();
    assert_eq!(
        disposition,
        format!("attachment; filename=\"sealpost-checkpoint-{}.txt\"", head.seq)
    );
    let path = app.dir.path().join("kept-elsewhere.txt");
    std::fs::write(&path, file.text().await.unwrap()).unwrap();
    let verified = crate::cli::sealpost(&app, &["audit", "verify", "--checkpoint-file", path.to_str().unwrap()], None);
    assert!(verified.status.success(), "{}", String::from_utf8_lossy(&verified.stderr));
    let actions = app.state.store.audit_chain_page(0, 1000).await.unwrap();
    assert!(actions.iter().any(|e| e.event.action == "audit.export"), "the download is recorded");
}
