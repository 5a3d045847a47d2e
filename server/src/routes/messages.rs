//! `/api/v1/messages`: send (multipart, see `sealpost_domain::api_messages`), list, read,
//! download an attachment, revoke; and `/api/v1/compose` for the compose page.

use axum::body::Body;
use axum::extract::{DefaultBodyLimit, Multipart, Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use sealpost_domain::api_messages::{
    ComposeInfo, MailBox, MessageDetail, MessageSummary, MoveRequest, RecipientStatus, RegrantRequest, RevokeRequest, Sent,
};
use sealpost_domain::api_search::{SearchQuery, SearchResults};
use serde::Deserialize;
use tokio_util::io::ReaderStream;

use super::client::Meta;
use super::cookie::SignedIn;
use super::form::MultipartForm;
use super::json::ApiJson;
use crate::app::{access, disclosure, mailbox, search, send};
use crate::error::AppError;
use crate::state::AppState;

pub fn router(state: &AppState) -> Router<AppState> {
    Router::new()
        .route("/messages", post(send_message).layer(upload_cap(state)).get(list))
        .route("/messages/{id}", get(read))
        .route("/messages/{id}/attachments/{attachment}", get(download))
        .route("/messages/{id}/reply", post(reply).layer(upload_cap(state)))
        .route("/messages/{id}/forward", post(forward).layer(upload_cap(state)))
        .route("/messages/{id}/revoke", post(revoke))
        .route("/messages/{id}/recall", post(recall))
        .route("/messages/{id}/regrant", post(regrant))
        .route("/messages/{id}/move", post(move_to))
        .route("/folders/deleted/empty", post(empty_deleted))
        .route("/compose", get(compose))
        .route("/search", get(search))
}

/// The body limit of a multipart upload. The stream is counted against the real limits as it
/// arrives; this cap only stops a client that ignores them.
pub(super) fn upload_cap(state: &AppState) -> DefaultBodyLimit {
    let cap = usize::try_from(state.limits.max_message_bytes)
        .unwrap_or(usize::MAX)
        .saturating_add(8 * 1024 * 1024);
    DefaultBodyLimit::max(cap)
}

#[derive(Deserialize)]
struct ListQuery {
    #[serde(rename = "box")]
    mailbox: MailBox,
}

async fn send_message(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Meta(meta): Meta,
    form: Multipart,
) -> Result<Json<Sent>, AppError> {
    send::send(&state, &signed_in.user, &meta, MultipartForm(form)).await.map(Json)
}

async fn reply(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Meta(meta): Meta,
    Path(id): Path<String>,
    form: Multipart,
) -> Result<Json<Sent>, AppError> {
    send::reply(&state, &signed_in.user, parse_id(&id)?, &meta, MultipartForm(form))
        .await
        .map(Json)
}

async fn forward(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Meta(meta): Meta,
    Path(id): Path<String>,
    form: Multipart,
) -> Result<Json<Sent>, AppError> {
    send::forward(&state, &signed_in.user, parse_id(&id)?, &meta, MultipartForm(form))
        .await
        .map(Json)
}

async fn list(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Meta(meta): Meta,
    Query(q): Query<ListQuery>,
) -> Result<Json<Vec<MessageSummary>>, AppError> {
    mailbox::list(&state, &signed_in.user, q.mailbox, &meta).await.map(Json)
}

async fn read(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Meta(meta): Meta,
    Path(id): Path<String>,
) -> Result<Json<MessageDetail>, AppError> {
    mailbox::open(&state, &signed_in.user, parse_id(&id)?, &meta).await.map(Json)
}

async fn download(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Meta(meta): Meta,
    Path((id, attachment)): Path<(String, String)>,
) -> Result<Response, AppError> {
    let d = mailbox::download(&state, &signed_in.user, parse_id(&id)?, parse_id(&attachment)?, &meta).await?;
    Ok(attachment_response(d))
}

async fn revoke(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Meta(meta): Meta,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<RevokeRequest>,
) -> Result<Json<Vec<RecipientStatus>>, AppError> {
    access::revoke(&state, &signed_in.user, parse_id(&id)?, body.recipient.as_deref(), &meta)
        .await
        .map(Json)
}

/// Undoes a send in its undo window: nobody receives it, and it is deleted.
async fn recall(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Meta(meta): Meta,
    Path(id): Path<String>,
) -> Result<Json<MessageDetail>, AppError> {
    access::recall(&state, &signed_in.user, parse_id(&id)?, &meta).await?;
    mailbox::open(&state, &signed_in.user, parse_id(&id)?, &meta).await.map(Json)
}

/// Gives a withdrawn recipient access again (a partner gets a new link).
async fn regrant(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Meta(meta): Meta,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<RegrantRequest>,
) -> Result<Json<Vec<RecipientStatus>>, AppError> {
    access::regrant(&state, &signed_in.user, parse_id(&id)?, &body.recipient, &meta)
        .await
        .map(Json)
}

async fn search(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Meta(meta): Meta,
    Query(q): Query<SearchQuery>,
) -> Result<Json<SearchResults>, AppError> {
    search::search(&state, &signed_in.user, q, &meta).await.map(Json)
}

/// Files a message in the caller's Inbox, Archive or Deleted box (their own filing only).
async fn move_to(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<MoveRequest>,
) -> Result<StatusCode, AppError> {
    mailbox::file(&state, &signed_in.user, parse_id(&id)?, body.to).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn empty_deleted(State(state): State<AppState>, signed_in: SignedIn) -> Result<StatusCode, AppError> {
    mailbox::empty_deleted(&state, &signed_in.user).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn compose(State(state): State<AppState>, signed_in: SignedIn) -> Result<Json<ComposeInfo>, AppError> {
    mailbox::compose_info(&state, &signed_in.user).await.map(Json)
}

/// Bytes per body frame of a download.
const DOWNLOAD_FRAME: usize = 256 * 1024;

/// A streamed download: always `attachment`, never rendered by the browser (SECURITY D5).
pub(super) fn attachment_response(d: disclosure::Download) -> Response {
    let headers = [
        (header::CONTENT_TYPE, HeaderValue::from_static("application/octet-stream")),
        (header::CONTENT_DISPOSITION, content_disposition(&d.name)),
        (header::CONTENT_LENGTH, HeaderValue::from(d.size)),
    ];
    // Large frames: at the default 4 KiB a 1 GiB file is a quarter of a million writes.
    (headers, Body::from_stream(ReaderStream::with_capacity(d.reader, DOWNLOAD_FRAME))).into_response()
}

/// A view-only file, shown by the browser: its type from its ending (only types the browser
/// can show get here), `inline`, and a policy of its own that runs nothing and loads nothing
/// else. Images and text are sandboxed; a PDF is not, because Chromium will not show a PDF in a
/// sandbox, so its policy allows only the PDF itself as the viewer's object.
pub(super) fn inline_response(d: disclosure::Download) -> Response {
    let kind = sealpost_domain::viewable_type(&d.name).unwrap_or("application/octet-stream");
    let policy = if kind == "application/pdf" {
        "default-src 'none'; object-src 'self'; frame-ancestors 'none'"
    } else {
        "sandbox; default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; frame-ancestors 'none'"
    };
    let disposition = content_disposition(&d.name)
        .to_str()
        .unwrap_or("attachment")
        .replacen("attachment", "inline", 1);
    let headers = [
        (header::CONTENT_TYPE, HeaderValue::from_static(kind)),
        (
            header::CONTENT_DISPOSITION,
            HeaderValue::from_str(&disposition).unwrap_or(HeaderValue::from_static("inline")),
        ),
        (header::CONTENT_LENGTH, HeaderValue::from(d.size)),
        (header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(policy)),
    ];
    (headers, Body::from_stream(ReaderStream::with_capacity(d.reader, DOWNLOAD_FRAME))).into_response()
}

/// A malformed id is indistinguishable from a missing one (SECURITY C1).
pub(super) fn parse_id<T: std::str::FromStr>(text: &str) -> Result<T, AppError> {
    text.parse().map_err(|_| AppError::NotFound)
}

/// `attachment; filename="ascii"; filename*=UTF-8''percent-encoded` (RFC 6266).
fn content_disposition(name: &str) -> HeaderValue {
    let ascii: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() && c != '"' && c != '\\' || c == ' ' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let encoded: String = name
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"!#$&+-.^_`|~".contains(&b) {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect();
    HeaderValue::from_str(&format!("attachment; filename=\"{ascii}\"; filename*=UTF-8''{encoded}"))
        .unwrap_or_else(|_| HeaderValue::from_static("attachment"))
}
