//! CC and BCC (issue 16). The send JSON's `recipients` is the To line; `cc` and `bcc` sit beside
//! it. Every reader sees To and CC; a blind copy is known to the sender alone. The BCC test asks
//! every documented GET route, as every other reader, and reads every notification: the blind
//! copies' addresses appear in none of them. (IG officers see the audit log, which records
//! every disclosure, blind copies included: that is what the log is for.)

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::staff::{people, send_ok};
use crate::test_app::{TestApp, body};

const BOB: &str = "bob@testshire.gov.uk";
const CAT: &str = "cat@testshire.gov.uk";
const PC: &str = "pc.jones@police.example.uk";
const GP: &str = "gp@nhs.example.uk";

fn addresses(v: &Value) -> Vec<String> {
    v.as_array()
        .map(|a| a.iter().map(|x| x.as_str().unwrap().to_owned()).collect())
        .unwrap_or_default()
}

#[tokio::test]
async fn to_and_cc_are_seen_by_every_reader_and_bcc_by_the_sender_alone() {
    let (app, sink) = crate::test_app::spawn_app_with_smtp(&[]).await;
    let p = people(&app).await;
    let m = json!({ "recipients": [BOB], "cc": [PC], "bcc": [CAT, GP], "subject": "Panel", "body": "Agenda attached." });
    let sent = send_ok(&app, &p.ann, m, &[("agenda.txt", b"1. minutes".to_vec())]).await;
    let id = sent["id"].as_str().unwrap().to_owned();

    let mine = body(app.read(&p.ann, &id).await).await;
    let lines: Vec<(String, String)> = mine["recipients"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["address"].as_str().unwrap().to_owned(),
                r["addressed"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let want = [(BOB, "to"), (PC, "cc"), (CAT, "bcc"), (GP, "bcc")].map(|(a, l)| (a.to_owned(), l.to_owned()));
    assert_eq!(lines, want, "the sender sees the whole envelope");

    let bobs = body(app.read(&p.bob, &id).await).await;
    assert_eq!(addresses(&bobs["to"]), [BOB]);
    assert_eq!(addresses(&bobs["cc"]), [PC]);
    assert_eq!(bobs["blind_copy"], Value::Null, "Bob is on the To line");
    assert_eq!(bobs["recipients"], json!([]));

    let cats = body(app.read(&p.cat, &id).await).await;
    assert_eq!(cats["body"], "Agenda attached.", "a blind copy is delivered like any other");
    assert_eq!(cats["blind_copy"], true, "and its reader is told it was blind");
    assert_eq!(addresses(&cats["cc"]), [PC]);

    app.deliver_due().await;
    let pc = app.portal_sign_in(&sink, &app.link_sent_to(&sink, PC), None).await;
    let gp = app.portal_sign_in(&sink, &app.link_sent_to(&sink, GP), None).await;
    let theirs = body(app.portal_message(&gp, &id).await).await;
    assert_eq!(theirs["attachments"][0]["name"], "agenda.txt");
    assert_eq!(theirs["blind_copy"], true);

    // Every notification, to anyone, names no blind copy but its own addressee.
    for mail in sink.received() {
        for hidden in [CAT, GP] {
            let to_them = mail.contains(&format!("To: {hidden}"));
            assert!(
                to_them || !mail.contains(hidden),
                "a notification names the blind copy {hidden}:\n{mail}"
            );
        }
    }

    // Every documented GET route, as each reader who is not the sender.
    let aid = mine["attachments"][0]["id"].as_str().unwrap().to_owned();
    let reference = mine["summary"]["reference"].as_str().unwrap().to_owned();
    let readers = [(p.bob.as_str(), BOB), (p.cat.as_str(), CAT), (pc.as_str(), PC), (gp.as_str(), GP)];
    let mut asked = 0;
    for path in get_routes(&app, &id, &aid, &reference).await {
        for (cookie, who) in readers {
            let response = app.get(&path).header("cookie", cookie).send().await.unwrap();
            let text = response.text().await.unwrap();
            for hidden in [CAT, GP].into_iter().filter(|h| *h != who) {
                assert!(!text.contains(hidden), "GET {path} as {who} shows the blind copy {hidden}: {text}");
            }
            asked += 1;
        }
    }
    assert!(asked >= 4 * 10, "every GET route was asked ({asked} asks)");
    // The sender's own lists keep the envelope: the Sent list names the blind copies.
    let sent_list = app.list(&p.ann, "sent").await.text().await.unwrap();
    assert!(sent_list.contains(CAT) && sent_list.contains(GP));
}

/// Each documented GET route with its ids filled in (the list routes in each of their boxes).
async fn get_routes(app: &TestApp, id: &str, aid: &str, reference: &str) -> Vec<String> {
    let doc: Value = app.get("/api/v1/openapi.json").send().await.unwrap().json().await.unwrap();
    let mut out = vec![];
    for (path, item) in doc["paths"].as_object().unwrap() {
        if item.get("get").is_none() {
            continue;
        }
        let filled = path
            .replace("{id}", id)
            .replace("{attachment}", aid)
            .replace("{reference}", reference)
            .replace("{token}", "0");
        if path == "/api/v1/messages" {
            out.extend(["inbox", "sent"].map(|b| format!("{filled}?box={b}")));
        } else {
            out.push(filled);
        }
    }
    out
}

#[tokio::test]
async fn copies_count_towards_the_recipient_limit_and_an_address_is_on_one_line_only() {
    let app = crate::test_app::spawn_app().await;
    let p = people(&app).await;
    let many: Vec<String> = (0..50).map(|i| format!("person{i}@example.org")).collect();
    let m = json!({ "recipients": [BOB], "cc": many, "subject": "All", "body": "x" });
    let r = app.send(&p.ann, m, &[]).await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert_eq!(body(r).await["code"], "too_many_recipients");

    let bad = json!({ "recipients": [BOB], "bcc": ["not an address"], "subject": "S", "body": "x" });
    let r = app.send(&p.ann, bad, &[]).await;
    assert_eq!(body(r).await["code"], "invalid_recipient");

    // On two lines, an address keeps the first: To beats CC beats BCC.
    let twice = json!({ "recipients": [BOB], "cc": [BOB, CAT], "bcc": [CAT], "subject": "Twice", "body": "x" });
    let id = send_ok(&app, &p.ann, twice, &[]).await["id"].as_str().unwrap().to_owned();
    let seen = body(app.read(&p.cat, &id).await).await;
    assert_eq!(
        (addresses(&seen["to"]), addresses(&seen["cc"])),
        (vec![BOB.to_owned()], vec![CAT.to_owned()])
    );
    assert_eq!(seen["blind_copy"], Value::Null);
}
