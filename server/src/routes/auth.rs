//! `/api/v1/auth/*`: sign in (and its second factor), sign out, who am I, set a first password
//! or a second factor, and public info.

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use sealpost_crypto::SecretString;
use sealpost_domain::api::{CodeRequest, Info, LoginRequest, Me, Preferences, SetupLink, SetupRequest, TotpEnrolment};

use super::client::{ClientIp, Meta};
use super::cookie::{self, SignedIn, SigningIn};
use super::json::ApiJson;
use crate::app::{auth, second_factor, sso};
use crate::error::AppError;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/auth/login", post(login))
        .route("/auth/logout", post(logout))
        .route("/auth/me", get(me))
        .route("/auth/second-factor", post(second_factor))
        .route("/auth/totp/start", post(totp_start))
        .route("/auth/totp/confirm", post(totp_confirm))
        .route("/auth/preferences", axum::routing::put(preferences))
        .route("/auth/setup", post(setup))
        .route("/auth/setup/{token}", get(setup_link))
        .route("/auth/sso/start", get(sso_start))
        .route("/auth/sso/callback", get(sso_callback))
        .route("/info", get(info))
}

async fn login(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    Meta(meta): Meta,
    headers: HeaderMap,
    ApiJson(body): ApiJson<LoginRequest>,
) -> Result<Response, AppError> {
    let (session, device) = (cookie::presented(&headers), cookie::presented_device(&headers));
    let browser = auth::Browser {
        session: session.as_ref(),
        device: device.as_ref(),
    };
    let signed_in = auth::login(&state, ip, &meta, &body.email, SecretString::from(body.password), browser).await?;
    Ok(signed_in_response(signed_in))
}

async fn setup(
    State(state): State<AppState>,
    Meta(meta): Meta,
    headers: HeaderMap,
    ApiJson(body): ApiJson<SetupRequest>,
) -> Result<Response, AppError> {
    let session = cookie::presented(&headers);
    let browser = auth::Browser {
        session: session.as_ref(),
        device: None,
    };
    let signed_in = auth::complete_setup(&state, &meta, &body.token, SecretString::from(body.password), browser).await?;
    Ok(signed_in_response(signed_in))
}

/// The session cookie, and the device cookie when the browser is newly known to the account.
fn signed_in_response(signed_in: auth::SignedIn) -> Response {
    let response = ([(header::SET_COOKIE, cookie::set_session(&signed_in.token))], Json(signed_in.me)).into_response();
    with_device(response, signed_in.device.as_ref())
}

/// `response`, with the device cookie added when there is a new one.
fn with_device(mut response: Response, device: Option<&sealpost_crypto::Token>) -> Response {
    if let Some(device) = device {
        response.headers_mut().append(header::SET_COOKIE, cookie::set_device(device));
    }
    response
}

/// GET: whose account a set-up link is for; changes nothing.
async fn setup_link(State(state): State<AppState>, Path(token): Path<String>) -> Result<Json<SetupLink>, AppError> {
    auth::setup_link(&state, &token).await.map(Json)
}

async fn logout(State(state): State<AppState>, Meta(meta): Meta, headers: HeaderMap) -> Result<Response, AppError> {
    if let Some(token) = cookie::presented(&headers) {
        crate::app::sessions::end(&state, &token, &meta).await?;
    }
    Ok((StatusCode::NO_CONTENT, [(header::SET_COOKIE, cookie::clear_session())]).into_response())
}

/// Who is signed in, or whose sign-in is waiting for its second factor (`next_step`).
async fn me(State(state): State<AppState>, s: SigningIn) -> Json<Me> {
    Json(auth::me_at(&state, s.user, s.stage))
}

async fn second_factor(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    Meta(meta): Meta,
    headers: HeaderMap,
    s: SigningIn,
    ApiJson(body): ApiJson<CodeRequest>,
) -> Result<Response, AppError> {
    let device = cookie::presented_device(&headers);
    let done = second_factor::give(&state, &s.session, s.user, s.stage, &body.code, ip, device.as_ref(), &meta).await?;
    Ok(with_device(Json(done.answer).into_response(), done.device.as_ref()))
}

async fn totp_start(State(state): State<AppState>, s: SigningIn) -> Result<Json<TotpEnrolment>, AppError> {
    second_factor::start(&state, &s.user, s.stage).await.map(Json)
}

async fn totp_confirm(
    State(state): State<AppState>,
    Meta(meta): Meta,
    s: SigningIn,
    ApiJson(body): ApiJson<CodeRequest>,
) -> Result<Response, AppError> {
    let done = second_factor::confirm(&state, &s.session, s.user, s.stage, &body.code, &meta).await?;
    Ok(with_device(Json(done.answer).into_response(), done.device.as_ref()))
}

async fn preferences(State(state): State<AppState>, signed_in: SignedIn, ApiJson(p): ApiJson<Preferences>) -> Result<Json<Me>, AppError> {
    auth::set_preferences(&state, signed_in.user, p).await.map(Json)
}

/// GET, from the sign-in page's link: off to the council's identity provider, with the state
/// kept in a short-lived cookie. Every answer is a redirect, since a browser is navigating.
async fn sso_start(State(state): State<AppState>, ClientIp(ip): ClientIp) -> Response {
    match sso::start(&state, ip).await {
        Ok(started) => {
            let mut response = see_other(&started.url);
            response.headers_mut().append(header::SET_COOKIE, cookie::set_sso(&started.state));
            response
        }
        Err(refusal) => sso_refused(refusal),
    }
}

/// GET, where the identity provider sends the browser back: signs in and goes to the app, or
/// back to the sign-in page saying why not (`/signin?sso=CODE`).
async fn sso_callback(State(state): State<AppState>, ClientIp(ip): ClientIp, Meta(meta): Meta, uri: Uri, headers: HeaderMap) -> Response {
    // A malformed answer is treated as one with nothing in it: it fails the state check.
    let back = Query::<sso::Callback>::try_from_uri(&uri).map(|q| q.0).unwrap_or_default();
    let previous = cookie::presented(&headers);
    let mut response = match sso::finish(&state, ip, &meta, back, cookie::presented_sso(&headers), previous.as_ref()).await {
        Ok(signed_in) => {
            let mut response = see_other("/");
            response
                .headers_mut()
                .append(header::SET_COOKIE, cookie::set_session(&signed_in.token));
            response
        }
        Err(refusal) => sso_refused(refusal),
    };
    response.headers_mut().append(header::SET_COOKIE, cookie::clear_sso());
    response
}

fn sso_refused(refusal: sso::Refusal) -> Response {
    if let sso::Refusal::Failed(e) = &refusal {
        tracing::error!(error = %e, "single sign-on failed");
    }
    see_other(&format!("/signin?sso={}", refusal.code()))
}

fn see_other(to: &str) -> Response {
    match axum::http::HeaderValue::from_str(to) {
        Ok(location) => (StatusCode::SEE_OTHER, [(header::LOCATION, location)]).into_response(),
        Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}

async fn info(State(state): State<AppState>) -> Json<Info> {
    Json(Info {
        organisation: state.settings.org_name.clone(),
        partner_write: state.settings.partner_write,
        deleted_days: state.settings.deleted_days,
        sso: state.sso.is_some(),
        password_login: state.settings.password_login,
    })
}
