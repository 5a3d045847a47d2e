//! Upload and text limits (SECURITY D5, D6): accepted at the limit, refused one over with a
//! clear message, and a refused send leaves nothing behind.

use reqwest::StatusCode;
use serde_json::json;

use crate::staff::{message, people, send_ok};
use crate::test_app::{body, spawn_app, spawn_app_with};

#[tokio::test]
async fn attachments_at_the_limit_are_accepted_and_one_byte_over_is_refused_with_413() {
    let app = spawn_app_with(|s| {
        s.max_attachment_mib = 1;
        s.max_message_mib = 2;
    })
    .await;
    let p = people(&app).await;
    let mib = 1024 * 1024;
    let to = message(&["bob@testshire.gov.uk"], "Sizes", "");
    send_ok(&app, &p.ann, to.clone(), &[("exact.bin", vec![7u8; mib])]).await;
    let over = app.send(&p.ann, to.clone(), &[("big.bin", vec![7u8; mib + 1])]).await;
    assert_eq!(over.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(body(over).await["message"], "“big.bin” is larger than the 1 MB limit for one file.");
    let total = app
        .send(&p.ann, to, &[("a", vec![1u8; mib]), ("b", vec![1u8; mib]), ("c", vec![1u8; 1])])
        .await;
    assert_eq!(total.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert!(
        body(total).await["message"]
            .as_str()
            .unwrap()
            .contains("2 MB limit for one message")
    );
    assert_eq!(
        body(app.list(&p.ann, "sent").await).await.as_array().unwrap().len(),
        1,
        "refused sends store nothing"
    );
    assert_eq!(app.blob_files().len(), 1, "and leave no blobs behind");
}

#[tokio::test]
async fn text_limits_hold_at_the_limit_and_refuse_one_over_with_a_clear_message() {
    let app = spawn_app().await;
    let p = people(&app).await;
    let to = ["bob@testshire.gov.uk"];
    send_ok(&app, &p.ann, message(&to, &"s".repeat(998), &"b".repeat(256 * 1024)), &[]).await;
    let fifty: Vec<String> = (0..50).map(|i| format!("partner{i}@example.org")).collect();
    send_ok(
        &app,
        &p.ann,
        json!({"recipients": fifty, "subject": "Fifty", "body": "x", "expires_in_days": 90}),
        &[],
    )
    .await;
    let fifty_one: Vec<String> = (0..51).map(|i| format!("partner{i}@example.org")).collect();
    let over = app
        .send(&p.ann, json!({"recipients": fifty_one, "subject": "x", "body": "x"}), &[])
        .await;
    assert_eq!(body(over).await["code"], "too_many_recipients");
    let cases = [
        (message(&to, &"s".repeat(999), "x"), "subject_too_long"),
        (message(&to, "Fine", &"b".repeat(256 * 1024 + 1)), "body_too_long"),
        (message(&to, "Line\r\nBcc: x@y.z", "x"), "subject_too_long"),
        (message(&[], "No one", "x"), "no_recipients"),
        (message(&["not an address"], "Bad", "x"), "invalid_recipient"),
        (message(&to, "  ", "x"), "no_subject"),
        (
            json!({"recipients": to, "subject": "x", "body": "x", "expires_in_days": 91}),
            "invalid_expiry",
        ),
        (
            json!({"recipients": ["pc@police.example.uk"], "subject": "x", "body": "x", "marking": "official-sensitive"}),
            "passphrase_required",
        ),
        (
            json!({"recipients": ["pc@police.example.uk"], "subject": "x", "body": "x", "passphrase": "short"}),
            "weak_passphrase",
        ),
    ];
    for (m, code) in cases {
        let response = app.send(&p.ann, m, &[]).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{code}");
        let b = body(response).await;
        assert_eq!(b["code"], code);
        assert!(b["message"].as_str().unwrap().ends_with('.'), "{b}");
    }
    assert_eq!(body(app.list(&p.ann, "sent").await).await.as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn twenty_files_fit_and_a_twenty_first_is_refused_as_is_a_total_one_byte_over() {
    let app = spawn_app_with(|s| s.max_message_mib = 1).await;
    let p = people(&app).await;
    let to = message(&["bob@testshire.gov.uk"], "Files", "");
    let twenty: Vec<(&str, Vec<u8>)> = (0..20).map(|_| ("f.txt", b"x".to_vec())).collect();
    send_ok(&app, &p.ann, to.clone(), &twenty).await;
    let mut twenty_one = twenty.clone();
    twenty_one.push(("g.txt", b"x".to_vec()));
    let refused = app.send(&p.ann, to.clone(), &twenty_one).await;
    assert_eq!(refused.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(body(refused).await["message"], "A message can have at most 20 attachments.");
    let half = 512 * 1024;
    send_ok(&app, &p.ann, to.clone(), &[("a", vec![0u8; half]), ("b", vec![0u8; half])]).await;
    let over = app.send(&p.ann, to, &[("a", vec![0u8; half]), ("b", vec![0u8; half + 1])]).await;
    assert_eq!(over.status(), StatusCode::PAYLOAD_TOO_LARGE);
}

#[tokio::test]
async fn programs_and_scripts_are_refused_by_their_last_ending_with_a_clear_message() {
    let app = spawn_app().await;
    let p = people(&app).await;
    let to = message(&["bob@testshire.gov.uk"], "Files", "");
    for name in ["setup.exe", "Report.PDF.exe", "page.html", "run.js", "fix.bat", "screen.scr"] {
        let refused = app.send(&p.ann, to.clone(), &[(name, b"MZ".to_vec())]).await;
        assert_eq!(refused.status(), StatusCode::BAD_REQUEST, "{name}");
        let why = body(refused).await;
        assert_eq!(why["code"], "blocked_file_type", "{name}");
        assert!(why["message"].as_str().unwrap().contains(name), "names the file: {why}");
    }
    let inbox = body(app.get("/api/v1/messages?box=inbox").header("cookie", &p.bob).send().await.unwrap()).await;
    assert_eq!(inbox.as_array().unwrap().len(), 0, "nothing was sent");
    send_ok(
        &app,
        &p.ann,
        to.clone(),
        &[("minutes.pdf", b"%PDF".to_vec()), ("exe-notes.txt", b"x".to_vec())],
    )
    .await;
    let open = spawn_app_with(|s| s.blocked_file_types.clear()).await;
    let q = people(&open).await;
    send_ok(&open, &q.ann, to, &[("tool.exe", b"MZ".to_vec())]).await;
}

#[tokio::test]
async fn file_names_lose_invisible_characters_and_padding_and_addresses_with_direction_controls_are_refused() {
    let app = spawn_app().await;
    let p = people(&app).await;
    let to = message(&["bob@testshire.gov.uk"], "Files", "");
    let padded = format!("x.pdf{}.txt", " ".repeat(50));
    let sent = send_ok(&app, &p.ann, to, &[(&padded, b"x".to_vec()), ("re\u{200B}port.pdf", b"y".to_vec())]).await;
    let id = sent["id"].as_str().unwrap();
    let detail = body(app.read(&p.ann, id).await).await;
    let names: Vec<&str> = detail["attachments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["x.pdf .txt", "report.pdf"]);
    let spoof = message(&["pc.jones\u{202E}ku.eciloP@police.example.uk"], "Spoof", "");
    let refused = app.send(&p.ann, spoof, &[]).await;
    assert_eq!(
        refused.status(),
        StatusCode::BAD_REQUEST,
        "refused at send, not after a failed notification"
    );
}
