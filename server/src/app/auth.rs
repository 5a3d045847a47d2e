//! Staff sign-in, sign-out and first password set-up.
//!
//! Order matters (SECURITY A3–A5): the per-IP bucket and the per-address failure count are
//! checked before any hashing; unknown addresses are verified against a dummy hash so they cost
//! and answer the same as a wrong password; hashing runs off the async threads, bounded.

use std::net::IpAddr;

use sealpost_crypto::{CryptoError, HashMemory, PasswordHash, PasswordHasher, SecretString, Token, TokenHash, Verification};
use sealpost_domain::api::{Me, NextStep};
use sealpost_domain::{EmailAddress, check_password_policy};
use sealpost_storage::{SessionStage, UserRecord};

use crate::app::audit::{self, Action, Actor, Outcome, RequestMeta};
use crate::app::{second_factor, sessions};
use crate::error::AppError;
use crate::state::AppState;

const HOUR_MS: i64 = 3_600_000;

/// A successful sign-in: the new session token and who signed in.
pub struct SignedIn {
    /// Goes into the session cookie.
    pub token: Token,
    /// A new device cookie, when the browser was not yet known to this account.
    pub device: Option<Token>,
    /// The account, as the API shows it.
    pub me: Me,
}

/// What the browser presented: its session (ended at sign-in, SECURITY A8) and its device
/// cookie, if any.
#[derive(Clone, Copy, Default)]
pub struct Browser<'a> {
    /// The session cookie's token hash.
    pub session: Option<&'a TokenHash>,
    /// The device cookie's token hash.
    pub device: Option<&'a TokenHash>,
}

/// Failed passwords an hour from a browser known to the account, counted apart from the
/// address's limit (which strangers can exhaust).
const KNOWN_DEVICE_FAILURES_PER_HOUR: i64 = 10;

/// How long a device cookie keeps a browser known without a sign-in.
const DEVICE_DAYS: i64 = 180;

/// Signs a staff member in. A sign-in that reaches the password check is audited, whether it
/// succeeds or not (SECURITY F1); those refused earlier by a limit are only logged, so a flood
/// of attempts costs no database writes beyond the limiter's own.
pub async fn login(
    state: &AppState,
    ip: IpAddr,
    meta: &RequestMeta,
    email: &str,
    password: SecretString,
    browser: Browser<'_>,
) -> Result<SignedIn, AppError> {
    let now = state.now_ms();
    state.login_limiter.check(ip, now).map_err(|retry_after_secs| {
        crate::metrics::sign_in_lockout();
        AppError::TooManyRequests {
            retry_after_secs,
            message: "Too many sign-in attempts from this network. Wait a minute and try again.",
        }
    })?;
    let email = EmailAddress::parse(email).map_err(|e| AppError::BadRequest {
        code: "invalid_email",
        message: e.to_string(),
    })?;
    let known = is_known_device(state, browser.device, &email).await?;
    let Some(attempt) = take_attempt(state, &email, known, now).await? else {
        crate::metrics::sign_in_lockout();
        return Err(AppError::TooManyRequests {
            retry_after_secs: 3600,
            message: "Too many failed sign-ins for this account. Try again in an hour, or ask IT to reset your password.",
        });
    };
    let user = state.store.user_by_email(&email).await?;
    let stored = user.as_ref().and_then(|u| u.password_hash.clone());
    let verdict = verify_password(state, password.clone(), stored).await?;
    let (Some(user), Verification::Match { needs_rehash }) = (user, verdict) else {
        tracing::info!(outcome = "failure", "sign-in refused");
        crate::metrics::sign_in_failure();
        audit::record(state, meta, &Actor::SigningIn(email), Action::SignIn, None, Outcome::Failure).await?;
        return Err(AppError::InvalidCredentials);
    };
    state.store.forget_login_attempt(attempt).await?;
    if user.disabled {
        // Said only after the right password, so it reveals nothing to a guesser (A5).
        audit::record(state, meta, &Actor::User(user.id), Action::SignIn, None, Outcome::Failure).await?;
        return Err(AppError::AccountDisabled);
    }
    if let Err(off) = require_password_sign_in(state, &user) {
        audit::record(state, meta, &Actor::User(user.id), Action::SignIn, None, Outcome::Failure).await?;
        return Err(off);
    }
    state.login_limiter.refund(ip);
    if needs_rehash {
        let hash = hash_password(state, password).await?;
        state.store.upgrade_password_hash(user.id, &hash).await?;
    }
    let stage = second_factor::stage_after_password(state, &user);
    let token = sessions::start(state, user.id, browser.session, stage).await?;
    // A browser becomes known to the account only once it is fully signed in: a password
    // alone must not earn the browser's own (looser) limit for guessing the code.
    let device = if known.is_some() || stage != SessionStage::Full {
        None
    } else {
        Some(new_device(state, &user.email).await?)
    };
    if stage == SessionStage::Full {
        audit::record(state, meta, &Actor::User(user.id), Action::SignIn, None, Outcome::Success).await?;
        tracing::info!(user = %user.id, outcome = "success", "signed in");
    } else {
        audit::record(state, meta, &Actor::User(user.id), Action::PasswordAccepted, None, Outcome::Success).await?;
    }
    Ok(SignedIn {
        token,
        device,
        me: me_at(state, user, stage),
    })
}

/// Refuses a password sign-in (said only after the right password, A5) when passwords are off
/// for everyone but administrators, who keep one so a broken identity provider never locks IT
/// out (`sealpost user reset-password` can always give an administrator a new one).
fn require_password_sign_in(state: &AppState, user: &UserRecord) -> Result<(), AppError> {
    if state.settings.password_login || user.role == sealpost_domain::Role::Admin {
        Ok(())
    } else {
        Err(AppError::PasswordSignInOff)
    }
}

/// The device cookie, if it marks a browser that has signed in as `email` in the last 180 days.
pub(crate) async fn is_known_device<'a>(
    state: &AppState,
    device: Option<&'a TokenHash>,
    email: &EmailAddress,
) -> Result<Option<&'a TokenHash>, AppError> {
    let Some(device) = device else { return Ok(None) };
    let now = state.now_ms();
    let since = now - DEVICE_DAYS * 24 * HOUR_MS;
    Ok(state.store.known_device(device, email, since, now).await?.then_some(device))
}

/// Marks this browser as known to `email` from now on.
pub(crate) async fn new_device(state: &AppState, email: &EmailAddress) -> Result<Token, AppError> {
    let token = Token::generate()?;
    state.store.remember_device(&token.hash(), email, state.now_ms()).await?;
    Ok(token)
}

/// Asks a signed-in account for its password again before a sensitive step (break-glass).
/// A wrong password counts as a failed sign-in for the account's hourly limit (SECURITY A3),
/// or for the browser's own when it is one the account signs in from, so re-authentication
/// cannot be used to guess faster, nor blocked by strangers' guesses.
pub async fn reauthenticate(
    state: &AppState,
    user: &UserRecord,
    password: SecretString,
    device: Option<&TokenHash>,
) -> Result<(), AppError> {
    let now = state.now_ms();
    let known = is_known_device(state, device, &user.email).await?;
    let attempt = take_attempt(state, &user.email, known, now)
        .await?
        .ok_or(AppError::TooManyRequests {
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

/// Takes a place under the failure limit before any hashing (SECURITY A3, A10), or `None` when
/// the limit is reached: the browser's own limit if it is known to the account, otherwise the
/// address's. The place is given back if the password is right.
pub(crate) async fn take_attempt(
    state: &AppState,
    email: &EmailAddress,
    known_device: Option<&TokenHash>,
    now: i64,
) -> Result<Option<sealpost_storage::LoginAttempt>, AppError> {
    let since = now - HOUR_MS;
    Ok(match known_device {
        Some(device) => {
            state
                .store
                .take_device_login_attempt(device, since, KNOWN_DEVICE_FAILURES_PER_HOUR, now)
                .await?
        }
        None => {
            let limit = i64::from(state.settings.login_account_failures_per_hour);
            state.store.take_login_attempt(email, since, limit, now).await?
        }
    })
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
    browser: Browser<'_>,
) -> Result<SignedIn, AppError> {
    use sealpost_crypto::ExposeSecret;
    check_password_policy(password.expose_secret()).map_err(|e| AppError::BadRequest {
        code: "weak_password",
        message: e.to_string(),
    })?;
    let expired = setup_link_invalid;
    let token = Token::parse(setup_token).ok_or_else(expired)?;
    // Refused before the link is used up: it stays good for when passwords are back on.
    if !state.settings.password_login
        && let Some(id) = state.store.setup_token_user(&token.hash(), state.now_ms()).await?
        && let Some(user) = state.store.user_by_id(id).await?
    {
        require_password_sign_in(state, &user)?;
    }
    // Consuming the token first keeps hashing (the costly step) behind a valid link.
    let user_id = state
        .store
        .consume_setup_token(&token.hash(), state.now_ms())
        .await?
        .ok_or_else(expired)?;
    let user = state.store.user_by_id(user_id).await?.filter(|u| !u.disabled).ok_or_else(expired)?;
    let hash = hash_password(state, password).await?;
    state.store.set_password(user.id, &hash).await?;
    let stage = second_factor::stage_after_password(state, &user);
    let session = sessions::start(state, user.id, browser.session, stage).await?;
    let device = match stage {
        SessionStage::Full => Some(new_device(state, &user.email).await?),
        _ => None,
    };
    audit::record(state, meta, &Actor::User(user.id), Action::AccountSetup, None, Outcome::Success).await?;
    Ok(SignedIn {
        token: session,
        device,
        me: me_at(state, user, stage),
    })
}

/// Saves the signed-in person's own choices and returns their account as it now stands.
pub async fn set_preferences(state: &AppState, user: UserRecord, p: sealpost_domain::api::Preferences) -> Result<Me, AppError> {
    state.store.set_notify_by_email(user.id, p.notify_by_email).await?;
    let user = UserRecord {
        notify_by_email: p.notify_by_email,
        ..user
    };
    Ok(me(state, user))
}

/// The API view of a signed-in account.
pub fn me(state: &AppState, user: UserRecord) -> Me {
    me_at(state, user, SessionStage::Full)
}

/// The API view of an account whose sign-in has got to `stage`.
pub fn me_at(state: &AppState, user: UserRecord, stage: SessionStage) -> Me {
    Me {
        next_step: match stage {
            SessionStage::Full => None,
            SessionStage::SecondFactor => Some(NextStep::SecondFactor),
            SessionStage::Enrol => Some(NextStep::Enrol),
        },
        id: user.id,
        email: user.email,
        display_name: user.display_name,
        role: user.role,
        organisation: state.settings.org_name.clone(),
        notify_by_email: user.notify_by_email,
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

/// Refuses anyone but an IG officer.
pub fn require_ig(user: &UserRecord) -> Result<(), AppError> {
    if user.role == sealpost_domain::Role::Ig {
        Ok(())
    } else {
        Err(AppError::Forbidden("The audit log is for information governance officers."))
    }
}
