//! `spawn_app()` and the `TestApp` with one method per endpoint.

use std::sync::Arc;

use reqwest::{Response, StatusCode};
use sealpost_crypto::SecretString;
use sealpost_domain::{DisplayName, EmailAddress, Role, UserId};
use sealpost_mail::testing::SmtpSink;
use sealpost_server::clock::ManualClock;
use sealpost_server::settings::{MfaRequired, Settings};
use sealpost_server::startup::Application;
use sealpost_server::state::AppState;
use sealpost_storage::NewUser;
use sealpost_storage::testing::TestDatabase;
use serde_json::{Value, json};

/// A password that passes the policy.
pub const PASSWORD: &str = "correct horse battery staple";

/// A running server and what a test needs to poke at it.
pub struct TestApp {
    /// `http://127.0.0.1:PORT`
    pub address: String,
    /// A client with no cookie jar: tests pass cookies explicitly.
    pub client: reqwest::Client,
    /// The server's state (its store, hasher...).
    pub state: AppState,
    /// The server's clock, moved by hand.
    pub clock: Arc<ManualClock>,
    /// The database; kept alive for the test's duration.
    pub db: Arc<TestDatabase>,
    /// The key and data directory.
    pub dir: Arc<tempfile::TempDir>,
    /// The SMTP intake's address, when the settings turned it on.
    pub intake: Option<std::net::SocketAddr>,
    /// `/metrics`' address, when the settings turned it on.
    pub metrics: Option<std::net::SocketAddr>,
    /// The S3 server holding the blobs, for an app started by [`spawn_app_on_s3`].
    pub s3: Option<sealpost_storage::testing::TestS3>,
    /// The other councils of this deployment: slug, host name and state.
    pub tenants: Vec<(String, String, AppState)>,
}

/// Starts a server with default settings.
pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

/// Starts a server that sends notifications to a real SMTP sink answering with `script`.
pub async fn spawn_app_with_smtp(script: &[u16]) -> (TestApp, SmtpSink) {
    let sink = SmtpSink::start(script).await.unwrap();
    let url = sink.url.clone();
    let app = spawn_app_with(move |s| s.smtp_url = Some(SecretString::from(url))).await;
    (app, sink)
}

/// Starts a server after `configure` adjusts the settings.
pub async fn spawn_app_with(configure: impl FnOnce(&mut Settings)) -> TestApp {
    let db = match std::env::var("SEALPOST_TEST_BACKEND").as_deref() {
        Ok("postgres") => TestDatabase::postgres()
            .await
            .unwrap()
            .expect("SEALPOST_TEST_POSTGRES_URL must be set for the postgres backend"),
        _ => TestDatabase::sqlite().await.unwrap(),
    };
    start(db, tempfile::tempdir().unwrap(), configure, true).await
}

/// Starts a server whose blobs live in a bucket of a real S3-compatible server (s3s-fs), with
/// a real SMTP sink; `None` when `SEALPOST_TEST_S3S_FS` does not name one (the test command
/// installs it and sets that).
pub async fn spawn_app_on_s3() -> Option<(TestApp, SmtpSink)> {
    let Some(s3) = sealpost_storage::testing::TestS3::start().await else {
        eprintln!("SEALPOST_TEST_S3S_FS is unset: this S3 test is skipped");
        return None;
    };
    let sink = SmtpSink::start(&[]).await.unwrap();
    let (url, blob_url, options) = (sink.url.clone(), s3.url("council"), s3.options());
    let mut app = spawn_app_with(move |s| {
        s.smtp_url = Some(SecretString::from(url));
        s.blob_url = Some(blob_url);
        s.s3 = options;
    })
    .await;
    app.s3 = Some(s3);
    Some((app, sink))
}

/// Starts a server on a data and key directory that are there already (`dir`'s `data` and
/// `keys`, e.g. after `sealpost restore`), with the SQLite database in `data`.
pub async fn spawn_app_on(dir: tempfile::TempDir) -> TestApp {
    let url = format!("sqlite://{}", dir.path().join("data/sealpost.db").display());
    let store = sealpost_storage::Store::connect(&url).await.unwrap();
    start(TestDatabase { store, url, dir: None }, dir, |_| {}, false).await
}

async fn start(db: TestDatabase, dir: tempfile::TempDir, configure: impl FnOnce(&mut Settings), new_keys: bool) -> TestApp {
    let mut settings = Settings::load(None, false, Vec::new()).unwrap();
    settings.listen = "127.0.0.1:0".parse().unwrap();
    settings.public_url = "http://127.0.0.1:0".into(); // becomes the bound address
    settings.data_dir = dir.path().join("data");
    settings.key_dir = dir.path().join("keys");
    settings.database_url = SecretString::from(db.url.clone());
    settings.org_name = "Testshire County Council".into();
    // Tests drive the outbox themselves (`deliver_due`), so every send is deterministic.
    settings.outbox_worker = false;
    // Sends reach their recipients at once; the undo window has tests of its own.
    settings.send_hold_seconds = 0;
    // A test machine's disk may have less free than the production reserve.
    settings.min_free_mib = 0;
    // The second factor's own tests turn it on; the rest sign in with a password.
    settings.mfa_required = MfaRequired::None;
    configure(&mut settings);
    if new_keys {
        sealpost_server::keyfiles::init(&settings.key_dir, None).unwrap();
    }
    let clock = Arc::new(ManualClock::new());
    let app = Application::build(settings, clock.clone()).await.unwrap();
    let address = format!("http://{}", app.local_addr().unwrap());
    let intake = app.intake_addr();
    let metrics = app.metrics_addr();
    let state = app.state();
    let mut tenants = vec![];
    for tenant in state.store.tenants().await.unwrap() {
        let slug = tenant.slug.as_str().to_owned();
        tenants.push((slug.clone(), tenant.hosts[0].as_str().to_owned(), app.tenant_state(&slug).unwrap()));
    }
    tokio::spawn(app.run_until(std::future::pending()));
    TestApp {
        address,
        client: reqwest::Client::new(),
        state,
        clock,
        db: Arc::new(db),
        dir: Arc::new(dir),
        intake,
        metrics,
        s3: None,
        tenants,
    }
}

/// Starts a server on PostgreSQL with councils `(slug, name, host)` registered besides the
/// default one, each with keys of its own, all sending to one real SMTP sink; `None` on
/// SQLite, which holds one council.
pub async fn spawn_app_with_tenants(tenants: &[(&str, &str, &str)]) -> Option<(TestApp, SmtpSink)> {
    if std::env::var("SEALPOST_TEST_BACKEND").as_deref() != Ok("postgres") {
        eprintln!("tenants: PostgreSQL only; run in the PostgreSQL pass");
        return None;
    }
    let db = TestDatabase::postgres().await.unwrap().expect("SEALPOST_TEST_POSTGRES_URL");
    let dir = tempfile::tempdir().unwrap();
    for (slug, name, host) in tenants {
        let slug = sealpost_domain::TenantSlug::parse(slug).unwrap();
        let hosts = [sealpost_domain::HostName::parse(host).unwrap()];
        let (_, password) = db.store.add_tenant(&slug, name, &hosts, 0).await.unwrap();
        let keys = dir.path().join("keys/tenants").join(slug.as_str());
        sealpost_server::keyfiles::write_database_password(&keys, &password).unwrap();
        sealpost_server::keyfiles::init(&keys, None).unwrap();
        // As `start` sets for the default council: password sign-in, sends at once.
        std::fs::write(keys.join("sealpost.toml"), "mfa_required = \"none\"\nsend_hold_seconds = 0\n").unwrap();
    }
    let sink = SmtpSink::start(&[]).await.unwrap();
    let url = sink.url.clone();
    let app = start(db, dir, move |s| s.smtp_url = Some(SecretString::from(url)), true).await;
    Some((app, sink))
}

impl TestApp {
    /// This deployment as council `slug` sees it: every request names its host name, and
    /// `state` is that council's.
    pub fn tenant(&self, slug: &str) -> TestApp {
        let (_, host, state) = self.tenants.iter().find(|(s, _, _)| s == slug).expect("a registered tenant");
        let mut headers = reqwest::header::HeaderMap::new();
        headers.insert(reqwest::header::HOST, host.parse().unwrap());
        TestApp {
            address: self.address.clone(),
            client: reqwest::Client::builder().default_headers(headers).build().unwrap(),
            state: state.clone(),
            clock: self.clock.clone(),
            db: self.db.clone(),
            dir: self.dir.clone(),
            intake: None,
            metrics: None,
            s3: None,
            tenants: vec![],
        }
    }

    /// Creates an account with `password` straight in the store.
    pub async fn create_user(&self, email: &str, password: &str, role: Role) -> UserId {
        let hash = self.state.hasher.hash(&SecretString::from(password.to_owned())).unwrap();
        let user = NewUser {
            email: EmailAddress::parse(email).unwrap(),
            display_name: DisplayName::parse("Test Person").unwrap(),
            role,
            password_hash: Some(hash),
        };
        self.state.store.create_user(&user, 0).await.unwrap()
    }

    /// A POST with the CSRF header a same-origin page sends.
    pub fn post(&self, path: &str) -> reqwest::RequestBuilder {
        self.client.post(format!("{}{path}", self.address)).header("x-sealpost-csrf", "1")
    }

    /// A PUT with the CSRF header.
    pub fn put(&self, path: &str) -> reqwest::RequestBuilder {
        self.client.put(format!("{}{path}", self.address)).header("x-sealpost-csrf", "1")
    }

    /// A DELETE with the CSRF header.
    pub fn delete(&self, path: &str) -> reqwest::RequestBuilder {
        self.client.delete(format!("{}{path}", self.address)).header("x-sealpost-csrf", "1")
    }

    /// `POST /api/v1/drafts`: a new draft holding `content`; its id.
    pub async fn new_draft(&self, cookie: &str, content: Value) -> String {
        let response = self
            .post("/api/v1/drafts")
            .header("cookie", cookie)
            .json(&content)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::CREATED);
        body(response).await["id"].as_str().unwrap().to_owned()
    }

    /// `POST /api/v1/drafts/{id}/attachments` with `(file name, bytes)` files.
    pub async fn attach_to_draft(&self, cookie: &str, id: &str, files: &[(&str, Vec<u8>)]) -> Response {
        let mut form = reqwest::multipart::Form::new();
        for (name, bytes) in files {
            form = form.part(
                "attachment",
                reqwest::multipart::Part::bytes(bytes.clone()).file_name((*name).to_owned()),
            );
        }
        self.post(&format!("/api/v1/drafts/{id}/attachments"))
            .header("cookie", cookie)
            .multipart(form)
            .send()
            .await
            .unwrap()
    }

    /// A GET.
    pub fn get(&self, path: &str) -> reqwest::RequestBuilder {
        self.client.get(format!("{}{path}", self.address))
    }

    /// `POST /api/v1/auth/login`.
    pub async fn login(&self, email: &str, password: &str) -> Response {
        self.post("/api/v1/auth/login")
            .json(&json!({ "email": email, "password": password }))
            .send()
            .await
            .unwrap()
    }

    /// `POST /api/v1/auth/login` presenting an existing session cookie.
    pub async fn login_with_cookie(&self, email: &str, password: &str, cookie: &str) -> Response {
        self.post("/api/v1/auth/login")
            .header("cookie", cookie)
            .json(&json!({ "email": email, "password": password }))
            .send()
            .await
            .unwrap()
    }

    /// Signs in and returns the `name=value` cookie pair.
    pub async fn sign_in(&self, email: &str, password: &str) -> String {
        let response = self.login(email, password).await;
        assert_eq!(response.status(), StatusCode::OK);
        session_cookie(&response).expect("a session cookie")
    }

    /// `GET /api/v1/auth/me`.
    pub async fn me(&self, cookie: &str) -> Response {
        self.get("/api/v1/auth/me").header("cookie", cookie).send().await.unwrap()
    }

    /// `POST /api/v1/auth/logout`.
    pub async fn logout(&self, cookie: &str) -> Response {
        self.post("/api/v1/auth/logout").header("cookie", cookie).send().await.unwrap()
    }

    /// `POST /api/v1/messages` with the `message` part and `(file name, bytes)` attachments.
    pub async fn send(&self, cookie: &str, message: Value, files: &[(&str, Vec<u8>)]) -> Response {
        self.post("/api/v1/messages")
            .header("cookie", cookie)
            .multipart(multipart("message", &message, files))
            .send()
            .await
            .unwrap()
    }

    /// `POST /api/v1/messages/{id}/reply`: an answer in the conversation of message `id`.
    pub async fn answer(&self, cookie: &str, id: &str, message: Value, files: &[(&str, Vec<u8>)]) -> Response {
        self.post(&format!("/api/v1/messages/{id}/reply"))
            .header("cookie", cookie)
            .multipart(multipart("message", &message, files))
            .send()
            .await
            .unwrap()
    }

    /// `POST /api/v1/messages/{id}/forward`.
    pub async fn forward(&self, cookie: &str, id: &str, message: Value, files: &[(&str, Vec<u8>)]) -> Response {
        self.post(&format!("/api/v1/messages/{id}/forward"))
            .header("cookie", cookie)
            .multipart(multipart("message", &message, files))
            .send()
            .await
            .unwrap()
    }

    /// `GET /api/v1/messages?box=…`
    pub async fn list(&self, cookie: &str, mailbox: &str) -> Response {
        self.get(&format!("/api/v1/messages?box={mailbox}"))
            .header("cookie", cookie)
            .send()
            .await
            .unwrap()
    }

    /// `GET /api/v1/messages/{id}`
    pub async fn read(&self, cookie: &str, id: &str) -> Response {
        self.get(&format!("/api/v1/messages/{id}"))
            .header("cookie", cookie)
            .send()
            .await
            .unwrap()
    }

    /// `GET /api/v1/messages/{id}/attachments/{aid}`
    pub async fn download(&self, cookie: &str, id: &str, attachment: &str) -> Response {
        self.get(&format!("/api/v1/messages/{id}/attachments/{attachment}"))
            .header("cookie", cookie)
            .send()
            .await
            .unwrap()
    }

    /// `POST /api/v1/messages/{id}/revoke`
    pub async fn revoke(&self, cookie: &str, id: &str, recipient: Option<&str>) -> Response {
        self.post(&format!("/api/v1/messages/{id}/revoke"))
            .header("cookie", cookie)
            .json(&json!({ "recipient": recipient }))
            .send()
            .await
            .unwrap()
    }

    /// Runs the outbox worker's pass now (the background worker may also be running).
    pub async fn deliver_due(&self) -> usize {
        sealpost_server::workers::outbox::deliver_due(&self.state).await.unwrap()
    }

    /// `POST /api/v1/auth/setup`.
    pub async fn setup(&self, token: &str, password: &str) -> Response {
        self.post("/api/v1/auth/setup")
            .json(&json!({ "token": token, "password": password }))
            .send()
            .await
            .unwrap()
    }
}

impl TestApp {
    /// Every event about a message (its downloads and notifications included), oldest first.
    pub async fn audit_events(&self, message_id: &str) -> Vec<sealpost_audit::AuditEvent> {
        let query = sealpost_storage::AuditQuery {
            message: Some(sealpost_domain::MessageId(message_id.parse().unwrap())),
            oldest_first: true,
            limit: 10_000,
            ..Default::default()
        };
        let found = self.state.store.search_audit(&query).await.unwrap();
        found.into_iter().map(|e| e.event).collect()
    }

    /// The actions audited about a message, oldest first.
    pub async fn audit_actions(&self, message_id: &str) -> Vec<String> {
        self.audit_events(message_id).await.into_iter().map(|e| e.action).collect()
    }

    /// Every file of the blob store: the local directory's, or the bucket server's storage.
    pub fn blob_files(&self) -> Vec<std::path::PathBuf> {
        let root = match &self.s3 {
            Some(s3) => s3.root.path().join("sealpost"),
            None => self.dir.path().join("data/blobs"),
        };
        walk(&root).into_iter().filter(|p| p.is_file()).collect()
    }
}

/// A form as the web app sends it: the JSON part `part`, then one `attachment` part per file.
pub fn multipart(part: &str, json: &Value, files: &[(&str, Vec<u8>)]) -> reqwest::multipart::Form {
    let mut form = reqwest::multipart::Form::new().part(
        part.to_owned(),
        reqwest::multipart::Part::text(json.to_string())
            .mime_str("application/json")
            .unwrap(),
    );
    for (name, bytes) in files {
        form = form.part(
            "attachment",
            reqwest::multipart::Part::bytes(bytes.clone()).file_name((*name).to_owned()),
        );
    }
    form
}

/// The 64-hex-digit token of the secure link in an email.
pub fn link_token(mail: &str) -> String {
    mail.split("/s/")
        .nth(1)
        .unwrap()
        .chars()
        .take_while(char::is_ascii_hexdigit)
        .collect()
}

/// Every file below `dir`.
pub fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else { return vec![] };
    entries
        .flat_map(|e| e.ok())
        .flat_map(|e| if e.path().is_dir() { walk(&e.path()) } else { vec![e.path()] })
        .collect()
}

/// The `name=value` part of the session `Set-Cookie`, if one was set with a value.
pub fn session_cookie(response: &Response) -> Option<String> {
    set_cookie(response)
        .and_then(|c| c.split(';').next().map(str::to_owned))
        .filter(|pair| !pair.ends_with('='))
}

/// The device cookie's `name=value` pair, when the response set one.
pub fn device_cookie(response: &Response) -> Option<String> {
    response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("__Host-sealpost_device="))
        .and_then(|c| c.split(';').next().map(str::to_owned))
}

/// The whole session `Set-Cookie` header.
pub fn set_cookie(response: &Response) -> Option<String> {
    response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("__Host-sealpost_session="))
        .map(str::to_owned)
}

/// The JSON body.
pub async fn body(response: Response) -> Value {
    response.json().await.unwrap()
}
