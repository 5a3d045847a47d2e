//! Recipient verification (SECURITY B3, B4): redeeming a link opens a short portal session and
//! emails a six-digit code; the recipient enters it (and the passphrase, when the message needs
//! one). Codes work once, for 10 minutes, 5 tries each; 5 codes an hour; 10 wrong passphrases a
//! day. Past a limit the recipient is locked out for an hour and the sender sees it.

use sealpost_crypto::{ExposeSecret, SecretString, Token, TokenHash, Verification, code_hash, code_hashes_match, six_digit_code};
use sealpost_mail::{CodeEmail, SendError};
use sealpost_storage::{AttemptKind, LinkRecord};

use crate::app::audit::{self, Action, Actor, Object, Outcome, RequestMeta};
use crate::app::auth;
use crate::app::notices;
use crate::error::AppError;
use crate::state::AppState;

const CODE_MINUTES: u32 = 10;
const TRIES_PER_CODE: i64 = 5;
const CODES_PER_HOUR: i64 = 5;
const PASSPHRASE_FAILURES_PER_DAY: i64 = 10;
const HOUR_MS: i64 = 3_600_000;

fn bad(code: &'static str, message: impl Into<String>) -> AppError {
    AppError::BadRequest {
        code,
        message: message.into(),
    }
}

/// Who a portal step is recorded as: the recipient the link was sent to.
pub fn actor(link: &LinkRecord) -> Actor {
    Actor::Recipient(link.address.clone())
}

/// Minutes a code works for (shown to the recipient).
pub fn code_minutes() -> u32 {
    CODE_MINUTES
}

/// Refuses a locked-out recipient.
pub fn ensure_not_locked(state: &AppState, link: &LinkRecord) -> Result<(), AppError> {
    if link.is_locked(state.now_ms()) {
        Err(locked_out())
    } else {
        Ok(())
    }
}

fn locked_out() -> AppError {
    AppError::TooManyRequests {
        retry_after_secs: 3600,
        message: "Too many attempts: this link is locked for an hour. The sender has been told; you can also contact them.",
    }
}

/// Opens a portal session for a live link and emails the first code. Returns the session token.
pub async fn redeem(state: &AppState, link: &LinkRecord, meta: &RequestMeta) -> Result<Token, AppError> {
    ensure_not_locked(state, link)?;
    let session = Token::generate()?;
    state
        .store
        .create_portal_session(&session.hash(), link.recipient_id, state.now_ms())
        .await?;
    audit::record(
        state,
        meta,
        &actor(link),
        Action::LinkRedeem,
        Some(Object::Message(link.message_id)),
        Outcome::Success,
    )
    .await?;
    send_code(state, link, &session.hash(), meta).await?;
    Ok(session)
}

/// Emails a fresh code for `session`, replacing any earlier one, within the hourly limit.
pub async fn send_code(state: &AppState, link: &LinkRecord, session: &TokenHash, meta: &RequestMeta) -> Result<(), AppError> {
    ensure_not_locked(state, link)?;
    let now = state.now_ms();
    // A place under the hourly limit is taken atomically before anything is sent, so N
    // parallel requests never send more than the limit (SECURITY A10).
    if state
        .store
        .take_portal_attempt(link.recipient_id, AttemptKind::CodeSent, now - HOUR_MS, CODES_PER_HOUR, now)
        .await?
        .is_none()
    {
        return lock_out(state, link, meta).await;
    }
    let code = six_digit_code()?;
    state
        .store
        .put_portal_code(
            session,
            &code_hash(session, code.expose_secret()),
            now + i64::from(CODE_MINUTES) * 60_000,
        )
        .await?;
    let email = CodeEmail {
        to: link.address.clone(),
        code: code.expose_secret().to_owned(),
        reference: Some(link.reference.clone()),
        organisation: state.settings.org_name.clone(),
        minutes: CODE_MINUTES,
        message_id: format!("<code-{}@sealpost>", uuid::Uuid::new_v4()),
    };
    match state.mailer.send_code(&email).await {
        Ok(()) => {
            audit::record(
                state,
                meta,
                &actor(link),
                Action::CodeSent,
                Some(Object::Message(link.message_id)),
                Outcome::Success,
            )
            .await
        }
        Err(SendError::Transient(reason) | SendError::Permanent(reason)) => {
            tracing::warn!(reason, "code email not sent");
            state.store.delete_portal_code(session).await?;
            Err(AppError::Unavailable(sealpost_storage::StorageError::Blob(
                "the code email could not be sent".into(),
            )))
        }
    }
}

/// Checks the code (and passphrase); on success the session is verified and the code used up.
/// A malformed code or a missing passphrase is refused before a try is taken; every other try
/// is counted before the code is compared, so parallel guesses cannot exceed the limit.
pub async fn verify(
    state: &AppState,
    link: &LinkRecord,
    session: &TokenHash,
    code: &str,
    passphrase: Option<String>,
    meta: &RequestMeta,
) -> Result<(), AppError> {
    ensure_not_locked(state, link)?;
    let code = normalise_code(code)?;
    let stored_passphrase = state.store.recipient_passphrase(link.recipient_id).await?;
    let passphrase = passphrase.map(|p| p.trim().to_owned()).filter(|p| !p.is_empty());
    if stored_passphrase.is_some() && passphrase.is_none() {
        return Err(bad("passphrase_required", "Enter the passphrase the sender gave you by phone."));
    }
    let now = state.now_ms();
    let object = Some(Object::Message(link.message_id));
    let live = state
        .store
        .take_portal_code_try(session)
        .await?
        .ok_or_else(|| bad("no_code", "There is no code waiting for this browser. Ask for a new one."))?;
    if live.expires_at_ms <= now {
        state.store.delete_portal_code(session).await?;
        return Err(bad("code_expired", "That code has expired. Ask for a new one."));
    }
    if live.tries > TRIES_PER_CODE {
        // Tries that raced past the last allowed one: refused unseen.
        state.store.delete_portal_code(session).await?;
        return Err(code_used_up());
    }
    if !code_hashes_match(&code_hash(session, &code), &live.code_hash) {
        audit::record(state, meta, &actor(link), Action::CodeFailed, object, Outcome::Failure).await?;
        if live.tries >= TRIES_PER_CODE {
            state.store.delete_portal_code(session).await?;
            return Err(code_used_up());
        }
        return Err(bad(
            "code_wrong",
            format!("That code is not right. {}", tries_left(TRIES_PER_CODE - live.tries, "")),
        ));
    }
    if let (Some(stored), Some(given)) = (stored_passphrase, passphrase) {
        check_passphrase(state, link, stored, given, meta).await?;
    }
    state.store.delete_portal_code(session).await?;
    state.store.touch_portal_session(session, now, true).await?;
    audit::record(state, meta, &actor(link), Action::PortalVerified, object, Outcome::Success).await
}

/// The code as typed, without spaces; anything but six digits is refused without using a try.
fn normalise_code(code: &str) -> Result<String, AppError> {
    let digits: String = code.chars().filter(|c| !c.is_whitespace() && *c != '-').collect();
    if digits.len() == 6 && digits.chars().all(|c| c.is_ascii_digit()) {
        Ok(digits)
    } else {
        Err(bad(
            "code_format",
            "The code is the 6 digits in the email we sent you. Type just those numbers.",
        ))
    }
}

fn code_used_up() -> AppError {
    bad(
        "code_used_up",
        "That code was entered wrongly 5 times and no longer works. Ask for a new one.",
    )
}

/// "You have 1 more try." / "You have 3 more tries today."
fn tries_left(n: i64, when: &str) -> String {
    let noun = if n == 1 { "try" } else { "tries" };
    format!("You have {n} more {noun}{when}.")
}

/// Checks the passphrase. The attempt takes its place under the daily limit as a failure
/// first and is forgotten if right, so at most the limit of guesses is ever evaluated, however
/// many arrive at once (B4, A10).
async fn check_passphrase(
    state: &AppState,
    link: &LinkRecord,
    stored: sealpost_crypto::PasswordHash,
    given: String,
    meta: &RequestMeta,
) -> Result<(), AppError> {
    let now = state.now_ms();
    let day_ago = now - 24 * HOUR_MS;
    let Some(attempt) = state
        .store
        .take_portal_attempt(
            link.recipient_id,
            AttemptKind::PassphraseFailed,
            day_ago,
            PASSPHRASE_FAILURES_PER_DAY,
            now,
        )
        .await?
    else {
        return lock_out(state, link, meta).await;
    };
    if let Verification::Match { .. } = auth::verify_passphrase(state, SecretString::from(given), stored).await? {
        return Ok(state.store.forget_portal_attempt(attempt).await?);
    }
    audit::record(
        state,
        meta,
        &actor(link),
        Action::PassphraseFailed,
        Some(Object::Message(link.message_id)),
        Outcome::Failure,
    )
    .await?;
    let failures = state
        .store
        .count_portal_attempts(link.recipient_id, AttemptKind::PassphraseFailed, day_ago)
        .await?;
    if failures >= PASSPHRASE_FAILURES_PER_DAY {
        return lock_out(state, link, meta).await;
    }
    Err(bad(
        "passphrase_wrong",
        format!(
            "That passphrase is not right. Check it with the sender. {}",
            tries_left(PASSPHRASE_FAILURES_PER_DAY - failures, " today")
        ),
    ))
}

async fn lock_out(state: &AppState, link: &LinkRecord, meta: &RequestMeta) -> Result<(), AppError> {
    state.store.lock_recipient(link.recipient_id, state.now_ms() + HOUR_MS).await?;
    state
        .store
        .note_on_recipient(
            link.recipient_id,
            "Locked out for an hour after too many attempts to open the message",
        )
        .await?;
    audit::record(
        state,
        meta,
        &actor(link),
        Action::PortalLockout,
        Some(Object::Message(link.message_id)),
        Outcome::Failure,
    )
    .await?;
    tell_sender_of_lockout(state, link).await;
    Err(locked_out())
}

/// Emails the sender that a recipient was locked out (SECURITY B3). Best effort: the lockout
/// stands, and shows on the sender's view of the message, even if this email fails.
async fn tell_sender_of_lockout(state: &AppState, link: &LinkRecord) {
    let subject = format!("Sealpost: {} was locked out of message {}", link.address, link.reference);
    let text = format!(
        "{recipient} made too many attempts to open your secure message {reference} and is locked out for an hour.\n\n\
         If they are the right person, they can try again after the hour. If you did not expect this, someone else may have \
         the link: you can withdraw access from the message's page in Sealpost.\n",
        recipient = link.address,
        reference = link.reference,
    );
    notices::tell_sender(state, link, "lockout", subject, text).await;
}
