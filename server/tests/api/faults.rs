//! Crashes and stops of the real binary (SECURITY G2, G7). `SEALPOST_KILL_ROUNDS` sets how many
//! times the kill test kills the server (10 here; the soak script runs 100).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use reqwest::StatusCode;
use sealpost_domain::MessageId;
use sealpost_mail::testing::SmtpSink;
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::real_server::{Installation, Process};

const ANN: &str = "ann@testshire.gov.uk";
const BOB: &str = "bob@testshire.gov.uk";

/// A message the server acknowledged (200 with its id): it must survive any crash after that.
#[derive(Clone)]
struct Acknowledged {
    id: String,
    reference: String,
    subject: String,
    seed: u64,
    len: usize,
}

/// Repeatable pseudo-random numbers (xorshift), so a failing round can be replayed.
struct Dice(u64);

impl Dice {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn between(&mut self, low: u64, high: u64) -> u64 {
        low + self.next() % (high - low)
    }
}

/// The file content for `seed`: different for every message, the same every time it is made.
fn file_bytes(seed: u64, len: usize) -> Vec<u8> {
    let mut dice = Dice(seed | 1);
    (0..len).map(|_| dice.next() as u8).collect()
}

/// Senders hammer `server`, and a reader `reader` (the same server, or another instance),
/// until `stop` is set.
async fn mixed_load(
    (server, reader): (Arc<Process>, Arc<Process>),
    ann: String,
    bob: String,
    acked: Arc<Mutex<Vec<Acknowledged>>>,
    stop: Arc<AtomicBool>,
    seed: u64,
) {
    let mut tasks = vec![];
    for worker in 0..2u64 {
        let (server, ann, acked, stop) = (server.clone(), ann.clone(), acked.clone(), stop.clone());
        tasks.push(tokio::spawn(async move {
            let mut dice = Dice(seed.wrapping_mul(31).wrapping_add(worker) | 1);
            while !stop.load(Ordering::Relaxed) {
                let (file_seed, len) = (dice.next(), dice.between(10_000, 400_000) as usize);
                let subject = format!("Case {file_seed:x}");
                let message = json!({
                    "recipients": [BOB, "pc.jones@police.example.uk"],
                    "subject": subject,
                    "body": format!("Body of {subject}"),
                });
                let files = [("case.bin", file_bytes(file_seed, len))];
                match server.send(&ann, &message, &files).await {
                    Some((StatusCode::OK, body)) => acked.lock().unwrap().push(Acknowledged {
                        id: body["id"].as_str().unwrap().to_owned(),
                        reference: body["reference"].as_str().unwrap().to_owned(),
                        subject,
                        seed: file_seed,
                        len,
                    }),
                    Some((status, body)) => panic!("a send under load answered {status}: {body}"),
                    None => {} // killed mid-request: not acknowledged, so nothing is promised
                }
            }
        }));
    }
    let acked_for_reader = acked.clone();
    tasks.push(tokio::spawn(async move {
        while !stop.load(Ordering::Relaxed) {
            let _ = reader.get(&bob, "/api/v1/messages?box=inbox").await;
            let last = acked_for_reader.lock().unwrap().last().cloned();
            if let Some(m) = last {
                let _ = reader.get(&bob, &format!("/api/v1/messages/{}", m.id)).await;
            }
        }
    }));
    for task in tasks {
        task.await.unwrap();
    }
}

/// Every acknowledged message opens for its sender, with its subject and its file intact.
async fn assert_all_decrypt(server: &Process, ann: &str, acked: &[Acknowledged]) {
    let checks = acked.iter().map(|m| async move {
        let response = server.get(ann, &format!("/api/v1/messages/{}", m.id)).await.unwrap();
        assert_eq!(response.status(), StatusCode::OK, "acknowledged message {} is gone", m.id);
        let message: serde_json::Value = response.json().await.unwrap();
        assert_eq!(message["summary"]["subject"], m.subject);
        let attachment = message["attachments"][0]["id"].as_str().unwrap();
        let file = server
            .get(ann, &format!("/api/v1/messages/{}/attachments/{attachment}", m.id))
            .await
            .unwrap();
        assert_eq!(file.status(), StatusCode::OK);
        assert!(file.bytes().await.unwrap() == file_bytes(m.seed, m.len), "file of {} differs", m.id);
    });
    futures::future::join_all(checks).await;
}

/// After a restart: the start-up sweep has left no orphan, SQLite's integrity checks pass, the
/// audit chain verifies, and every message acknowledged since the last check opens intact.
async fn assert_consistent(install: &Installation, server: &Process, ann: &str, acked: &[Acknowledged]) {
    let mut orphans = install.orphan_blobs().await;
    for _ in 0..100 {
        if orphans.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
        orphans = install.orphan_blobs().await;
    }
    assert_eq!(orphans, Vec::<String>::new(), "orphan blobs survived the restart");
    assert_eq!(install.db.store.integrity_problems().await.unwrap(), Vec::<String>::new());
    let verify = install.command(&["audit", "verify"]);
    assert!(verify.status.success(), "audit verify: {}", String::from_utf8_lossy(&verify.stdout));
    assert_all_decrypt(server, ann, acked).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killing_the_server_under_load_loses_no_acknowledged_message_and_leaves_it_consistent() {
    let rounds: u64 = std::env::var("SEALPOST_KILL_ROUNDS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(10);
    let mut install = Installation::new().await;
    // Orphans of a killed upload go at the next start, on PostgreSQL too (one server here).
    install.env.push(("SEALPOST_ORPHAN_BLOB_MINUTES".into(), "0".into()));
    // The real outbox worker sends to a real SMTP listener, and is killed mid-delivery too.
    let sink = SmtpSink::start(&[]).await.unwrap();
    install.env.push(("SEALPOST_SMTP_URL".into(), sink.url.clone()));
    // A killed worker's claims lapse in 2 s, so its notifications go out again within the test.
    install
        .env
        .push(("SEALPOST_OUTBOX_LEASE_SECONDS".into(), LEASE_SECONDS.to_string()));
    install.env.push(("SEALPOST_SMTP_CONNECTIONS".into(), SMTP_CONNECTIONS.to_string()));
    install.create_user(ANN).await;
    install.create_user(BOB).await;
    let mut server = Arc::new(install.start().await);
    let (ann, bob) = (server.sign_in(ANN).await, server.sign_in(BOB).await);
    let acked = Arc::new(Mutex::new(Vec::new()));
    let (mut dice, mut checked) = (Dice(0x5ea1_9057), 0);
    for round in 0..rounds {
        let stop = Arc::new(AtomicBool::new(false));
        let load = tokio::spawn(mixed_load(
            (server.clone(), server.clone()),
            ann.clone(),
            bob.clone(),
            acked.clone(),
            stop.clone(),
            round + 1,
        ));
        tokio::time::sleep(Duration::from_millis(dice.between(300, 1500))).await;
        server.kill();
        stop.store(true, Ordering::Relaxed);
        within("the load to stop after the kill", 30, load).await.unwrap();
        server = Arc::new(within("the restart", 90, install.start()).await);
        let fresh: Vec<Acknowledged> = acked.lock().unwrap()[checked..].to_vec();
        within(
            "the checks after the restart",
            300,
            assert_consistent(&install, &server, &ann, &fresh),
        )
        .await;
        checked += fresh.len();
    }
    // Each message was opened after the crash that followed it; later crashes must not have
    // taken its rows or its sealed file either.
    let acked = acked.lock().unwrap().clone();
    assert!(acked.len() as u64 >= rounds, "the load acknowledged only {} sends", acked.len());
    for m in &acked {
        let files = install.db.store.attachments_of(MessageId(m.id.parse().unwrap())).await.unwrap();
        assert_eq!(files.len(), 1, "message {} lost its file row", m.id);
        assert!(install.data_dir().join("blobs").join(&files[0].blob_key).is_file());
    }
    assert_duplicates_bounded_by_kills(&sink, &acked, rounds).await;
    drop(server);
}

/// Two instances on one PostgreSQL and one blob directory (issue 21): what one sends the other
/// reads and answers; both outbox workers run, and each notification goes once; one instance
/// killed under load (its sends and the other's reads) loses no acknowledged message, and the
/// audit chain stays one chain that verifies. Several instances are a PostgreSQL deployment:
/// this runs in the suite's PostgreSQL pass.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_share_one_database_and_one_bucket_and_one_killed_under_load_loses_nothing() {
    if std::env::var("SEALPOST_TEST_BACKEND").as_deref() != Ok("postgres") {
        eprintln!("two instances: PostgreSQL only; run in the PostgreSQL pass");
        return;
    }
    let mut install = Installation::new().await;
    let sink = SmtpSink::start(&[]).await.unwrap();
    install.env.push(("SEALPOST_SMTP_URL".into(), sink.url.clone()));
    install
        .env
        .push(("SEALPOST_OUTBOX_LEASE_SECONDS".into(), LEASE_SECONDS.to_string()));
    install.env.push(("SEALPOST_SMTP_CONNECTIONS".into(), SMTP_CONNECTIONS.to_string()));
    // Both on one bucket, as a deployment behind a load balancer runs (issue 21).
    let s3 = sealpost_storage::testing::TestS3::start().await;
    match &s3 {
        Some(s3) => {
            let (id, secret) = s3.options().keys.unwrap();
            install.env.extend([
                ("SEALPOST_BLOB_URL".into(), s3.url("council")),
                ("SEALPOST_S3_ENDPOINT".into(), s3.endpoint()),
                ("SEALPOST_S3_ACCESS_KEY_ID".into(), id),
                ("SEALPOST_S3_SECRET_ACCESS_KEY".into(), secret),
            ]);
        }
        None => eprintln!("two instances: SEALPOST_TEST_S3S_FS is unset, so they share a local blob directory"),
    }
    install.create_user(ANN).await;
    install.create_user(BOB).await;
    let mut a = Arc::new(install.start().await);
    let b = Arc::new(install.start().await);
    // Sessions live in the database: signed in on one, known to both.
    let (ann, bob) = (a.sign_in(ANN).await, b.sign_in(BOB).await);
    let partner = "pc.jones@police.example.uk";
    let message = json!({"recipients": [BOB, partner], "subject": "Strategy meeting", "body": "Thursday."});
    let (status, sent) = a.send(&ann, &message, &[]).await.unwrap();
    assert_eq!(status, StatusCode::OK, "{sent}");
    let id = sent["id"].as_str().unwrap();
    let read = b.get(&bob, &format!("/api/v1/messages/{id}")).await.unwrap();
    assert_eq!(read.status(), StatusCode::OK);
    let answer = b
        .client
        .post(format!("{}/api/v1/messages/{id}/reply", b.address))
        .header("x-sealpost-csrf", "1")
        .header("cookie", &bob)
        .multipart(crate::test_app::multipart(
            "message",
            &json!({"recipients": [ANN], "subject": "Re: Strategy meeting", "body": "I will be there."}),
            &[],
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), StatusCode::OK, "{}", answer.text().await.unwrap());
    let thread: serde_json::Value = a.get(&ann, &format!("/api/v1/messages/{id}")).await.unwrap().json().await.unwrap();
    assert_eq!(thread["thread"].as_array().map(Vec::len), Some(2), "{thread}");

    let acked = Arc::new(Mutex::new(Vec::new()));
    let stop = Arc::new(AtomicBool::new(false));
    let load = tokio::spawn(mixed_load(
        (a.clone(), b.clone()),
        ann.clone(),
        bob.clone(),
        acked.clone(),
        stop.clone(),
        7,
    ));
    tokio::time::sleep(Duration::from_millis(1500)).await;
    a.kill();
    stop.store(true, Ordering::Relaxed);
    within("the load to stop after the kill", 30, load).await.unwrap();
    a = Arc::new(within("the restart", 90, install.start()).await);
    let acked = acked.lock().unwrap().clone();
    assert!(!acked.is_empty(), "the load acknowledged no send");
    // Every acknowledged message opens intact on the instance that did not send it.
    within("the checks on the other instance", 300, assert_all_decrypt(&b, &ann, &acked)).await;
    let verify = install.command(&["audit", "verify"]);
    assert!(verify.status.success(), "audit verify: {}", String::from_utf8_lossy(&verify.stdout));
    // Two workers, one kill: every partner notified, a kill's batch at most twice.
    let mut all = acked.clone();
    all.push(Acknowledged {
        id: id.to_owned(),
        reference: sent["reference"].as_str().unwrap().to_owned(),
        subject: "Strategy meeting".into(),
        seed: 0,
        len: 0,
    });
    assert_duplicates_bounded_by_kills(&sink, &all, 1).await;
    if let Some(s3) = &s3 {
        let in_bucket = crate::test_app::walk(&s3.root.path().join("sealpost/council/attachments"));
        assert!(in_bucket.iter().any(|f| f.is_file()), "the files are in the bucket");
        let local = crate::test_app::walk(&install.data_dir().join("blobs"));
        assert!(local.iter().all(|f| !f.is_file()), "and none on the instances' disk: {local:?}");
    }
    drop(a);
}

/// Every acknowledged message's partner is notified. A kill between the relay's acceptance and
/// the database update sends the notifications of the batch in flight again once the dead
/// worker's claim lapses: each kill duplicates at most one batch (here 8: one round of the 8
/// connections, as a 2 s lease leaves no time for more), once, and every copy of a
/// notification carries the same Message-ID so mail clients fold them (SECURITY G4). A
/// notification caught by two kills in a row may go out three times; the bound is per kill.
/// The lease and relay connections the kill tests run with.
const LEASE_SECONDS: u32 = 2;
const SMTP_CONNECTIONS: u32 = 8;

async fn assert_duplicates_bounded_by_kills(sink: &SmtpSink, acked: &[Acknowledged], kills: u64) {
    let copies = |m: &Acknowledged| -> Vec<String> {
        sink.received()
            .iter()
            // The partner's notification (it carries the secure link), not a colleague's notice.
            .filter(|mail| mail.contains(&m.reference) && mail.contains("/s/"))
            .filter_map(|mail| {
                mail.lines()
                    .find(|l| l.to_ascii_lowercase().starts_with("message-id:"))
                    .map(str::to_owned)
            })
            .collect()
    };
    let started = std::time::Instant::now();
    while acked.iter().any(|m| copies(m).is_empty()) && started.elapsed() < Duration::from_secs(60) {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let mut extra = 0;
    for m in acked {
        let ids = copies(m);
        assert!(!ids.is_empty(), "{} was never notified", m.reference);
        assert!(ids.iter().all(|id| *id == ids[0]), "{} duplicates differ: {ids:?}", m.reference);
        extra += ids.len() as u64 - 1;
    }
    eprintln!("{} messages notified, {extra} extra copies after {kills} kills", acked.len());
    let batch = u64::try_from(sealpost_server::workers::outbox::batch_size(SMTP_CONNECTIONS, LEASE_SECONDS)).unwrap();
    assert_eq!(batch, 8);
    assert!(extra <= kills * batch, "{extra} duplicates from {kills} kills");
}

/// A send whose upload is still arriving when SIGTERM comes: written by hand on a raw socket so
/// the test controls when each half of the body leaves.
struct SlowSend {
    socket: tokio::net::TcpStream,
    rest: Vec<u8>,
}

impl SlowSend {
    /// Sends the headers and the first half of a form carrying `file`.
    async fn start(server: &Process, cookie: &str, subject: &str, file: &[u8]) -> Self {
        let boundary = "sealpost-slow-send";
        let message = json!({ "recipients": [BOB], "subject": subject, "body": "Sent as the server stops." });
        let mut body = format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"message\"\r\nContent-Type: application/json\r\n\r\n{message}\r\n\
             --{boundary}\r\nContent-Disposition: form-data; name=\"attachment\"; filename=\"late.bin\"\r\nContent-Type: application/octet-stream\r\n\r\n"
        )
        .into_bytes();
        body.extend_from_slice(file);
        body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
        let host = server.address.trim_start_matches("http://");
        let head = format!(
            "POST /api/v1/messages HTTP/1.1\r\nHost: {host}\r\nContent-Type: multipart/form-data; boundary={boundary}\r\n\
             Content-Length: {}\r\nCookie: {cookie}\r\nx-sealpost-csrf: 1\r\nConnection: close\r\n\r\n",
            body.len()
        );
        let mut socket = tokio::net::TcpStream::connect(host).await.unwrap();
        socket.write_all(head.as_bytes()).await.unwrap();
        let rest = body.split_off(body.len() / 2);
        socket.write_all(&body).await.unwrap();
        Self { socket, rest }
    }

    /// Sends the rest and returns the status line of the answer.
    async fn finish(mut self) -> String {
        self.socket.write_all(&self.rest).await.unwrap();
        let mut answer = String::new();
        self.socket.read_to_string(&mut answer).await.unwrap();
        answer.lines().next().unwrap_or_default().to_owned()
    }
}

/// Awaits `work`, failing the test with `what` if it takes longer than `seconds`: a stuck round
/// fails where it stuck instead of holding CI until its time runs out.
async fn within<T>(what: &str, seconds: u64, work: impl std::future::Future<Output = T>) -> T {
    match tokio::time::timeout(Duration::from_secs(seconds), work).await {
        Ok(done) => done,
        Err(_) => panic!("waited {seconds} s for {what}"),
    }
}

/// Polls `done` every 20 ms for up to 10 s.
async fn wait_for(what: &str, done: impl Fn() -> bool) {
    let started = std::time::Instant::now();
    while !done() {
        assert!(started.elapsed() < Duration::from_secs(10), "waited 10 s for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn sigterm_lets_an_upload_in_flight_finish_then_stops_cleanly() {
    let install = Installation::new().await;
    install.create_user(ANN).await;
    install.create_user(BOB).await;
    let server = install.start().await;
    let ann = server.sign_in(ANN).await;
    let file = file_bytes(7, 4 * 1024 * 1024);
    let upload = SlowSend::start(&server, &ann, "Sent while stopping", &file).await;
    // The server is streaming the upload once its first sealed part is on disk.
    let blobs = install.data_dir().join("blobs");
    wait_for("the upload to reach the blob store", || !crate::test_app::walk(&blobs).is_empty()).await;
    server.terminate();
    let health = format!("{}/healthz", server.address);
    let started = std::time::Instant::now();
    while reqwest::get(&health).await.is_ok() {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "a stopping server still takes new connections"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(upload.finish().await, "HTTP/1.1 200 OK", "the upload in flight completes");
    assert!(server.exited().await.success(), "SIGTERM is a clean exit");

    let restarted = install.start().await;
    let bob = restarted.sign_in(BOB).await;
    let inbox: serde_json::Value = restarted
        .get(&bob, "/api/v1/messages?box=inbox")
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = inbox[0]["id"].as_str().expect("the message sent while stopping arrived");
    let message: serde_json::Value = restarted
        .get(&bob, &format!("/api/v1/messages/{id}"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(message["summary"]["subject"], "Sent while stopping");
    let aid = message["attachments"][0]["id"].as_str().unwrap();
    let download = restarted
        .get(&bob, &format!("/api/v1/messages/{id}/attachments/{aid}"))
        .await
        .unwrap();
    assert!(download.bytes().await.unwrap() == file);
    let verify = install.command(&["audit", "verify"]);
    assert!(verify.status.success(), "{}", String::from_utf8_lossy(&verify.stdout));
}
