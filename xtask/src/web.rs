//! Builds the browser app into `web/dist`: the wasm crate with the size profile
//! (`wasm-release`: `opt-level = "z"`, LTO), `wasm-bindgen --target web`, `wasm-opt -Oz` (npm's
//! binaryen), the static files, and a brotli and a gzip copy of each, which the server sends
//! to browsers that accept them. The server embeds `web/dist` when it is built.

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
            "--profile",
            "wasm-release",
        ],
        &[],
    )?;
    let dist = root.join("web/dist");
    let assets = dist.join("assets");
    // Build into a fresh folder, then swap, so a failed build never leaves half an app.
    let staging = root.join("target/web-dist");
    let _ = fs::remove_dir_all(&staging);
    fs::create_dir_all(staging.join("assets")).map_err(|e| e.to_string())?;
    let wasm = root.join("target/wasm32-unknown-unknown/wasm-release/sealpost_web.wasm");
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
    optimise(root, &out.join("sealpost_web_bg.wasm"))?;
    copy(&root.join("web/index.html"), &staging.join("index.html"))?;
    for entry in fs::read_dir(root.join("web/static")).map_err(|e| e.to_string())?.flatten() {
        copy(&entry.path(), &out.join(entry.file_name()))?;
    }
    precompress(&out)?;
    let _ = fs::remove_dir_all(&dist);
    fs::rename(&staging, &dist).map_err(|e| format!("moving the web build into place: {e}"))?;
    let size = |name: &str| fs::metadata(assets.join(name)).map(|m| m.len() / 1024).unwrap_or(0);
    println!(
        "xtask: web app built in web/dist ({} KiB of wasm, {} KiB with brotli, {} KiB with gzip)",
        size("sealpost_web_bg.wasm"),
        size("sealpost_web_bg.wasm.br"),
        size("sealpost_web_bg.wasm.gz")
    );
    Ok(())
}

fn copy(from: &Path, to: &Path) -> Result<(), String> {
    fs::copy(from, to)
        .map(|_| ())
        .map_err(|e| format!("copying {}: {e}", from.display()))
}

/// `wasm-opt -Oz --converge` with npm's binaryen (Debian's breaks the wasm), in place. The result is kept
/// under `target/` by the input's hash, so an unchanged app is not optimised again. Without
/// npm the wasm stays as built, with a warning: larger, but it works.
fn optimise(root: &Path, wasm: &Path) -> Result<(), String> {
    let input = fs::read(wasm).map_err(|e| format!("reading {}: {e}", wasm.display()))?;
    let path = wasm.to_str().ok_or("wasm path is not UTF-8")?;
    // The features rustc's wasm32 target emits by default (Chromium has them all).
    let features = [
        "--enable-bulk-memory",
        "--enable-nontrapping-float-to-int",
        "--enable-sign-ext",
        "--enable-mutable-globals",
        "--enable-reference-types",
        "--enable-multivalue",
    ];
    // Until nothing shrinks, and without debug and producer sections: 3.4 KiB less with
    // brotli than one -Oz pass (on 7 December 2026), for about a minute more, once per change.
    let args = [
        &["-Oz", "--converge", "--strip-debug", "--strip-producers"][..],
        &features,
        &[path, "-o", path],
    ]
    .concat();
    // Keyed by the input and the flags, so a change of either optimises again.
    let key = {
        use std::hash::{Hash, Hasher};
        let mut h = std::collections::hash_map::DefaultHasher::new();
        input.hash(&mut h);
        args[..args.len() - 3].hash(&mut h);
        format!("{:016x}", h.finish())
    };
    let cached = root.join("target/wasm-opt-cache").join(format!("{key}.wasm"));
    if cached.exists() {
        return copy(&cached, wasm);
    }
    let Some(wasm_opt) = tools::wasm_opt() else {
        println!("xtask: WARNING npm is missing, so the wasm is not optimised (wasm-opt); it works, but is larger");
        return Ok(());
    };
    println!("xtask: optimising the wasm for size (wasm-opt -Oz --converge)");
    process::run(root, wasm_opt.to_str().unwrap_or("wasm-opt"), &args, &[])?;
    fs::create_dir_all(cached.parent().unwrap_or(root)).map_err(|e| e.to_string())?;
    copy(wasm, &cached)
}

/// Writes `NAME.br` (brotli, best) and `NAME.gz` (gzip, best) beside every file in `dir`, with
/// Node's zlib (Node is already needed for the browser tests and wasm-opt).
fn precompress(dir: &Path) -> Result<(), String> {
    if !process::available("node") {
        println!("xtask: WARNING node is missing, so the web files are not precompressed");
        return Ok(());
    }
    const SCRIPT: &str = "const fs=require('fs'),path=require('path'),z=require('zlib');\
        const dir=process.argv[1];\
        for (const f of fs.readdirSync(dir)) { if (/\\.(br|gz)$/.test(f)) continue; const p=path.join(dir,f); const b=fs.readFileSync(p);\
        fs.writeFileSync(p+'.br', z.brotliCompressSync(b,{params:{[z.constants.BROTLI_PARAM_QUALITY]:11,[z.constants.BROTLI_PARAM_SIZE_HINT]:b.length}}));\
        fs.writeFileSync(p+'.gz', z.gzipSync(b,{level:9})); }";
    let target = dir.to_str().ok_or("web dist path is not UTF-8")?;
    process::run(dir, "node", &["-e", SCRIPT, target], &[])
}
