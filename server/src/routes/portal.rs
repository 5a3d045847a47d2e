//! `/api/v1/portal/*`: the recipient portal. So far, the read-only link lookup.

use axum::extract::{Path, State};
use axum::routing::get;
use axum::{Json, Router};
use sealpost_domain::api_messages::LinkView;

use crate::app::portal;
use crate::error::AppError;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route("/portal/links/{token}", get(link))
}

/// GET (and HEAD) only: nothing is written (SECURITY B2). The route template, not the token,
/// is what the request log records.
async fn link(State(state): State<AppState>, Path(token): Path<String>) -> Result<Json<LinkView>, AppError> {
    portal::link(&state, &token).await.map(Json)
}
