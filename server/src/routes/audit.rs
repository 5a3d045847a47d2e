//! `/api/v1/audit/*`: the IG console's API, for information governance officers only (others
//! get 403). Searching and timelines show metadata; an export is recorded before its first
//! byte is sent; verifying is a POST, as it walks the whole chain and is itself recorded.
//! Break-glass is the one route to content, with a reason, the password again and the DPO
//! told (SECURITY C3). A legal hold keeps a message from deletion; an erasure deletes one now.

use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use futures::StreamExt;
use sealpost_domain::api_audit::{
    AuditPage, AuditSearch, AuditVerification, BreakGlassAccess, BreakGlassRequest, LifecycleRequest, MessageTimeline,
};
use tokio_util::io::ReaderStream;

use super::client::Meta;
use super::cookie::SignedIn;
use super::json::ApiJson;
use super::messages::{attachment_response, parse_id};
use crate::app::{break_glass, governance, legal_hold};
use crate::error::AppError;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/audit/events", get(search))
        .route("/audit/export", get(export))
        .route("/audit/messages/{reference}", get(timeline))
        .route("/audit/messages/{reference}/hold", post(place_hold).delete(lift_hold))
        .route("/audit/messages/{reference}/erase", post(erase))
        .route("/audit/verify", post(verify))
        .route("/audit/checkpoint", get(checkpoint))
        .route("/audit/break-glass/{reference}", post(break_glass).get(break_glass_read))
        .route("/audit/break-glass/{reference}/attachments/{attachment}", get(break_glass_download))
}

async fn search(State(state): State<AppState>, signed_in: SignedIn, Query(s): Query<AuditSearch>) -> Result<Json<AuditPage>, AppError> {
    governance::search(&state, &signed_in.user, &s).await.map(Json)
}

async fn timeline(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path(reference): Path<String>,
) -> Result<Json<MessageTimeline>, AppError> {
    governance::timeline(&state, &signed_in.user, &reference).await.map(Json)
}

async fn place_hold(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Meta(meta): Meta,
    Path(reference): Path<String>,
    ApiJson(request): ApiJson<LifecycleRequest>,
) -> Result<Json<MessageTimeline>, AppError> {
    legal_hold::place(&state, &signed_in.user, &meta, &reference, request).await?;
    governance::timeline(&state, &signed_in.user, &reference).await.map(Json)
}

async fn lift_hold(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Meta(meta): Meta,
    Path(reference): Path<String>,
) -> Result<Json<MessageTimeline>, AppError> {
    legal_hold::lift(&state, &signed_in.user, &meta, &reference).await?;
    governance::timeline(&state, &signed_in.user, &reference).await.map(Json)
}

async fn erase(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Meta(meta): Meta,
    Path(reference): Path<String>,
    ApiJson(request): ApiJson<LifecycleRequest>,
) -> Result<Json<MessageTimeline>, AppError> {
    legal_hold::erase(&state, &signed_in.user, &meta, &reference, request).await?;
    governance::timeline(&state, &signed_in.user, &reference).await.map(Json)
}

/// Streams the CSV: a task writes it page by page into a pipe the response reads from. If the
/// task stops part-way, the body ends in an error, so the download fails visibly instead of
/// leaving a CSV that looks complete but is not.
async fn export(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Meta(meta): Meta,
    Query(s): Query<AuditSearch>,
) -> Result<Response, AppError> {
    let query = governance::start_export(&state, &signed_in.user, &meta, &s).await?;
    let (mut writer, reader) = tokio::io::duplex(64 * 1024);
    let (finished, outcome) = tokio::sync::oneshot::channel();
    let store = state.store.clone();
    tokio::spawn(async move {
        let result = governance::write_csv(&store, query, &mut writer).await;
        if let Err(e) = &result {
            tracing::error!(error = %e, "audit export stopped part-way");
        }
        drop(writer);
        let _ = finished.send(result.is_ok());
    });
    let failure = futures::stream::once(async move {
        match outcome.await {
            Ok(true) => None,
            _ => Some(Err(std::io::Error::other("the export stopped part-way"))),
        }
    })
    .filter_map(std::future::ready);
    let name = format!(
        "attachment; filename=\"sealpost-audit-{}.csv\"",
        &sealpost_domain::time::rfc3339(state.now_ms())[..10]
    );
    let headers = [
        (header::CONTENT_TYPE, HeaderValue::from_static("text/csv; charset=utf-8")),
        (
            header::CONTENT_DISPOSITION,
            HeaderValue::from_str(&name).unwrap_or_else(|_| HeaderValue::from_static("attachment")),
        ),
    ];
    Ok((headers, Body::from_stream(ReaderStream::new(reader).chain(failure))).into_response())
}

async fn break_glass(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Meta(meta): Meta,
    Path(reference): Path<String>,
    headers: axum::http::HeaderMap,
    ApiJson(request): ApiJson<BreakGlassRequest>,
) -> Result<Json<BreakGlassAccess>, AppError> {
    let device = super::cookie::presented_device(&headers);
    break_glass::open(&state, &signed_in.user, &meta, &reference, request, device.as_ref())
        .await
        .map(Json)
}

async fn break_glass_read(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Meta(meta): Meta,
    Path(reference): Path<String>,
) -> Result<Json<BreakGlassAccess>, AppError> {
    break_glass::read(&state, &signed_in.user, &meta, &reference).await.map(Json)
}

async fn break_glass_download(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Meta(meta): Meta,
    Path((reference, attachment)): Path<(String, String)>,
) -> Result<Response, AppError> {
    let d = break_glass::download(&state, &signed_in.user, &meta, &reference, parse_id(&attachment)?).await?;
    Ok(attachment_response(d))
}

/// The newest signed checkpoint as a file to keep elsewhere (404 before the first one).
async fn checkpoint(State(state): State<AppState>, signed_in: SignedIn, Meta(meta): Meta) -> Result<Response, AppError> {
    let (seq, text) = governance::checkpoint_for(&state, &signed_in.user, &meta)
        .await?
        .ok_or(AppError::NotFound)?;
    let disposition = format!("attachment; filename=\"sealpost-checkpoint-{seq}.txt\"");
    let headers = [
        (header::CONTENT_TYPE, HeaderValue::from_static("text/plain; charset=utf-8")),
        (
            header::CONTENT_DISPOSITION,
            HeaderValue::from_str(&disposition).map_err(|e| AppError::Internal(e.into()))?,
        ),
    ];
    Ok((headers, text).into_response())
}

async fn verify(State(state): State<AppState>, signed_in: SignedIn, Meta(meta): Meta) -> Result<Json<AuditVerification>, AppError> {
    governance::verify_for(&state, &signed_in.user, &meta).await.map(Json)
}
