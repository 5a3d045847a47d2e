//! Several councils on one deployment (issue 21), on PostgreSQL: each answers on its own host
//! name with its own people, mail, address book, audit chain and rate limits, and nothing of
//! one can be seen, found or guessed from another, through the API or in the database.

use reqwest::StatusCode;
use sealpost_domain::Role;
use serde_json::{Value, json};

use crate::staff::{message, send_ok};
use crate::test_app::{PASSWORD, TestApp, body, spawn_app_with_tenants};

async fn info(t: &TestApp) -> Value {
    t.get("/api/v1/info").send().await.unwrap().json().await.unwrap()
}

async fn get(app: &TestApp, cookie: &str, path: &str) -> Value {
    let r = app.get(path).header("cookie", cookie).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK, "{path}");
    r.json().await.unwrap()
}

#[tokio::test]
async fn two_councils_on_one_deployment_see_nothing_of_each_other() {
    let Some((app, _sink)) =
        spawn_app_with_tenants(&[("north", "North Council", "north.test"), ("south", "South Council", "south.test")]).await
    else {
        return;
    };
    let (north, south) = (app.tenant("north"), app.tenant("south"));
    // Each council answers with its own name, on its own host name.
    assert_eq!(info(&north).await["organisation"], "North Council");
    assert_eq!(info(&south).await["organisation"], "South Council");
    assert_eq!(info(&app).await["organisation"], "Testshire County Council");

    // The same address may belong to a person in each council: two different accounts.
    for (t, who) in [
        (&north, "ann@north.gov.uk"),
        (&north, "bob@north.gov.uk"),
        (&south, "sue@south.gov.uk"),
    ] {
        t.create_user(who, PASSWORD, Role::Staff).await;
    }
    let shared = "pat@shared-services.gov.uk";
    north.create_user(shared, PASSWORD, Role::Staff).await;
    south.create_user(shared, "a different password entirely 42", Role::Staff).await;
    let ig = "ida@north.gov.uk";
    north.create_user(ig, PASSWORD, Role::Ig).await;
    let (ann, sue) = (
        north.sign_in("ann@north.gov.uk", PASSWORD).await,
        south.sign_in("sue@south.gov.uk", PASSWORD).await,
    );

    // A person of one council cannot sign in at another's address, nor use its session there.
    assert_eq!(south.login("ann@north.gov.uk", PASSWORD).await.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(app.login("ann@north.gov.uk", PASSWORD).await.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(south.me(&ann).await.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        south.login(shared, PASSWORD).await.status(),
        StatusCode::UNAUTHORIZED,
        "south's pat has another password"
    );

    // North's mail stays in North.
    let sent = send_ok(
        &north,
        &ann,
        message(
            &["bob@north.gov.uk", "pc.jones@police.example.uk"],
            "North case 17",
            "Only for North.",
        ),
        &[("north.txt", b"north file".to_vec())],
    )
    .await;
    let id = sent["id"].as_str().unwrap();
    let bob = north.sign_in("bob@north.gov.uk", PASSWORD).await;
    assert_eq!(body(north.list(&bob, "inbox").await).await.as_array().unwrap().len(), 1);
    assert_eq!(
        south.read(&sue, id).await.status(),
        StatusCode::NOT_FOUND,
        "an id from North means nothing in South"
    );
    assert_eq!(body(south.list(&sue, "sent").await).await, json!([]));
    let found = get(&south, &sue, "/api/v1/search?q=case").await;
    assert_eq!(found["hits"], json!([]), "{found}");
    let in_north = get(&north, &bob, "/api/v1/search?q=case").await;
    assert_eq!(in_north["hits"].as_array().map(Vec::len), Some(1), "{in_north}");
    // South's address book knows nobody North wrote to.
    let compose = get(&south, &sue, "/api/v1/compose").await;
    assert_eq!(compose["known_recipients"], json!([]));
    let north_compose = get(&north, &ann, "/api/v1/compose").await;
    assert!(north_compose["known_recipients"].to_string().contains("pc.jones@police.example.uk"));

    // A council's keys open its own messages' keys and nobody else's.
    let wrapped = north.state.store.fetch_bytes("SELECT wrapped FROM message_keys").await.unwrap();
    let message = uuid::Uuid::parse_str(id).unwrap();
    let keys = |t: &TestApp| sealpost_server::keyfiles::load(&t.state.settings.key_dir).unwrap();
    assert!(keys(&north).unwrap(&wrapped[0], message).is_ok());
    assert!(
        keys(&south).unwrap(&wrapped[0], message).is_err(),
        "South's keys open nothing of North's"
    );
    assert!(keys(&app).unwrap(&wrapped[0], message).is_err(), "nor do the default council's");

    // Each council's audit chain is its own, and its IG officers see only its events.
    let ida = north.sign_in(ig, PASSWORD).await;
    let events = get(&north, &ida, "/api/v1/audit/events?person=ann@north.gov.uk").await;
    assert!(events.to_string().contains("message.send"), "{events}");
    let south_ig = "ian@south.gov.uk";
    south.create_user(south_ig, PASSWORD, Role::Ig).await;
    let ian = south.sign_in(south_ig, PASSWORD).await;
    let events = get(&south, &ian, "/api/v1/audit/events?person=ann@north.gov.uk").await;
    assert!(!events.to_string().contains("message.send"), "{events}");
    for t in [&north, &south] {
        let key = t.state.audit_key.verify_key();
        let verified = sealpost_server::app::audit::verify_chain(&t.state.store, &key, &[], &[])
            .await
            .unwrap();
        assert!(verified.is_ok(), "each council's chain is whole on its own");
    }
    assert!(
        south
            .state
            .store
            .fetch_texts("SELECT action FROM audit_events")
            .await
            .unwrap()
            .iter()
            .all(|a| a != "message.send"),
        "South's log holds no send"
    );

    // Rate limits are per council: North's lockout of an address leaves South's alone.
    for _ in 0..20 {
        assert_eq!(north.login(shared, "wrong password").await.status(), StatusCode::UNAUTHORIZED);
    }
    let locked = north.login(shared, PASSWORD).await;
    assert_eq!(locked.status(), StatusCode::TOO_MANY_REQUESTS, "North's pat is locked");
    assert!(body(locked).await["message"].as_str().unwrap().contains("Too many failed sign-ins"));
    assert_eq!(
        south.login(shared, "a different password entirely 42").await.status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn a_councils_database_connections_cannot_reach_another_councils_tables() {
    let Some((app, _sink)) =
        spawn_app_with_tenants(&[("north", "North Council", "north.test"), ("south", "South Council", "south.test")]).await
    else {
        return;
    };
    let (north, south) = (app.tenant("north"), app.tenant("south"));
    north.create_user("ann@north.gov.uk", PASSWORD, Role::Staff).await;
    // Named outright, another council's tables are refused by PostgreSQL itself.
    let err = south
        .state
        .store
        .fetch_texts("SELECT email FROM sealpost_tenant_north.users")
        .await
        .unwrap_err();
    assert!(err.to_string().contains("permission denied"), "{err}");
    // So are the default council's (in the database's own schema).
    let err = north.state.store.fetch_texts("SELECT email FROM public.users").await.unwrap_err();
    assert!(err.to_string().contains("permission denied"), "{err}");
    // A connection cannot take another council's role either.
    let north_role = &north.state.settings.tenant.as_ref().unwrap().db_role;
    let err = south.state.store.execute_raw(&format!("SET ROLE {north_role}")).await.unwrap_err();
    assert!(err.to_string().contains("permission denied"), "{err}");
    // Unqualified, each sees its own.
    let people = "SELECT email FROM users WHERE email NOT LIKE '%.invalid'";
    assert_eq!(north.state.store.fetch_texts(people).await.unwrap(), ["ann@north.gov.uk"]);
    assert!(south.state.store.fetch_texts(people).await.unwrap().is_empty());
}

#[tokio::test]
async fn tenant_add_makes_a_council_whose_people_the_other_commands_manage_with_tenant() {
    let Some((app, _sink)) = spawn_app_with_tenants(&[]).await else {
        return;
    };
    let sealpost = |args: &[&str], stdin: Option<&str>| {
        let out = crate::cli::sealpost(&app, args, stdin);
        let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        (out.status.success(), text)
    };
    let (ok, text) = sealpost(&["tenant", "list"], None);
    assert!(ok && text.contains("No tenants"), "{text}");
    let add = [
        "tenant",
        "add",
        "--name",
        "North Council",
        "--slug",
        "north",
        "--host",
        "North.Test",
        "--host",
        "mail.north.test",
    ];
    let (ok, text) = sealpost(&add, None);
    assert!(ok, "{text}");
    assert!(text.contains("--tenant north user add"), "it says what to do next: {text}");
    assert!(
        app.dir.path().join("keys/tenants/north/master.key").exists(),
        "North has keys of its own"
    );
    let (ok, text) = sealpost(&add, None);
    assert!(!ok && text.contains("exists already"), "{text}");
    let (ok, text) = sealpost(&["tenant", "add", "--name", "X", "--slug", "North-1", "--host", "x.test"], None);
    assert!(!ok && text.contains("--slug"), "{text}");
    let (ok, text) = sealpost(&["tenant", "add", "--name", "X", "--slug", "x", "--host", "127.0.0.1"], None);
    assert!(!ok && text.contains("the default council's own address"), "{text}");

    let (ok, text) = sealpost(&["tenant", "list"], None);
    assert!(ok && text.contains("north\tNorth Council\tnorth.test, mail.north.test"), "{text}");
    let user = [
        "--tenant",
        "north",
        "user",
        "add",
        "--email",
        "ann@north.gov.uk",
        "--name",
        "Ann",
        "--role",
        "admin",
        "--password-stdin",
    ];
    let (ok, text) = sealpost(&user, Some(PASSWORD));
    assert!(ok, "{text}");
    let (_, north_users) = sealpost(&["--tenant", "north", "user", "list"], None);
    assert!(north_users.contains("ann@north.gov.uk"), "{north_users}");
    let (_, default_users) = sealpost(&["user", "list"], None);
    assert!(!default_users.contains("ann@north.gov.uk"), "{default_users}");
    let (ok, text) = sealpost(&["--tenant", "nowhere", "user", "list"], None);
    assert!(!ok && text.contains("no tenant nowhere"), "{text}");
    let (ok, text) = sealpost(&["--tenant", "north", "audit", "verify"], None);
    assert!(ok, "North's chain verifies with North's key: {text}");
}

#[tokio::test]
async fn sqlite_holds_one_council_and_says_so() {
    if std::env::var("SEALPOST_TEST_BACKEND").as_deref() == Ok("postgres") {
        return;
    }
    let app = crate::test_app::spawn_app().await;
    let out = crate::cli::sealpost(
        &app,
        &["tenant", "add", "--name", "North", "--slug", "north", "--host", "north.test"],
        None,
    );
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("tenants need PostgreSQL"));
    assert!(!app.dir.path().join("keys/tenants").exists(), "nothing was made");
}
