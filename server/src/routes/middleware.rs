//! Middleware every request passes through.
//!
//! - `security_headers` (SECURITY D3): CSP, HSTS, nosniff, no-referrer, COOP, frame denial and
//!   `Cache-Control: no-store` on every response, errors and 404s included.
//! - `csrf` (D4): a state-changing request is refused when the browser says it is cross-site,
//!   when its `Origin` is not one of ours (compared exactly, never against the `Host` header,
//!   which DNS rebinding controls), or when an API call lacks the custom header (which a
//!   cross-origin page cannot add without a CORS preflight we never grant).
//! - `trace_request`: one span per request with method, route and a request id; never bodies.

use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use sealpost_domain::api::CSRF_HEADER;
use tracing::Instrument;

use crate::error::AppError;
use crate::state::AppState;

const CSP: &str = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self' 'sha256-SaICTM+SJ8V21BDBBb2SVPeo02TAuV3aRZqbeeyQIxI='; img-src 'self' data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'";

pub async fn security_headers(request: Request, next: Next) -> Response {
    let is_asset = request.uri().path().starts_with("/assets/");
    let mut response = next.run(request).await;
    let h = response.headers_mut();
    // A view-only file brings a stricter policy of its own (see `messages::inline_response`).
    if !h.contains_key(header::CONTENT_SECURITY_POLICY) {
        h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CSP));
    }
    h.insert(
        header::STRICT_TRANSPORT_SECURITY,
        HeaderValue::from_static("max-age=31536000; includeSubDomains"),
    );
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    h.insert(
        HeaderName::from_static("cross-origin-opener-policy"),
        HeaderValue::from_static("same-origin"),
    );
    h.insert(
        HeaderName::from_static("cross-origin-resource-policy"),
        HeaderValue::from_static("same-origin"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        HeaderName::from_static("permissions-policy"),
        HeaderValue::from_static("camera=(), microphone=(), geolocation=(), interest-cohort=()"),
    );
    let cache = if is_asset { "no-cache" } else { "no-store" };
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    response
}

pub async fn csrf(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let safe = matches!(*request.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    let is_api = request.uri().path().starts_with("/api/");
    if !safe && let Err(why) = check_same_origin(request.headers(), &state.allowed_origins, is_api) {
        tracing::warn!(reason = why, "cross-site request refused");
        return AppError::Forbidden(why).into_response();
    }
    next.run(request).await
}

fn check_same_origin(headers: &HeaderMap, allowed: &[String], is_api: bool) -> Result<(), &'static str> {
    let text = |name| headers.get(name).and_then(|v: &HeaderValue| v.to_str().ok());
    if text(HeaderName::from_static("sec-fetch-site")) == Some("cross-site") {
        return Err("Cross-site requests are not allowed.");
    }
    if let Some(origin) = text(header::ORIGIN)
        && !allowed.iter().any(|a| a == origin)
    {
        return Err("Requests from another site are not allowed.");
    }
    if is_api && text(HeaderName::from_static(CSRF_HEADER)).is_none() {
        return Err("Missing the x-sealpost-csrf header.");
    }
    Ok(())
}

/// The id of the request being handled, for audit events.
#[derive(Clone, Debug)]
pub struct RequestId(pub String);

pub async fn trace_request(request: Request, next: Next) -> Response {
    let request_id = uuid::Uuid::new_v4().to_string();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or("-", MatchedPath::as_str)
        .to_owned();
    let method = request.method().clone();
    let span = tracing::info_span!("request", method = %method, route = %route, request_id = %request_id);
    let started = std::time::Instant::now();
    let mut request = request;
    request.extensions_mut().insert(RequestId(request_id.clone()));
    async move {
        let mut response = next.run(request).await;
        crate::metrics::request(&route, method.as_str(), response.status().as_u16(), started.elapsed());
        tracing::info!(
            status = response.status().as_u16(),
            ms = started.elapsed().as_millis() as u64,
            "response"
        );
        if let Ok(v) = HeaderValue::from_str(&request_id) {
            response.headers_mut().insert(HeaderName::from_static("x-request-id"), v);
        }
        response
    }
    .instrument(span)
    .await
}
