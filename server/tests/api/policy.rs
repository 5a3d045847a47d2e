//! The marking policy (issue 20), on both backends: per marking, the longest expiry, whether
//! partners need a passphrase, and the most portal opens per partner. The compose page is told
//! the policy; the send enforces it with an error that says why; the opens limit holds under
//! 40 parallel opens.

use reqwest::StatusCode;
use sealpost_domain::{MarkingPolicy, Policy};
use sealpost_mail::testing::SmtpSink;
use serde_json::{Value, json};

use crate::staff::people;
use crate::test_app::{TestApp, body, spawn_app, spawn_app_with};

const PARTNER: &str = "pc.jones@met.police.uk";
const PASSPHRASE: &str = "correct horse battery staple";

/// OFFICIAL: links for at most 7 days, a passphrase for partners; OFFICIAL-SENSITIVE: each
/// partner may open it twice.
async fn strict_app() -> (TestApp, SmtpSink) {
    let sink = SmtpSink::start(&[]).await.unwrap();
    let url = sink.url.clone();
    let app = spawn_app_with(move |s| {
        s.smtp_url = Some(sealpost_crypto::SecretString::from(url));
        s.policy = Policy {
            official: MarkingPolicy {
                max_expiry_days: 7,
                passphrase_required: true,
                max_opens: 0,
                view_only_files: false,
            },
            sensitive: MarkingPolicy {
                max_opens: 2,
                ..Policy::default().sensitive
            },
        };
    })
    .await;
    (app, sink)
}

fn message(to: &str, marking: &str, expiry: Option<u32>, passphrase: Option<&str>) -> Value {
    json!({
        "recipients": [to], "subject": "Case review", "body": "Notes.", "marking": marking,
        "expires_in_days": expiry, "passphrase": passphrase,
    })
}

async fn answer(app: &TestApp, cookie: &str, m: Value) -> (StatusCode, Value) {
    let r = app.send(cookie, m, &[]).await;
    (r.status(), body(r).await)
}

#[tokio::test]
async fn the_compose_page_is_told_the_policy_and_the_default_keeps_todays_behaviour() {
    let app = spawn_app().await;
    let p = people(&app).await;
    let info = body(app.get("/api/v1/compose").header("cookie", &p.ann).send().await.unwrap()).await;
    let policy: Policy = serde_json::from_value(info["policy"].clone()).unwrap();
    assert_eq!(policy, Policy::default());
    assert!(!policy.official.passphrase_required && policy.sensitive.passphrase_required);
    assert_eq!((policy.official.max_expiry_days, policy.sensitive.max_opens), (90, 0));
    // Today's behaviour: OFFICIAL to a partner needs no passphrase.
    let (status, _) = answer(&app, &p.ann, message(PARTNER, "official", None, None)).await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn a_stricter_policy_is_enforced_at_the_send_with_a_reason() {
    let (app, _sink) = strict_app().await;
    let p = people(&app).await;
    let info = body(app.get("/api/v1/compose").header("cookie", &p.ann).send().await.unwrap()).await;
    assert_eq!(info["policy"]["official"]["max_expiry_days"], 7);
    // A partner needs a passphrase now, even for OFFICIAL; a colleague does not.
    let (status, e) = answer(&app, &p.ann, message(PARTNER, "official", None, None)).await;
    assert_eq!(
        (status, e["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("passphrase_required")),
        "{e}"
    );
    assert!(e["message"].as_str().unwrap().starts_with("OFFICIAL messages"), "{e}");
    let (status, _) = answer(&app, &p.ann, message("bob@testshire.gov.uk", "official", None, None)).await;
    assert_eq!(status, StatusCode::OK);
    // At most 7 days; without a choice, the policy's longest (not the usual 30).
    let (status, e) = answer(&app, &p.ann, message(PARTNER, "official", Some(10), Some(PASSPHRASE))).await;
    assert_eq!(
        (status, e["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_expiry")),
        "{e}"
    );
    assert!(e["message"].as_str().unwrap().contains("between 1 and 7 days"), "{e}");
    let before = app.state.now_ms();
    let (status, sent) = answer(&app, &p.ann, message(PARTNER, "official", None, Some(PASSPHRASE))).await;
    assert_eq!(status, StatusCode::OK, "{sent}");
    let read = body(app.read(&p.ann, sent["id"].as_str().unwrap()).await).await;
    assert_eq!(read["expires_at"].as_i64(), Some(before + 7 * 86_400_000));
    // OFFICIAL-SENSITIVE keeps the usual longest.
    let (status, _) = answer(&app, &p.ann, message(PARTNER, "official-sensitive", Some(60), Some(PASSPHRASE))).await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn a_partner_opens_a_message_in_at_most_as_many_sessions_as_the_policy_allows_even_forty_at_once() {
    let (app, sink) = strict_app().await;
    let p = people(&app).await;
    let m = message(PARTNER, "official-sensitive", None, Some(PASSPHRASE));
    let sent = body(app.send(&p.ann, m, &[("plan.txt", b"The plan".to_vec())]).await).await;
    let id = sent["id"].as_str().unwrap();
    app.deliver_due().await;
    let token = app.link_sent_to(&sink, PARTNER);
    let opens = |cookie: String| {
        let app = &app;
        async move {
            let tries: Vec<_> = (0..40).map(|_| app.portal_message(&cookie, id)).collect();
            futures::future::join_all(tries)
                .await
                .iter()
                .map(|r| r.status())
                .collect::<Vec<StatusCode>>()
        }
    };
    let counted = || async {
        app.state
            .store
            .fetch_texts("SELECT CAST(opens AS TEXT) FROM recipients")
            .await
            .unwrap()
    };
    // One session: reading again (40 at once), downloading and replying are one open.
    let first = app.portal_sign_in(&sink, &token, Some(PASSPHRASE)).await;
    assert!(opens(first.clone()).await.iter().all(|s| *s == StatusCode::OK));
    assert_eq!(counted().await, ["1"]);
    let detail = body(app.portal_message(&first, id).await).await;
    let file = detail["attachments"][0]["id"].as_str().unwrap();
    assert_eq!(app.portal_download(&first, id, file).await.status(), StatusCode::OK);
    // A second session is the second and last open.
    let second = app.portal_sign_in(&sink, &token, Some(PASSPHRASE)).await;
    assert_eq!(app.portal_message(&second, id).await.status(), StatusCode::OK);
    // A third: 40 at once, all refused, and its files with them.
    let third = app.portal_sign_in(&sink, &token, Some(PASSPHRASE)).await;
    let statuses = opens(third.clone()).await;
    assert!(statuses.iter().all(|s| *s == StatusCode::GONE), "{statuses:?}");
    assert_eq!(counted().await, ["2"]);
    let said = body(app.portal_message(&third, id).await).await;
    assert_eq!(said["code"], "opens_used");
    assert!(said["message"].as_str().unwrap().contains("can be opened 2 times"), "{said}");
    assert_eq!(app.portal_download(&third, id, file).await.status(), StatusCode::FORBIDDEN);
    // The sender still reads it as often as they like.
    for _ in 0..3 {
        assert_eq!(app.read(&p.ann, id).await.status(), StatusCode::OK);
    }
}

#[tokio::test]
async fn view_only_files_are_shown_in_the_browser_with_a_policy_of_their_own_and_never_as_a_download() {
    let sink = SmtpSink::start(&[]).await.unwrap();
    let url = sink.url.clone();
    let app = spawn_app_with(move |s| {
        s.smtp_url = Some(sealpost_crypto::SecretString::from(url));
        s.policy.official.view_only_files = true;
    })
    .await;
    let p = people(&app).await;
    let files = [
        ("notes.txt", b"<script>alert(1)</script> plain words".to_vec()),
        ("photo.png", b"\x89PNG\r\n\x1a\n fake".to_vec()),
        ("letter.docx", b"PK\x03\x04 fake".to_vec()),
    ];
    let m = message(PARTNER, "official", None, None);
    let sent = body(app.send(&p.ann, m, &files).await).await;
    let id = sent["id"].as_str().unwrap();
    app.deliver_due().await;
    let token = app.link_sent_to(&sink, PARTNER);
    let cookie = app.portal_sign_in(&sink, &token, None).await;
    let detail = body(app.portal_message(&cookie, id).await).await;
    assert_eq!(detail["view_only"], true, "{detail}");
    let file = |name: &str| {
        detail["attachments"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["name"] == name)
            .unwrap()["id"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    // Text: shown as text, in a sandbox, never sniffed as HTML.
    let text = app.portal_download(&cookie, id, &file("notes.txt")).await;
    assert_eq!(text.status(), StatusCode::OK);
    let h = text.headers().clone();
    assert_eq!(h["content-type"], "text/plain; charset=utf-8");
    assert!(h["content-disposition"].to_str().unwrap().starts_with("inline"), "{h:?}");
    assert!(
        h["content-security-policy"]
            .to_str()
            .unwrap()
            .starts_with("sandbox; default-src 'none'"),
        "{h:?}"
    );
    assert_eq!(h["x-content-type-options"], "nosniff");
    let image = app.portal_download(&cookie, id, &file("photo.png")).await;
    assert_eq!(image.headers()["content-type"], "image/png");
    // A file the browser cannot show is refused, and nothing is recorded of it.
    let views_before = app.audit_actions(id).await.iter().filter(|a| *a == "attachment.view").count();
    let docx = app.portal_download(&cookie, id, &file("letter.docx")).await;
    assert_eq!(docx.status(), StatusCode::BAD_REQUEST);
    let said = body(docx).await;
    assert_eq!(said["code"], "not_viewable");
    let actions = app.audit_actions(id).await;
    assert_eq!(views_before, 2, "{actions:?}");
    assert_eq!(actions.iter().filter(|a| *a == "attachment.view").count(), 2, "{actions:?}");
    assert!(!actions.iter().any(|a| a == "attachment.download"), "{actions:?}");
    // The partner's own reply files are theirs to download, whatever their type.
    let reply = app
        .portal_reply_ok(
            &cookie,
            id,
            "Signed copy attached.",
            &[("signed.docx", b"PK\x03\x04 signed".to_vec())],
        )
        .await;
    let detail = body(app.portal_message(&cookie, id).await).await;
    let own = detail["replies"][0]["attachments"][0]["id"].as_str().unwrap().to_owned();
    let mine = app.portal_download(&cookie, id, &own).await;
    assert_eq!(mine.status(), StatusCode::OK, "{reply}");
    assert!(mine.headers()["content-disposition"].to_str().unwrap().starts_with("attachment"));
    // Colleagues and the sender download as usual.
    let mine = body(app.read(&p.ann, id).await).await;
    assert!(mine.get("view_only").is_none(), "{mine}");
}
