//! The admin console (issue 17): an administrator invites a colleague (the set-up email goes
//! through the outbox to a real SMTP listener), who sets a password and signs in; the
//! administrator changes their role, disables them (their open session is refused at its next
//! request) and enables them; a CSV import is previewed and is all or nothing; every change is
//! on the IG console's record of the person; nobody but an administrator gets in.

use reqwest::StatusCode;
use sealpost_domain::Role;
use sealpost_mail::testing::SmtpSink;
use serde_json::{Value, json};

use crate::test_app::{PASSWORD, TestApp, body, spawn_app_with_smtp};

const DEE: &str = "dee@testshire.gov.uk";

async fn admin(app: &TestApp) -> String {
    app.create_user("it@testshire.gov.uk", PASSWORD, Role::Admin).await;
    app.sign_in("it@testshire.gov.uk", PASSWORD).await
}

async fn call(app: &TestApp, cookie: &str, method: &str, path: &str, payload: Option<Value>) -> (StatusCode, Value) {
    let url = format!("/api/v1/admin{path}");
    let request = match method {
        "GET" => app.get(&url),
        "PUT" => app.put(&url),
        _ => app.post(&url),
    };
    let request = request.header("cookie", cookie);
    let request = match payload {
        Some(p) => request.json(&p),
        None => request,
    };
    let response = request.send().await.unwrap();
    let status = response.status();
    (status, body(response).await)
}

/// The set-up token of the newest invitation to `to`.
fn invitation_token(sink: &SmtpSink, to: &str) -> String {
    let mail = sink
        .received()
        .into_iter()
        .rev()
        .find(|m| m.contains(&format!("To: {to}")) && m.contains("/setup/"))
        .expect("an invitation");
    assert!(
        mail.contains("Subject: Your Sealpost account at Testshire County Council"),
        "{mail}"
    );
    let tail = mail.split("/setup/").nth(1).unwrap();
    tail.chars().take_while(char::is_ascii_hexdigit).collect()
}

fn row<'a>(list: &'a Value, email: &str) -> &'a Value {
    list.as_array()
        .unwrap()
        .iter()
        .find(|a| a["email"] == email)
        .expect("the account is listed")
}

#[tokio::test]
async fn an_admin_invites_a_colleague_who_sets_up_and_signs_in_and_is_disabled_mid_session() {
    let (app, sink) = spawn_app_with_smtp(&[]).await;
    let it = admin(&app).await;
    let (status, invited) = call(
        &app,
        &it,
        "POST",
        "/users",
        Some(json!({ "email": DEE, "display_name": "Dee Patel", "role": "staff" })),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{invited}");
    assert_eq!(
        (invited["status"].as_str(), invited["second_factor"].as_bool()),
        (Some("invited"), Some(false))
    );
    let id = invited["id"].as_str().unwrap().to_owned();
    // The same address again is refused, and nothing changes.
    let (again, said) = call(
        &app,
        &it,
        "POST",
        "/users",
        Some(json!({ "email": "DEE@testshire.gov.uk", "display_name": "D", "role": "staff" })),
    )
    .await;
    assert_eq!((again, said["code"].as_str()), (StatusCode::BAD_REQUEST, Some("address_taken")));

    // The invitation goes through the outbox; the link sets a password.
    assert_eq!(app.deliver_due().await, 1);
    let first = invitation_token(&sink, DEE);
    // Sent again, the new link works and the earlier one no longer does.
    let (status, _) = call(&app, &it, "POST", &format!("/users/{id}/invite"), None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(app.deliver_due().await, 1);
    let token = invitation_token(&sink, DEE);
    assert_ne!(token, first);
    assert_eq!(app.setup(&first, PASSWORD).await.status(), StatusCode::BAD_REQUEST);
    assert_eq!(app.setup(&token, PASSWORD).await.status(), StatusCode::OK);
    let dee = app.sign_in(DEE, PASSWORD).await;
    let (_, list) = call(&app, &it, "GET", "/users", None).await;
    assert_eq!(row(&list, DEE)["status"], "active");
    assert!(row(&list, DEE)["last_sign_in"].is_i64());
    // An account that is set up has no invitation to send again.
    let (resent, said) = call(&app, &it, "POST", &format!("/users/{id}/invite"), None).await;
    assert_eq!((resent, said["code"].as_str()), (StatusCode::BAD_REQUEST, Some("already_set_up")));

    // Disabled: the open session is refused at its next request, and so is signing in.
    let (status, disabled) = call(&app, &it, "POST", &format!("/users/{id}/disable"), None).await;
    assert_eq!((status, disabled["status"].as_str()), (StatusCode::OK, Some("disabled")));
    assert_eq!(app.me(&dee).await.status(), StatusCode::UNAUTHORIZED);
    let refused = app.login(DEE, PASSWORD).await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    assert_eq!(body(refused).await["code"], "account_disabled");
    // A disabled account's invitation cannot be sent again either.
    let (status, said) = call(&app, &it, "POST", &format!("/users/{id}/invite"), None).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{said}");
    let (_, enabled) = call(&app, &it, "POST", &format!("/users/{id}/enable"), None).await;
    assert_eq!(enabled["status"], "active");
    let dee = app.sign_in(DEE, PASSWORD).await;

    // A new role ends the sessions, so it applies at the next sign-in.
    let (_, ig) = call(&app, &it, "PUT", &format!("/users/{id}/role"), Some(json!({ "role": "ig" }))).await;
    assert_eq!(ig["role"], "ig");
    assert_eq!(app.me(&dee).await.status(), StatusCode::UNAUTHORIZED);

    // An administrator cannot lock themselves out here.
    let (_, me) = call(&app, &it, "GET", "/users", None).await;
    let own = row(&me, "it@testshire.gov.uk")["id"].as_str().unwrap().to_owned();
    let (status, said) = call(&app, &it, "POST", &format!("/users/{own}/disable"), None).await;
    assert_eq!((status, said["code"].as_str()), (StatusCode::BAD_REQUEST, Some("own_account")));
    let (status, _) = call(&app, &it, "POST", "/users/00000000-0000-4000-8000-000000000001/disable", None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // Every change is on the IG console's record of the person, by the administrator.
    let ig_officer = app.sign_in(DEE, PASSWORD).await;
    let events = body(
        app.get(&format!("/api/v1/audit/events?person={DEE}"))
            .header("cookie", &ig_officer)
            .send()
            .await
            .unwrap(),
    )
    .await;
    let actions: Vec<&str> = events["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    for want in [
        "account.invite",
        "notification.sent",
        "account.disable",
        "account.enable",
        "account.role",
    ] {
        assert!(actions.contains(&want), "{want} missing from {actions:?}");
    }
}

#[tokio::test]
async fn a_csv_import_is_previewed_and_is_all_or_nothing() {
    let (app, sink) = spawn_app_with_smtp(&[]).await;
    let it = admin(&app).await;
    app.create_user("ann@testshire.gov.uk", PASSWORD, Role::Staff).await;
    let bad = "address,name,role\n\
               eve@testshire.gov.uk,\"Jones, Eve\",staff\n\
               ann@testshire.gov.uk,Ann Again,staff\n\
               not-an-address,Nobody,staff\n\
               fay@testshire.gov.uk,Fay,root\n\
               eve@testshire.gov.uk,Eve Twice,\n";
    let (status, preview) = call(&app, &it, "POST", "/import/preview", Some(json!({ "csv": bad }))).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!((preview["ready"].as_u64(), preview["problems"].as_u64()), (Some(1), Some(4)));
    let problems: Vec<(u64, &str)> = preview["rows"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|r| r["problem"].as_str().map(|p| (r["line"].as_u64().unwrap(), p)))
        .collect();
    assert_eq!(problems.iter().map(|p| p.0).collect::<Vec<_>>(), [3, 4, 5, 6]);
    assert!(problems[0].1.contains("already has an account"), "{problems:?}");
    assert!(problems[2].1.contains("staff, ig or admin"), "{problems:?}");
    assert!(problems[3].1.contains("earlier line"), "{problems:?}");
    assert_eq!(preview["rows"][0]["display_name"], "Jones, Eve");

    let (status, said) = call(&app, &it, "POST", "/import", Some(json!({ "csv": bad }))).await;
    assert_eq!((status, said["code"].as_str()), (StatusCode::BAD_REQUEST, Some("import_problems")));
    let (_, list) = call(&app, &it, "GET", "/users", None).await;
    assert_eq!(list.as_array().unwrap().len(), 2, "nothing half-imported: {list}");

    let good = "eve@testshire.gov.uk,\"Jones, Eve\",staff\ngus@testshire.gov.uk,Gus Ng,ig\n";
    let (status, done) = call(&app, &it, "POST", "/import", Some(json!({ "csv": good }))).await;
    assert_eq!((status, done["created"].as_u64()), (StatusCode::OK, Some(2)));
    let (_, list) = call(&app, &it, "GET", "/users", None).await;
    assert_eq!(row(&list, "gus@testshire.gov.uk")["role"], "ig");
    assert_eq!(row(&list, "eve@testshire.gov.uk")["status"], "invited");
    assert_eq!(app.deliver_due().await, 2);
    invitation_token(&sink, "eve@testshire.gov.uk");
    invitation_token(&sink, "gus@testshire.gov.uk");
}

#[tokio::test]
async fn an_invitation_the_relay_refuses_is_shown_and_can_be_sent_again() {
    let (app, sink) = spawn_app_with_smtp(&[550]).await;
    let it = admin(&app).await;
    let (_, invited) = call(
        &app,
        &it,
        "POST",
        "/users",
        Some(json!({ "email": DEE, "display_name": "Dee", "role": "staff" })),
    )
    .await;
    app.deliver_due().await;
    let (_, list) = call(&app, &it, "GET", "/users", None).await;
    assert_eq!(row(&list, DEE)["invite_failed"], true);
    let id = invited["id"].as_str().unwrap();
    let (status, again) = call(&app, &it, "POST", &format!("/users/{id}/invite"), None).await;
    assert_eq!((status, again["invite_failed"].as_bool()), (StatusCode::OK, Some(false)));
    app.deliver_due().await;
    let token = invitation_token(&sink, DEE);
    assert_eq!(app.setup(&token, PASSWORD).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn only_administrators_get_in_and_the_settings_show_no_secret() {
    let (app, _sink) = spawn_app_with_smtp(&[]).await;
    let it = admin(&app).await;
    let (status, settings) = call(&app, &it, "GET", "/settings", None).await;
    assert_eq!(status, StatusCode::OK);
    let text = settings.to_string();
    assert!(text.contains("SEALPOST_ORG_NAME") && text.contains("Testshire County Council"));
    assert!(
        !text.contains("smtp://") && !text.contains("sqlite://") && !text.contains("postgres://"),
        "{text}"
    );
    for (who, role) in [("staff@testshire.gov.uk", Role::Staff), ("ig@testshire.gov.uk", Role::Ig)] {
        app.create_user(who, PASSWORD, role).await;
        let cookie = app.sign_in(who, PASSWORD).await;
        for (method, path) in [("GET", "/users"), ("GET", "/settings"), ("POST", "/import/preview")] {
            let (status, _) = call(&app, &cookie, method, path, Some(json!({ "csv": "" }))).await;
            assert_eq!(status, StatusCode::FORBIDDEN, "{who} {path}");
        }
    }
    let (status, _) = call(&app, "none=1", "GET", "/users", None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}
