//! `cargo xtask test`: every check and test, in the order that fails fastest. PostgreSQL is
//! tested when `SEALPOST_TEST_POSTGRES_URL` is set, or when a server answers on
//! 127.0.0.1:5432 (then `postgres://postgres@127.0.0.1:5432/postgres` is used).
//! Ends with one line `summary: N passed, M failed`.

use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::time::Duration;

use crate::{fuzz, process, tools, web};

const LOCAL_POSTGRES: &str = "postgres://postgres@127.0.0.1:5432/postgres";

/// Runs everything.
pub fn all(root: &Path) -> Result<(), String> {
    let started = std::time::Instant::now();
    static_checks(root)?;
    let mut tally = Tally::default();
    // The single sign-on API tests start the test OpenID provider from e2e/'s npm modules; the
    // escrow recovery test opens a message with Debian's reference `age` command.
    tools::ensure_node_modules(root)?;
    tools::ensure_chromium()?;
    rust_tests(root, &mut tally);
    fuzz_briefly(root, &mut tally);
    api_conformance(root, &mut tally);
    browser_tests(root, &mut tally)?;
    println!("xtask: finished in {} s", started.elapsed().as_secs());
    // Named again at the end, where a log's tail shows them.
    for name in &tally.failures {
        println!("failed: {name}");
    }
    println!("summary: {} passed, {} failed", tally.passed, tally.failed);
    if tally.failed > 0 || tally.passed == 0 {
        Err("some tests failed".into())
    } else {
        Ok(())
    }
}

/// Formatting, the web build, clippy on both targets, and age's features (SECURITY E6, I3).
fn static_checks(root: &Path) -> Result<(), String> {
    step("formatting");
    process::cargo(root, &["fmt", "--all", "--", "--check"], &[])?;
    web::build(root)?;
    step("clippy (server crates, then the wasm app)");
    let deny = ["--", "-D", "warnings"];
    process::cargo(
        root,
        &[
            &[
                "clippy",
                "--quiet",
                "--locked",
                "--workspace",
                "--exclude",
                "sealpost-web",
                "--all-targets",
            ][..],
            &deny,
        ]
        .concat(),
        &[],
    )?;
    let wasm = [
        "clippy",
        "--quiet",
        "--locked",
        "-p",
        "sealpost-web",
        "--target",
        "wasm32-unknown-unknown",
    ];
    process::cargo(root, &[&wasm[..], &deny].concat(), &[])?;
    step("age is built without the plugin and ssh features (E6)");
    let tree = process::output(
        &process::cargo_bin(),
        &["tree", "--locked", "-p", "sealpost-crypto", "-e", "features", "-i", "age"],
    )
    .ok_or("cargo tree failed")?;
    if let Some(bad) = tree
        .lines()
        .find(|l| l.contains("age feature \"plugin\"") || l.contains("age feature \"ssh\""))
    {
        return Err(format!("age must not be built with plugin or ssh: {}", bad.trim()));
    }
    println!(
        "ok: age features are {:?}",
        tree.lines()
            .filter(|l| l.contains("age feature"))
            .map(str::trim)
            .collect::<Vec<_>>()
    );
    dependency_checks(root)
}

/// `cargo audit` against the advisory database kept beside the project, offline, warnings
/// denied (ignores live in `.cargo/audit.toml`, each with its reason), and `cargo deny`'s
/// bans, licences and sources (`deny.toml`) (SECURITY I1, I2).
fn dependency_checks(root: &Path) -> Result<(), String> {
    step("dependencies: cargo audit (RustSec, offline) and cargo deny (bans, licences, sources)");
    let audit = tools::cargo_plugin(root, "cargo-audit", CARGO_AUDIT)?;
    match tools::advisory_db(root) {
        Some(db) => {
            let db = db.to_str().ok_or("advisory db path is not UTF-8")?.to_owned();
            let audit = audit.to_str().ok_or("tools path is not UTF-8")?.to_owned();
            process::run(root, &audit, &["audit", "--no-fetch", "--db", &db, "--deny", "warnings"], &[])?;
        }
        None => println!("xtask: WARNING no advisory database found (set SEALPOST_ADVISORY_DB); cargo audit skipped"),
    }
    let deny = tools::cargo_plugin(root, "cargo-deny", CARGO_DENY)?;
    // cargo deny reads the metadata of every platform's crates offline; a fresh machine has
    // downloaded only its own platform's, so fetch the rest first (a no-op once cached).
    process::cargo(root, &["fetch", "--locked", "--quiet"], &[])?;
    let deny = deny.to_str().ok_or("tools path is not UTF-8")?.to_owned();
    process::run(root, &deny, &["--offline", "--locked", "check", "bans", "licenses", "sources"], &[])
}

/// The versions of the dependency checkers installed (pinned, so every machine checks alike).
const CARGO_AUDIT: &str = "0.22.2";
const CARGO_DENY: &str = "0.20.2";

/// Unit, property, contract and integration tests; the API suite runs again on PostgreSQL.
fn rust_tests(root: &Path, tally: &mut Tally) {
    let postgres = postgres_url();
    // The blob tests run against a real S3-compatible server as well as a directory.
    let s3s_fs = match tools::s3s_fs(root) {
        Ok(binary) => binary.to_string_lossy().into_owned(),
        Err(e) => {
            println!("xtask: s3s-fs could not be installed: {e}");
            tally.failed += 1;
            String::new()
        }
    };
    let mut env: Vec<(&str, &str)> = vec![];
    match &postgres {
        Some(url) => {
            drop_leftover_databases(url);
            env.push(("SEALPOST_TEST_POSTGRES_URL", url));
        }
        None => println!("xtask: WARNING no PostgreSQL found; storage contract tests run on SQLite only"),
    }
    if !s3s_fs.is_empty() {
        env.push(("SEALPOST_TEST_S3S_FS", &s3s_fs));
    }
    step("Rust tests (storage contract on both backends, blobs on a directory and S3; API on SQLite)");
    tally.cargo(
        root,
        &["test", "--locked", "--workspace", "--exclude", "sealpost-web", "--no-fail-fast"],
        &env,
    );
    if postgres.is_some() {
        step("API integration tests on PostgreSQL");
        env.push(("SEALPOST_TEST_BACKEND", "postgres"));
        tally.cargo(
            root,
            &["test", "--locked", "-p", "sealpost-server", "--test", "api", "--no-fail-fast"],
            &env,
        );
    }
}

/// Seconds each fuzz target runs under libFuzzer in the test command (the soak runs longer).
const FUZZ_SECONDS: u64 = 10;

/// Every fuzz target briefly under libFuzzer, each counted as one test. The same targets
/// already ran on stable with random inputs among the Rust tests; without a nightly toolchain
/// that is all (SECURITY D7).
fn fuzz_briefly(root: &Path, tally: &mut Tally) {
    step("fuzz targets under libFuzzer (nightly, cargo-fuzz)");
    if !fuzz::nightly_available() {
        println!("xtask: WARNING no nightly toolchain; the fuzz targets ran on stable only");
        return;
    }
    match fuzz::run_all(root, FUZZ_SECONDS) {
        Ok(results) => {
            for (target, clean) in results {
                if clean {
                    tally.passed += 1;
                } else {
                    println!("xtask: fuzz target {target} failed to build or crashed");
                    tally.failed += 1;
                }
            }
        }
        Err(e) => {
            println!("xtask: fuzzing could not start: {e}");
            tally.failed += 1;
        }
    }
}

/// The API against its own OpenAPI document, with Schemathesis, against the debug binary: no
/// 5xx, every status, content type and body as documented (`e2e/conformance/run.py`).
fn api_conformance(root: &Path, tally: &mut Tally) {
    step("API conformance (Schemathesis against the OpenAPI document)");
    let st = match tools::schemathesis() {
        Ok(st) => st,
        Err(e) => {
            println!("xtask: Schemathesis could not be installed: {e}");
            tally.failed += 1;
            return;
        }
    };
    let binary = root.join("target/debug/sealpost");
    let args = [
        "e2e/conformance/run.py",
        binary.to_str().unwrap_or_default(),
        st.to_str().unwrap_or_default(),
    ];
    let (_, lines) = process::run_capturing(root, "python3", &args, &[]);
    match lines.iter().rev().find(|l| l.starts_with("conformance: ")) {
        Some(summary) => {
            tally.passed += count(summary, "passed");
            tally.failed += count(summary, "failed");
        }
        None => tally.failed += 1,
    }
}

/// The Playwright journeys in Debian's Chromium against the debug binary.
fn browser_tests(root: &Path, tally: &mut Tally) -> Result<(), String> {
    step("browser journeys (Chromium + Playwright + axe-core)");
    tools::ensure_chromium()?;
    tools::ensure_node_modules(root)?;
    let python = tools::aiosmtpd_python()?;
    let binary = root.join("target/debug/sealpost");
    let args = ["--test", "--test-concurrency=1", "--test-reporter=spec", "tests/"];
    let env = [
        ("SEALPOST_BIN", binary.to_str().unwrap_or_default()),
        ("SMTP_SINK_PYTHON", python.to_str().unwrap_or_default()),
    ];
    let (_, lines) = process::run_capturing(&root.join("e2e"), "node", &args, &env);
    tally.node(&lines);
    Ok(())
}

fn step(name: &str) {
    println!("\n=== {name} ===");
}

/// Counts of passed and failed tests across runners.
#[derive(Default)]
struct Tally {
    passed: u64,
    failed: u64,
    /// What failed, by name: `test x::y ... FAILED` lines from cargo, `✖` lines from node.
    failures: Vec<String>,
}

impl Tally {
    fn cargo(&mut self, root: &Path, args: &[&str], env: &[(&str, &str)]) {
        let (ok, lines) = process::run_capturing(root, &process::cargo_bin(), args, env);
        for line in lines.iter().filter_map(|l| l.strip_prefix("test result: ")) {
            self.passed += count(line, "passed");
            self.failed += count(line, "failed");
        }
        self.failures.extend(lines.iter().filter_map(|l| failed_cargo_test(l)));
        if !ok && !lines.iter().any(|l| l.contains("FAILED")) {
            self.failed += 1; // a build failure is a failure even with no test counted
        }
    }

    fn node(&mut self, lines: &[String]) {
        let find = |key: &str| {
            lines
                .iter()
                .rev()
                .find_map(|l| l.trim().strip_prefix(key).and_then(|n| n.trim().parse::<u64>().ok()))
        };
        let (pass, fail) = (find("ℹ pass"), find("ℹ fail"));
        self.failures.extend(
            lines
                .iter()
                .filter_map(|l| l.trim().strip_prefix("✖ "))
                .filter(|l| !l.starts_with("failing tests"))
                .map(|l| format!("browser: {l}")),
        );
        self.passed += pass.unwrap_or(0);
        // No summary from node means the run itself broke: count that as a failure.
        self.failed += fail.unwrap_or(1);
    }
}

/// `x::y` from cargo's `test x::y ... FAILED`.
fn failed_cargo_test(line: &str) -> Option<String> {
    let name = line.strip_prefix("test ")?.strip_suffix(" ... FAILED")?;
    Some(name.to_owned())
}

/// The number before `word` in "ok. 12 passed; 0 failed; …".
fn count(line: &str, word: &str) -> u64 {
    let words: Vec<&str> = line
        .split(|c: char| c.is_whitespace() || c == ';')
        .filter(|w| !w.is_empty())
        .collect();
    words.windows(2).find(|w| w[1] == word).and_then(|w| w[0].parse().ok()).unwrap_or(0)
}

/// `SEALPOST_TEST_POSTGRES_URL`, or the local server on 127.0.0.1:5432 when one answers.
pub fn postgres_url() -> Option<String> {
    if let Ok(url) = std::env::var("SEALPOST_TEST_POSTGRES_URL") {
        return Some(url);
    }
    let local: SocketAddr = ([127, 0, 0, 1], 5432).into();
    TcpStream::connect_timeout(&local, Duration::from_secs(1))
        .ok()
        .map(|_| LOCAL_POSTGRES.to_owned())
}

/// Drops `sealpost_test_…` databases left by earlier runs (best effort, needs psql).
fn drop_leftover_databases(url: &str) {
    let Some(list) = process::output(
        "psql",
        &[url, "-Atc", "SELECT datname FROM pg_database WHERE datname LIKE 'sealpost_test_%'"],
    ) else {
        return;
    };
    for name in list.lines().filter(|n| n.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')) {
        let _ = process::output("psql", &[url, "-qc", &format!("DROP DATABASE IF EXISTS {name}")]);
    }
    // Tenant roles belong to the whole server and outlive their test databases; one that still
    // owns something (a real deployment's) is refused by DROP ROLE and kept.
    let roles = process::output(
        "psql",
        &[
            url,
            "-Atc",
            "SELECT rolname FROM pg_roles WHERE rolname LIKE 'sealpost\\_tenant\\_%'",
        ],
    );
    for role in roles
        .unwrap_or_default()
        .lines()
        .filter(|n| n.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'))
    {
        let _ = process::output("psql", &[url, "-qc", &format!("DROP ROLE IF EXISTS {role}")]);
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn counts_are_read_from_cargo_summary_lines() {
        let line = "ok. 12 passed; 3 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.01s";
        assert_eq!(super::count(line, "passed"), 12);
        assert_eq!(super::count(line, "failed"), 3);
    }

    #[test]
    fn failed_tests_are_named() {
        assert_eq!(
            super::failed_cargo_test("test undo::a_recall ... FAILED").as_deref(),
            Some("undo::a_recall")
        );
        assert_eq!(super::failed_cargo_test("test undo::a_recall ... ok"), None);
    }
}
