//! SECURITY C1: every route that takes an id, against every kind of principal. A route that
//! names an object answers 404 (as for a missing one) to anyone signed in but not entitled,
//! 401 to anyone not signed in the right way, and the audit routes answer 403 to every role
//! but IG whatever the id, so neither reveals whether the object exists. The test fails when
//! the API documents a route with an id that is not in the table.

use reqwest::StatusCode;
use sealpost_domain::Role;
use serde_json::{Value, json};

use crate::staff::{message, people, send_ok};
use sealpost_mail::testing::SmtpSink;

use crate::test_app::{PASSWORD, TestApp, body, multipart, spawn_app_with_smtp, spawn_app_with_tenants};

/// Who asks: staff sender A, staff B (not addressed), colleague addressee, partner X (an
/// addressee), partner Y (of another message), IG, admin, anonymous.
const WHO: [&str; 8] = ["A", "B", "colleague", "X", "Y", "IG", "admin", "anon"];

enum Call {
    Get,
    Post(Value),
    Reply,
    /// A staff answer (multipart) with no recipients: refused (400) after the access check.
    Answer,
    Put(Value),
    Delete,
    /// A file uploaded to a draft.
    Attach,
}

/// (route template, concrete path, call, expected status for each of [`WHO`]).
type Row = (&'static str, String, Call, [u16; 8]);

#[tokio::test]
async fn every_route_with_an_id_answers_each_principal_as_the_table_says() {
    let (app, sink) = spawn_app_with_smtp(&[]).await;
    let (table, cookies) = seed(&app, &sink).await;
    let mut wrong = Vec::new();
    for (template, path, call, expected) in &table {
        for (i, cookie) in cookies.iter().enumerate().rev() {
            let status = ask(&app, path, call, cookie.as_deref()).await;
            if status.as_u16() != expected[i] {
                wrong.push(format!("{template} as {}: {} (want {})", WHO[i], status.as_u16(), expected[i]));
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));

    // Every documented route with an id is in the table.
    let doc: Value = app.get("/api/v1/openapi.json").send().await.unwrap().json().await.unwrap();
    for path in doc["paths"].as_object().unwrap().keys().filter(|p| p.contains('{')) {
        assert!(
            table.iter().any(|(t, ..)| t == path),
            "{path} takes an id but is not in the access table"
        );
    }
}

/// The same table across two councils of one deployment (issue 21), in both directions: each
/// council's people, of every kind, ask their own council's address for the other council's
/// messages, drafts, people, references and links. Nothing is found: every route with an id
/// answers as to someone not entitled in the same council, 404 where the role may use the
/// route at all, and a link or set-up token from the other council is answered as one never
/// made.
#[tokio::test]
async fn no_route_with_an_id_finds_anything_of_another_council() {
    let Some((app, sink)) =
        spawn_app_with_tenants(&[("north", "North Council", "north.test"), ("south", "South Council", "south.test")]).await
    else {
        return;
    };
    let (north, south) = (app.tenant("north"), app.tenant("south"));
    let (north_table, north_cookies) = seed(&north, &sink).await;
    let (south_table, south_cookies) = seed(&south, &sink).await;
    let mut wrong = Vec::new();
    for (asker, cookies, table, direction) in [
        (&south, &south_cookies, &north_table, "South asking for North's"),
        (&north, &north_cookies, &south_table, "North asking for South's"),
    ] {
        for (template, path, call, expected) in table {
            for (i, cookie) in cookies.iter().enumerate().rev() {
                let want = match template.contains("{token}") {
                    // The other council's link is as unknown as one never made.
                    true => {
                        let made_up = template.replace("{token}", &sealpost_crypto::Token::generate().unwrap().expose_hex());
                        ask(asker, &made_up, call, cookie.as_deref()).await.as_u16()
                    }
                    false => across(template, expected, i),
                };
                let status = ask(asker, path, call, cookie.as_deref()).await;
                if status.as_u16() != want {
                    wrong.push(format!("{direction} {template} as {}: {} (want {want})", WHO[i], status.as_u16()));
                }
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

/// What principal `i` of one council gets for the other council's object on `template`, given
/// what each principal gets within one council (`expected`): what someone of the same kind
/// who is not entitled gets, and 404 where only the object's existence could make it succeed.
fn across(template: &str, expected: &[u16; 8], i: usize) -> u16 {
    let success = |status: u16| (200..300).contains(&status);
    match WHO[i] {
        // Staff of the other council: as a colleague who was not addressed.
        "A" | "B" | "colleague" => expected[1],
        // Partners of the other council: as a partner of another message.
        "X" | "Y" => expected[4],
        // IG may search, hold and erase by reference, and the administrator may manage people
        // by id, but not the other council's: unknown (where the same council answers 400, the
        // reference is looked up first), except break-glass, which refuses a short reason
        // before it looks anything up.
        "IG" if success(expected[5]) || (expected[5] == 400 && !template.contains("break-glass")) => 404,
        "admin" if template.contains("{id}") && (success(expected[6]) || expected[6] == 400) => 404,
        _ => expected[i],
    }
}

/// Makes in `app`'s council the people and objects of the table, and returns the table (paths
/// to those objects, with each principal's expected answer) and each principal's cookie.
async fn seed(app: &TestApp, sink: &SmtpSink) -> (Vec<Row>, [Option<String>; 8]) {
    let p = people(app).await;
    let x = "pc.jones@police.example.uk";
    let y = "gp@nhs.example.uk";
    let m = message(&["bob@testshire.gov.uk", x], "Shared", "text");
    let sent = send_ok(app, &p.ann, m, &[("f.txt", b"file".to_vec())]).await;
    let id = sent["id"].as_str().unwrap().to_owned();
    let reference = sent["reference"].as_str().unwrap().to_owned();
    let aid = body(app.read(&p.ann, &id).await).await["attachments"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    app.deliver_due().await;
    let token_x = app.link_sent_to(sink, x);
    let other = send_ok(app, &p.ann, message(&[y], "Other", "text"), &[]).await;
    app.deliver_due().await;
    let token_y = app.link_sent_to(sink, y);
    assert_ne!(other["id"], sent["id"]);
    let portal_x = app.portal_sign_in(sink, &token_x, None).await;
    let portal_y = app.portal_sign_in(sink, &token_y, None).await;
    app.create_user("ida@testshire.gov.uk", PASSWORD, Role::Ig).await;
    app.create_user("ad@testshire.gov.uk", PASSWORD, Role::Admin).await;
    let starter = app.create_user("new@testshire.gov.uk", PASSWORD, Role::Staff).await;
    let setup = sealpost_crypto::Token::generate().unwrap();
    app.state.store.create_setup_token(&setup.hash(), starter, i64::MAX).await.unwrap();
    let setup = setup.expose_hex();
    // A's draft, with a file.
    let draft = app.new_draft(&p.ann, json!({ "subject": "Draft" })).await;
    let draft_file = app.attach_to_draft(&p.ann, &draft, &[("d.txt", b"x".to_vec())]).await;
    let draft_file = body(draft_file).await[0]["id"].as_str().unwrap().to_owned();
    let cookies: [Option<String>; 8] = [
        Some(p.ann.clone()),
        Some(p.cat.clone()),
        Some(p.bob.clone()),
        Some(portal_x),
        Some(portal_y),
        Some(app.sign_in("ida@testshire.gov.uk", PASSWORD).await),
        Some(app.sign_in("ad@testshire.gov.uk", PASSWORD).await),
        None,
    ];

    let table: Vec<Row> = vec![
        (
            "/api/v1/messages/{id}",
            format!("/api/v1/messages/{id}"),
            Call::Get,
            [200, 404, 200, 401, 401, 404, 404, 401],
        ),
        (
            "/api/v1/messages/{id}/attachments/{attachment}",
            format!("/api/v1/messages/{id}/attachments/{aid}"),
            Call::Get,
            [200, 404, 200, 401, 401, 404, 404, 401],
        ),
        (
            // Anyone who may read a message may answer it; an answer to no one is refused
            // (400) after that check, so nothing is stored.
            "/api/v1/messages/{id}/reply",
            format!("/api/v1/messages/{id}/reply"),
            Call::Answer,
            [400, 404, 400, 401, 401, 404, 404, 401],
        ),
        (
            // Likewise forwarding it.
            "/api/v1/messages/{id}/forward",
            format!("/api/v1/messages/{id}/forward"),
            Call::Answer,
            [400, 404, 400, 401, 401, 404, 404, 401],
        ),
        (
            // Withdrawing from someone who is not a recipient changes nothing: the sender is
            // told so (400); nobody else learns the message exists.
            "/api/v1/messages/{id}/revoke",
            format!("/api/v1/messages/{id}/revoke"),
            Call::Post(json!({ "recipient": "nobody@example.org" })),
            [400, 404, 404, 401, 401, 404, 404, 401],
        ),
        (
            // Undoing a send: only its sender, and (no undo window here) too late: 409.
            "/api/v1/messages/{id}/recall",
            format!("/api/v1/messages/{id}/recall"),
            Call::Post(json!({})),
            [409, 404, 404, 401, 401, 404, 404, 401],
        ),
        (
            // Likewise giving access back.
            "/api/v1/messages/{id}/regrant",
            format!("/api/v1/messages/{id}/regrant"),
            Call::Post(json!({ "recipient": "nobody@example.org" })),
            [400, 404, 404, 401, 401, 404, 404, 401],
        ),
        (
            // Filing is each reader's own: the sender and the colleague may; nobody else
            // learns the message exists.
            "/api/v1/messages/{id}/move",
            format!("/api/v1/messages/{id}/move"),
            Call::Post(json!({ "to": "archive" })),
            [204, 404, 204, 401, 401, 404, 404, 401],
        ),
        (
            "/api/v1/portal/messages/{id}",
            format!("/api/v1/portal/messages/{id}"),
            Call::Get,
            [401, 401, 401, 200, 404, 401, 401, 401],
        ),
        (
            "/api/v1/portal/messages/{id}/attachments/{attachment}",
            format!("/api/v1/portal/messages/{id}/attachments/{aid}"),
            Call::Get,
            [401, 401, 401, 200, 404, 401, 401, 401],
        ),
        (
            // An empty reply is refused (400) after the access check, so nothing is stored.
            "/api/v1/portal/messages/{id}/reply",
            format!("/api/v1/portal/messages/{id}/reply"),
            Call::Reply,
            [401, 401, 401, 400, 404, 401, 401, 401],
        ),
        (
            "/api/v1/audit/messages/{reference}",
            format!("/api/v1/audit/messages/{reference}"),
            Call::Get,
            [403, 403, 403, 401, 401, 200, 403, 401],
        ),
        (
            // A reason too short is refused after the role check: nothing is held or erased.
            "/api/v1/audit/messages/{reference}/hold",
            format!("/api/v1/audit/messages/{reference}/hold"),
            Call::Post(json!({ "reason": "x" })),
            [403, 403, 403, 401, 401, 400, 403, 401],
        ),
        (
            // Not held: nothing to lift (IG), and nobody else may ask.
            "/api/v1/audit/messages/{reference}/hold",
            format!("/api/v1/audit/messages/{reference}/hold"),
            Call::Delete,
            [403, 403, 403, 401, 401, 400, 403, 401],
        ),
        (
            "/api/v1/audit/messages/{reference}/erase",
            format!("/api/v1/audit/messages/{reference}/erase"),
            Call::Post(json!({ "reason": "x" })),
            [403, 403, 403, 401, 401, 400, 403, 401],
        ),
        (
            "/api/v1/audit/break-glass/{reference}",
            format!("/api/v1/audit/break-glass/{reference}"),
            Call::Get,
            [403, 403, 403, 401, 401, 404, 403, 401],
        ),
        (
            // A reason too short is refused before anything else: nothing opens, nobody is told.
            "/api/v1/audit/break-glass/{reference}",
            format!("/api/v1/audit/break-glass/{reference}"),
            Call::Post(json!({ "reason": "x", "password": PASSWORD })),
            [403, 403, 403, 401, 401, 400, 403, 401],
        ),
        (
            "/api/v1/audit/break-glass/{reference}/attachments/{attachment}",
            format!("/api/v1/audit/break-glass/{reference}/attachments/{aid}"),
            Call::Get,
            [403, 403, 403, 401, 401, 404, 403, 401],
        ),
        (
            // A draft is its author's alone: to anyone else it does not exist. (Each row asks
            // its author last, so removing the draft or its file comes after every refusal.)
            "/api/v1/drafts/{id}",
            format!("/api/v1/drafts/{draft}"),
            Call::Get,
            [200, 404, 404, 401, 401, 404, 404, 401],
        ),
        (
            "/api/v1/drafts/{id}",
            format!("/api/v1/drafts/{draft}"),
            Call::Put(json!({ "subject": "Changed" })),
            [200, 404, 404, 401, 401, 404, 404, 401],
        ),
        (
            "/api/v1/drafts/{id}/attachments",
            format!("/api/v1/drafts/{draft}/attachments"),
            Call::Attach,
            [200, 404, 404, 401, 401, 404, 404, 401],
        ),
        (
            "/api/v1/drafts/{id}/attachments/{attachment}",
            format!("/api/v1/drafts/{draft}/attachments/{draft_file}"),
            Call::Delete,
            [204, 404, 404, 401, 401, 404, 404, 401],
        ),
        (
            "/api/v1/drafts/{id}",
            format!("/api/v1/drafts/{draft}"),
            Call::Delete,
            [204, 404, 404, 401, 401, 404, 404, 401],
        ),
        // The admin console is for administrators: 403 to every other role, whatever the id,
        // and 401 to anyone not signed in as staff. (The account is new@, set up already.)
        ("/api/v1/admin/users", "/api/v1/admin/users".into(), Call::Get, ADMIN_ONLY),
        (
            "/api/v1/admin/users",
            "/api/v1/admin/users".into(),
            Call::Post(json!({ "email": "not an address", "display_name": "X", "role": "staff" })),
            admin_answers(400),
        ),
        (
            "/api/v1/admin/users/{id}/role",
            format!("/api/v1/admin/users/{starter}/role"),
            Call::Put(json!({ "role": "staff" })),
            ADMIN_ONLY,
        ),
        (
            "/api/v1/admin/users/{id}/disable",
            format!("/api/v1/admin/users/{starter}/disable"),
            Call::Post(json!({})),
            ADMIN_ONLY,
        ),
        (
            "/api/v1/admin/users/{id}/enable",
            format!("/api/v1/admin/users/{starter}/enable"),
            Call::Post(json!({})),
            ADMIN_ONLY,
        ),
        (
            // Set up already: nothing to send again (400), after the access check.
            "/api/v1/admin/users/{id}/invite",
            format!("/api/v1/admin/users/{starter}/invite"),
            Call::Post(json!({})),
            admin_answers(400),
        ),
        (
            "/api/v1/admin/users/{id}/second-factor/reset",
            format!("/api/v1/admin/users/{starter}/second-factor/reset"),
            Call::Post(json!({})),
            ADMIN_ONLY,
        ),
        (
            "/api/v1/admin/import/preview",
            "/api/v1/admin/import/preview".into(),
            Call::Post(json!({ "csv": "" })),
            ADMIN_ONLY,
        ),
        (
            "/api/v1/admin/import",
            "/api/v1/admin/import".into(),
            Call::Post(json!({ "csv": "" })),
            admin_answers(400),
        ),
        ("/api/v1/admin/settings", "/api/v1/admin/settings".into(), Call::Get, ADMIN_ONLY),
        (
            // The token is the credential: anyone holding it sees the same non-secret page.
            "/api/v1/portal/links/{token}",
            format!("/api/v1/portal/links/{token_x}"),
            Call::Get,
            [200, 200, 200, 200, 200, 200, 200, 200],
        ),
        (
            // Likewise a set-up link: it names whose account it is for, to whoever holds it.
            "/api/v1/auth/setup/{token}",
            format!("/api/v1/auth/setup/{setup}"),
            Call::Get,
            [200, 200, 200, 200, 200, 200, 200, 200],
        ),
    ];
    (table, cookies)
}

/// An admin route: 403 to staff and IG, 401 to partners and anyone not signed in.
const ADMIN_ONLY: [u16; 8] = admin_answers(200);

const fn admin_answers(admin: u16) -> [u16; 8] {
    [403, 403, 403, 401, 401, 403, admin, 401]
}

async fn ask(app: &TestApp, path: &str, call: &Call, cookie: Option<&str>) -> StatusCode {
    let mut request = match call {
        Call::Get => app.get(path),
        Call::Post(json) => app.post(path).json(json),
        Call::Reply => app.post(path).multipart(multipart("reply", &json!({ "body": "" }), &[])),
        Call::Answer => app.post(path).multipart(multipart("message", &message(&[], "Answer", "text"), &[])),
        Call::Put(json) => app.put(path).json(json),
        Call::Delete => app.delete(path),
        Call::Attach => app.post(path).multipart(
            reqwest::multipart::Form::new().part("attachment", reqwest::multipart::Part::bytes(b"y".to_vec()).file_name("e.txt")),
        ),
    };
    if let Some(c) = cookie {
        request = request.header("cookie", c);
    }
    request.send().await.unwrap().status()
}
