//! The web app's files, embedded in the binary at build time from `web/dist` (see `build.rs`).
//! Any other non-API path serves `index.html`, so the app's own routes work on reload. If the
//! web app was not built, `/` explains how to build it.

use axum::Router;
use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};

use crate::state::AppState;

include!(concat!(env!("OUT_DIR"), "/web_assets.rs"));

pub fn router() -> Router<AppState> {
    Router::new().fallback(serve)
}

async fn serve(request: Request) -> Response {
    let path = request.uri().path();
    if let Some((_, content_type, bytes)) = WEB_ASSETS.iter().find(|(p, _, _)| *p == path) {
        return ([(header::CONTENT_TYPE, HeaderValue::from_static(content_type))], *bytes).into_response();
    }
    if path.starts_with("/assets/") || path.starts_with("/api/") {
        return StatusCode::NOT_FOUND.into_response();
    }
    match WEB_ASSETS.iter().find(|(p, _, _)| *p == "/index.html") {
        Some((_, _, bytes)) => Html(*bytes).into_response(),
        None => (StatusCode::SERVICE_UNAVAILABLE, Html(NOT_BUILT)).into_response(),
    }
}

const NOT_BUILT: &str = "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Sealpost: web app not built</title></head>\
<body><main><h1>The Sealpost web app has not been built</h1><p>The server is running, but this binary was built without the \
browser app. Build it with <code>cargo xtask web</code> and then rebuild the server, or use <code>cargo xtask run</code>, \
which does both.</p></main></body></html>";
