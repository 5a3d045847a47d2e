//! `/api/v1/admin/*`: the admin console's API, for administrators only (403 to anyone else).
//! The handlers only extract and answer; `crate::app::admin` decides.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post, put};
use axum::{Json, Router};
use sealpost_domain::UserId;
use sealpost_domain::api_admin::{ImportDone, ImportPreview, ImportRequest, InviteRequest, RoleRequest, SettingView, StaffAccount};

use super::client::Meta;
use super::cookie::SignedIn;
use super::json::ApiJson;
use super::messages::parse_id;
use crate::app::admin;
use crate::error::AppError;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/admin/users", get(list).post(invite))
        .route("/admin/users/{id}/role", put(set_role))
        .route("/admin/users/{id}/disable", post(disable))
        .route("/admin/users/{id}/enable", post(enable))
        .route("/admin/users/{id}/invite", post(resend_invite))
        .route("/admin/users/{id}/second-factor/reset", post(reset_second_factor))
        .route("/admin/import/preview", post(preview))
        .route("/admin/import", post(import))
        .route("/admin/settings", get(settings))
}

async fn list(State(state): State<AppState>, s: SignedIn) -> Result<Json<Vec<StaffAccount>>, AppError> {
    admin::list(&state, &s.user).await.map(Json)
}

async fn invite(
    State(state): State<AppState>,
    s: SignedIn,
    Meta(meta): Meta,
    ApiJson(body): ApiJson<InviteRequest>,
) -> Result<(StatusCode, Json<StaffAccount>), AppError> {
    let account = admin::invite(&state, &s.user, &meta, &body).await?;
    Ok((StatusCode::CREATED, Json(account)))
}

async fn set_role(
    State(state): State<AppState>,
    s: SignedIn,
    Meta(meta): Meta,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<RoleRequest>,
) -> Result<Json<StaffAccount>, AppError> {
    admin::set_role(&state, &s.user, &meta, account_id(&id)?, body.role).await.map(Json)
}

async fn disable(
    State(state): State<AppState>,
    s: SignedIn,
    Meta(meta): Meta,
    Path(id): Path<String>,
) -> Result<Json<StaffAccount>, AppError> {
    admin::set_disabled(&state, &s.user, &meta, account_id(&id)?, true).await.map(Json)
}

async fn enable(
    State(state): State<AppState>,
    s: SignedIn,
    Meta(meta): Meta,
    Path(id): Path<String>,
) -> Result<Json<StaffAccount>, AppError> {
    admin::set_disabled(&state, &s.user, &meta, account_id(&id)?, false).await.map(Json)
}

async fn resend_invite(
    State(state): State<AppState>,
    s: SignedIn,
    Meta(meta): Meta,
    Path(id): Path<String>,
) -> Result<Json<StaffAccount>, AppError> {
    admin::resend_invite(&state, &s.user, &meta, account_id(&id)?).await.map(Json)
}

async fn reset_second_factor(
    State(state): State<AppState>,
    s: SignedIn,
    Meta(meta): Meta,
    Path(id): Path<String>,
) -> Result<Json<StaffAccount>, AppError> {
    admin::reset_second_factor(&state, &s.user, &meta, account_id(&id)?).await.map(Json)
}

async fn preview(
    State(state): State<AppState>,
    s: SignedIn,
    ApiJson(body): ApiJson<ImportRequest>,
) -> Result<Json<ImportPreview>, AppError> {
    admin::preview(&state, &s.user, &body).await.map(Json)
}

async fn import(
    State(state): State<AppState>,
    s: SignedIn,
    Meta(meta): Meta,
    ApiJson(body): ApiJson<ImportRequest>,
) -> Result<Json<ImportDone>, AppError> {
    admin::import(&state, &s.user, &meta, &body).await.map(Json)
}

async fn settings(State(state): State<AppState>, s: SignedIn) -> Result<Json<Vec<SettingView>>, AppError> {
    admin::settings(&state, &s.user).map(Json)
}

/// An account id from the path; 404 for anything that is not one.
fn account_id(text: &str) -> Result<UserId, AppError> {
    parse_id::<uuid::Uuid>(text).map(UserId)
}
