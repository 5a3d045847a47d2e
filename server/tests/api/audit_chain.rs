//! The audit chain end to end (SECURITY F3, F4, F6): what the server records verifies with
//! `sealpost audit verify`; an event edited behind the server's back is named; an exported
//! checkpoint must still be on the chain.

use reqwest::StatusCode;
use sealpost_domain::Role;
use sealpost_storage::Store;

use crate::cli::sealpost;
use crate::staff::{people, send_file_to_bob};
use crate::test_app::{PASSWORD, TestApp, body, spawn_app};

/// Edits event `seq` directly in the database, lifting the append-only guard as someone with
/// the database's owner rights could.
async fn tamper(app: &TestApp, seq: i64) {
    let edit = format!("UPDATE audit_events SET actor = 'user:someone-else' WHERE seq = {seq}");
    match &app.state.store {
        Store::Sqlite(pool) => {
            sqlx::raw_sql("DROP TRIGGER audit_events_no_update").execute(pool).await.unwrap();
            sqlx::raw_sql(&edit).execute(pool).await.unwrap();
        }
        Store::Postgres(pool) => {
            let sql = format!("ALTER TABLE audit_events DISABLE TRIGGER audit_events_no_change; {edit}");
            sqlx::raw_sql(&sql).execute(pool).await.unwrap();
        }
    }
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
