//! Single sign-on against a real OpenID provider: panva's certified `oidc-provider`, shaped
//! like Entra ID (`e2e/support/oidc-provider.mjs`, started per test). The provider's own token
//! endpoint issues every token; the refusals spoil one token each at the provider.

use std::process::Stdio;

use reqwest::StatusCode;
use sealpost_domain::Role;
use serde_json::json;
use tokio::io::AsyncBufReadExt;

use crate::test_app::{PASSWORD, TestApp, body, session_cookie, spawn_app_with};

const TENANT: &str = "5b4f2c6e-9d3a-4e8b-a1c7-2f6d8e0b9a31";
const CLIENT_ID: &str = "sealpost-tests";
const CLIENT_SECRET: &str = "a-client-secret-for-tests";

/// The provider's process (killed when dropped) and its issuer.
struct Idp {
    issuer: String,
    _child: tokio::process::Child,
}

/// A port nobody is listening on now.
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

impl Idp {
    /// Starts the provider on `port`, sending browsers back to `app`.
    async fn start(port: u16, app: &str) -> Self {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        assert!(
            root.join("e2e/node_modules/oidc-provider").is_dir(),
            "the test OpenID provider needs its npm modules: run `npm ci` in e2e/ (cargo xtask test does)"
        );
        let mut child = tokio::process::Command::new("node")
            .arg(root.join("e2e/support/oidc-provider.mjs"))
            .args(["--port", &port.to_string(), "--tenant", TENANT])
            .args(["--client-id", CLIENT_ID, "--client-secret", CLIENT_SECRET])
            .args(["--redirect-uri", &format!("{app}/api/v1/auth/sso/callback")])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("node runs the test OpenID provider");
        let mut lines = tokio::io::BufReader::new(child.stdout.take().unwrap()).lines();
        let first = lines.next_line().await.unwrap().expect("the provider prints its issuer");
        let issuer = serde_json::from_str::<serde_json::Value>(&first).unwrap()["issuer"]
            .as_str()
            .unwrap()
            .to_owned();
        // Keep reading its notices so the pipe never fills.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        Self { issuer, _child: child }
    }

    async fn spoil_next_id_token(&self, mode: &str) {
        let answer = reqwest::Client::new()
            .post(format!("{}/__test/next-id-token", self.issuer))
            .json(&json!({ "mode": mode }))
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), StatusCode::NO_CONTENT);
    }

    async fn set_email(&self, login: &str, email: &str) {
        let answer = reqwest::Client::new()
            .post(format!("{}/__test/email", self.issuer))
            .json(&json!({ "login": login, "email": email }))
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), StatusCode::NO_CONTENT);
    }
}

/// A Sealpost with single sign-on set up against a provider started for it.
async fn app_and_idp(configure: impl FnOnce(&mut sealpost_server::settings::Settings)) -> (TestApp, Idp) {
    let (app_port, idp_port) = (free_port(), free_port());
    let issuer = format!("http://127.0.0.1:{idp_port}/{TENANT}/v2.0");
    let app = spawn_app_with(|s| {
        s.listen = format!("127.0.0.1:{app_port}").parse().unwrap();
        s.public_url = format!("http://127.0.0.1:{app_port}");
        s.oidc = Some(sealpost_server::settings::Oidc {
            issuer,
            client_id: CLIENT_ID.into(),
            client_secret: sealpost_crypto::SecretString::from(CLIENT_SECRET),
            autocreate: false,
            provider_mfa: false,
        });
        configure(s);
    })
    .await;
    let idp = Idp::start(idp_port, &app.address).await;
    (app, idp)
}

/// A browser that does not follow redirects, so each hop can be looked at.
fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

fn location(response: &reqwest::Response) -> String {
    response.headers()["location"].to_str().unwrap().to_owned()
}

/// The `name=value` of the cookie `name` that `response` sets.
fn cookie_named(response: &reqwest::Response, name: &str) -> Option<String> {
    response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with(&format!("{name}=")))
        .and_then(|c| c.split(';').next().map(str::to_owned))
}

/// The first leg at Sealpost, then the provider's sign-in as `login`: the callback URL the
/// provider sends the browser back to, and the state cookie Sealpost gave the browser.
async fn to_callback(app: &TestApp, login: &str) -> (String, String) {
    let browser = browser();
    let start = browser.get(format!("{}/api/v1/auth/sso/start", app.address)).send().await.unwrap();
    assert_eq!(start.status(), StatusCode::SEE_OTHER);
    let state_cookie = cookie_named(&start, "__Host-sealpost_sso").expect("the state is kept in a cookie");
    let mut url = format!("{}&login_hint={}", location(&start), login.replace('@', "%40"));
    assert!(
        url.contains("code_challenge_method=S256") && url.contains("nonce="),
        "PKCE and a nonce: {url}"
    );
    // The provider's own cookies, carried from hop to hop as a browser would.
    let mut jar: Vec<String> = Vec::new();
    for _ in 0..10 {
        let hop = browser.get(&url).header("cookie", jar.join("; ")).send().await.unwrap();
        assert_eq!(hop.status(), StatusCode::SEE_OTHER, "at {url}");
        for set in hop.headers().get_all("set-cookie").iter().filter_map(|v| v.to_str().ok()) {
            let pair = set.split(';').next().unwrap().to_owned();
            let name = pair.split('=').next().unwrap().to_owned();
            jar.retain(|c| !c.starts_with(&format!("{name}=")));
            jar.push(pair);
        }
        // The provider's redirects may be relative to where the browser is.
        url = reqwest::Url::parse(&url).unwrap().join(&location(&hop)).unwrap().to_string();
        if url.starts_with(&app.address) {
            return (url, state_cookie);
        }
    }
    panic!("the provider never sent the browser back");
}

/// Follows the provider's redirect back to Sealpost with the state cookie.
async fn call_back(url: &str, state_cookie: &str) -> reqwest::Response {
    browser().get(url).header("cookie", state_cookie).send().await.unwrap()
}

/// A whole sign-in as `login`: Sealpost's answer to the callback.
async fn sign_in_as(app: &TestApp, login: &str) -> reqwest::Response {
    let (url, state_cookie) = to_callback(app, login).await;
    call_back(&url, &state_cookie).await
}

async fn signed_in_email(app: &TestApp, response: &reqwest::Response) -> String {
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(response), "/");
    let cookie = session_cookie(response).expect("a session");
    body(app.me(&cookie).await).await["email"].as_str().unwrap().to_owned()
}

fn refused_with(response: &reqwest::Response, code: &str) {
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(response), format!("/signin?sso={code}"));
    assert!(session_cookie(response).is_none(), "no session for a refused sign-in");
}

async fn audited(app: &TestApp, action: &str) -> usize {
    let sql = format!("SELECT action FROM audit_events WHERE action = '{action}'");
    app.db.store.fetch_texts(&sql).await.unwrap().len()
}

#[tokio::test]
async fn a_member_of_staff_signs_in_through_the_provider_and_is_linked_by_their_object_id() {
    let (app, idp) = app_and_idp(|_| {}).await;
    app.create_user("ann@council.gov.uk", PASSWORD, Role::Staff).await;
    let info = body(app.get("/api/v1/info").send().await.unwrap()).await;
    assert_eq!((info["sso"].as_bool(), info["password_login"].as_bool()), (Some(true), Some(true)));

    let first = sign_in_as(&app, "ann@council.gov.uk").await;
    assert_eq!(signed_in_email(&app, &first).await, "ann@council.gov.uk");
    assert!(
        cookie_named(&first, "__Host-sealpost_sso").is_some_and(|c| c.ends_with('=')),
        "the state cookie is cleared"
    );
    assert_eq!(audited(&app, "auth.sso_linked").await, 1);
    assert_eq!(audited(&app, "auth.sso_sign_in").await, 1);

    // Her address changes at the council; the link by object id still finds her account.
    idp.set_email("ann@council.gov.uk", "ann.smith@council.gov.uk").await;
    let again = sign_in_as(&app, "ann@council.gov.uk").await;
    assert_eq!(signed_in_email(&app, &again).await, "ann@council.gov.uk");
    assert_eq!(audited(&app, "auth.sso_linked").await, 1, "linked once");

    // Sign-out ends the local session.
    let cookie = session_cookie(&again).unwrap();
    assert_eq!(app.logout(&cookie).await.status(), StatusCode::NO_CONTENT);
    assert_eq!(app.me(&cookie).await.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_tampered_signature_a_wrong_audience_a_wrong_nonce_and_an_expired_token_are_each_refused() {
    let (app, idp) = app_and_idp(|_| {}).await;
    app.create_user("ann@council.gov.uk", PASSWORD, Role::Staff).await;
    for mode in ["signature", "audience", "nonce", "expired"] {
        idp.spoil_next_id_token(mode).await;
        let answer = sign_in_as(&app, "ann@council.gov.uk").await;
        refused_with(&answer, "refused");
    }
    assert_eq!(audited(&app, "auth.sso_sign_in").await, 0);
    assert_eq!(audited(&app, "auth.sso_refused").await, 4, "each refusal is on the audit record");
    // The provider itself is fine: an unspoiled token signs her in.
    let good = sign_in_as(&app, "ann@council.gov.uk").await;
    assert_eq!(signed_in_email(&app, &good).await, "ann@council.gov.uk");
}

#[tokio::test]
async fn a_replayed_state_or_one_from_another_browser_is_refused_and_forty_racing_callbacks_sign_in_once() {
    let (app, _idp) = app_and_idp(|_| {}).await;
    app.create_user("ann@council.gov.uk", PASSWORD, Role::Staff).await;

    // Login CSRF: the callback arrives in a browser that started a sign-in of its own, not
    // this one (an attacker's answer planted in a victim's browser).
    let (url, _) = to_callback(&app, "ann@council.gov.uk").await;
    let (_, other_browser) = to_callback(&app, "ann@council.gov.uk").await;
    refused_with(&call_back(&url, &other_browser).await, "expired");
    refused_with(&call_back(&url, "").await, "expired");

    // Forty copies of one callback at once: one session, every other copy refused, as used
    // or, past the network's burst of sign-in failures (30), as too many.
    let (url, state_cookie) = to_callback(&app, "ann@council.gov.uk").await;
    let answers = futures::future::join_all((0..40).map(|_| call_back(&url, &state_cookie))).await;
    let signed_in = answers.iter().filter(|a| session_cookie(a).is_some()).count();
    assert_eq!(signed_in, 1);
    let refused: Vec<String> = answers.iter().filter(|a| session_cookie(a).is_none()).map(location).collect();
    let used = refused.iter().filter(|l| *l == "/signin?sso=expired").count();
    let busy = refused.iter().filter(|l| *l == "/signin?sso=busy").count();
    assert_eq!((used + busy, used <= 29), (39, true), "{refused:?}");
    // And later, once the network's limit has refilled, the same again.
    app.clock.advance_minutes(10);
    refused_with(&call_back(&url, &state_cookie).await, "expired");

    // A state waits ten minutes at most.
    let (url, state_cookie) = to_callback(&app, "ann@council.gov.uk").await;
    app.clock.advance_minutes(11);
    refused_with(&call_back(&url, &state_cookie).await, "expired");
}

#[tokio::test]
async fn someone_without_an_account_is_refused_unless_autocreate_makes_them_staff() {
    let (app, _idp) = app_and_idp(|_| {}).await;
    refused_with(&sign_in_as(&app, "new.starter@council.gov.uk").await, "no_account");
    assert_eq!(
        app.db
            .store
            .fetch_texts("SELECT email FROM users WHERE email = 'new.starter@council.gov.uk'")
            .await
            .unwrap()
            .len(),
        0
    );

    let (app, _idp) = app_and_idp(|s| s.oidc.as_mut().unwrap().autocreate = true).await;
    let answer = sign_in_as(&app, "new.starter@council.gov.uk").await;
    assert_eq!(signed_in_email(&app, &answer).await, "new.starter@council.gov.uk");
    let me = body(app.me(&session_cookie(&answer).unwrap()).await).await;
    assert_eq!(
        (me["role"].as_str(), me["display_name"].as_str()),
        (Some("staff"), Some("New Starter"))
    );
    assert_eq!(audited(&app, "account.sso_created").await, 1);
}

#[tokio::test]
async fn a_disabled_account_and_an_address_linked_to_someone_else_are_refused() {
    let (app, idp) = app_and_idp(|_| {}).await;
    app.create_user("bob@council.gov.uk", PASSWORD, Role::Staff).await;
    let bob = sign_in_as(&app, "bob@council.gov.uk").await;
    assert_eq!(signed_in_email(&app, &bob).await, "bob@council.gov.uk");

    // Another person at the provider whose address claim is now Bob's does not get his account.
    idp.set_email("someone.else@council.gov.uk", "bob@council.gov.uk").await;
    refused_with(&sign_in_as(&app, "someone.else@council.gov.uk").await, "linked_elsewhere");

    let cat = app.create_user("cat@council.gov.uk", PASSWORD, Role::Staff).await;
    app.state.store.disable_user(cat).await.unwrap();
    refused_with(&sign_in_as(&app, "cat@council.gov.uk").await, "disabled");
}

#[tokio::test]
async fn with_password_sign_in_off_only_an_administrator_can_use_a_password() {
    let (app, _idp) = app_and_idp(|s| s.password_login = false).await;
    app.create_user("ann@council.gov.uk", PASSWORD, Role::Staff).await;
    app.create_user("it@council.gov.uk", PASSWORD, Role::Admin).await;
    let info = body(app.get("/api/v1/info").send().await.unwrap()).await;
    assert_eq!(info["password_login"].as_bool(), Some(false));

    let refused = app.login("ann@council.gov.uk", PASSWORD).await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    assert!(session_cookie(&refused).is_none());
    assert_eq!(body(refused).await["code"], "password_sign_in_off");
    // Asked only after the right password: a wrong one is the usual answer (A5).
    assert_eq!(
        app.login("ann@council.gov.uk", "not the password at all").await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert!(session_cookie(&app.login("it@council.gov.uk", PASSWORD).await).is_some());
    // Ann signs in through the provider instead.
    let answer = sign_in_as(&app, "ann@council.gov.uk").await;
    assert_eq!(signed_in_email(&app, &answer).await, "ann@council.gov.uk");
}

#[tokio::test]
async fn an_unreachable_provider_or_no_provider_sends_the_browser_back_with_a_reason() {
    // Set up, but the provider is down: nothing listens on its port.
    let dead = free_port();
    let app = spawn_app_with(|s| {
        s.oidc = Some(sealpost_server::settings::Oidc {
            issuer: format!("http://127.0.0.1:{dead}/{TENANT}/v2.0"),
            client_id: CLIENT_ID.into(),
            client_secret: sealpost_crypto::SecretString::from(CLIENT_SECRET),
            autocreate: false,
            provider_mfa: false,
        })
    })
    .await;
    let start = browser()
        .get(format!("{}/api/v1/auth/sso/start", app.address))
        .send()
        .await
        .unwrap();
    refused_with(&start, "unavailable");

    let plain = crate::test_app::spawn_app().await;
    let start = browser()
        .get(format!("{}/api/v1/auth/sso/start", plain.address))
        .send()
        .await
        .unwrap();
    refused_with(&start, "off");
    let info = body(plain.get("/api/v1/info").send().await.unwrap()).await;
    assert_eq!(info["sso"].as_bool(), Some(false));
}

#[tokio::test]
async fn without_a_second_factor_in_the_token_sealposts_own_follows_unless_the_provider_is_trusted_for_it() {
    let (app, _idp) = app_and_idp(|s| s.mfa_required = sealpost_server::settings::MfaRequired::All).await;
    app.create_user("ann@council.gov.uk", PASSWORD, Role::Staff).await;
    let answer = sign_in_as(&app, "ann@council.gov.uk").await;
    let cookie = session_cookie(&answer).expect("a session waiting for its second factor");
    let me = body(app.me(&cookie).await).await;
    assert_eq!(
        me["next_step"], "enrol",
        "the test provider sends no amr: Sealpost's own second factor is set up first"
    );
    assert_eq!(app.list(&cookie, "inbox").await.status(), StatusCode::UNAUTHORIZED);

    let (app, _idp) = app_and_idp(|s| {
        s.mfa_required = sealpost_server::settings::MfaRequired::All;
        s.oidc.as_mut().unwrap().provider_mfa = true;
    })
    .await;
    app.create_user("ann@council.gov.uk", PASSWORD, Role::Staff).await;
    let answer = sign_in_as(&app, "ann@council.gov.uk").await;
    let cookie = session_cookie(&answer).unwrap();
    assert!(body(app.me(&cookie).await).await["next_step"].is_null());
    assert_eq!(app.list(&cookie, "inbox").await.status(), StatusCode::OK);
}
