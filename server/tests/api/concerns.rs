//! The checks before a send (issue 20), on both backends: a lookalike of a domain the council
//! writes to, personal webmail (refused for OFFICIAL-SENSITIVE unless the policy allows it),
//! several organisations on one OFFICIAL-SENSITIVE message and sensitive numbers in an OFFICIAL
//! one each answer 409 with the concern kinds; the same send with them confirmed goes through
//! and the decision is audited by kind, never with what was found. A first use of an address
//! alone is not a 409.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::staff::{People, people};
use crate::test_app::{TestApp, body, spawn_app, spawn_app_with};

const PASSPHRASE: &str = "correct horse battery staple";

fn to(addresses: &[&str], marking: &str, text: &str, confirmed: &[&str]) -> Value {
    json!({
        "recipients": addresses,
        "subject": "Case conference",
        "body": text,
        "marking": marking,
        "passphrase": if marking == "official-sensitive" { Some(PASSPHRASE) } else { None },
        "confirmed": confirmed,
    })
}

/// The concern kinds a 409 lists, or the status and code of anything else.
async fn kinds(app: &TestApp, p: &People, m: Value) -> Result<Value, (StatusCode, Value)> {
    let response = app.send(&p.ann, m, &[]).await;
    let status = response.status();
    let answer = body(response).await;
    match status {
        StatusCode::OK => Ok(answer),
        _ => Err((status, answer)),
    }
}

fn listed(e: &(StatusCode, Value)) -> Vec<String> {
    assert_eq!(
        (e.0, e.1["code"].as_str()),
        (StatusCode::CONFLICT, Some("confirm_concerns")),
        "{}",
        e.1
    );
    e.1["concerns"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["kind"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn a_lookalike_of_a_domain_the_council_writes_to_is_a_409_until_confirmed_and_the_decision_is_audited() {
    let app = spawn_app().await;
    let p = people(&app).await;
    // A first partner at a new address: no concern, whatever the browser asks.
    kinds(&app, &p, to(&["pc.jones@met.police.uk"], "official", "Hello", &[]))
        .await
        .unwrap();
    let messages_before = app.state.store.fetch_texts("SELECT id FROM messages").await.unwrap().len();
    let refused = kinds(&app, &p, to(&["pc.smith@met-police.uk"], "official", "Hello", &[]))
        .await
        .unwrap_err();
    assert_eq!(listed(&refused), ["lookalike_domain"]);
    let said = refused.1["concerns"][0]["message"].as_str().unwrap();
    assert!(said.contains("met-police.uk") && said.contains("met.police.uk"), "{said}");
    assert_eq!(
        app.state.store.fetch_texts("SELECT id FROM messages").await.unwrap().len(),
        messages_before,
        "nothing is kept of a send waiting for confirmation"
    );
    // Confirming another kind is not confirming this one.
    let still = kinds(
        &app,
        &p,
        to(&["pc.smith@met-police.uk"], "official", "Hello", &["personal_webmail"]),
    )
    .await
    .unwrap_err();
    assert_eq!(listed(&still), ["lookalike_domain"]);
    let sent = kinds(
        &app,
        &p,
        to(&["pc.smith@met-police.uk"], "official", "Hello", &["lookalike_domain"]),
    )
    .await
    .unwrap();
    let actions = app.audit_actions(sent["id"].as_str().unwrap()).await;
    assert_eq!(
        actions.iter().take(2).collect::<Vec<_>>(),
        ["message.confirmed_lookalike", "message.send"],
        "the decision, then the send"
    );
}

#[tokio::test]
async fn personal_webmail_is_confirmed_for_official_and_refused_for_official_sensitive_unless_allowed() {
    let app = spawn_app().await;
    let p = people(&app).await;
    let refused = kinds(&app, &p, to(&["foster.carer@gmail.com"], "official", "Hello", &[]))
        .await
        .unwrap_err();
    assert_eq!(listed(&refused), ["personal_webmail"]);
    kinds(
        &app,
        &p,
        to(&["foster.carer@gmail.com"], "official", "Hello", &["personal_webmail"]),
    )
    .await
    .unwrap();
    let (status, e) = kinds(
        &app,
        &p,
        to(&["foster.carer@gmail.com"], "official-sensitive", "Hello", &["personal_webmail"]),
    )
    .await
    .unwrap_err();
    assert_eq!(
        (status, e["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("personal_webmail_refused")),
        "{e}"
    );

    let allowing = spawn_app_with(|s| s.sensitive_webmail_allowed = true).await;
    let q = people(&allowing).await;
    let asked = kinds(&allowing, &q, to(&["foster.carer@gmail.com"], "official-sensitive", "Hello", &[]))
        .await
        .unwrap_err();
    assert_eq!(listed(&asked), ["personal_webmail"]);
}

#[tokio::test]
async fn several_organisations_on_one_official_sensitive_message_are_a_concern_one_organisation_is_not() {
    let app = spawn_app().await;
    let p = people(&app).await;
    kinds(
        &app,
        &p,
        to(
            &["a.smith@leeds.gov.uk", "b.jones@children.leeds.gov.uk"],
            "official-sensitive",
            "Hello",
            &[],
        ),
    )
    .await
    .unwrap();
    let asked = kinds(
        &app,
        &p,
        to(
            &["a.smith@leeds.gov.uk", "duty@barnardos.org.uk"],
            "official-sensitive",
            "Hello",
            &[],
        ),
    )
    .await
    .unwrap_err();
    assert_eq!(listed(&asked), ["several_organisations"]);
    let said = asked.1["concerns"][0]["message"].as_str().unwrap();
    assert!(said.contains("2 organisations (barnardos.org.uk, leeds.gov.uk)"), "{said}");
    // The same people on an OFFICIAL message: not a concern.
    kinds(
        &app,
        &p,
        to(&["a.smith@leeds.gov.uk", "duty@barnardos.org.uk"], "official", "Hello", &[]),
    )
    .await
    .unwrap();
}

#[tokio::test]
async fn sensitive_numbers_in_an_official_message_propose_official_sensitive_and_are_never_repeated() {
    let app = spawn_app_with(|s| s.check_keywords = sealpost_checks::Keywords::parse("safeguarding")).await;
    let p = people(&app).await;
    let text = "Patient NHS no. 943 476 5919, NI AB 12 34 56 C. Safeguarding referral.";
    // To a colleague as well as a partner: content is checked whoever it goes to.
    let asked = kinds(&app, &p, to(&["bob@testshire.gov.uk"], "official", text, &[]))
        .await
        .unwrap_err();
    assert_eq!(listed(&asked), ["sensitive_content"]);
    let said = asked.1["concerns"][0]["message"].as_str().unwrap();
    assert!(
        said.contains("1 NHS number, 1 National Insurance number and 1 word on the council's sensitive list"),
        "{said}"
    );
    assert!(
        !said.contains("5919") && !said.contains("AB 12"),
        "the values are never repeated: {said}"
    );
    // OFFICIAL-SENSITIVE is what it proposes: no concern then.
    kinds(&app, &p, to(&["bob@testshire.gov.uk"], "official-sensitive", text, &[]))
        .await
        .unwrap();
    let sent = kinds(&app, &p, to(&["bob@testshire.gov.uk"], "official", text, &["sensitive_content"]))
        .await
        .unwrap();
    let events = app.audit_events(sent["id"].as_str().unwrap()).await;
    assert_eq!(events[0].action, "message.confirmed_content");
    // Ids, hashes and times are digits too: look for the values as written and run together.
    let all = format!("{events:?}");
    for value in ["943 476 5919", "9434765919", "AB 12 34 56", "AB123456"] {
        assert!(!all.contains(value), "nothing found is audited: {value}");
    }
}

#[tokio::test]
async fn a_text_file_is_read_for_sensitive_numbers_whether_sent_with_the_form_or_from_a_draft() {
    let app = spawn_app().await;
    let p = people(&app).await;
    let csv = b"name,nhs number\nAnn Example,943 476 5919\nBob Example,401 023 2137\n".to_vec();
    let blobs_before = app.blob_files().len();
    let plain = to(&["bob@testshire.gov.uk"], "official", "The list is attached.", &[]);
    // With the form: the files are read as they are taken in, and go if it is not confirmed.
    let response = app.send(&p.ann, plain.clone(), &[("list.csv", csv.clone())]).await;
    let asked = (response.status(), body(response).await);
    assert_eq!(listed(&asked), ["sensitive_content"]);
    assert!(
        asked.1["concerns"][0]["message"].as_str().unwrap().contains("2 NHS numbers"),
        "{}",
        asked.1
    );
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    assert_eq!(
        app.blob_files().len(),
        blobs_before,
        "the files of a send waiting for confirmation go"
    );
    // The same bytes in a file that is not text are not read.
    let response = app.send(&p.ann, plain.clone(), &[("list.bin", csv.clone())]).await;
    assert_eq!(response.status(), StatusCode::OK);
    // Confirmed: sent, and the decision audited.
    let confirmed = to(
        &["bob@testshire.gov.uk"],
        "official",
        "The list is attached.",
        &["sensitive_content"],
    );
    let response = app.send(&p.ann, confirmed, &[("list.csv", csv.clone())]).await;
    let sent = body(response).await;
    let actions = app.audit_actions(sent["id"].as_str().unwrap()).await;
    assert_eq!(actions[0], "message.confirmed_content", "{actions:?}");
    // OFFICIAL-SENSITIVE: nothing to propose.
    let response = app
        .send(
            &p.ann,
            to(&["bob@testshire.gov.uk"], "official-sensitive", "List.", &[]),
            &[("list.csv", csv.clone())],
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    // From a draft: its files are read before the send, with the text, in one list of concerns.
    let draft = app
        .new_draft(
            &p.ann,
            json!({"to": ["pc.smith@met.police.uk"], "subject": "List", "body": "Attached."}),
        )
        .await;
    assert!(
        app.attach_to_draft(&p.ann, &draft, &[("list.txt", csv.clone())])
            .await
            .status()
            .is_success()
    );
    let mut from_draft = to(&["pc.smith@met.police.uk"], "official", "Attached.", &[]);
    from_draft["draft"] = json!(draft);
    let asked = kinds(&app, &p, from_draft.clone()).await.unwrap_err();
    assert_eq!(listed(&asked), ["sensitive_content"]);
    from_draft["confirmed"] = json!(["sensitive_content"]);
    let sent = kinds(&app, &p, from_draft).await.unwrap();
    let read = body(app.read(&p.ann, sent["id"].as_str().unwrap()).await).await;
    assert_eq!(read["attachments"].as_array().map(Vec::len), Some(1), "{read}");
}

#[tokio::test]
async fn a_new_address_one_slip_from_a_past_recipient_is_a_409_naming_both() {
    let app = spawn_app().await;
    let p = people(&app).await;
    kinds(&app, &p, to(&["jane.smith@nhs.net"], "official", "Hello", &[]))
        .await
        .unwrap();
    let asked = kinds(&app, &p, to(&["jane.smyth@nhs.net"], "official", "Hello", &[]))
        .await
        .unwrap_err();
    assert_eq!(listed(&asked), ["similar_address"]);
    let said = asked.1["concerns"][0]["message"].as_str().unwrap();
    assert!(said.contains("jane.smyth@nhs.net") && said.contains("jane.smith@nhs.net"), "{said}");
    let sent = kinds(&app, &p, to(&["jane.smyth@nhs.net"], "official", "Hello", &["similar_address"]))
        .await
        .unwrap();
    assert_eq!(
        app.audit_actions(sent["id"].as_str().unwrap()).await[0],
        "message.confirmed_similar_address"
    );
    // Written to now: no longer new, so no longer asked about.
    kinds(&app, &p, to(&["jane.smyth@nhs.net"], "official", "Again", &[]))
        .await
        .unwrap();
}
