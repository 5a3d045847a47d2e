//! Staff sign-in, sign-out and first password set-up.
//!
//! Order matters (SECURITY A3–A5): the per-IP bucket and the per-address failure count are
//! checked before any hashing; unknown addresses are verified against a dummy hash so they cost
//! and answer the same as a wrong password; hashing runs off the async threads, bounded.

use std::net::IpAddr;

use sealpost_crypto::{CryptoError, HashMemory, PasswordHash, PasswordHasher, SecretString, Token, TokenHash, Verification};
use sealpost_domain::api::Me;
use sealpost_domain::{EmailAddress, check_password_policy};
use sealpost_storage::UserRecord;

use crate::app::audit::{self, Action, Actor, Outcome, RequestMeta};
use crate::app::sessions;
use crate::error::AppError;
use crate::state::AppState;

const HOUR_MS: i64 = 3_600_000;

/// A successful sign-in: the new session token and who signed in.
pub struct SignedIn {
    /// Goes into the session cookie.
    pub token: Token,
    /// The account, as the API shows it.
    pub me: Me,
}

/// Signs a staff member in. A sign-in that reaches the password check is audited, whether it
/// succeeds or not (SECURITY F1); those refused earlier by a limit are only logged, so a flood
/// of attempts costs no database writes beyond the limiter's own.
pub async fn login(
    state: &AppState,
    ip: IpAddr,
    meta: &RequestMeta,
    email: &str,
    password: SecretString,
    previous: Option<&TokenHash>,
) -> Result<SignedIn, AppError> {
    let now = state.now_ms();
    state
        .login_limiter
        .check(ip, now)
        .map_err(|retry_after_secs| AppError::TooManyRequests {
            retry_after_secs,
            message: "Too many sign-in attempts from this network. Wait a minute and try again.",
        })?;
    let email = EmailAddress::parse(email).map_err(|e| AppError::BadRequest {
        code: "invalid_email",
        message: e.to_string(),
    })?;
    let attempt = take_attempt(state, &email, now).await?.ok_or(AppError::TooManyRequests {
        retry_after_secs: 3600,
        message: "Too many failed sign-ins for this account. Try again in an hour, or ask IT to reset your password.",
    })?;
    let user = state.store.user_by_email(&email).await?.filter(|u| !u.disabled);
    let stored = user.as_ref().and_then(|u| u.password_hash.clone());
    let verdict = verify_password(state, password.clone(), stored).await?;
    let (Some(user), Verification::Match { needs_rehash }) = (user, verdict) else {
        tracing::info!(outcome = "failure", "sign-in refused");
        audit::record(state, meta, &Actor::SigningIn(email), Action::SignIn, None, Outcome::Failure).await?;
        return Err(AppError::InvalidCredentials);
    };
    state.store.forget_login_attempt(attempt).await?;
    state.login_limiter.refund(ip);
    if needs_rehash {
        let hash = hash_password(state, password).await?;
        state.store.upgrade_password_hash(user.id, &hash).await?;
    }
    let token = sessions::start(state, user.id, previous).await?;
    audit::record(state, meta, &Actor::User(user.id), Action::SignIn, None, Outcome::Success).await?;
    tracing::info!(user = %user.id, outcome = "success", "signed in");
    Ok(SignedIn {
        token,
        me: me(state, user),
    })
}

/// Asks a signed-in account for its password again before a sensitive step (break-glass).
/// A wrong password counts as a failed sign-in for the account's hourly limit (SECURITY A3),
/// so re-authentication cannot be used to guess it faster.
pub async fn reauthenticate(state: &AppState, user: &UserRecord, password: SecretString) -> Result<(), AppError> {
    let now = state.now_ms();
    let attempt = take_attempt(state, &user.email, now).await?.ok_or(AppError::TooManyRequests {
        retry_after_secs: 3600,
        message: "Too many wrong passwords for this account. Try again in an hour.",
    })?;
    match verify_password(state, password, user.password_hash.clone()).await? {
        Verification::Match { .. } => {
            state.store.forget_login_attempt(attempt).await?;
            Ok(())
        }
        Verification::Mismatch => Err(AppError::bad(
            "password_incorrect",
            "That is not your password. Enter the password you sign in with.",
        )),
    }
}

/// Takes a place under the account's hourly failure limit before any hashing (SECURITY A3,
/// A10), or `None` when the limit is reached. The place is given back if the password is right.
async fn take_attempt(state: &AppState, email: &EmailAddress, now: i64) -> Result<Option<sealpost_storage::LoginAttempt>, AppError> {
    let limit = i64::from(state.settings.login_account_failures_per_hour);
    Ok(state.store.take_login_attempt(email, now - HOUR_MS, limit, now).await?)
}

/// What a set-up link's page says before any typing: whose account it is for, or (400) that
/// the link has expired or was used. Only looks: the link stays usable.
pub async fn setup_link(state: &AppState, setup_token: &str) -> Result<sealpost_domain::api::SetupLink, AppError> {
    let token = Token::parse(setup_token).ok_or_else(setup_link_invalid)?;
    let user_id = state
        .store
        .setup_token_user(&token.hash(), state.now_ms())
        .await?
        .ok_or_else(setup_link_invalid)?;
    let user = state
        .store
        .user_by_id(user_id)
        .await?
        .filter(|u| !u.disabled)
        .ok_or_else(setup_link_invalid)?;
    Ok(sealpost_domain::api::SetupLink {
        email: user.email,
        display_name: user.display_name,
    })
}

fn setup_link_invalid() -> AppError {
    AppError::BadRequest {
        code: "setup_link_invalid",
        message: "This set-up link has expired or was already used. Ask IT for a new one.".into(),
    }
}

/// Sets the first password of an account through its one-time set-up link, and signs in,
/// ending any session the browser presented (SECURITY A8).
pub async fn complete_setup(
    state: &AppState,
    meta: &RequestMeta,
    setup_token: &str,
    password: SecretString,
    previous: Option<&TokenHash>,
) -> Result<SignedIn, AppError> {
    use sealpost_crypto::ExposeSecret;
    check_password_policy(password.expose_secret()).map_err(|e| AppError::BadRequest {
        code: "weak_password",
        message: e.to_string(),
    })?;
    let expired = setup_link_invalid;
    let token = Token::parse(setup_token).ok_or_else(expired)?;
    // Consuming the token first keeps hashing (the costly step) behind a valid link.
    let user_id = state
        .store
        .consume_setup_token(&token.hash(), state.now_ms())
        .await?
        .ok_or_else(expired)?;
    let user = state.store.user_by_id(user_id).await?.filter(|u| !u.disabled).ok_or_else(expired)?;
    let hash = hash_password(state, password).await?;
    state.store.set_password(user.id, &hash).await?;
    let session = sessions::start(state, user.id, previous).await?;
    audit::record(state, meta, &Actor::User(user.id), Action::AccountSetup, None, Outcome::Success).await?;
    Ok(SignedIn {
        token: session,
        me: me(state, user),
    })
}

/// The API view of an account.
pub fn me(state: &AppState, user: UserRecord) -> Me {
    Me {
        id: user.id,
        email: user.email,
        display_name: user.display_name,
        role: user.role,
        organisation: state.settings.org_name.clone(),
    }
}

/// Hashes a password on one of the hashing workers (SECURITY A4, A11).
pub async fn hash_password(state: &AppState, password: SecretString) -> Result<PasswordHash, AppError> {
    on_hashing_pool(state, move |hasher, memory| hasher.hash_in(memory, &password)).await
}

/// Checks a message passphrase against its argon2id hash, on the hashing workers.
pub async fn verify_passphrase(state: &AppState, given: SecretString, stored: PasswordHash) -> Result<Verification, AppError> {
    verify_password(state, given, Some(stored)).await
}

async fn verify_password(state: &AppState, password: SecretString, stored: Option<PasswordHash>) -> Result<Verification, AppError> {
    on_hashing_pool(state, move |hasher, memory| hasher.verify_in(memory, &password, stored.as_ref())).await
}

/// Runs `work` on a hashing worker, inside the caller's span.
async fn on_hashing_pool<T: Send + 'static>(
    state: &AppState,
    work: impl FnOnce(&PasswordHasher, &mut HashMemory) -> Result<T, CryptoError> + Send + 'static,
) -> Result<T, AppError> {
    state
        .hasher
        .run(work)
        .await
        .map_err(|e| AppError::Internal(e.into()))?
        .map_err(AppError::from)
}
