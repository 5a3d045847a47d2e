//! The web app's files, embedded in the binary at build time from `web/dist` (see `build.rs`).
//! Any other non-API path serves `index.html`, so the app's own routes work on reload. If the
//! web app was not built, `/` explains how to build it.
//!
//! Files go out brotli- or gzip-compressed when the browser accepts it (the copies were made at
//! build time), with an ETag: a browser that comes back revalidates and gets a 304 with no
//! body, so the wasm crosses the network once per release, not once per visit.

use axum::Router;
use axum::extract::Request;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};

use crate::state::AppState;

/// One embedded file and its precompressed copies.
struct WebAsset {
    path: &'static str,
    content_type: &'static str,
    /// A quoted hash of the bytes; the compressed copies add `-br` or `-gz` inside the quotes.
    etag: &'static str,
    bytes: &'static [u8],
    brotli: Option<&'static [u8]>,
    gzip: Option<&'static [u8]>,
}

include!(concat!(env!("OUT_DIR"), "/web_assets.rs"));

pub fn router() -> Router<AppState> {
    Router::new().fallback(serve)
}

async fn serve(request: Request) -> Response {
    let path = request.uri().path();
    if let Some(asset) = WEB_ASSETS.iter().find(|a| a.path == path) {
        return send(asset, request.headers());
    }
    if path.starts_with("/assets/") || path.starts_with("/api/") {
        return StatusCode::NOT_FOUND.into_response();
    }
    match WEB_ASSETS.iter().find(|a| a.path == "/index.html") {
        Some(index) => Html(index.bytes).into_response(),
        None => (StatusCode::SERVICE_UNAVAILABLE, Html(NOT_BUILT)).into_response(),
    }
}

/// The best representation the browser accepts, or 304 if it already has it.
fn send(asset: &WebAsset, request: &HeaderMap) -> Response {
    let accepts = |coding: &str| {
        request
            .get_all(header::ACCEPT_ENCODING)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .any(|c| c.split(';').next().is_some_and(|name| name.trim() == coding) && !c.replace(' ', "").ends_with(";q=0"))
    };
    let (bytes, coding) = match (asset.brotli, asset.gzip) {
        (Some(br), _) if accepts("br") => (br, Some("br")),
        (_, Some(gz)) if accepts("gzip") => (gz, Some("gzip")),
        _ => (asset.bytes, None),
    };
    let etag = match coding {
        Some(c) => format!("{}-{}\"", asset.etag.trim_end_matches('"'), if c == "br" { "br" } else { "gz" }),
        None => asset.etag.to_owned(),
    };
    let etag = HeaderValue::from_str(&etag).unwrap_or_else(|_| HeaderValue::from_static("\"\""));
    let fresh = request
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|tag| tag.trim().trim_start_matches("W/") == etag.to_str().unwrap_or_default());
    let mut headers = HeaderMap::new();
    headers.insert(header::ETAG, etag);
    headers.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    if fresh {
        return (StatusCode::NOT_MODIFIED, headers).into_response();
    }
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(asset.content_type));
    if let Some(c) = coding {
        headers.insert(header::CONTENT_ENCODING, HeaderValue::from_static(c));
    }
    (headers, bytes).into_response()
}

const NOT_BUILT: &str = "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Sealpost: web app not built</title></head>\
<body><main><h1>The Sealpost web app has not been built</h1><p>The server is running, but this binary was built without the \
browser app. Build it with <code>cargo xtask web</code> and then rebuild the server, or use <code>cargo xtask run</code>, \
which does both.</p></main></body></html>";
