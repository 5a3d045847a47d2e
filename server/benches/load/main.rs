//! `cargo xtask bench`: Sealpost's own figures, measured on loopback by a bounded tokio client
//! in the same process as the server, each against a reference measured in the same run
//! (issue 6; SECURITY H1–H3). Prints one report; asserts nothing about speed.
//!
//! On SQLite, and on PostgreSQL when `SEALPOST_TEST_POSTGRES_URL` names a server:
//! 1. a verified partner opening a 10 KiB message (its audit event committed before the
//!    answer), against a plain axum handler returning 10 KiB (the HTTP ceiling), then again in
//!    five turns with the ceiling, for a ratio of two loads over the same stretch of time;
//! 2. a member of staff listing an inbox of 50 messages, against the same ceiling;
//! 3. sends of a 10 KiB message to three partners (sealing, outbox rows, audit event);
//! 5. the notifications those sends queued, delivered to a local SMTP server.
//!
//! Then 4. one large file up and down, against age's STREAM alone, with the peak memory growth;
//! 6. the IG console's searches by message and by person over a 10-million-event log; 7. `audit
//! verify` over that log; 8. the idle memory of a freshly started `sealpost serve`; 9. a member
//! of staff searching a 10,000-message mailbox; 10. the SMTP intake: 1,000 messages of about
//! 100 KiB with one attachment over 4 SMTP connections; 11. what the content checks add to a
//! send with a 1 MiB text file; and last 1c, the audit appender alone (`appender.rs`).
//!
//! `SEALPOST_BENCH_SECONDS` (10), `SEALPOST_BENCH_CONNECTIONS` (64), `SEALPOST_BENCH_FILE_MIB`
//! (1024), `SEALPOST_BENCH_AUDIT_EVENTS` (10,000,000) and `SEALPOST_BENCH_MAILBOX` (10,000)
//! change the defaults; `SEALPOST_BENCH_ONLY=search` runs scenario 9 alone, `=intake` scenario
//! 10 alone, `=web` the ceiling and scenarios 1, 2, 3, 5, 8b and 1c alone, `=checks` scenario 11 alone.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod appender;
mod audit_search;
mod binary;
mod checks;
mod client;
mod commits;
mod files;
mod instances;
mod intake;
mod mail_search;
mod setup;

use std::sync::Arc;
use std::time::{Duration, Instant};

use sealpost_storage::testing::TestDatabase;

use crate::client::{Figures, load, row};
use crate::setup::{PARTNER, Server, send_request};

/// The allocator the `sealpost` binary ships with (server/src/main.rs), so that the servers
/// measured in this process allocate as the product does.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

fn setting(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|s| s.parse().ok()).unwrap_or(default)
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

/// Scenarios 1, 2, 3 and 5 on one backend.
async fn web_scenarios(name: &str, s: &Server, ceiling: &client::Request, top: &Figures, connections: usize, length: Duration) {
    let ann = s.account("ann@testshire.gov.uk").await;
    let bob = s.account("bob@testshire.gov.uk").await;
    let ten_kib = "Referral details. ".repeat(10 * 1024 / 18);
    let sent = s.send(&ann, &[PARTNER], "Case 1 referral", &ten_kib).await;
    let id = sent["id"].as_str().unwrap().to_owned();
    let partner = s.partner_session().await;
    for i in 0..50 {
        s.send(&ann, &["bob@testshire.gov.uk"], &format!("Inbox item {i}"), "A short note.")
            .await;
    }
    let open = client::get(&s.client, format!("{}/api/v1/portal/messages/{id}", s.base), Some(partner));
    let opens = open_rows(name, &open, ceiling, top, connections, length).await;
    let inbox = client::get(&s.client, format!("{}/api/v1/messages?box=inbox", s.base), Some(bob));
    row(
        &format!("2. staff inbox, 50 items, 32 conns ({name})"),
        &load(32, length, inbox).await,
        Some(top),
    );
    let rss_after_reads = rss_mib(std::process::id());

    let (http, base) = (s.client.clone(), s.base.clone());
    let send: client::Request = Arc::new(move || {
        let request = send_request(
            &http,
            &base,
            &ann,
            &[PARTNER, "gp@nhs.example.uk", "head@school.example.uk"],
            "Referral",
            &ten_kib,
        );
        Box::pin(async move { request.send().await.is_ok_and(|r| r.status().is_success()) })
    });
    let sends = load(32, length, send).await;
    row(&format!("3. send to 3 partners, 32 conns ({name})"), &sends, Some(top));

    let before_notifications = commits::snapshot();
    let (before, started) = (s.sink.received().len(), Instant::now());
    while started.elapsed() < Duration::from_secs(30) {
        if sealpost_server::workers::outbox::deliver_due(&s.state).await.unwrap() == 0 {
            break;
        }
    }
    let delivered = s.sink.received().len() - before;
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "| 5. notifications to a local SMTP server ({name}) | {:.0} /s | – | – | 0 | {delivered} sent in {seconds:.1} s |",
        delivered as f64 / seconds
    );
    println!("{opens}");
    println!("   5. {}", commits::since(&before_notifications, seconds));
    println!(
        "   resident memory of this process (load client and servers, the sink holding every notification): {rss_after_reads:.0} MiB after 1 and 2, {:.0} MiB after 5",
        rss_mib(std::process::id())
    );
}

/// Scenario 1: the open at `connections`, then in five turns with the ceiling, then at 1, 8
/// and 256 connections. Returns the lines about the first two, for after the table.
async fn open_rows(
    name: &str,
    open: &client::Request,
    ceiling: &client::Request,
    top: &Figures,
    connections: usize,
    length: Duration,
) -> String {
    let before = commits::snapshot();
    let opened = load(connections, length, open.clone()).await;
    row(&format!("1. portal open, 10 KiB, audited ({name})"), &opened, Some(top));
    let batching = commits::since(&before, opened.seconds);
    // The open again, in five turns with the ceiling: the ratio of two loads over the same
    // stretch of time, which the machine's drift between loads moves far less.
    let (beside, paired) = client::in_turns(connections, length, 5, ceiling.clone(), open.clone()).await;
    // The same open with fewer and more connections: what a lone request waits for, and
    // where adding clients stops adding throughput.
    for c in [1, 8, 256].into_iter().filter(|c| *c != connections) {
        row(
            &format!("1. portal open, {c} conn{} ({name})", if c == 1 { "" } else { "s" }),
            &load(c, length, open.clone()).await,
            Some(top),
        );
    }
    format!(
        "   1. at {connections} connections: {batching}\n   1. at {connections} connections, open {:.0} /s (p99 {:.2} ms, {} errors) and ceiling {:.0} /s in five turns of each: {:.1} %",
        paired.per_second(),
        paired.p99_ms,
        paired.errors,
        beside.per_second(),
        100.0 * paired.per_second() / beside.per_second()
    )
}

/// Scenario 8b: the `sealpost serve` binary's memory before, just after and a quiet while
/// after a load of opens, inbox lists and sends.
async fn binary_memory_rows(connections: usize, length: Duration) {
    let quiet = setting("SEALPOST_BENCH_IDLE_SECONDS", 60);
    let m = binary::memory(connections, length, quiet).await;
    println!("\n8b. The `sealpost serve` binary in its own process (SQLite), loaded over HTTP:");
    println!("| Load | Throughput | p50 | p99 | Errors |\n|---|---|---|---|---|");
    for (name, f) in [
        (format!("portal open, {connections} connections"), &m.open),
        ("inbox of 50, 32 connections".to_owned(), &m.inbox),
        ("send to 2 partners, 32 connections".to_owned(), &m.sends),
    ] {
        println!(
            "| {name} | {:.0} /s | {:.2} ms | {:.2} ms | {} |",
            f.per_second(),
            f.p50_ms,
            f.p99_ms,
            f.errors
        );
    }
    println!(
        "   resident memory: {:.1} MiB started and idle, {:.1} MiB just after the loads, {:.1} MiB after {} s quiet ({:.1} MiB of it anonymous)",
        m.started_mib, m.loaded_mib, m.quiet_mib, m.quiet_seconds, m.quiet_anonymous_mib
    );
}

/// Resident memory of a process, from /proc.
fn rss_mib(pid: u32) -> f64 {
    status_mib(pid, "VmRSS:")
}

/// One of the memory lines of /proc/PID/status, in MiB.
fn status_mib(pid: u32, field: &str) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let kib: f64 = status
        .lines()
        .find_map(|l| l.strip_prefix(field))
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

fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpu
        .lines()
        .find_map(|l| l.strip_prefix("model name"))
        .map_or("unknown CPU", |m| m.trim_start_matches([' ', '\t', ':']));
    let memory = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    let gib = memory
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))
        .and_then(|v| v.split_whitespace().next()?.parse::<f64>().ok())
        .map_or(0.0, |kib| kib / 1024.0 / 1024.0);
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    format!("{cores} cores ({model}), {gib:.0} GiB")
}

#[tokio::main]
async fn main() {
    let seconds = setting("SEALPOST_BENCH_SECONDS", 10);
    let connections = setting("SEALPOST_BENCH_CONNECTIONS", 64) as usize;
    let file_mib = setting("SEALPOST_BENCH_FILE_MIB", 1024);
    let audit_events = setting("SEALPOST_BENCH_AUDIT_EVENTS", 10_000_000);
    let length = Duration::from_secs(seconds);
    println!(
        "Sealpost benchmarks on {}: loopback, client and server sharing the machine",
        machine()
    );
    println!("{connections} connections unless stated, {seconds} s a load\n");

    let mailbox = setting("SEALPOST_BENCH_MAILBOX", 10_000);
    if std::env::var("SEALPOST_BENCH_ONLY").is_ok_and(|o| o == "search") {
        let sqlite = Server::start(TestDatabase::sqlite().await.unwrap(), 64).await;
        mail_search_row("SQLite", &mail_search::mail_search(&sqlite, mailbox).await);
        if let Some(db) = TestDatabase::postgres().await.unwrap() {
            let postgres = Server::start(db, 64).await;
            mail_search_row("PostgreSQL", &mail_search::mail_search(&postgres, mailbox).await);
        }
        return;
    }
    if std::env::var("SEALPOST_BENCH_ONLY").is_ok_and(|o| o == "intake") {
        intake_rows().await;
        return;
    }
    if std::env::var("SEALPOST_BENCH_ONLY").is_ok_and(|o| o == "instances") {
        match TestDatabase::postgres().await.unwrap() {
            Some(db) => instances::row(db, connections, length).await,
            None => println!("(12 skipped: set SEALPOST_TEST_POSTGRES_URL)"),
        }
        return;
    }
    if std::env::var("SEALPOST_BENCH_ONLY").is_ok_and(|o| o == "files") {
        let max_file = u32::try_from(file_mib + 16).unwrap_or(u32::MAX);
        let sqlite = Server::start(TestDatabase::sqlite().await.unwrap(), max_file).await;
        files::rows(&sqlite, file_mib).await;
        return;
    }
    if std::env::var("SEALPOST_BENCH_ONLY").is_ok_and(|o| o == "checks") {
        checks::row().await;
        return;
    }
    if std::env::var("SEALPOST_BENCH_ONLY").is_ok_and(|o| o == "memory") {
        binary_memory_rows(connections, length).await;
        return;
    }
    println!("| Scenario | Throughput | p50 | p99 | Errors | Ratio to ceiling |");
    println!("|---|---|---|---|---|---|");
    let ceiling_url = ceiling().await;
    let http = reqwest::Client::builder().pool_max_idle_per_host(256).build().unwrap();
    let ceiling = client::get(&http, ceiling_url, None);
    let top = load(connections, length, ceiling.clone()).await;
    row("HTTP ceiling: plain axum, 10 KiB", &top, None);
    let max_file = u32::try_from(file_mib + 16).unwrap_or(u32::MAX);
    let sqlite = Server::start(TestDatabase::sqlite().await.unwrap(), max_file).await;
    web_scenarios("SQLite", &sqlite, &ceiling, &top, connections, length).await;
    let postgres = match TestDatabase::postgres().await.unwrap() {
        Some(db) => {
            let postgres = Server::start(db, max_file).await;
            web_scenarios("PostgreSQL", &postgres, &ceiling, &top, connections, length).await;
            Some(postgres)
        }
        None => {
            println!("(PostgreSQL skipped: set SEALPOST_TEST_POSTGRES_URL)");
            None
        }
    };
    if std::env::var("SEALPOST_BENCH_ONLY").is_ok_and(|o| o == "web") {
        binary_memory_rows(connections, length).await;
        appender_rows(&sqlite, postgres.as_ref(), connections, length).await;
        return;
    }
    if let Some(db) = TestDatabase::postgres().await.unwrap() {
        instances::row(db, connections, length).await;
    }

    binary_memory_rows(connections, length).await;
    files::rows(&sqlite, file_mib).await;

    println!("\n6. IG console searches (newest 50), {audit_events} events, 200 random targets each:");
    let key = sqlite.state.audit_key.verify_key();
    let big_sqlite = TestDatabase::sqlite().await.unwrap();
    let s = audit_search::audit_search(&big_sqlite.store, audit_events).await;
    search_row("SQLite", &s);
    if let Some(db) = TestDatabase::postgres().await.unwrap() {
        search_row("PostgreSQL", &audit_search::audit_search(&db.store, audit_events).await);
    }

    let t = Instant::now();
    let verified = sealpost_server::app::audit::verify_chain(&big_sqlite.store, &key, &[], &[])
        .await
        .unwrap()
        .unwrap();
    let per_minute = verified.head.seq as f64 / t.elapsed().as_secs_f64() * 60.0;
    println!(
        "\n7. audit verify (SQLite): {} events in {:.1} s = {:.1} M events/min",
        verified.head.seq,
        t.elapsed().as_secs_f64(),
        per_minute / 1e6
    );
    println!("8. idle RSS of `sealpost serve`: {:.1} MiB", idle_rss().await);
    mail_search_row("SQLite", &mail_search::mail_search(&sqlite, mailbox).await);
    intake_rows().await;
    checks::row().await;
    appender_rows(&sqlite, postgres.as_ref(), connections, length).await;
}

/// Scenario 1c on each backend, after every other load on their servers.
async fn appender_rows(sqlite: &Server, postgres: Option<&Server>, connections: usize, length: Duration) {
    println!();
    appender::rows("SQLite", sqlite, connections, length).await;
    if let Some(postgres) = postgres {
        appender::rows("PostgreSQL", postgres, connections, length).await;
    }
}

/// Scenario 10 on a fresh server per backend.
async fn intake_rows() {
    for (name, db) in [
        ("SQLite", Some(TestDatabase::sqlite().await.unwrap())),
        ("PostgreSQL", TestDatabase::postgres().await.unwrap()),
    ] {
        let Some(db) = db else { continue };
        let server = Server::start(db, 64).await;
        let _ = server.account("ann@testshire.gov.uk").await;
        let _ = server.account("bob@testshire.gov.uk").await;
        let f = intake::intake(server.intake, "ann@testshire.gov.uk", "bob@testshire.gov.uk", 1000, 4).await;
        println!(
            "10. SMTP intake ({name}): {} messages of ~100 KiB with a file over 4 connections in {:.1} s = {:.0} messages/s; DATA to 250 p50 {:.1} ms, p99 {:.1} ms; {} refused",
            f.messages,
            f.seconds,
            f.messages as f64 / f.seconds,
            f.p50_ms,
            f.p99_ms,
            f.errors
        );
    }
}

fn mail_search_row(name: &str, m: &mail_search::MailSearchFigures) {
    println!(
        "9. search {}-message mailbox ({name}): seeded in {:.0} s; first search (builds the index) {:.0} ms; then {} searches p50 {:.1} ms, p95 {:.1} ms",
        m.messages, m.seed_seconds, m.first_ms, m.warm.requests, m.warm.p50_ms, m.warm.p95_ms
    );
}

fn search_row(name: &str, s: &audit_search::SearchFigures) {
    println!(
        "   {name}: loaded {} events in {:.0} s; by message p50 {:.2} ms, p95 {:.2} ms; by person p50 {:.2} ms, p95 {:.2} ms",
        s.events, s.load_seconds, s.by_message.p50_ms, s.by_message.p95_ms, s.by_person.p50_ms, s.by_person.p95_ms
    );
}
