//! The second factor (issue 17, SECURITY A6): after the right password, an account that has
//! set up TOTP gives a code from its authenticator app (or one of its recovery codes), and an
//! account that must have one (`SEALPOST_MFA_REQUIRED`) sets one up first. Until then its
//! session can do nothing else. A code is accepted once per time step, with one step of clock
//! skew either way; a wrong code counts against the same limits as a wrong password. The
//! secret is shown once, as text and as a QR code drawn here (no outside service), and stored
//! only sealed to the master and escrow keys.

use std::net::IpAddr;

use qrcodegen::{QrCode, QrCodeEcc};
use sealpost_crypto::{Binding, ExposeSecret, ObjectKind, Token, TokenHash, TotpSecret, recovery_code, recovery_code_hash};
use sealpost_domain::api::{Enrolled, Me, TotpEnrolment};
use sealpost_storage::{SessionStage, UserRecord};

use crate::app::audit::{self, Action, Actor, Outcome, RequestMeta};
use crate::app::auth::{self, is_known_device, new_device, take_attempt};
use crate::error::AppError;
use crate::state::AppState;

/// Recovery codes made at each enrolment.
pub const RECOVERY_CODES: usize = 10;

/// Where a right password leaves an account's sign-in.
pub fn stage_after_password(state: &AppState, user: &UserRecord) -> SessionStage {
    if user.has_second_factor {
        SessionStage::SecondFactor
    } else if state.settings.mfa_required.applies_to(user.role) {
        SessionStage::Enrol
    } else {
        SessionStage::Full
    }
}

fn binding(user: &UserRecord) -> Binding {
    Binding::new(ObjectKind::TotpSecret, user.id.0)
}

fn now_seconds(state: &AppState) -> u64 {
    u64::try_from(state.now_ms() / 1000).unwrap_or(0)
}

fn code_wrong() -> AppError {
    AppError::bad(
        "code_wrong",
        "That code is not right. Enter the 6 digits your authenticator app shows now, or one of your recovery codes.",
    )
}

fn too_many() -> AppError {
    AppError::TooManyRequests {
        retry_after_secs: 3600,
        message: "Too many wrong codes for this account. Try again in an hour, or ask IT to reset your second factor.",
    }
}

/// A sign-in finished by its second factor: the account, and a device cookie when the
/// browser was not yet known to it.
pub struct Finished<T> {
    /// What the answer holds.
    pub answer: T,
    /// A new device cookie (SECURITY A3's known browsers), given only to a full sign-in.
    pub device: Option<Token>,
}

/// Finishes a sign-in waiting for the second factor with `code`: six digits from the app for a
/// step not used before, or an unused recovery code. Each try takes a place under the
/// network's and the account's sign-in limits first, as a password does.
#[allow(clippy::too_many_arguments)]
pub async fn give(
    state: &AppState,
    session: &TokenHash,
    user: UserRecord,
    stage: SessionStage,
    code: &str,
    ip: IpAddr,
    device: Option<&TokenHash>,
    meta: &RequestMeta,
) -> Result<Finished<Me>, AppError> {
    if stage != SessionStage::SecondFactor {
        return Err(AppError::bad("no_code_wanted", "This sign-in is not waiting for a code."));
    }
    state
        .login_limiter
        .check(ip, state.now_ms())
        .map_err(|retry_after_secs| AppError::TooManyRequests {
            retry_after_secs,
            message: "Too many sign-in attempts from this network. Wait a minute and try again.",
        })?;
    let known = is_known_device(state, device, &user.email).await?;
    let attempt = take_attempt(state, &user.email, known, state.now_ms())
        .await?
        .ok_or_else(too_many)?;
    let actor = Actor::User(user.id);
    let sealed = state.store.totp_secret(user.id, false).await?.ok_or(AppError::Unauthenticated)?;
    let secret = TotpSecret::from_bytes(state.keyring.open_secret(binding(&user), sealed)?.expose_secret())?;
    let by_app = match secret.check(code, now_seconds(state)) {
        Some(step) => state.store.take_totp_step(user.id, i64::try_from(step).unwrap_or(i64::MAX)).await?,
        None => false,
    };
    let by_recovery = !by_app
        && state
            .store
            .use_recovery_code(user.id, &recovery_code_hash(code), state.now_ms())
            .await?;
    if !by_app && !by_recovery {
        audit::record(state, meta, &actor, Action::SignIn, None, Outcome::Failure).await?;
        return Err(code_wrong());
    }
    state.store.forget_login_attempt(attempt).await?;
    state.login_limiter.refund(ip);
    if by_recovery {
        audit::record(state, meta, &actor, Action::RecoveryCodeUsed, None, Outcome::Success).await?;
    }
    let device = match known {
        Some(_) => None,
        None => Some(new_device(state, &user.email).await?),
    };
    Ok(Finished {
        answer: signed_in(state, session, user, meta).await?,
        device,
    })
}

async fn signed_in(state: &AppState, session: &TokenHash, user: UserRecord, meta: &RequestMeta) -> Result<Me, AppError> {
    state.store.set_session_stage(session, SessionStage::Full).await?;
    state.store.record_sign_in(user.id, state.now_ms()).await?;
    audit::record(state, meta, &Actor::User(user.id), Action::SignIn, None, Outcome::Success).await?;
    tracing::info!(user = %user.id, outcome = "success", "signed in");
    Ok(auth::me(state, user))
}

/// Starts setting up TOTP: a new secret, kept sealed until a code confirms it, shown as text
/// and as a QR code. Only for a sign-in waiting for it, just after the password (so a stolen
/// signed-in session cannot put its own phone on the account); IT resets one that is lost.
pub async fn start(state: &AppState, user: &UserRecord, stage: SessionStage) -> Result<TotpEnrolment, AppError> {
    if stage != SessionStage::Enrol {
        return Err(not_enrolling());
    }
    if user.has_second_factor {
        return Err(AppError::bad(
            "already_enrolled",
            "Your account already has a second factor. If you have lost it, ask IT to reset it.",
        ));
    }
    let secret = TotpSecret::generate()?;
    let sealed = state.keyring.seal_secret(binding(user), secret.expose_bytes())?;
    state.store.put_pending_totp(user.id, &sealed).await?;
    let url = secret.expose_otpauth_url(&format!("Sealpost {}", state.settings.org_name), user.email.as_str())?;
    let (qr_size, qr_path) = qr_path(url.expose_secret())?;
    Ok(TotpEnrolment {
        secret: secret.expose_base32().expose_secret().to_owned(),
        otpauth_url: url.expose_secret().to_owned(),
        qr_size,
        qr_path,
    })
}

fn not_enrolling() -> AppError {
    AppError::bad(
        "not_enrolling",
        "A second factor is set up just after signing in with your password, when it is asked for. If you have lost yours, ask IT to reset it.",
    )
}

/// Confirms the secret being set up with a code from the app: it becomes the account's second
/// factor, ten recovery codes are made (and shown this once), and the sign-in is complete.
pub async fn confirm(
    state: &AppState,
    session: &TokenHash,
    user: UserRecord,
    stage: SessionStage,
    code: &str,
    meta: &RequestMeta,
) -> Result<Finished<Enrolled>, AppError> {
    if stage != SessionStage::Enrol || user.has_second_factor {
        return Err(not_enrolling());
    }
    let attempt = take_attempt(state, &user.email, None, state.now_ms()).await?.ok_or_else(too_many)?;
    let sealed = state.store.totp_secret(user.id, true).await?.ok_or_else(|| {
        AppError::bad(
            "no_enrolment",
            "Start again: there is no second factor being set up for your account.",
        )
    })?;
    let secret = TotpSecret::from_bytes(state.keyring.open_secret(binding(&user), sealed)?.expose_secret())?;
    let actor = Actor::User(user.id);
    let record = |outcome| audit::record(state, meta, &actor, Action::SecondFactorEnrol, None, outcome);
    let Some(step) = secret.check(code, now_seconds(state)) else {
        record(Outcome::Failure).await?;
        return Err(AppError::bad(
            "code_wrong",
            "That code is not right. Check the time on your phone is set automatically, and enter the 6 digits the app shows now.",
        ));
    };
    let codes = (0..RECOVERY_CODES).map(|_| recovery_code()).collect::<Result<Vec<_>, _>>()?;
    let hashes: Vec<[u8; 32]> = codes.iter().map(|c| recovery_code_hash(c.expose_secret())).collect();
    if !state
        .store
        .confirm_totp(user.id, i64::try_from(step).unwrap_or(i64::MAX), &hashes)
        .await?
    {
        return Err(AppError::bad(
            "no_enrolment",
            "Start again: the set-up was replaced in another window.",
        ));
    }
    state.store.forget_login_attempt(attempt).await?;
    record(Outcome::Success).await?;
    let user = UserRecord {
        has_second_factor: true,
        ..user
    };
    let device = Some(new_device(state, &user.email).await?);
    let me = signed_in(state, session, user, meta).await?;
    Ok(Finished {
        answer: Enrolled {
            recovery_codes: codes.iter().map(|c| c.expose_secret().to_owned()).collect(),
            me,
        },
        device,
    })
}

/// The QR code of `text`: modules a side and an SVG path of the dark ones, one unit each.
fn qr_path(text: &str) -> Result<(u32, String), AppError> {
    let qr = QrCode::encode_text(text, QrCodeEcc::Medium).map_err(|_| AppError::Internal(anyhow::anyhow!("QR code too long")))?;
    let size = qr.size();
    let mut path = String::new();
    for y in 0..size {
        for x in 0..size {
            if qr.get_module(x, y) {
                path.push_str(&format!("M{x} {y}h1v1h-1z"));
            }
        }
    }
    Ok((u32::try_from(size).unwrap_or(0), path))
}
