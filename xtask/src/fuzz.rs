//! libFuzzer on every target in `fuzz/fuzz_targets/` (SECURITY D7), through cargo-fuzz on the
//! nightly toolchain: `cargo xtask fuzz [SECONDS]` runs each for SECONDS (default 600, the
//! soak), and the test command for a few seconds each. Each target keeps its corpus in the
//! tools directory, seeded from `fuzz/seeds/<target>/`, so runs build on each other. A crash
//! is written under `fuzz/artifacts/<target>/`, to be replayed with `cargo fuzz run <target> FILE`.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::{process, tools};

/// The cargo-fuzz version installed (pinned, so every machine fuzzes alike).
const CARGO_FUZZ: &str = "0.13.2";

/// Whether a nightly toolchain is installed (cargo-fuzz needs one; none can be fetched here).
pub fn nightly_available() -> bool {
    process::output("rustup", &["run", "nightly", "rustc", "--version"]).is_some()
}

/// The targets, by file name.
fn targets(root: &Path) -> Result<Vec<String>, String> {
    let dir = root.join("fuzz/fuzz_targets");
    let entries = std::fs::read_dir(&dir).map_err(|e| format!("reading {}: {e}", dir.display()))?;
    let mut names: Vec<String> = entries
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.strip_suffix(".rs").map(str::to_owned))
        .collect();
    names.sort();
    Ok(names)
}

/// Runs every target for `seconds`; returns each target's name and whether it ran clean.
pub fn run_all(root: &Path, seconds: u64) -> Result<Vec<(String, bool)>, String> {
    let cargo_fuzz = tools::cargo_plugin(root, "cargo-fuzz", CARGO_FUZZ)?;
    let bin_dir = cargo_fuzz.parent().ok_or("no tools dir")?.to_path_buf();
    let mut results = vec![];
    for target in targets(root)? {
        let corpus = corpus(root, &target)?;
        println!("fuzz {target}: {seconds} s from {}", corpus.display());
        let clean = libfuzzer(root, &bin_dir, &target, &corpus, seconds);
        if !clean {
            println!("fuzz {target}: FAILED (the input is under fuzz/artifacts/{target}/)");
        }
        results.push((target, clean));
    }
    Ok(results)
}

/// The target's corpus directory, with the seeds copied in.
fn corpus(root: &Path, target: &str) -> Result<PathBuf, String> {
    let dir = tools::tools_dir().join("fuzz-corpus").join(target);
    std::fs::create_dir_all(&dir).map_err(|e| format!("creating {}: {e}", dir.display()))?;
    if let Ok(seeds) = std::fs::read_dir(root.join("fuzz/seeds").join(target)) {
        for seed in seeds.flatten() {
            let _ = std::fs::copy(seed.path(), dir.join(seed.file_name()));
        }
    }
    Ok(dir)
}

/// `cargo +nightly fuzz run`: the toolchain cargo passed down to us is stable's, so rustup
/// picks nightly afresh and our own cargo variables are dropped.
fn libfuzzer(root: &Path, bin_dir: &Path, target: &str, corpus: &Path, seconds: u64) -> bool {
    let path = format!("{}:{}", bin_dir.display(), std::env::var("PATH").unwrap_or_default());
    let target_dir = tools::tools_dir().join("fuzz-target");
    let status = Command::new("rustup")
        .args(["run", "nightly", "cargo", "fuzz", "run", target, "--target-dir"])
        .arg(&target_dir)
        .arg(corpus)
        .args(["--", &format!("-max_total_time={seconds}"), "-print_final_stats=1"])
        .env("PATH", path)
        .env_remove("RUSTUP_TOOLCHAIN")
        .env_remove("CARGO")
        .env_remove("RUSTC")
        .env_remove("RUSTDOC")
        .current_dir(root.join("fuzz"))
        .status();
    status.is_ok_and(|s| s.success())
}
