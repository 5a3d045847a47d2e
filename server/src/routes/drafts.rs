//! `/api/v1/drafts`: a member of staff's unsent messages (see `sealpost_domain::api_drafts`).
//! Another person's draft is 404, as one that does not exist.

use axum::extract::{Multipart, Path, State};
use axum::http::StatusCode;
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use sealpost_domain::api_drafts::{Draft, DraftContent, DraftSaved, DraftSummary};
use sealpost_domain::api_messages::AttachmentInfo;

use super::cookie::SignedIn;
use super::form::MultipartForm;
use super::json::ApiJson;
use super::messages::{parse_id, upload_cap};
use crate::app::drafts;
use crate::error::AppError;
use crate::state::AppState;

pub fn router(state: &AppState) -> Router<AppState> {
    Router::new()
        .route("/drafts", get(list).post(create))
        .route("/drafts/{id}", get(open).put(save).delete(discard))
        .route("/drafts/{id}/attachments", post(attach).layer(upload_cap(state)))
        .route("/drafts/{id}/attachments/{attachment}", delete(detach))
}

async fn list(State(state): State<AppState>, signed_in: SignedIn) -> Result<Json<Vec<DraftSummary>>, AppError> {
    drafts::list(&state, &signed_in.user).await.map(Json)
}

async fn create(
    State(state): State<AppState>,
    signed_in: SignedIn,
    ApiJson(content): ApiJson<DraftContent>,
) -> Result<(StatusCode, Json<DraftSaved>), AppError> {
    let saved = drafts::create(&state, &signed_in.user, content).await?;
    Ok((StatusCode::CREATED, Json(saved)))
}

async fn open(State(state): State<AppState>, signed_in: SignedIn, Path(id): Path<String>) -> Result<Json<Draft>, AppError> {
    drafts::open(&state, &signed_in.user, parse_id(&id)?).await.map(Json)
}

async fn save(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path(id): Path<String>,
    ApiJson(content): ApiJson<DraftContent>,
) -> Result<Json<DraftSaved>, AppError> {
    drafts::save(&state, &signed_in.user, parse_id(&id)?, content).await.map(Json)
}

async fn discard(State(state): State<AppState>, signed_in: SignedIn, Path(id): Path<String>) -> Result<StatusCode, AppError> {
    drafts::discard(&state, &signed_in.user, parse_id(&id)?).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn attach(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path(id): Path<String>,
    form: Multipart,
) -> Result<Json<Vec<AttachmentInfo>>, AppError> {
    drafts::attach(&state, &signed_in.user, parse_id(&id)?, MultipartForm(form))
        .await
        .map(Json)
}

async fn detach(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path((id, attachment)): Path<(String, String)>,
) -> Result<StatusCode, AppError> {
    drafts::detach(&state, &signed_in.user, parse_id(&id)?, parse_id(&attachment)?).await?;
    Ok(StatusCode::NO_CONTENT)
}
