//! Searching your own mail (issue 16): by a word of the subject or the body, by correspondent
//! and by date, in the Inbox, Sent and Drafts, and only ever in the searcher's own mail. The
//! search is audited (who searched, never what for).

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::staff::{message, people, send_ok};
use crate::test_app::{PASSWORD, TestApp, body, spawn_app};

const ANN: &str = "ann@testshire.gov.uk";
const BOB: &str = "bob@testshire.gov.uk";
const CAT: &str = "cat@testshire.gov.uk";

async fn search(app: &TestApp, cookie: &str, query: &str) -> Value {
    let response = app
        .get(&format!("/api/v1/search?{query}"))
        .header("cookie", cookie)
        .send()
        .await
        .unwrap();
    let status = response.status();
    let b = body(response).await;
    assert_eq!(status, StatusCode::OK, "{b}");
    b
}

/// The subjects of the hits, in order.
fn subjects(results: &Value) -> Vec<String> {
    results["hits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["subject"].as_str().unwrap().to_owned())
        .collect()
}

fn day(ms: i64) -> String {
    sealpost_domain::time::rfc3339(ms)[..10].to_owned()
}

#[tokio::test]
async fn staff_find_their_own_mail_by_subject_body_correspondent_and_date_and_never_anyone_elses() {
    let app = spawn_app().await;
    let p = people(&app).await;
    let first_day = app.state.now_ms();
    // A minute apart (the test clock moves only when told), so "newest first" is one order.
    send_ok(&app, &p.ann, message(&[BOB], "Visit plan for Friday", "Meet at the library."), &[]).await;
    app.clock.advance_minutes(1);
    send_ok(&app, &p.bob, message(&[ANN], "Rota", "The library is closed on Monday."), &[]).await;
    app.clock.advance_minutes(1);
    // Cat's own mail matches too, and must never show up in Ann's search.
    send_ok(&app, &p.cat, message(&[BOB], "Visit plan (Cat's)", "library"), &[]).await;
    app.clock.advance_minutes(1);
    let mut blind = message(&[BOB], "Quiet word", "Nothing to see.");
    blind["bcc"] = json!([CAT]);
    send_ok(&app, &p.ann, blind, &[]).await;

    assert_eq!(
        subjects(&search(&app, &p.ann, "q=visit").await),
        ["Visit plan for Friday"],
        "a subject word"
    );
    assert_eq!(
        subjects(&search(&app, &p.ann, "q=LIBRARY").await),
        ["Rota", "Visit plan for Friday"],
        "a body word, any case, newest first"
    );
    assert_eq!(
        subjects(&search(&app, &p.ann, "q=library+monday").await),
        ["Rota"],
        "every word must be found"
    );
    assert_eq!(
        subjects(&search(&app, &p.ann, "who=bob").await),
        ["Quiet word", "Rota", "Visit plan for Friday"]
    );
    assert_eq!(
        subjects(&search(&app, &p.ann, &format!("who={BOB}&box=inbox")).await),
        ["Rota"],
        "the Inbox only"
    );
    assert_eq!(
        subjects(&search(&app, &p.ann, "who=cat").await),
        ["Quiet word"],
        "the sender finds her blind copy"
    );
    // Bob got the message too, but Cat's blind copy is the sender's alone.
    assert!(subjects(&search(&app, &p.bob, "who=cat").await).iter().all(|s| s != "Quiet word"));
    assert_eq!(subjects(&search(&app, &p.cat, "q=visit").await), ["Visit plan (Cat's)"]);
    let hit = &search(&app, &p.ann, "q=rota").await["hits"][0];
    assert_eq!(
        (hit["box"].as_str(), hit["correspondents"].as_str(), hit["found"]["kind"].as_str()),
        (Some("inbox"), Some("Test Person"), Some("message"))
    );

    // Ten days later: a new message is found, and dates narrow the search.
    app.clock.advance_minutes(10 * 24 * 60);
    let bob = app.sign_in(BOB, PASSWORD).await;
    let ann = app.sign_in(ANN, PASSWORD).await;
    let later_day = app.state.now_ms();
    send_ok(&app, &bob, message(&[ANN], "Library keys", "Collected."), &[]).await;
    assert_eq!(
        subjects(&search(&app, &ann, "q=library").await),
        ["Library keys", "Rota", "Visit plan for Friday"]
    );
    assert_eq!(
        subjects(&search(&app, &ann, &format!("q=library&from={}", day(later_day))).await),
        ["Library keys"]
    );
    assert_eq!(
        subjects(&search(&app, &ann, &format!("q=library&to={}", day(first_day))).await),
        ["Rota", "Visit plan for Friday"]
    );
}

#[tokio::test]
async fn drafts_are_searched_withdrawn_mail_is_not_and_the_search_is_audited_without_its_words() {
    let app = spawn_app().await;
    let p = people(&app).await;
    let sent = send_ok(&app, &p.bob, message(&[ANN], "Safeguarding referral", "Details inside."), &[]).await;
    app.clock.advance_minutes(1);
    app.new_draft(
        &p.ann,
        json!({ "to": ["pc@police.example.uk"], "subject": "Referral follow-up", "body": "draft words" }),
    )
    .await;
    let found = search(&app, &p.ann, "q=referral").await;
    assert_eq!(subjects(&found), ["Referral follow-up", "Safeguarding referral"]);
    assert_eq!(found["hits"][0]["box"], "drafts");
    assert_eq!(found["hits"][0]["found"]["kind"], "draft");
    assert_eq!(
        subjects(&search(&app, &p.ann, "q=referral&box=drafts").await),
        ["Referral follow-up"]
    );
    assert_eq!(subjects(&search(&app, &p.ann, "who=police").await), ["Referral follow-up"]);

    app.revoke(&p.bob, sent["id"].as_str().unwrap(), None).await;
    assert_eq!(
        subjects(&search(&app, &p.ann, "q=referral&box=inbox").await),
        Vec::<String>::new(),
        "withdrawn mail is not found"
    );

    let actions = app.state.store.fetch_texts("SELECT action FROM audit_events").await.unwrap();
    assert_eq!(
        actions.iter().filter(|a| *a == "mailbox.search").count(),
        4,
        "each search is on record"
    );
    let rows = app
        .state
        .store
        .fetch_texts("SELECT actor || ' ' || action || ' ' || COALESCE(object, '') || ' ' || COALESCE(user_agent, '') FROM audit_events")
        .await
        .unwrap();
    for row in rows {
        let row = row.to_lowercase();
        assert!(
            !row.contains("referral") && !row.contains("police"),
            "a search's words are never recorded: {row}"
        );
    }
}

#[tokio::test]
async fn a_search_refuses_what_it_cannot_read_and_needs_a_session() {
    let app = spawn_app().await;
    let p = people(&app).await;
    for (query, code) in [
        ("from=05/12/2026", "invalid_date"),
        ("from=2026-12-09&to=2026-12-01", "invalid_date"),
        (
            &*format!("q={}", (0..13).map(|i| format!("w{i}")).collect::<Vec<_>>().join("+")),
            "search_too_long",
        ),
        (&*format!("q={}", "x".repeat(201)), "search_too_long"),
    ] {
        let response = app
            .get(&format!("/api/v1/search?{query}"))
            .header("cookie", &p.ann)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{query}");
        assert_eq!(body(response).await["code"], code, "{query}");
    }
    assert_eq!(
        app.get("/api/v1/search?q=x").send().await.unwrap().status(),
        StatusCode::UNAUTHORIZED
    );
}
