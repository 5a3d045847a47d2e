//! Scenario 4: one large file up and down through the server, against age's STREAM alone
//! (`crates/crypto`, in memory) in the same run, and how far the process's peak memory rose
//! while the server streamed it.

use std::time::Instant;

use sealpost_crypto::{Binding, MessageKey, ObjectKind};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use sealpost_storage::testing::TestDatabase;

use crate::setup::{self, Server};

pub struct FileFigures {
    pub upload_mib_s: f64,
    pub download_mib_s: f64,
    pub seal_mib_s: f64,
    pub open_mib_s: f64,
    pub peak_growth_mib: f64,
}

const CHUNK: usize = 1024 * 1024;

fn chunk_of(i: u64) -> Vec<u8> {
    (0..CHUNK).map(|b| (b as u64 ^ i) as u8).collect()
}

/// `VmRSS` or `VmHWM` of this process, in MiB.
fn memory_mib(field: &str) -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.split_whitespace().next()?.parse::<f64>().ok())
        .unwrap_or(0.0)
        / 1024.0
}

/// Uploads and downloads `mib` MiB as `cookie`, then seals and opens as much with age alone.
pub async fn big_file(s: &Server, cookie: &str, mib: u64) -> FileFigures {
    let _ = std::fs::write("/proc/self/clear_refs", "5"); // resets VmHWM to now
    let before = memory_mib("VmRSS:");
    let t = Instant::now();
    let id = upload(s, cookie, mib).await;
    let upload_mib_s = mib as f64 / t.elapsed().as_secs_f64();
    let detail: serde_json::Value = s
        .client
        .get(format!("{}/api/v1/messages/{id}", s.base))
        .header("cookie", cookie)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let aid = detail["attachments"][0]["id"].as_str().unwrap();
    let t = Instant::now();
    let mut response = s
        .client
        .get(format!("{}/api/v1/messages/{id}/attachments/{aid}", s.base))
        .header("cookie", cookie)
        .send()
        .await
        .unwrap();
    let mut got = 0u64;
    while let Some(bytes) = response.chunk().await.unwrap() {
        got += bytes.len() as u64;
    }
    assert_eq!(got, mib * CHUNK as u64, "the whole file came back");
    let download_mib_s = mib as f64 / t.elapsed().as_secs_f64();
    let peak_growth_mib = memory_mib("VmHWM:") - before;
    let (seal_mib_s, open_mib_s) = age_alone(mib).await;
    FileFigures {
        upload_mib_s,
        download_mib_s,
        seal_mib_s,
        open_mib_s,
        peak_growth_mib,
    }
}

/// A send with one `mib` MiB file, written to the socket a MiB at a time; returns its id.
async fn upload(s: &Server, cookie: &str, mib: u64) -> String {
    let boundary = "sealpost-bench-boundary";
    let message = serde_json::json!({ "recipients": ["bench.reader@testshire.gov.uk"], "subject": "Large file", "body": "x" });
    let head_part = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"message\"\r\nContent-Type: application/json\r\n\r\n{message}\r\n\
         --{boundary}\r\nContent-Disposition: form-data; name=\"attachment\"; filename=\"large.bin\"\r\nContent-Type: application/octet-stream\r\n\r\n"
    );
    let tail = format!("\r\n--{boundary}--\r\n");
    let length = head_part.len() as u64 + mib * CHUNK as u64 + tail.len() as u64;
    let host = s.base.trim_start_matches("http://");
    let head = format!(
        "POST /api/v1/messages HTTP/1.1\r\nHost: {host}\r\nContent-Type: multipart/form-data; boundary={boundary}\r\n\
         Content-Length: {length}\r\nCookie: {cookie}\r\nx-sealpost-csrf: 1\r\nConnection: close\r\n\r\n"
    );
    // Four chunks made once and sent in turn, as for age alone: making each MiB afresh would
    // count the client's work as the server's.
    let chunks: Vec<Vec<u8>> = (0..4).map(chunk_of).collect();
    let mut socket = tokio::net::TcpStream::connect(host).await.unwrap();
    socket.write_all(head.as_bytes()).await.unwrap();
    socket.write_all(head_part.as_bytes()).await.unwrap();
    for i in 0..mib {
        socket.write_all(&chunks[(i % 4) as usize]).await.unwrap();
    }
    socket.write_all(tail.as_bytes()).await.unwrap();
    let mut answer = String::new();
    socket.read_to_string(&mut answer).await.unwrap();
    assert!(
        answer.starts_with("HTTP/1.1 200"),
        "upload refused: {}",
        answer.lines().next().unwrap_or_default()
    );
    let json = answer.split("\r\n\r\n").nth(1).unwrap();
    let body: serde_json::Value = serde_json::from_str(json).unwrap();
    body["id"].as_str().unwrap().to_owned()
}

/// MiB/s of age's STREAM alone (`crates/crypto`, no disk, no HTTP): sealing `mib` MiB into
/// nothing, and opening a sealed copy held in memory (at most 256 MiB of it).
async fn age_alone(mib: u64) -> (f64, f64) {
    let key = MessageKey::generate();
    let binding = || Binding::new(ObjectKind::Attachment, uuid::Uuid::nil());
    let chunks: Vec<Vec<u8>> = (0..4).map(chunk_of).collect();
    let t = Instant::now();
    let mut sealer = key.seal_stream(binding(), tokio::io::sink()).await.unwrap();
    for i in 0..mib {
        sealer.write(&chunks[(i % 4) as usize]).await.unwrap();
    }
    sealer.finish().await.unwrap();
    let seal = mib as f64 / t.elapsed().as_secs_f64();
    let held = mib.min(256);
    let mut sealed = Vec::new();
    let mut sealer = key.seal_stream(binding(), &mut sealed).await.unwrap();
    for i in 0..held {
        sealer.write(&chunks[(i % 4) as usize]).await.unwrap();
    }
    sealer.finish().await.unwrap();
    let t = Instant::now();
    let mut opened = key.open_stream(binding(), &sealed[..]).await.unwrap();
    let mut buf = vec![0u8; CHUNK];
    let mut total = 0u64;
    loop {
        let n = opened.read(&mut buf).await.unwrap();
        if n == 0 {
            break;
        }
        total += n as u64;
    }
    assert_eq!(total, held * CHUNK as u64);
    (seal, held as f64 / t.elapsed().as_secs_f64())
}

/// Scenario 4: one large file through `sqlite`'s local blob directory, then through a bucket
/// of s3s-fs on this machine (when `SEALPOST_TEST_S3S_FS` names it).
pub async fn rows(sqlite: &Server, file_mib: u64) {
    let label =
        format!("4. One {file_mib} MiB file through the server (SQLite, local blob directory), against age's STREAM alone in memory:");
    row(&label, sqlite, file_mib).await;
    let Some(s3) = sealpost_storage::testing::TestS3::start().await else {
        println!("(4b skipped: set SEALPOST_TEST_S3S_FS to an s3s-fs binary)");
        return;
    };
    let (url, options) = (s3.url("bench"), s3.options());
    let max_file = u32::try_from(file_mib + 16).unwrap_or(u32::MAX);
    let server = Server::start_with(TestDatabase::sqlite().await.unwrap(), max_file, |s| {
        s.blob_url = Some(url);
        s.s3 = options;
    })
    .await;
    let label = format!("4b. The same {file_mib} MiB file with blobs in an S3 bucket (s3s-fs on this machine, 5 MiB parts):");
    row(&label, &server, file_mib).await;
}

async fn row(label: &str, server: &Server, file_mib: u64) {
    let _ = server.account("bench.reader@testshire.gov.uk").await;
    let login = serde_json::json!({ "email": "ann@testshire.gov.uk", "password": "correct horse battery staple" });
    let signed_in = server.post("/api/v1/auth/login", login).await;
    // Ann exists when the web scenarios ran on this server first.
    let ann = if signed_in.status().is_success() {
        setup::cookie(&signed_in)
    } else {
        server.account("ann@testshire.gov.uk").await
    };
    let f = big_file(server, &ann, file_mib).await;
    println!("\n{label}");
    println!(
        "   upload {:.0} MiB/s ({:.0} % of sealing alone, {:.0} MiB/s); download {:.0} MiB/s ({:.0} % of opening alone, {:.0} MiB/s); peak memory growth {:.1} MiB",
        f.upload_mib_s,
        100.0 * f.upload_mib_s / f.seal_mib_s,
        f.seal_mib_s,
        f.download_mib_s,
        100.0 * f.download_mib_s / f.open_mib_s,
        f.open_mib_s,
        f.peak_growth_mib
    );
}
