//! `cargo xtask bench`: Sealpost's own load figures, measured on loopback by a bounded tokio
//! client in the same process as the server, each as a ratio to a reference measured in the
//! same run (issue 6; SECURITY H1, H2). Prints one table.
//!
//! Scenarios so far:
//! 1. a verified partner opening a 10 KiB message (the audit event committed before the
//!    answer), against a plain axum handler returning 10 KiB (the HTTP ceiling);
//! 2. a member of staff listing an inbox of 50 messages, against the same ceiling;
//! 7. `audit verify` over every event the run wrote, in events per second;
//! 8. the idle resident memory of a freshly started `sealpost serve`.
//!
//! `SEALPOST_BENCH_SECONDS` (default 10) sets each load's length and `SEALPOST_BENCH_CONNECTIONS`
//! (default 64) the concurrent connections.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use reqwest::Client;
use sealpost_crypto::SecretString;
use sealpost_domain::{DisplayName, EmailAddress, Role};
use sealpost_mail::testing::SmtpSink;
use sealpost_server::clock::SystemClock;
use sealpost_server::settings::Settings;
use sealpost_server::startup::Application;
use sealpost_server::state::AppState;
use sealpost_storage::NewUser;
use serde_json::{Value, json};

const PASSWORD: &str = "correct horse battery staple";
const PARTNER: &str = "pc.jones@police.example.uk";

struct Figures {
    requests: usize,
    errors: usize,
    seconds: f64,
    p50_ms: f64,
    p99_ms: f64,
}

impl Figures {
    fn per_second(&self) -> f64 {
        self.requests as f64 / self.seconds
    }
}

/// `connections` tasks GET `url` (with `cookie`) back to back for `length`.
async fn load(client: &Client, url: &str, cookie: Option<&str>, connections: usize, length: Duration) -> Figures {
    let started = Instant::now();
    let deadline = started + length;
    let tasks: Vec<_> = (0..connections)
        .map(|_| {
            let (client, url, cookie) = (client.clone(), url.to_owned(), cookie.map(str::to_owned));
            tokio::spawn(async move {
                let (mut latencies, mut errors) = (Vec::new(), 0usize);
                while Instant::now() < deadline {
                    let t = Instant::now();
                    let mut request = client.get(&url);
                    if let Some(c) = &cookie {
                        request = request.header("cookie", c);
                    }
                    match request.send().await {
                        Ok(r) if r.status().is_success() => match r.bytes().await {
                            Ok(_) => latencies.push(t.elapsed()),
                            Err(_) => errors += 1,
                        },
                        _ => errors += 1,
                    }
                }
                (latencies, errors)
            })
        })
        .collect();
    let (mut all, mut errors) = (Vec::new(), 0);
    for t in tasks {
        let (l, e) = t.await.unwrap();
        all.extend(l);
        errors += e;
    }
    let seconds = started.elapsed().as_secs_f64();
    all.sort_unstable();
    let pick = |q: f64| {
        all.get(((all.len() as f64 * q) as usize).min(all.len().saturating_sub(1)))
            .map_or(0.0, |d| d.as_secs_f64() * 1e3)
    };
    Figures {
        requests: all.len(),
        errors,
        seconds,
        p50_ms: pick(0.50),
        p99_ms: pick(0.99),
    }
}

/// The HTTP ceiling: a plain axum handler returning 10 KiB, on loopback like the real server.
async fn ceiling() -> String {
    let body = Arc::new(vec![b'x'; 10 * 1024]);
    let app = axum::Router::new().route(
        "/ten-kib",
        axum::routing::get(move || {
            let body = body.clone();
            async move { (*body).clone() }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/ten-kib", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    url
}

struct Server {
    base: String,
    state: AppState,
    client: Client,
    sink: SmtpSink,
    _dir: tempfile::TempDir,
}

async fn server() -> Server {
    let sink = SmtpSink::start(&[]).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut settings = Settings::load(None, false, Vec::new()).unwrap();
    settings.listen = "127.0.0.1:0".parse().unwrap();
    settings.public_url = "http://127.0.0.1:0".into();
    settings.data_dir = dir.path().join("data");
    settings.key_dir = dir.path().join("keys");
    settings.database_url = SecretString::from(format!("sqlite://{}", dir.path().join("data/sealpost.db").display()));
    settings.smtp_url = Some(SecretString::from(sink.url.clone()));
    settings.outbox_worker = false;
    sealpost_server::keyfiles::init(&settings.key_dir, None).unwrap();
    let app = Application::build(settings, Arc::new(SystemClock)).await.unwrap();
    let base = format!("http://{}", app.local_addr().unwrap());
    let state = app.state();
    tokio::spawn(app.run_until(std::future::pending()));
    let client = Client::builder().pool_max_idle_per_host(256).build().unwrap();
    Server {
        base,
        state,
        client,
        sink,
        _dir: dir,
    }
}

impl Server {
    async fn account(&self, email: &str) -> String {
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

    async fn post(&self, path: &str, body: Value) -> reqwest::Response {
        self.client
            .post(format!("{}{path}", self.base))
            .header("x-sealpost-csrf", "1")
            .json(&body)
            .send()
            .await
            .unwrap()
    }

    async fn send(&self, cookie: &str, to: &str, subject: &str, body: &str) -> Value {
        let m = json!({ "recipients": [to], "subject": subject, "body": body });
        let form = reqwest::multipart::Form::new().part(
            "message",
            reqwest::multipart::Part::text(m.to_string()).mime_str("application/json").unwrap(),
        );
        let r = self
            .client
            .post(format!("{}/api/v1/messages", self.base))
            .header("x-sealpost-csrf", "1")
            .header("cookie", cookie)
            .multipart(form)
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success(), "send failed: {}", r.status());
        r.json().await.unwrap()
    }

    /// The partner's verified portal cookie, through the emailed link and code.
    async fn partner_session(&self) -> String {
        sealpost_server::app::outbox::deliver_due(&self.state).await.unwrap();
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

fn cookie(r: &reqwest::Response) -> String {
    let set = r.headers().get("set-cookie").expect("a cookie").to_str().unwrap();
    set.split(';').next().unwrap().to_owned()
}

/// Resident memory of a process, from /proc.
fn rss_mib(pid: u32) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let kib: f64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or(0.0);
    kib / 1024.0
}

/// Starts the real binary on an empty data directory and reads its memory once it is idle.
async fn idle_rss() -> f64 {
    let dir = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_sealpost"))
        .arg("serve")
        .env("SEALPOST_LISTEN", format!("127.0.0.1:{port}"))
        .env("SEALPOST_DATA_DIR", dir.path().join("data"))
        .env_remove("SEALPOST_DATABASE_URL")
        .current_dir(dir.path())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let ready = format!("http://127.0.0.1:{port}/readyz");
    for _ in 0..300 {
        if reqwest::get(&ready).await.is_ok_and(|r| r.status().is_success()) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    let mib = rss_mib(child.id());
    let _ = child.kill();
    let _ = child.wait();
    mib
}

fn row(name: &str, f: &Figures, reference: Option<&Figures>) {
    let ratio = reference.map_or(String::from("–"), |r| format!("{:.1} %", 100.0 * f.per_second() / r.per_second()));
    println!(
        "| {name} | {:.0} /s | {:.2} ms | {:.2} ms | {} | {ratio} |",
        f.per_second(),
        f.p50_ms,
        f.p99_ms,
        f.errors
    );
}

#[tokio::main]
async fn main() {
    let seconds: u64 = std::env::var("SEALPOST_BENCH_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(10);
    let connections: usize = std::env::var("SEALPOST_BENCH_CONNECTIONS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(64);
    let length = Duration::from_secs(seconds);
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    println!("Sealpost load figures: {cores} cores, SQLite, loopback, {connections} connections, {seconds} s each\n");

    let s = server().await;
    let ann = s.account("ann@testshire.gov.uk").await;
    let bob = s.account("bob@testshire.gov.uk").await;
    let ten_kib = "Referral details. ".repeat(10 * 1024 / 18);
    let sent = s.send(&ann, PARTNER, "Case 1 referral", &ten_kib).await;
    let id = sent["id"].as_str().unwrap().to_owned();
    let partner = s.partner_session().await;
    for i in 0..50 {
        s.send(&ann, "bob@testshire.gov.uk", &format!("Inbox item {i}"), "A short note.")
            .await;
    }
    let ceiling_url = ceiling().await;

    println!("| Scenario | Throughput | p50 | p99 | Errors | Ratio to ceiling |");
    println!("|---|---|---|---|---|---|");
    let top = load(&s.client, &ceiling_url, None, connections, length).await;
    row("HTTP ceiling: plain axum, 10 KiB", &top, None);
    let open_url = format!("{}/api/v1/portal/messages/{id}", s.base);
    let open = load(&s.client, &open_url, Some(&partner), connections, length).await;
    row("1. portal open, 10 KiB, audited", &open, Some(&top));
    let inbox_url = format!("{}/api/v1/messages?box=inbox", s.base);
    let inbox = load(&s.client, &inbox_url, Some(&bob), 32, length).await;
    row("2. staff inbox, 50 items (32 conns)", &inbox, Some(&top));

    let head = s.state.store.audit_head().await.unwrap();
    let key = s.state.audit_key.verify_key();
    let t = Instant::now();
    sealpost_server::app::audit::verify_chain(&s.state.store, &key, &[])
        .await
        .unwrap()
        .unwrap();
    let per_minute = head.seq as f64 / t.elapsed().as_secs_f64() * 60.0;
    println!(
        "\n7. audit verify: {} events in {:.2} s = {:.1} M events/min",
        head.seq,
        t.elapsed().as_secs_f64(),
        per_minute / 1e6
    );
    println!("8. idle RSS of `sealpost serve`: {:.1} MiB", idle_rss().await);
}
