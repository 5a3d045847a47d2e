//! `/api/v1/portal/*`: the recipient portal. Looking a link up is read-only (GET); everything
//! that changes state is a POST (SECURITY B2).

use axum::extract::{Multipart, Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use sealpost_domain::api_messages::{LinkView, MessageDetail, PortalItem, PortalState, RedeemRequest, ReplySent, VerifyRequest};

use super::client::Meta;
use super::cookie::{self, InPortal};
use super::form::MultipartForm;
use super::json::ApiJson;
use super::messages::parse_id;
use crate::app::{portal, portal_mail, portal_verify, reply};
use crate::error::AppError;
use crate::state::AppState;

pub fn router(state: &AppState) -> Router<AppState> {
    Router::new()
        .route("/portal/messages", get(list))
        .route("/portal/messages/{id}", get(message))
        .route("/portal/messages/{id}/attachments/{attachment}", get(download))
        .route("/portal/messages/{id}/reply", post(reply).layer(super::messages::upload_cap(state)))
        .route("/portal/links/{token}", get(link))
        .route("/portal/redeem", post(redeem))
        .route("/portal/code", post(resend_code))
        .route("/portal/verify", post(verify))
        .route("/portal/session", get(session))
        .route("/portal/signout", post(sign_out))
}

/// GET (and HEAD) only: nothing is written. The route template, not the token, is what the
/// request log records.
async fn link(State(state): State<AppState>, Path(token): Path<String>) -> Result<Json<LinkView>, AppError> {
    portal::link(&state, &token).await.map(Json)
}

/// "Send me a code": opens a portal session (cookie) and emails a code.
async fn redeem(State(state): State<AppState>, Meta(meta): Meta, ApiJson(body): ApiJson<RedeemRequest>) -> Result<Response, AppError> {
    let link = portal::live_link(&state, &body.token).await?;
    let session = portal_verify::redeem(&state, &link, &meta).await?;
    let now = portal::resolve(&state, &session.hash()).await?;
    Ok((
        [(header::SET_COOKIE, cookie::set_portal(&session))],
        Json(portal::portal_state(&state, now)),
    )
        .into_response())
}

async fn resend_code(State(state): State<AppState>, Meta(meta): Meta, InPortal(p): InPortal) -> Result<StatusCode, AppError> {
    portal_verify::send_code(&state, &p.link, &p.session, &meta).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn verify(
    State(state): State<AppState>,
    Meta(meta): Meta,
    InPortal(p): InPortal,
    ApiJson(body): ApiJson<VerifyRequest>,
) -> Result<Json<PortalState>, AppError> {
    portal_verify::verify(&state, &p.link, &p.session, &body.code, body.passphrase, &meta).await?;
    let now = portal::resolve(&state, &p.session).await?;
    Ok(Json(portal::portal_state(&state, now)))
}

/// Ends the portal session, if any, and clears its cookie: always 204.
async fn sign_out(State(state): State<AppState>, Meta(meta): Meta, headers: HeaderMap) -> Result<Response, AppError> {
    if let Some(session) = cookie::presented_portal(&headers) {
        portal::sign_out(&state, &session, &meta).await?;
    }
    Ok((StatusCode::NO_CONTENT, [(header::SET_COOKIE, cookie::clear_portal())]).into_response())
}

async fn session(State(state): State<AppState>, InPortal(p): InPortal) -> Json<PortalState> {
    Json(portal::portal_state(&state, p))
}

async fn list(State(state): State<AppState>, Meta(meta): Meta, InPortal(p): InPortal) -> Result<Json<Vec<PortalItem>>, AppError> {
    portal_mail::list(&state, &p, &meta).await.map(Json)
}

async fn message(
    State(state): State<AppState>,
    Meta(meta): Meta,
    InPortal(p): InPortal,
    Path(id): Path<String>,
) -> Result<Json<MessageDetail>, AppError> {
    portal_mail::read(&state, &p, parse_id(&id)?, &meta).await.map(Json)
}

/// A secure reply: multipart, like a send.
async fn reply(
    State(state): State<AppState>,
    Meta(meta): Meta,
    InPortal(p): InPortal,
    Path(id): Path<String>,
    form: Multipart,
) -> Result<Json<ReplySent>, AppError> {
    reply::reply(&state, &p, parse_id(&id)?, &meta, MultipartForm(form)).await.map(Json)
}

async fn download(
    State(state): State<AppState>,
    Meta(meta): Meta,
    InPortal(p): InPortal,
    Path((id, attachment)): Path<(String, String)>,
) -> Result<Response, AppError> {
    Ok(
        match portal_mail::download(&state, &p, parse_id(&id)?, parse_id(&attachment)?, &meta).await? {
            portal_mail::Delivered::Download(d) => super::messages::attachment_response(d),
            portal_mail::Delivered::View(d) => super::messages::inline_response(d),
        },
    )
}
