//! A Sealpost server started in-process on SQLite or PostgreSQL with a real SMTP sink, and the
//! people the scenarios need: staff accounts and a verified partner.

use std::sync::Arc;

use reqwest::Client;
use sealpost_crypto::SecretString;
use sealpost_domain::{DisplayName, EmailAddress, Role};
use sealpost_mail::testing::SmtpSink;
use sealpost_server::clock::SystemClock;
use sealpost_server::settings::Settings;
use sealpost_server::startup::Application;
use sealpost_server::state::AppState;
use sealpost_storage::NewUser;
use sealpost_storage::testing::TestDatabase;
use serde_json::{Value, json};

const PASSWORD: &str = "correct horse battery staple";
pub const PARTNER: &str = "pc.jones@police.example.uk";

pub struct Server {
    pub base: String,
    /// The SMTP intake (scenario 10).
    pub intake: std::net::SocketAddr,
    pub state: AppState,
    pub client: Client,
    pub sink: SmtpSink,
    _db: TestDatabase,
    _dir: tempfile::TempDir,
}

impl Server {
    /// A fresh server on `db`, accepting files of up to `max_file_mib`.
    pub async fn start(db: TestDatabase, max_file_mib: u32) -> Server {
        Self::start_with(db, max_file_mib, |_| {}).await
    }

    /// The same, with settings changed by `configure` (e.g. blobs in a bucket).
    pub async fn start_with(db: TestDatabase, max_file_mib: u32, configure: impl FnOnce(&mut Settings)) -> Server {
        let sink = SmtpSink::start(&[]).await.unwrap();
        let dir = tempfile::tempdir().unwrap();
        let mut settings = Settings::load(None, false, Vec::new()).unwrap();
        settings.mfa_required = sealpost_server::settings::MfaRequired::None;
        settings.listen = "127.0.0.1:0".parse().unwrap();
        settings.public_url = "http://127.0.0.1:0".into();
        settings.data_dir = dir.path().join("data");
        settings.key_dir = dir.path().join("keys");
        settings.database_url = SecretString::from(db.url.clone());
        settings.smtp_url = Some(SecretString::from(sink.url.clone()));
        settings.outbox_worker = false;
        settings.send_hold_seconds = 0;
        settings.max_attachment_mib = max_file_mib;
        settings.max_message_mib = max_file_mib;
        settings.min_free_mib = 0;
        settings.intake = Some(sealpost_server::settings::Intake {
            listen: "127.0.0.1:0".parse().unwrap(),
            allow: vec!["127.0.0.0/8".parse().unwrap()],
            max_bytes: 8 * 1024 * 1024,
            max_sessions: 64,
            per_minute: 1_000_000,
            tag: "secure".into(),
            sensitive_tag: "secure sensitive".into(),
            secret: None,
            tls: None,
        });
        configure(&mut settings);
        if !sealpost_server::keyfiles::exist(&settings.key_dir) {
            sealpost_server::keyfiles::init(&settings.key_dir, None).unwrap();
        }
        let app = Application::build(settings, Arc::new(SystemClock)).await.unwrap();
        let base = format!("http://{}", app.local_addr().unwrap());
        let intake = app.intake_addr().unwrap();
        let state = app.state();
        tokio::spawn(app.run_until(std::future::pending()));
        let client = Client::builder().pool_max_idle_per_host(256).build().unwrap();
        Server {
            base,
            intake,
            state,
            client,
            sink,
            _db: db,
            _dir: dir,
        }
    }

    /// A second instance beside this one: the same database and keys, a data directory and
    /// SMTP sink of its own (scenario 12).
    pub async fn beside(&self) -> Server {
        use sealpost_crypto::ExposeSecret;
        let url = self.state.settings.database_url.expose_secret().to_owned();
        let store = sealpost_storage::Store::connect(&url).await.unwrap();
        let keys = self.state.settings.key_dir.clone();
        Self::start_with(TestDatabase { store, url, dir: None }, 64, move |s| s.key_dir = keys).await
    }

    pub async fn account(&self, email: &str) -> String {
        let hash = self.state.hasher.hash(&SecretString::from(PASSWORD.to_owned())).unwrap();
        let user = NewUser {
            email: EmailAddress::parse(email).unwrap(),
            display_name: DisplayName::parse("Bench Person").unwrap(),
            role: Role::Staff,
            password_hash: Some(hash),
        };
        self.state.store.create_user(&user, 0).await.unwrap();
        let r = self
            .post("/api/v1/auth/login", json!({ "email": email, "password": PASSWORD }))
            .await;
        cookie(&r)
    }

    pub async fn post(&self, path: &str, body: Value) -> reqwest::Response {
        self.client
            .post(format!("{}{path}", self.base))
            .header("x-sealpost-csrf", "1")
            .json(&body)
            .send()
            .await
            .unwrap()
    }

    pub async fn send(&self, cookie: &str, to: &[&str], subject: &str, body: &str) -> Value {
        let r = send_request(&self.client, &self.base, cookie, to, subject, body)
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success(), "send failed: {}", r.status());
        r.json().await.unwrap()
    }

    /// The partner's verified portal cookie, through the emailed link and code.
    pub async fn partner_session(&self) -> String {
        sealpost_server::workers::outbox::deliver_due(&self.state).await.unwrap();
        let mail = self.sink.received().into_iter().rev().find(|m| m.contains("/s/")).unwrap();
        let token: String = mail.split("/s/").nth(1).unwrap().chars().take(64).collect();
        let redeemed = self.post("/api/v1/portal/redeem", json!({ "token": token })).await;
        let portal = cookie(&redeemed);
        let mail = self.sink.received().into_iter().rev().find(|m| m.contains("code is:")).unwrap();
        let code: String = mail.split("code is:").nth(1).unwrap().trim_start().chars().take(6).collect();
        let verified = self
            .client
            .post(format!("{}/api/v1/portal/verify", self.base))
            .header("x-sealpost-csrf", "1")
            .header("cookie", &portal)
            .json(&json!({ "code": code }))
            .send()
            .await
            .unwrap();
        assert!(verified.status().is_success());
        portal
    }
}

/// `POST /api/v1/messages` with the message part only.
pub fn send_request(client: &Client, base: &str, cookie: &str, to: &[&str], subject: &str, body: &str) -> reqwest::RequestBuilder {
    let m = json!({ "recipients": to, "subject": subject, "body": body });
    let form = reqwest::multipart::Form::new().part(
        "message",
        reqwest::multipart::Part::text(m.to_string()).mime_str("application/json").unwrap(),
    );
    client
        .post(format!("{base}/api/v1/messages"))
        .header("x-sealpost-csrf", "1")
        .header("cookie", cookie)
        .multipart(form)
}

pub fn cookie(r: &reqwest::Response) -> String {
    let set = r.headers().get("set-cookie").expect("a cookie").to_str().unwrap();
    set.split(';').next().unwrap().to_owned()
}
