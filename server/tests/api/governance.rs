//! The IG console's API (PRODUCT journey 6): an IG officer finds a message by reference and
//! sees its whole history without its content; searches by person, action, outcome and date;
//! pages; exports formula-safe CSV, itself recorded. Everyone else gets 403.

use reqwest::StatusCode;
use sealpost_domain::Role;
use serde_json::{Value, json};

use crate::test_app::{PASSWORD, TestApp, body, spawn_app_with_smtp};

const PARTNER: &str = "pc.jones@police.example.uk";

/// Ann (staff) and Ida (IG), signed in.
async fn ann_and_ida(app: &TestApp) -> (String, String) {
    app.create_user("ann@testshire.gov.uk", PASSWORD, Role::Staff).await;
    app.create_user("ida@testshire.gov.uk", PASSWORD, Role::Ig).await;
    (
        app.sign_in("ann@testshire.gov.uk", PASSWORD).await,
        app.sign_in("ida@testshire.gov.uk", PASSWORD).await,
    )
}

async fn get(app: &TestApp, cookie: &str, path: &str) -> (StatusCode, Value) {
    let r = app.get(path).header("cookie", cookie).send().await.unwrap();
    let status = r.status();
    let text = r.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
}

fn actions(events: &Value) -> Vec<String> {
    events
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn an_ig_officer_sees_a_messages_whole_history_by_reference_and_never_its_content() {
    let (app, sink) = spawn_app_with_smtp(&[]).await;
    let (ann, ida) = ann_and_ida(&app).await;
    let (id, token) = app.send_file_to_partner(&sink, PARTNER, b"%PDF canary-FILE").await;
    let partner = app.portal_sign_in(&sink, &token, None).await;
    let detail = body(app.portal_message(&partner, &id).await).await;
    let aid = detail["attachments"][0]["id"].as_str().unwrap().to_owned();
    assert_eq!(app.portal_download(&partner, &id, &aid).await.status(), StatusCode::OK);
    let reference = body(app.read(&ann, &id).await).await["summary"]["reference"]
        .as_str()
        .unwrap()
        .to_owned();

    // As an officer types it: lower case, without the prefix. (Replacing every "sp-" failed
    // once in CI: a reference such as SP-K9SP-… holds it inside too.)
    let typed = reference.strip_prefix("SP-").unwrap().to_lowercase();
    let (status, t) = get(&app, &ida, &format!("/api/v1/audit/messages/{typed}")).await;
    assert_eq!(status, StatusCode::OK, "{t}");
    assert_eq!(t["reference"], reference.as_str());
    assert_eq!(t["sender"], "Test Person (ann@testshire.gov.uk)");
    let trail = &t["recipients"][0];
    assert_eq!(trail["address"], PARTNER);
    assert!(trail["notified_at_ms"].is_i64());
    assert_eq!((trail["opens"].as_i64(), trail["downloads"].as_i64()), (Some(1), Some(1)));
    assert_eq!(trail["failed_attempts"], 0);
    let want = [
        "message.send",
        "notification.sent",
        "portal.redeem",
        "portal.code_sent",
        "portal.verified",
        "message.read",
        "attachment.download",
        "message.read",
    ];
    assert_eq!(actions(&t["events"]), want, "the partner's steps, then Ann's own read");
    let download = &t["events"][6];
    assert_eq!(download["actor_label"], PARTNER);
    assert_eq!(download["action_label"], "Downloaded a file");
    assert_eq!(download["reference"], reference.as_str());
    let detail = download["detail"].as_str().unwrap();
    assert!(
        detail.starts_with("a file of ") && detail.contains("bytes (id "),
        "its size, never its name: {detail}"
    );
    assert!(download["ip"].is_string() && download["request_id"].is_string());
    let text = t.to_string();
    for content in ["Referral", "Details inside", "referral.pdf", "canary-FILE"] {
        assert!(!text.contains(content), "{content} must not reach IG");
    }

    // The search by reference pages through the same events, newest first.
    let (_, page) = get(&app, &ida, &format!("/api/v1/audit/events?reference={reference}")).await;
    let mut newest_first = want.map(String::from).to_vec();
    newest_first.reverse();
    assert_eq!(actions(&page["events"]), newest_first);
    assert_eq!(page["next_before"], Value::Null);
    let (status, _) = get(&app, &ida, "/api/v1/audit/messages/SP-2222-2222").await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // The partner's own view holds what they did and what concerned them: their notification.
    let (_, person) = get(&app, &ida, &format!("/api/v1/audit/events?person={PARTNER}")).await;
    let theirs = actions(&person["events"]);
    assert_eq!(theirs.iter().filter(|a| *a == "notification.sent").count(), 1, "{theirs:?}");
    assert!(theirs.contains(&"attachment.download".to_owned()) && !theirs.contains(&"message.send".to_owned()));
    assert_eq!(person["person_label"], format!("{PARTNER}, external recipient"));
    // Part of an address, a domain for instance, finds the same person...
    let (_, by_domain) = get(&app, &ida, "/api/v1/audit/events?person=POLICE.example").await;
    assert_eq!(actions(&by_domain["events"]), theirs);
    assert_eq!(by_domain["person_label"], format!("{PARTNER}, external recipient"));
    // ...or everyone who matches, named in the label.
    let (_, council) = get(&app, &ida, "/api/v1/audit/events?person=testshire.gov").await;
    let label = council["person_label"].as_str().unwrap();
    assert!(
        label.contains("people whose address contains “testshire.gov”") && label.contains("ann@testshire.gov.uk"),
        "{label}"
    );
    assert!(
        actions(&council["events"]).contains(&"message.send".to_owned()),
        "Ann's send is among them"
    );

    // Exporting this message's events records what was exported, and carries no content.
    let (status, csv) = get(&app, &ida, &format!("/api/v1/audit/export?reference={reference}")).await;
    assert_eq!(status, StatusCode::OK);
    let csv = csv.as_str().unwrap().to_owned();
    for content in ["Referral", "Details inside", "referral.pdf", "canary-FILE"] {
        assert!(!csv.contains(content), "{content} must not be exported");
    }
    let exported = app
        .state
        .store
        .audit_chain_page(app.state.store.audit_head().await.unwrap().seq - 1, 1)
        .await
        .unwrap();
    assert_eq!(exported[0].event.action, "audit.export");
    assert_eq!(exported[0].event.object.as_deref(), Some(format!("message:{id}").as_str()));
}

#[tokio::test]
async fn searches_filter_by_person_action_outcome_and_date_and_page_newest_first() {
    let (app, _sink) = spawn_app_with_smtp(&[]).await;
    let (ann, ida) = ann_and_ida(&app).await;
    for _ in 0..3 {
        assert_eq!(
            app.login("ann@testshire.gov.uk", "wrong password here").await.status(),
            StatusCode::UNAUTHORIZED
        );
    }
    for i in 0..55 {
        let m = json!({"recipients": ["ida@testshire.gov.uk"], "subject": format!("S{i}"), "body": "b"});
        assert_eq!(app.send(&ann, m, &[]).await.status(), StatusCode::OK);
    }

    let (_, failures) = get(&app, &ida, "/api/v1/audit/events?person=ANN@testshire.gov.uk&outcome=failure").await;
    let events = failures["events"].as_array().unwrap();
    assert_eq!(events.len(), 3);
    assert!(
        events
            .iter()
            .all(|e| e["action"] == "auth.sign_in" && e["actor_label"] == "someone signing in as ann@testshire.gov.uk")
    );
    assert_eq!(failures["person_label"], "Test Person (ann@testshire.gov.uk), staff");

    let (_, first) = get(&app, &ida, "/api/v1/audit/events?person=ann@testshire.gov.uk&action=message.send").await;
    assert_eq!(first["events"].as_array().unwrap().len(), 50);
    let before = first["next_before"].as_i64().expect("a second page");
    let (_, second) = get(
        &app,
        &ida,
        &format!("/api/v1/audit/events?person=ann@testshire.gov.uk&action=message.send&before={before}"),
    )
    .await;
    assert_eq!(second["events"].as_array().unwrap().len(), 5);
    assert_eq!(second["next_before"], Value::Null);
    let seqs: Vec<i64> = [&first, &second]
        .iter()
        .flat_map(|p| p["events"].as_array().unwrap().iter().map(|e| e["seq"].as_i64().unwrap()))
        .collect();
    assert!(seqs.windows(2).all(|w| w[0] > w[1]), "newest first, no repeats across pages");

    let today = &sealpost_domain::time::rfc3339(app.state.now_ms())[..10];
    let (_, dated) = get(
        &app,
        &ida,
        &format!("/api/v1/audit/events?from={today}&to={today}&action=auth.sign_in&outcome=success"),
    )
    .await;
    assert_eq!(dated["events"].as_array().unwrap().len(), 2, "Ann's and Ida's sign-ins today");
    let (_, none) = get(&app, &ida, "/api/v1/audit/events?from=2001-01-01&to=2001-01-31").await;
    assert_eq!(none["events"], json!([]));

    for (query, code) in [
        ("reference=nonsense", "invalid_reference"),
        ("reference=SP-2222-2222", "unknown_reference"),
        ("person=ab", "invalid_person"),
        ("person=nobody-like-this", "unknown_person"),
        ("action=message.delete", "invalid_action"),
        ("outcome=maybe", "invalid_outcome"),
        ("from=01/12/2026", "invalid_date"),
        ("from=2026-12-02&to=2026-12-01", "invalid_date"),
    ] {
        let (status, error) = get(&app, &ida, &format!("/api/v1/audit/events?{query}")).await;
        assert_eq!(
            (status, error["code"].as_str()),
            (StatusCode::BAD_REQUEST, Some(code)),
            "{query}: {error}"
        );
        assert!(error["message"].as_str().is_some_and(|m| !m.is_empty()));
    }
}

#[tokio::test]
async fn only_ig_officers_reach_the_audit_api() {
    let (app, _sink) = spawn_app_with_smtp(&[]).await;
    let (ann, _) = ann_and_ida(&app).await;
    app.create_user("ad@testshire.gov.uk", PASSWORD, Role::Admin).await;
    let admin = app.sign_in("ad@testshire.gov.uk", PASSWORD).await;
    for cookie in [&ann, &admin] {
        for path in [
            "/api/v1/audit/events",
            "/api/v1/audit/export",
            "/api/v1/audit/messages/SP-2222-2222",
        ] {
            assert_eq!(get(&app, cookie, path).await.0, StatusCode::FORBIDDEN, "{path}");
        }
    }
    for path in ["/api/v1/audit/events", "/api/v1/audit/export"] {
        assert_eq!(app.get(path).send().await.unwrap().status(), StatusCode::UNAUTHORIZED);
    }
}

#[tokio::test]
async fn a_csv_export_is_recorded_first_and_is_safe_to_open_in_a_spreadsheet() {
    let (app, _sink) = spawn_app_with_smtp(&[]).await;
    let (_, ida) = ann_and_ida(&app).await;
    // A user agent a spreadsheet would run as a formula, sent with a failed sign-in.
    let formula = "=HYPERLINK(\"http://evil.example\")";
    app.post("/api/v1/auth/login")
        .header("user-agent", formula)
        .json(&json!({ "email": "ann@testshire.gov.uk", "password": "wrong password here" }))
        .send()
        .await
        .unwrap();
    let r = app.get("/api/v1/audit/export").header("cookie", &ida).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["content-type"], "text/csv; charset=utf-8");
    assert!(
        r.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("attachment; filename=\"sealpost-audit-")
    );
    let csv = r.text().await.unwrap();
    let lines: Vec<&str> = csv.split("\r\n").filter(|l| !l.is_empty()).collect();
    assert!(lines[0].starts_with("seq,time_utc,actor,actor_name,action"));
    let last = lines.last().unwrap();
    assert!(
        last.contains(",audit.export,"),
        "the export records itself before it is written: {last}"
    );
    for line in &lines[1..] {
        for cell in line.split(',') {
            assert!(!cell.trim_start_matches('"').starts_with(['=', '+', '-', '@']), "{line}");
        }
    }
    assert!(
        csv.contains("\"'=HYPERLINK(\"\"http://evil.example\"\")\""),
        "kept, quoted and defused: {csv}"
    );
    let head = app.state.store.audit_head().await.unwrap();
    assert_eq!(lines.len() as i64 - 1, head.seq, "every event, once");
}

#[tokio::test]
async fn sealpost_audit_export_writes_the_days_asked_for_and_records_itself() {
    let (app, _sink) = spawn_app_with_smtp(&[]).await;
    ann_and_ida(&app).await;
    let today = sealpost_domain::time::rfc3339(app.state.now_ms())[..10].to_owned();
    let file = app.dir.path().join("export.csv");
    let args = ["audit", "export", "--from", &today, "--to", &today, "--out", file.to_str().unwrap()];
    let out = crate::cli::sealpost(&app, &args, None);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(said.contains("Wrote 3 events"), "the two sign-ins and the export itself: {said}");
    let csv = std::fs::read_to_string(&file).unwrap();
    assert_eq!(csv.matches(",auth.sign_in,").count(), 2);
    let last = app.state.store.audit_chain_page(2, 10).await.unwrap();
    assert_eq!(
        (last[0].event.action.as_str(), last[0].event.actor.as_str()),
        ("audit.export", "system")
    );
    let bad = crate::cli::sealpost(&app, &["audit", "export", "--from", "yesterday"], None);
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("write the date as YYYY-MM-DD"));
}

#[tokio::test]
async fn the_sender_sees_from_the_log_when_a_partner_opened_what_they_downloaded_and_failed_attempts() {
    let (app, sink) = spawn_app_with_smtp(&[]).await;
    let (ann, _) = ann_and_ida(&app).await;
    let (id, token) = app.send_file_to_partner(&sink, PARTNER, b"%PDF").await;
    let before = body(app.read(&ann, &id).await).await;
    let activity = &before["recipients"][0]["activity"];
    assert_eq!(
        (activity["opens"].as_i64(), activity["first_opened_at_ms"].as_i64()),
        (Some(0), None)
    );

    let guessing = app.portal_redeem(&token).await;
    let wrong = app
        .post("/api/v1/portal/verify")
        .header("cookie", &guessing)
        .json(&json!({ "code": "000000" }))
        .send()
        .await
        .unwrap();
    assert!(wrong.status().is_client_error());
    let partner = app.portal_sign_in(&sink, &token, None).await;
    let detail = body(app.portal_message(&partner, &id).await).await;
    let aid = detail["attachments"][0]["id"].as_str().unwrap().to_owned();
    for _ in 0..2 {
        assert_eq!(app.portal_download(&partner, &id, &aid).await.status(), StatusCode::OK);
    }
    let after = body(app.read(&ann, &id).await).await;
    let activity = &after["recipients"][0]["activity"];
    assert_eq!(activity["opens"], 1);
    assert_eq!(activity["downloads"], 2);
    assert_eq!(activity["downloaded"], serde_json::json!([aid]), "which file, once, by id");
    assert_eq!(activity["failed_attempts"], 1);
    assert!(activity["first_opened_at_ms"].is_i64() && activity["notified_at_ms"].is_i64());
    let listed = body(app.list(&ann, "sent").await).await;
    assert!(listed[0]["recipients"][0].get("activity").is_none(), "the list stays light");
}
