//! `/api/v1/write/*`: someone outside the council starting a secure message to a member of
//! staff (see `crate::app::partner_write`). The visit is a cookie of its own, kept apart from
//! staff and portal sessions.

use axum::extract::{Multipart, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use sealpost_domain::api_write::{WriteSent, WriteStart, WriteState, WriteVerify};

use super::client::Meta;
use super::cookie::{self, Writing};
use super::form::MultipartForm;
use super::json::ApiJson;
use crate::app::partner_write;
use crate::error::AppError;
use crate::state::AppState;

pub fn router(state: &AppState) -> Router<AppState> {
    Router::new()
        .route("/write/start", post(start))
        .route("/write/session", get(session))
        .route("/write/code", post(resend_code))
        .route("/write/verify", post(verify))
        .route("/write/send", post(send).layer(super::messages::upload_cap(state)))
}

/// Gives the two addresses, emails a code, and starts the visit (cookie).
async fn start(State(state): State<AppState>, Meta(meta): Meta, ApiJson(body): ApiJson<WriteStart>) -> Result<Response, AppError> {
    let (token, writing) = partner_write::start(&state, &body.from, &body.to, &meta).await?;
    Ok(([(header::SET_COOKIE, cookie::set_write(&token))], Json(writing.state())).into_response())
}

async fn session(Writing(w): Writing) -> Json<WriteState> {
    Json(w.state())
}

async fn resend_code(State(state): State<AppState>, Meta(meta): Meta, Writing(w): Writing) -> Result<StatusCode, AppError> {
    partner_write::send_code(&state, &w, &meta).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn verify(
    State(state): State<AppState>,
    Meta(meta): Meta,
    Writing(w): Writing,
    ApiJson(body): ApiJson<WriteVerify>,
) -> Result<Json<WriteState>, AppError> {
    partner_write::verify(&state, &w, &body.code, &meta).await.map(Json)
}

async fn send(State(state): State<AppState>, Meta(meta): Meta, Writing(w): Writing, form: Multipart) -> Result<Json<WriteSent>, AppError> {
    partner_write::send(&state, &w, &meta, MultipartForm(form)).await.map(Json)
}
