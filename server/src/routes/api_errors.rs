//! Every API refusal in one shape, `{ "code", "message" }`: Sealpost's own errors already are,
//! and this turns the rest (axum's plain-text rejections of a malformed form, query or path,
//! a wrong method, a body over the limit) into it, keeping the status. Integrations then parse
//! one error format, and the OpenAPI document's `ApiError` is true of every 4xx and 5xx.

use axum::body::{Body, to_bytes};
use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use sealpost_domain::api::ApiError;

/// The most of a plain-text rejection kept as the message.
const MAX_TEXT: usize = 4096;

pub async fn json_errors(request: Request, next: Next) -> Response {
    let is_api = request.uri().path().starts_with("/api/");
    let response = next.run(request).await;
    let status = response.status();
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if !is_api || is_json || !(status.is_client_error() || status.is_server_error()) {
        return response;
    }
    let (parts, body) = response.into_parts();
    let text = to_bytes(body, MAX_TEXT)
        .await
        .map(|b| String::from_utf8_lossy(&b).trim().to_owned())
        .unwrap_or_default();
    let message = if text.is_empty() {
        default_message(status).to_owned()
    } else {
        text
    };
    let json = serde_json::to_vec(&ApiError {
        code: code_for(status).to_owned(),
        message,
        concerns: vec![],
    })
    .unwrap_or_default();
    let mut rebuilt = Response::from_parts(parts, Body::from(json));
    rebuilt
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    rebuilt.headers_mut().remove(header::CONTENT_LENGTH);
    rebuilt.into_response()
}

fn code_for(status: StatusCode) -> &'static str {
    match status {
        StatusCode::NOT_FOUND => "not_found",
        StatusCode::METHOD_NOT_ALLOWED => "method_not_allowed",
        StatusCode::PAYLOAD_TOO_LARGE => "too_large",
        StatusCode::UNSUPPORTED_MEDIA_TYPE => "unsupported_media_type",
        StatusCode::UNPROCESSABLE_ENTITY => "invalid_request",
        s if s.is_server_error() => "internal",
        _ => "bad_request",
    }
}

fn default_message(status: StatusCode) -> &'static str {
    match status {
        StatusCode::NOT_FOUND => "Not found.",
        StatusCode::METHOD_NOT_ALLOWED => "This address does not accept that method.",
        StatusCode::PAYLOAD_TOO_LARGE => "The request is too large.",
        s if s.is_server_error() => "Something went wrong on our side. Try again, and tell IT if it keeps happening.",
        _ => "The request could not be understood.",
    }
}
