//! Embeds the built web app (`web/dist`, made by `cargo xtask web`) into the binary. When it
//! has not been built, the list is empty and the server says how to build it.

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
    let mut out =
        String::from("/// (URL path, content type, bytes) of each embedded web file.\nstatic WEB_ASSETS: &[(&str, &str, &[u8])] = &[\n");
    for (url, path) in files {
        let _ = writeln!(
            out,
            "    ({url:?}, {:?}, include_bytes!({:?})),",
            content_type(&url),
            path.display().to_string()
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
