//! The staff session cookie (SECURITY A7): `__Host-` prefix, Secure, HttpOnly, SameSite=Strict,
//! Path=/; and the extractor that turns it into the signed-in account.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, header};
use sealpost_crypto::{Token, TokenHash};
use sealpost_storage::{SessionStage, UserRecord};

use crate::app::sessions;
use crate::error::AppError;
use crate::state::AppState;

/// The cookie's name. The `__Host-` prefix makes browsers refuse it unless Secure, host-only
/// and Path=/.
pub const SESSION_COOKIE: &str = "__Host-sealpost_session";

/// The recipient portal's session cookie, kept apart from staff sessions.
pub const PORTAL_COOKIE: &str = "__Host-sealpost_portal";

/// A visit to `/write` (someone outside the council starting a message), kept apart from both.
pub const WRITE_COOKIE: &str = "__Host-sealpost_write";

/// Marks a browser that has signed in to an account before (SECURITY A3): it outlives
/// sessions, so a known browser is not locked out by strangers' guesses.
pub const DEVICE_COOKIE: &str = "__Host-sealpost_device";

/// A single sign-on under way: the state sent to the identity provider. SameSite=Lax, as the
/// provider's redirect back is a cross-site navigation that must carry it; ten minutes.
pub const SSO_COOKIE: &str = "__Host-sealpost_sso";

/// How long a device cookie is kept: 180 days.
const DEVICE_MAX_AGE_SECS: u32 = 180 * 24 * 3600;

/// The `Set-Cookie` value that starts a session.
pub fn set_session(token: &Token) -> HeaderValue {
    set_named(SESSION_COOKIE, token)
}

/// The `Set-Cookie` value that starts a portal session.
pub fn set_portal(token: &Token) -> HeaderValue {
    set_named(PORTAL_COOKIE, token)
}

/// The `Set-Cookie` value that starts a `/write` visit.
pub fn set_write(token: &Token) -> HeaderValue {
    set_named(WRITE_COOKIE, token)
}

fn set_named(name: &str, token: &Token) -> HeaderValue {
    let value = format!("{name}={}; Path=/; Secure; HttpOnly; SameSite=Strict", token.expose_hex());
    HeaderValue::from_str(&value).unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// The `Set-Cookie` value that removes it.
pub fn clear_session() -> HeaderValue {
    HeaderValue::from_static("__Host-sealpost_session=; Path=/; Secure; HttpOnly; SameSite=Strict; Max-Age=0")
}

/// The `Set-Cookie` value that removes the portal cookie.
pub fn clear_portal() -> HeaderValue {
    HeaderValue::from_static("__Host-sealpost_portal=; Path=/; Secure; HttpOnly; SameSite=Strict; Max-Age=0")
}

/// The `Set-Cookie` value that marks this browser as known to the account just signed in.
pub fn set_device(token: &Token) -> HeaderValue {
    let value = format!(
        "{DEVICE_COOKIE}={}; Path=/; Secure; HttpOnly; SameSite=Strict; Max-Age={DEVICE_MAX_AGE_SECS}",
        token.expose_hex()
    );
    HeaderValue::from_str(&value).unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// The hash of the device token the browser presented.
pub fn presented_device(headers: &HeaderMap) -> Option<TokenHash> {
    presented_named(headers, DEVICE_COOKIE)
}

/// The hash of the session token the browser presented, if any well-formed one.
pub fn presented(headers: &HeaderMap) -> Option<TokenHash> {
    presented_named(headers, SESSION_COOKIE)
}

/// The `Set-Cookie` value that keeps a single sign-on's state for the provider's answer.
pub fn set_sso(state: &Token) -> HeaderValue {
    let max_age = crate::app::sso::PENDING_MS / 1000;
    let value = format!(
        "{SSO_COOKIE}={}; Path=/; Secure; HttpOnly; SameSite=Lax; Max-Age={max_age}",
        state.expose_hex()
    );
    HeaderValue::from_str(&value).unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// The `Set-Cookie` value that removes it.
pub fn clear_sso() -> HeaderValue {
    HeaderValue::from_static("__Host-sealpost_sso=; Path=/; Secure; HttpOnly; SameSite=Lax; Max-Age=0")
}

/// The hash of the single sign-on state the browser kept.
pub fn presented_sso(headers: &HeaderMap) -> Option<TokenHash> {
    presented_named(headers, SSO_COOKIE)
}

/// The hash of the portal token the browser presented.
pub fn presented_portal(headers: &HeaderMap) -> Option<TokenHash> {
    presented_named(headers, PORTAL_COOKIE)
}

fn presented_named(headers: &HeaderMap, name: &str) -> Option<TokenHash> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().strip_prefix(name)?.strip_prefix('='))
        .find_map(Token::parse)
        .map(|t| t.hash())
}

/// The signed-in staff member; extracting it answers 401 when there is no live session.
pub struct SignedIn {
    /// The account.
    pub user: UserRecord,
}

impl FromRequestParts<AppState> for SignedIn {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let token = presented(&parts.headers).ok_or(AppError::Unauthenticated)?;
        let user = sessions::resolve(state, &token).await?;
        Ok(SignedIn { user })
    }
}

/// A staff session at any stage of its sign-in (still waiting for the second factor, or for
/// one to be set up): only the routes that finish a sign-in take it. 401 without one.
pub struct SigningIn {
    /// The account.
    pub user: UserRecord,
    /// How far the sign-in has got.
    pub stage: SessionStage,
    /// The session's token hash.
    pub session: TokenHash,
}

impl FromRequestParts<AppState> for SigningIn {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let session = presented(&parts.headers).ok_or(AppError::Unauthenticated)?;
        let (user, stage) = sessions::resolve_any(state, &session).await?;
        Ok(SigningIn { user, stage, session })
    }
}

/// A recipient with a live portal session; extracting it answers 401 without one.
pub struct InPortal(pub crate::app::portal::Portal);

impl FromRequestParts<AppState> for InPortal {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let token = presented_portal(&parts.headers).ok_or(AppError::Unauthenticated)?;
        crate::app::portal::resolve(state, &token).await.map(InPortal)
    }
}

/// A live `/write` visit; extracting it answers 401 without one.
pub struct Writing(pub crate::app::partner_write::Writing);

impl FromRequestParts<AppState> for Writing {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let token = presented_named(&parts.headers, WRITE_COOKIE).ok_or(AppError::Unauthenticated)?;
        crate::app::partner_write::resolve(state, &token).await.map(Writing)
    }
}
