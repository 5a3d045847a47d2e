//! Tools a fresh machine lacks, installed once and only when missing: the wasm target, the
//! exact `wasm-bindgen` CLI that matches Cargo.lock, `cargo-audit` and `cargo-deny`, Chromium,
//! and the e2e npm modules.
//! Tools go to `$SEALPOST_TOOLS_DIR` (default `~/.cache/sealpost/tools`) so clean clones
//! on the same machine reuse them.

use std::path::{Path, PathBuf};

use crate::process;

/// Adds `wasm32-unknown-unknown` through rustup when it is missing.
pub fn ensure_wasm_target() -> Result<(), String> {
    let installed = process::output("rustup", &["target", "list", "--installed"]).unwrap_or_default();
    if installed.lines().any(|l| l.trim() == "wasm32-unknown-unknown") {
        return Ok(());
    }
    println!("xtask: adding the wasm32-unknown-unknown target (once)");
    process::run(Path::new("."), "rustup", &["target", "add", "wasm32-unknown-unknown"], &[])
}

/// The path of a `wasm-bindgen` CLI of the version Cargo.lock pins, installing it if needed.
pub fn wasm_bindgen(root: &Path) -> Result<PathBuf, String> {
    let version = locked_version(root, "wasm-bindgen")?;
    let dir = tools_dir();
    let binary = dir.join("bin/wasm-bindgen");
    let have = process::output(binary.to_str().unwrap_or_default(), &["--version"]).unwrap_or_default();
    if have.trim() == format!("wasm-bindgen {version}") {
        return Ok(binary);
    }
    println!(
        "xtask: installing wasm-bindgen-cli {version} into {} (once per machine, ~2–3 min)",
        dir.display()
    );
    let root_arg = dir.to_str().ok_or("tools dir is not UTF-8")?;
    // Not --locked: the registry mirror here lacks a version its lock file names.
    process::cargo(
        root,
        &["install", "wasm-bindgen-cli", "--version", &version, "--root", root_arg, "--quiet"],
        &[],
    )?;
    Ok(binary)
}

/// The path of cargo plugin `name` (`cargo-audit`, `cargo-deny`) at `version`, installing it
/// into the tools directory if needed (once per machine, several minutes on 2 cores).
pub fn cargo_plugin(root: &Path, name: &str, version: &str) -> Result<PathBuf, String> {
    let dir = tools_dir();
    let binary = dir.join("bin").join(name);
    let have = process::output(
        binary.to_str().unwrap_or_default(),
        &[name.trim_start_matches("cargo-"), "--version"],
    )
    .unwrap_or_default();
    if have.split_whitespace().nth(1) == Some(version) {
        return Ok(binary);
    }
    println!(
        "xtask: installing {name} {version} into {} (once per machine, ~5 min)",
        dir.display()
    );
    let root_arg = dir.to_str().ok_or("tools dir is not UTF-8")?;
    process::cargo(
        root,
        &["install", name, "--version", version, "--locked", "--root", root_arg, "--quiet"],
        &[],
    )?;
    Ok(binary)
}

/// The S3-compatible server the blob tests run against: `s3s-fs` at `S3S_FS`, with its
/// `binary` feature, installed into the tools directory once (its lock file, so it builds with
/// this Rust: later versions need a newer compiler). Returns the binary's path.
pub fn s3s_fs(root: &Path) -> Result<PathBuf, String> {
    let dir = tools_dir();
    let binary = dir.join("bin/s3s-fs");
    let have = process::output(binary.to_str().unwrap_or_default(), &["--version"]).unwrap_or_default();
    if have.split_whitespace().nth(1) == Some(S3S_FS) {
        return Ok(binary);
    }
    println!(
        "xtask: installing s3s-fs {S3S_FS} into {} (once per machine, ~3 min)",
        dir.display()
    );
    let root_arg = dir.to_str().ok_or("tools dir is not UTF-8")?;
    process::cargo(
        root,
        &[
            "install",
            "s3s-fs",
            "--version",
            S3S_FS,
            "--features",
            "binary",
            "--locked",
            "--root",
            root_arg,
            "--quiet",
        ],
        &[],
    )?;
    Ok(binary)
}

/// The version of the S3 test server (the issue names it: 0.14.1 builds with Rust 1.95).
const S3S_FS: &str = "0.14.1";

/// The RustSec advisory database kept beside the project (`../shared/advisory-db`), or
/// where `SEALPOST_ADVISORY_DB` says; `None` if there is none on this machine.
pub fn advisory_db(root: &Path) -> Option<PathBuf> {
    let candidates = [
        std::env::var_os("SEALPOST_ADVISORY_DB").map(PathBuf::from),
        Some(root.join("../shared/advisory-db")),
        Some(PathBuf::from("/work/shared/advisory-db")),
    ];
    candidates.into_iter().flatten().find(|p| p.join("crates").is_dir())
}

/// Installs Debian's Chromium, swaks and age when any is missing.
pub fn ensure_chromium() -> Result<(), String> {
    // swaks sends the intake journey's mail as Exchange would; age (the reference CLI) proves
    // the escrow key opens a message by hand.
    if ["/usr/bin/chromium", "/usr/bin/swaks", "/usr/bin/age"]
        .iter()
        .all(|p| Path::new(p).exists())
    {
        return Ok(());
    }
    println!("xtask: installing Debian's chromium, swaks and age for the tests (once per machine)");
    let sudo = if process::output("id", &["-u"]).is_some_and(|u| u.trim() == "0") {
        vec![]
    } else {
        vec!["sudo"]
    };
    let apt = |args: &[&str]| {
        let mut all: Vec<&str> = sudo.clone();
        all.extend_from_slice(args);
        let (program, rest) = all.split_first().ok_or("empty command")?;
        process::run(Path::new("."), program, rest, &[("DEBIAN_FRONTEND", "noninteractive")])
    };
    apt(&["apt-get", "update", "-qq"])?;
    apt(&["apt-get", "install", "-y", "-qq", "chromium", "fonts-dejavu-core", "swaks", "age"])
}

/// Runs `npm ci` in `e2e/` when its modules are missing or older than the lock file.
pub fn ensure_node_modules(root: &Path) -> Result<(), String> {
    let e2e = root.join("e2e");
    let lock = e2e.join("package-lock.json");
    let marker = e2e.join("node_modules/.package-lock.json");
    let modified = |p: &Path| std::fs::metadata(p).and_then(|m| m.modified()).ok();
    if modified(&marker).is_some_and(|m| Some(m) >= modified(&lock)) {
        return Ok(());
    }
    if !process::available("npm") {
        return Err("npm is missing: install Node.js 20+ (Debian: apt-get install nodejs npm)".into());
    }
    println!("xtask: installing the e2e npm modules (playwright-core, axe-core, oidc-provider)");
    process::run(&e2e, "npm", &["ci", "--no-audit", "--no-fund", "--loglevel=error"], &[])
}

/// npm's `wasm-opt` (binaryen, pinned), installed into the tools directory the first time;
/// `None` when npm is missing. Debian's binaryen (v108) silently breaks the wasm.
pub fn wasm_opt() -> Option<PathBuf> {
    const VERSION: &str = "132.0.0";
    let dir = tools_dir().join("binaryen");
    let binary = dir.join("node_modules/.bin/wasm-opt");
    let installed = dir.join("node_modules/binaryen/package.json");
    let current = std::fs::read_to_string(&installed).is_ok_and(|p| p.contains(&format!("\"version\": \"{VERSION}\"")));
    if binary.exists() && current {
        return Some(binary);
    }
    if !process::available("npm") {
        return None;
    }
    println!(
        "xtask: installing binaryen {VERSION} (wasm-opt) from npm into {} (once per machine)",
        dir.display()
    );
    std::fs::create_dir_all(&dir).ok()?;
    let prefix = dir.to_str()?;
    let spec = format!("binaryen@{VERSION}");
    let args = [
        "install",
        "--prefix",
        prefix,
        "--no-audit",
        "--no-fund",
        "--loglevel=error",
        "--no-save",
        &spec,
    ];
    process::run(&dir, "npm", &args, &[]).ok()?;
    binary.exists().then_some(binary)
}

/// A Python with `aiosmtpd` (the e2e SMTP sink), in a venv under the tools dir.
pub fn aiosmtpd_python() -> Result<PathBuf, String> {
    let venv = tools_dir().join("venv");
    let python = venv.join("bin/python");
    let has = |p: &Path| {
        std::process::Command::new(p)
            .args(["-c", "import aiosmtpd"])
            .output()
            .is_ok_and(|o| o.status.success())
    };
    if has(&python) {
        return Ok(python);
    }
    println!(
        "xtask: installing aiosmtpd (the e2e SMTP sink) into {} (once per machine)",
        venv.display()
    );
    let venv_arg = venv.to_str().ok_or("tools dir is not UTF-8")?;
    process::run(Path::new("."), "python3", &["-m", "venv", venv_arg], &[])?;
    let pip = venv.join("bin/pip");
    process::run(
        Path::new("."),
        pip.to_str().unwrap_or("pip"),
        &["install", "--quiet", "aiosmtpd"],
        &[],
    )?;
    Ok(python)
}

/// The Schemathesis CLI (pinned), in a venv under the tools dir, installed the first time.
pub fn schemathesis() -> Result<PathBuf, String> {
    const VERSION: &str = "4.32.5";
    let venv = tools_dir().join("schemathesis-venv");
    let st = venv.join("bin/st");
    let have = process::output(st.to_str().unwrap_or_default(), &["--version"]).unwrap_or_default();
    if have.contains(VERSION) {
        return Ok(st);
    }
    println!(
        "xtask: installing Schemathesis {VERSION} into {} (once per machine)",
        venv.display()
    );
    let venv_arg = venv.to_str().ok_or("tools dir is not UTF-8")?;
    process::run(Path::new("."), "python3", &["-m", "venv", venv_arg], &[])?;
    let pip = venv.join("bin/pip");
    let spec = format!("schemathesis=={VERSION}");
    process::run(Path::new("."), pip.to_str().unwrap_or("pip"), &["install", "--quiet", &spec], &[])?;
    Ok(st)
}

/// Where tools, caches and fuzz corpora live (`$SEALPOST_TOOLS_DIR`, default
/// `~/.cache/sealpost/tools`).
pub fn tools_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("SEALPOST_TOOLS_DIR") {
        return PathBuf::from(dir);
    }
    let home = std::env::var_os("HOME").map_or_else(|| PathBuf::from("."), PathBuf::from);
    home.join(".cache/sealpost/tools")
}

/// The version of `package` recorded in Cargo.lock.
fn locked_version(root: &Path, package: &str) -> Result<String, String> {
    let lock = std::fs::read_to_string(root.join("Cargo.lock")).map_err(|e| format!("reading Cargo.lock: {e}"))?;
    let needle = format!("name = \"{package}\"");
    let mut lines = lock.lines();
    while let Some(line) = lines.next() {
        if line.trim() == needle
            && let Some(v) = lines.next().and_then(|l| l.trim().strip_prefix("version = \""))
        {
            return Ok(v.trim_end_matches('"').to_owned());
        }
    }
    Err(format!("{package} is not in Cargo.lock"))
}
