//! Build orchestration behind the README's two commands:
//!
//! - `cargo xtask run`: build the web app and the release server, then `sealpost serve`.
//! - `cargo xtask test`: format, lints, every Rust test on SQLite and PostgreSQL, and the
//!   browser journeys in Chromium. Installs what a fresh machine lacks, once.
//!
//! Also `cargo xtask web` (just the web app) and `cargo xtask bench` (the load figures, in
//! release mode; they print a table and assert nothing).
//! Uses only the standard library, so it builds in seconds.

#![allow(clippy::print_stdout, clippy::print_stderr)]

mod process;
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
        Some("bench") => {
            web::build(&root).and_then(|()| process::cargo(&root, &["bench", "--locked", "-p", "sealpost-server", "--bench", "load"], &[]))
        }
        _ => {
            eprintln!("usage: cargo xtask <run [sealpost args…] | test | web | bench>");
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
