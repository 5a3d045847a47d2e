//! Scenario 8b: the memory of the `sealpost serve` binary itself, on its own in its own
//! process, before a load, just after it, and after a quiet minute. The mail and the sessions
//! are made by an in-process server on a SQLite file; the binary is then started on the same
//! database and keys (a data directory of its own) and loaded over HTTP with them.

use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use sealpost_crypto::ExposeSecret;
use sealpost_storage::testing::TestDatabase;

use crate::client::{self, Figures, load};
use crate::setup::{PARTNER, Server, send_request};

pub struct Memory {
    pub started_mib: f64,
    pub open: Figures,
    pub inbox: Figures,
    pub sends: Figures,
    pub loaded_mib: f64,
    pub quiet_mib: f64,
    /// Of `quiet_mib`, memory the process allocated (not files or shared memory it maps).
    pub quiet_anonymous_mib: f64,
    pub quiet_seconds: u64,
}

struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

pub async fn memory(connections: usize, length: Duration, quiet_seconds: u64) -> Memory {
    let seed = Server::start(TestDatabase::sqlite().await.unwrap(), 64).await;
    let ann = seed.account("ann@testshire.gov.uk").await;
    let bob = seed.account("bob@testshire.gov.uk").await;
    let ten_kib = "Referral details. ".repeat(10 * 1024 / 18);
    let id = seed.send(&ann, &[PARTNER], "Case 1 referral", &ten_kib).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let partner = seed.partner_session().await;
    for i in 0..50 {
        seed.send(&ann, &["bob@testshire.gov.uk"], &format!("Inbox item {i}"), "A short note.")
            .await;
    }

    let dir = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let settings = &seed.state.settings;
    let child = Command::new(env!("CARGO_BIN_EXE_sealpost"))
        .arg("serve")
        .env("SEALPOST_LISTEN", format!("127.0.0.1:{port}"))
        .env("SEALPOST_PUBLIC_URL", &settings.public_url)
        .env("SEALPOST_DATA_DIR", dir.path().join("data"))
        .env("SEALPOST_KEY_DIR", &settings.key_dir)
        .env("SEALPOST_DATABASE_URL", settings.database_url.expose_secret())
        .env("SEALPOST_MFA_REQUIRED", "none")
        .env("SEALPOST_SEND_HOLD_SECONDS", "0")
        .env("SEALPOST_OUTBOX_WORKER", "false")
        .env("SEALPOST_MIN_FREE_MIB", "0")
        .current_dir(dir.path())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let child = Running(child);
    let base = format!("http://127.0.0.1:{port}");
    let mut ready = false;
    for _ in 0..300 {
        if reqwest::get(format!("{base}/readyz")).await.is_ok_and(|r| r.status().is_success()) {
            ready = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(ready, "the sealpost binary did not become ready in 30 s");
    tokio::time::sleep(Duration::from_secs(2)).await;
    let pid = child.0.id();
    let started_mib = crate::rss_mib(pid);

    let http = reqwest::Client::builder().pool_max_idle_per_host(256).build().unwrap();
    let open = load(
        connections,
        length,
        client::get(&http, format!("{base}/api/v1/portal/messages/{id}"), Some(partner)),
    )
    .await;
    let inbox = load(
        32,
        length,
        client::get(&http, format!("{base}/api/v1/messages?box=inbox"), Some(bob)),
    )
    .await;
    let (sender, to) = (http.clone(), base.clone());
    let send: client::Request = Arc::new(move || {
        let request = send_request(&sender, &to, &ann, &[PARTNER, "gp@nhs.example.uk"], "Referral", &ten_kib);
        Box::pin(async move { request.send().await.is_ok_and(|r| r.status().is_success()) })
    });
    let sends = load(32, length, send).await;
    drop(http);
    let loaded_mib = crate::rss_mib(pid);
    tokio::time::sleep(Duration::from_secs(quiet_seconds)).await;
    let quiet_mib = crate::rss_mib(pid);
    let quiet_anonymous_mib = crate::status_mib(pid, "RssAnon:");
    if std::env::var_os("SEALPOST_BENCH_SMAPS").is_some() {
        let _ = std::fs::copy(format!("/proc/{pid}/smaps"), "/tmp/sealpost-bench-smaps.txt");
    }
    drop(child);
    Memory {
        started_mib,
        open,
        inbox,
        sends,
        loaded_mib,
        quiet_mib,
        quiet_anonymous_mib,
        quiet_seconds,
    }
}
