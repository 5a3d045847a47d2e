//! Builds the browser app into `web/dist`: the wasm crate in release mode, `wasm-bindgen
//! --target web`, then the static files. The server embeds `web/dist` when it is built.

use std::fs;
use std::path::Path;

use crate::{process, tools};

/// Builds `web/dist`.
pub fn build(root: &Path) -> Result<(), String> {
    tools::ensure_wasm_target()?;
    let bindgen = tools::wasm_bindgen(root)?;
    println!("xtask: building the web app (wasm)");
    process::cargo(
        root,
        &[
            "build",
            "--quiet",
            "--locked",
            "-p",
            "sealpost-web",
            "--target",
            "wasm32-unknown-unknown",
            "--release",
        ],
        &[],
    )?;
    let dist = root.join("web/dist");
    let assets = dist.join("assets");
    // Build into a fresh folder, then swap, so a failed build never leaves half an app.
    let staging = root.join("target/web-dist");
    let _ = fs::remove_dir_all(&staging);
    fs::create_dir_all(staging.join("assets")).map_err(|e| e.to_string())?;
    let wasm = root.join("target/wasm32-unknown-unknown/release/sealpost_web.wasm");
    let out = staging.join("assets");
    let args = [
        "--target",
        "web",
        "--no-typescript",
        "--out-name",
        "sealpost_web",
        "--out-dir",
        out.to_str().unwrap_or_default(),
        wasm.to_str().unwrap_or_default(),
    ];
    process::run(root, bindgen.to_str().unwrap_or("wasm-bindgen"), &args, &[])?;
    copy(&root.join("web/index.html"), &staging.join("index.html"))?;
    for entry in fs::read_dir(root.join("web/static")).map_err(|e| e.to_string())?.flatten() {
        copy(&entry.path(), &out.join(entry.file_name()))?;
    }
    let _ = fs::remove_dir_all(&dist);
    fs::rename(&staging, &dist).map_err(|e| format!("moving the web build into place: {e}"))?;
    let size = fs::metadata(assets.join("sealpost_web_bg.wasm")).map(|m| m.len()).unwrap_or(0);
    println!("xtask: web app built in web/dist ({} KiB of wasm)", size / 1024);
    Ok(())
}

fn copy(from: &Path, to: &Path) -> Result<(), String> {
    fs::copy(from, to)
        .map(|_| ())
        .map_err(|e| format!("copying {}: {e}", from.display()))
}
