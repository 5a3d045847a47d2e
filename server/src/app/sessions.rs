//! Staff sessions: issuing the cookie token and resolving a presented one, with the idle and
//! absolute timeouts of SECURITY A9. Only the token's hash reaches the database (A7).

use sealpost_crypto::{Token, TokenHash};
use sealpost_domain::UserId;
use sealpost_storage::{SessionStage, UserRecord};

use crate::app::audit::{self, Action, Actor, Outcome, RequestMeta};
use crate::error::AppError;
use crate::state::AppState;

/// Write `last_seen_at` at most this often, to spare the database a write per request.
pub(crate) const TOUCH_EVERY_MS: i64 = 60_000;

/// How long a sign-in may wait for its second factor (or its set-up) after the password.
pub const HALF_MADE_MS: i64 = 15 * 60_000;

/// Starts a session for `user` at `stage`, ending `previous` if the browser presented one (A8:
/// a new id at every sign-in). Returns the token to set as the cookie.
pub async fn start(state: &AppState, user: UserId, previous: Option<&TokenHash>, stage: SessionStage) -> Result<Token, AppError> {
    if let Some(old) = previous {
        state.store.delete_session(old).await?;
    }
    let token = Token::generate()?;
    state.store.create_session(&token.hash(), user, state.now_ms(), stage).await?;
    if stage == SessionStage::Full {
        state.store.record_sign_in(user, state.now_ms()).await?;
    }
    Ok(token)
}

/// Resolves a presented token to its signed-in account (401 for a session still waiting for a
/// second factor), ending the session if it has timed out.
pub async fn resolve(state: &AppState, token: &TokenHash) -> Result<UserRecord, AppError> {
    match resolve_any(state, token).await? {
        (user, SessionStage::Full) => Ok(user),
        _ => Err(AppError::Unauthenticated),
    }
}

/// Resolves a presented token to its account and how far its sign-in has got.
pub async fn resolve_any(state: &AppState, token: &TokenHash) -> Result<(UserRecord, SessionStage), AppError> {
    let session = state.store.session(token).await?.ok_or(AppError::Unauthenticated)?;
    let now = state.now_ms();
    let idle_ms = i64::from(state.settings.session_idle_minutes) * 60_000;
    let absolute_ms = match session.stage {
        SessionStage::Full => i64::from(state.settings.session_absolute_hours) * 3_600_000,
        // A sign-in waiting for its second factor lasts minutes, not hours.
        _ => HALF_MADE_MS,
    };
    if now - session.last_seen_at_ms >= idle_ms || now - session.created_at_ms >= absolute_ms {
        state.store.delete_session(token).await?;
        return Err(AppError::Unauthenticated);
    }
    if session.stage == SessionStage::Full && now - session.last_seen_at_ms >= TOUCH_EVERY_MS {
        state.store.touch_session(token, now).await?;
    }
    Ok((session.user, session.stage))
}

/// Ends a session (sign-out), recording it for the account it belonged to.
pub async fn end(state: &AppState, token: &TokenHash, meta: &RequestMeta) -> Result<(), AppError> {
    if let Some(session) = state.store.session(token).await? {
        audit::record(state, meta, &Actor::User(session.user.id), Action::SignOut, None, Outcome::Success).await?;
    }
    state.store.delete_session(token).await?;
    Ok(())
}
