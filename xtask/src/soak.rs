//! `cargo xtask soak`: the reliability checks at length, by hand (SECURITY G2, G4, G5, D7).
//!
//! 1. The kill test with 100 rounds of `kill -9` under load, on SQLite and on PostgreSQL.
//! 2. The real PostgreSQL server stopped and started under a running Sealpost (it stops the
//!    machine's PostgreSQL for a few seconds: not for a shared server).
//! 3. Every fuzz target under libFuzzer, `SEALPOST_SOAK_FUZZ_SECONDS` each (default 300).
//!
//! Prints one line per part and a `soak:` summary.

use std::path::Path;
use std::time::Instant;

use crate::{fuzz, process};

const LOCAL_POSTGRES: &str = "postgres://postgres@127.0.0.1:5432/postgres";

/// Runs the soak and fails if any part failed.
pub fn run(root: &Path) -> Result<(), String> {
    let postgres = std::env::var("SEALPOST_TEST_POSTGRES_URL").unwrap_or_else(|_| LOCAL_POSTGRES.to_owned());
    let mut results: Vec<(String, bool, u64)> = vec![];
    let mut part = |name: &str, ok: bool, started: Instant| {
        println!(
            "soak: {name}: {} in {} s",
            if ok { "passed" } else { "FAILED" },
            started.elapsed().as_secs()
        );
        results.push((name.to_owned(), ok, started.elapsed().as_secs()));
    };
    for backend in ["sqlite", "postgres"] {
        let started = Instant::now();
        let env = [
            ("SEALPOST_KILL_ROUNDS", "100"),
            ("SEALPOST_TEST_BACKEND", backend),
            ("SEALPOST_TEST_POSTGRES_URL", postgres.as_str()),
        ];
        let ok = api_test(root, "faults::killing", false, &env);
        part(&format!("kill -9 under load, 100 rounds, {backend}"), ok, started);
    }
    let started = Instant::now();
    let env = [
        ("SEALPOST_TEST_BACKEND", "postgres"),
        ("SEALPOST_TEST_POSTGRES_URL", postgres.as_str()),
    ];
    let ok = api_test(root, "outages::soak_", true, &env);
    part("PostgreSQL stopped and started under a running server", ok, started);
    if fuzz::nightly_available() {
        let seconds: u64 = std::env::var("SEALPOST_SOAK_FUZZ_SECONDS")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(300);
        for (target, ok) in fuzz::run_all(root, seconds)? {
            part(&format!("fuzz {target}, {seconds} s"), ok, Instant::now());
        }
    }
    let failed = results.iter().filter(|(_, ok, _)| !ok).count();
    println!("soak: {} parts, {failed} failed", results.len());
    if failed == 0 { Ok(()) } else { Err("the soak failed".into()) }
}

/// Runs the API tests whose names contain `filter` (the `#[ignore]`d ones when `ignored`).
fn api_test(root: &Path, filter: &str, ignored: bool, env: &[(&str, &str)]) -> bool {
    let mut args = vec![
        "test",
        "--locked",
        "-p",
        "sealpost-server",
        "--test",
        "api",
        filter,
        "--",
        "--nocapture",
    ];
    if ignored {
        args.push("--ignored");
    }
    process::cargo(root, &args, env).is_ok()
}
