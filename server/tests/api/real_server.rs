//! The `sealpost serve` binary as a real process, for the fault tests (SECURITY G2, G6, G7):
//! killed with SIGKILL, stopped with SIGTERM, restarted on the same data, database and keys.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use sealpost_crypto::{PasswordHasher, SecretString};
use sealpost_domain::{DisplayName, EmailAddress, Role};
use sealpost_storage::NewUser;
use sealpost_storage::testing::TestDatabase;
use serde_json::{Value, json};

use crate::test_app::{PASSWORD, multipart, session_cookie};

/// What a server process runs on: kept across restarts.
pub struct Installation {
    /// The database (a fresh one per test, on the backend under test).
    pub db: TestDatabase,
    /// Holds `data/` and `keys/`.
    pub dir: tempfile::TempDir,
    /// Extra `SEALPOST_…` settings.
    pub env: Vec<(String, String)>,
}

/// A running `sealpost serve`.
pub struct Process {
    child: std::sync::Mutex<Child>,
    /// `http://127.0.0.1:PORT`
    pub address: String,
    /// A client with no cookie jar.
    pub client: reqwest::Client,
}

impl Installation {
    /// A fresh database (backend as `SEALPOST_TEST_BACKEND` says), keys and data directory.
    pub async fn new() -> Self {
        let db = match std::env::var("SEALPOST_TEST_BACKEND").as_deref() {
            Ok("postgres") => TestDatabase::postgres().await.unwrap().expect("SEALPOST_TEST_POSTGRES_URL"),
            _ => TestDatabase::sqlite().await.unwrap(),
        };
        let dir = tempfile::tempdir().unwrap();
        sealpost_server::keyfiles::init(&dir.path().join("keys"), None).unwrap();
        Self { db, dir, env: vec![] }
    }

    /// The data directory (SQLite's file is elsewhere, in the test database's own directory).
    pub fn data_dir(&self) -> std::path::PathBuf {
        self.dir.path().join("data")
    }

    /// Creates a staff account straight in the database.
    pub async fn create_user(&self, email: &str) {
        let hash = PasswordHasher::new()
            .unwrap()
            .hash(&SecretString::from(PASSWORD.to_owned()))
            .unwrap();
        let user = NewUser {
            email: EmailAddress::parse(email).unwrap(),
            display_name: DisplayName::parse("Test Person").unwrap(),
            role: Role::Staff,
            password_hash: Some(hash),
        };
        self.db.store.create_user(&user, 0).await.unwrap();
    }

    /// Starts `sealpost serve` on a port of its own choosing and waits until it is ready. The
    /// server binds port 0 and the test reads the port from its start-up line: a port picked by
    /// the test and released before the server binds it could be taken in between (by another
    /// test's listener, or as a connection's own port), and the test would then wait on a stranger.
    pub async fn start(&self) -> Process {
        let mut child = Command::new(env!("CARGO_BIN_EXE_sealpost"))
            .arg("serve")
            .env("SEALPOST_LISTEN", "127.0.0.1:0")
            .env("SEALPOST_DATABASE_URL", &self.db.url)
            .env("SEALPOST_DATA_DIR", self.data_dir())
            .env("SEALPOST_KEY_DIR", self.dir.path().join("keys"))
            .env("SEALPOST_MIN_FREE_MIB", "0")
            // The second factor has tests of its own; these sign in with a password.
            .env("SEALPOST_MFA_REQUIRED", "none")
            // Sends reach their recipients at once unless a test sets a window.
            .env("SEALPOST_SEND_HOLD_SECONDS", "0")
            .env("RUST_LOG", "warn")
            .envs(self.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .env_remove("SEALPOST_CONFIG")
            .env_remove("SEALPOST_PUBLIC_URL")
            .current_dir(self.dir.path())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let found = bound_address(child.stdout.take().unwrap());
        let started = Instant::now();
        let address = loop {
            match found.try_recv() {
                Ok(address) => break address,
                Err(std::sync::mpsc::TryRecvError::Empty) => {}
                Err(std::sync::mpsc::TryRecvError::Disconnected) => {
                    panic!("sealpost serve stopped before it listened: {:?}", child.wait())
                }
            }
            if started.elapsed() > START_DEADLINE {
                let _ = child.kill();
                panic!("sealpost serve did not listen within {START_DEADLINE:?}");
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        };
        let process = Process {
            child: std::sync::Mutex::new(child),
            address,
            client: reqwest::Client::builder().timeout(REQUEST_DEADLINE).build().unwrap(),
        };
        process.wait_ready().await;
        process
    }

    /// Runs another `sealpost` command (e.g. `audit verify`) on the same installation; one that
    /// runs past 120 s is killed and fails the test.
    pub fn command(&self, args: &[&str]) -> std::process::Output {
        let child = Command::new(env!("CARGO_BIN_EXE_sealpost"))
            .args(args)
            .env("SEALPOST_DATABASE_URL", &self.db.url)
            .env("SEALPOST_DATA_DIR", self.data_dir())
            .env("SEALPOST_KEY_DIR", self.dir.path().join("keys"))
            .env_remove("SEALPOST_CONFIG")
            .current_dir(self.dir.path())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // Collected on a thread of its own, so a long output cannot fill the pipe and stall it.
        let pid = child.id().to_string();
        let (done, output) = std::sync::mpsc::channel();
        std::thread::spawn(move || done.send(child.wait_with_output()));
        match output.recv_timeout(Duration::from_secs(120)) {
            Ok(output) => output.unwrap(),
            Err(_) => {
                let _ = Command::new("kill").args(["-KILL", &pid]).status();
                panic!("sealpost {} ran past 120 s", args.join(" "));
            }
        }
    }

    /// Sealed files on disk that no attachment row names, and unfinished uploads.
    pub async fn orphan_blobs(&self) -> Vec<String> {
        let root = self.data_dir().join("blobs");
        let mut orphans = vec![];
        for path in crate::test_app::walk(&root.join("attachments")) {
            let key = path.strip_prefix(&root).unwrap().to_str().unwrap().to_owned();
            if key.contains('#') || !self.db.store.blob_is_referenced(&key).await.unwrap() {
                orphans.push(key);
            }
        }
        orphans
    }
}

impl Process {
    async fn wait_ready(&self) {
        let started = Instant::now();
        while started.elapsed() < START_DEADLINE {
            let ready = self.client.get(format!("{}/readyz", self.address)).send().await;
            if ready.is_ok_and(|r| r.status() == StatusCode::OK) {
                return;
            }
            if let Some(status) = self.status() {
                panic!("sealpost serve exited before it was ready: {status}");
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("sealpost serve did not become ready within 30 s");
    }

    /// The exit status if the process has stopped.
    fn status(&self) -> Option<std::process::ExitStatus> {
        self.child.lock().unwrap().try_wait().unwrap()
    }

    /// The process's resident memory in MiB, from `/proc` (Linux).
    pub fn rss_mib(&self) -> u64 {
        let pid = self.child.lock().unwrap().id();
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
        let kib: u64 = status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|v| v.parse().ok())
            .expect("VmRSS in /proc/PID/status");
        kib / 1024
    }

    /// SIGKILL: no chance to finish anything.
    pub fn kill(&self) {
        let mut child = self.child.lock().unwrap();
        child.kill().unwrap();
        child.wait().unwrap();
    }

    /// Sends SIGTERM and returns at once.
    pub fn terminate(&self) {
        let pid = self.child.lock().unwrap().id().to_string();
        assert!(Command::new("kill").args(["-TERM", &pid]).status().unwrap().success());
    }

    /// The exit status once the process has stopped by itself (at most 30 s).
    pub async fn exited(&self) -> std::process::ExitStatus {
        let started = Instant::now();
        loop {
            if let Some(status) = self.status() {
                return status;
            }
            assert!(started.elapsed() < Duration::from_secs(30), "no exit within 30 s");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Signs in and returns the session cookie pair.
    pub async fn sign_in(&self, email: &str) -> String {
        let response = self
            .client
            .post(format!("{}/api/v1/auth/login", self.address))
            .header("x-sealpost-csrf", "1")
            .json(&json!({ "email": email, "password": PASSWORD }))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        session_cookie(&response).unwrap()
    }

    /// `POST /api/v1/messages`: the answer's status and body, or `None` if no answer came.
    pub async fn send(&self, cookie: &str, message: &Value, files: &[(&str, Vec<u8>)]) -> Option<(StatusCode, Value)> {
        let response = self
            .client
            .post(format!("{}/api/v1/messages", self.address))
            .header("x-sealpost-csrf", "1")
            .header("cookie", cookie)
            .multipart(multipart("message", message, files))
            .send()
            .await
            .map_err(no_hang)
            .ok()?;
        let status = response.status();
        Some((status, response.json().await.map_err(no_hang).ok()?))
    }

    /// A GET with a cookie.
    pub async fn get(&self, cookie: &str, path: &str) -> Option<reqwest::Response> {
        self.client
            .get(format!("{}{path}", self.address))
            .header("cookie", cookie)
            .send()
            .await
            .map_err(no_hang)
            .ok()
    }
}

/// How long any one request may take. A killed server refuses or resets at once; a live one
/// answers well within this, so a request that runs out of time is a hang and fails the test.
pub const REQUEST_DEADLINE: Duration = Duration::from_secs(60);

/// How long a server may take to listen, and then to be ready.
const START_DEADLINE: Duration = Duration::from_secs(30);

/// Passes on a failed request (the server was killed), but fails the test on a hung one.
fn no_hang(error: reqwest::Error) -> reqwest::Error {
    assert!(!error.is_timeout(), "a request hung for {REQUEST_DEADLINE:?}: {error}");
    error
}

/// Reads the server's standard output on a thread of its own, to the end so the pipe never fills,
/// and hands over the address from the start-up line (`… is running at http://127.0.0.1:PORT …`).
fn bound_address(stdout: std::process::ChildStdout) -> std::sync::mpsc::Receiver<String> {
    let (found, address) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        use std::io::BufRead;
        for line in std::io::BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Some((_, rest)) = line.split_once(" is running at ") {
                let _ = found.send(rest.split_whitespace().next().unwrap_or_default().to_owned());
            }
        }
    });
    address
}

impl Drop for Process {
    fn drop(&mut self) {
        if let Ok(child) = self.child.get_mut() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}
