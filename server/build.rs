//! Embeds the built web app (`web/dist`, made by `cargo xtask web`) into the binary, each file
//! with its brotli and gzip copies when the build made them, and an ETag (a hash of its bytes)
//! so a returning browser revalidates with a 304 instead of downloading it again. When it has
//! not been built, the list is empty and the server says how to build it.

use std::fmt::Write;
use std::path::{Path, PathBuf};

fn main() {
    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap_or_default());
    let dist = manifest.join("../web/dist");
    let watch = if dist.exists() { dist.clone() } else { manifest.join("../web") };
    println!("cargo:rerun-if-changed={}", watch.display());
    let mut files = vec![];
    collect(&dist, &dist, &mut files);
    files.sort();
    let mut out = String::from("static WEB_ASSETS: &[WebAsset] = &[\n");
    for (url, path) in files.iter().filter(|(url, _)| !url.ends_with(".br") && !url.ends_with(".gz")) {
        let bytes = std::fs::read(path).unwrap_or_default();
        let variant = |suffix: &str| {
            files.iter().find(|(u, _)| *u == format!("{url}{suffix}")).map_or_else(
                || "None".to_owned(),
                |(_, p)| format!("Some(include_bytes!({:?}))", p.display().to_string()),
            )
        };
        let _ = writeln!(
            out,
            "    WebAsset {{ path: {url:?}, content_type: {:?}, etag: \"\\\"{:016x}\\\"\", bytes: include_bytes!({:?}), brotli: {}, gzip: {} }},",
            content_type(url),
            fnv1a(&bytes),
            path.display().to_string(),
            variant(".br"),
            variant(".gz"),
        );
    }
    out.push_str("];\n");
    let target = PathBuf::from(std::env::var("OUT_DIR").unwrap_or_default()).join("web_assets.rs");
    if let Err(e) = std::fs::write(target, out) {
        panic!("cannot write the embedded asset list: {e}");
    }
}

fn collect(root: &Path, dir: &Path, files: &mut Vec<(String, PathBuf)>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            collect(root, &path, files);
        } else if let Ok(rel) = path.strip_prefix(root) {
            let canonical = path.canonicalize().unwrap_or(path.clone());
            files.push((format!("/{}", rel.display()), canonical));
        }
    }
}

/// FNV-1a, 64 bits: an ETag only has to change when the bytes do.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes
        .iter()
        .fold(0xcbf2_9ce4_8422_2325, |h, b| (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3))
}

fn content_type(url: &str) -> &'static str {
    match url.rsplit('.').next() {
        Some("html") => "text/html; charset=utf-8",
        Some("js") => "text/javascript; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("wasm") => "application/wasm",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        Some("ico") => "image/x-icon",
        Some("json") => "application/json",
        _ => "application/octet-stream",
    }
}
