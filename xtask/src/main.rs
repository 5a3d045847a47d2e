//! Build orchestration behind the README's two commands:
//!
//! - `cargo xtask run`: build the web app and the release server, then `sealpost serve`.
//! - `cargo xtask test`: format, lints, every Rust test on SQLite and PostgreSQL, and the
//!   browser journeys in Chromium. Installs what a fresh machine lacks, once.
//!
//! Also `cargo xtask web` (just the web app), `cargo xtask bench` (the load figures, in
//! release mode; they print a table and assert nothing), `cargo xtask fuzz [SECONDS]` (every
//! fuzz target under libFuzzer) and `cargo xtask soak` (the crash and outage tests at length).
//! Uses only the standard library, so it builds in seconds.

#![allow(clippy::print_stdout, clippy::print_stderr)]

mod fuzz;
mod process;
mod soak;
mod test;
mod tools;
mod web;

use std::path::PathBuf;
use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let root = workspace_root();
    let result = match args.first().map(String::as_str) {
        Some("web") => web::build(&root),
        Some("run") => run(&root, &args[1..]),
        Some("test") => test::all(&root),
        Some("fuzz") => fuzz_soak(&root, args.get(1)),
        Some("soak") => soak::run(&root),
        Some("bench") => bench(&root),
        _ => {
            eprintln!("usage: cargo xtask <run [sealpost args…] | test | web | bench | fuzz [SECONDS] | soak>");
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask: {e}");
            ExitCode::FAILURE
        }
    }
}

/// `cargo xtask fuzz [SECONDS]`: every fuzz target for SECONDS (default 600) each.
fn fuzz_soak(root: &std::path::Path, seconds: Option<&String>) -> Result<(), String> {
    let seconds = seconds.map_or(Ok(600), |s| s.parse().map_err(|_| format!("not a number of seconds: {s}")))?;
    if !fuzz::nightly_available() {
        return Err("cargo-fuzz needs a nightly toolchain (rustup toolchain list shows none)".into());
    }
    let results = fuzz::run_all(root, seconds)?;
    let failed: Vec<&str> = results.iter().filter(|(_, ok)| !ok).map(|(t, _)| t.as_str()).collect();
    println!(
        "fuzz: {} targets, {seconds} s each, {} failed {failed:?}",
        results.len(),
        failed.len()
    );
    if failed.is_empty() {
        Ok(())
    } else {
        Err("a fuzz target crashed".into())
    }
}

/// Builds everything in release mode and runs `sealpost` (default: `serve`).
fn run(root: &std::path::Path, args: &[String]) -> Result<(), String> {
    web::build(root)?;
    let mut command = vec!["build", "--locked", "--release", "--bin", "sealpost"];
    command.push("--quiet");
    process::cargo(root, &command, &[])?;
    let binary = root.join("target/release/sealpost");
    let args: Vec<&str> = if args.is_empty() {
        vec!["serve"]
    } else {
        args.iter().map(String::as_str).collect()
    };
    process::run(root, binary.to_str().unwrap_or("sealpost"), &args, &[])
}

fn workspace_root() -> PathBuf {
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    manifest.parent().map_or(manifest.clone(), PathBuf::from)
}

/// The load figures; scenario 4b runs against s3s-fs, installed into the tools cache if
/// missing, and the PostgreSQL scenarios against the local server when one answers.
fn bench(root: &std::path::Path) -> Result<(), String> {
    web::build(root)?;
    let s3s_fs = tools::s3s_fs(root)?;
    let s3s_fs = s3s_fs.to_str().ok_or("tools path is not UTF-8")?;
    let mut env = vec![("SEALPOST_TEST_S3S_FS", s3s_fs)];
    let postgres = test::postgres_url();
    if let Some(url) = &postgres {
        env.push(("SEALPOST_TEST_POSTGRES_URL", url));
    }
    process::cargo(root, &["bench", "--locked", "-p", "sealpost-server", "--bench", "load"], &env)
}
