//! Scenario 11: what the content checks (issue 20) add to a send with a 1 MiB text file. The
//! same bytes go as `cases.csv` (read for NHS, National Insurance and bank numbers as they are
//! sealed) and as `cases.bin` (not read), alternately, one send at a time, so the difference
//! between the two is the checks' cost.

use std::time::{Duration, Instant};

use sealpost_storage::testing::TestDatabase;

use crate::client::Figures;
use crate::setup::Server;

pub struct CheckFigures {
    pub bytes: usize,
    pub read: Figures,
    pub not_read: Figures,
}

/// About `bytes` of a case list with nothing sensitive in it: every line is read in full.
fn case_list(bytes: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes + 100);
    out.extend_from_slice(b"case,name,opened,status,notes\n");
    let mut n = 0u32;
    while out.len() < bytes {
        n += 1;
        let line = format!(
            "case-{n:06},Resident {},2026-{:02}-{:02},open,visit booked with the family support team\n",
            n % 977,
            n % 12 + 1,
            n % 28 + 1
        );
        out.extend_from_slice(line.as_bytes());
    }
    out.truncate(bytes);
    out
}

pub async fn checks(server: &Server, sends: usize) -> CheckFigures {
    let cookie = server.account("checks.sender@testshire.gov.uk").await;
    let _ = server.account("checks.reader@testshire.gov.uk").await;
    let file = case_list(1024 * 1024);
    let message = serde_json::json!({
        "recipients": ["checks.reader@testshire.gov.uk"],
        "subject": "Case list",
        "body": "The list is attached.",
        "marking": "official",
    })
    .to_string();
    let (mut read, mut not_read) = (vec![], vec![]);
    let started = Instant::now();
    for n in 0..sends * 2 {
        let name = if n % 2 == 0 { "cases.csv" } else { "cases.bin" };
        let form = reqwest::multipart::Form::new()
            .part(
                "message",
                reqwest::multipart::Part::text(message.clone())
                    .mime_str("application/json")
                    .unwrap(),
            )
            .part("attachment", reqwest::multipart::Part::bytes(file.clone()).file_name(name));
        let t = Instant::now();
        let r = server
            .client
            .post(format!("{}/api/v1/messages", server.base))
            .header("x-sealpost-csrf", "1")
            .header("cookie", &cookie)
            .multipart(form)
            .send()
            .await
            .unwrap();
        let status = r.status();
        let _ = r.bytes().await;
        assert!(status.is_success(), "a send of {name} failed: {status}");
        let took: Duration = t.elapsed();
        if n % 2 == 0 { read.push(took) } else { not_read.push(took) }
    }
    let seconds = started.elapsed().as_secs_f64() / 2.0;
    CheckFigures {
        bytes: file.len(),
        read: Figures::from_latencies(read, 0, seconds),
        not_read: Figures::from_latencies(not_read, 0, seconds),
    }
}

/// Scenario 11 on a fresh SQLite server.
pub async fn row() {
    let server = Server::start(TestDatabase::sqlite().await.unwrap(), 64).await;
    let c = checks(&server, 200).await;
    println!(
        "11. content checks (SQLite): {} sends each of an OFFICIAL message with a {} KiB file, one at a time: read as .csv p50 {:.1} ms, p95 {:.1} ms; not read (.bin) p50 {:.1} ms, p95 {:.1} ms; the checks add {:.1} ms at p50, {:.1} ms at p95",
        c.read.requests,
        c.bytes / 1024,
        c.read.p50_ms,
        c.read.p95_ms,
        c.not_read.p50_ms,
        c.not_read.p95_ms,
        c.read.p50_ms - c.not_read.p50_ms,
        c.read.p95_ms - c.not_read.p95_ms
    );
}
