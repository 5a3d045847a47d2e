//! Partners who write first (`/write`): someone outside the council gives their address and
//! the council address they are writing to, proves their address with an emailed code (the
//! portal's rules: six digits, 10 minutes, 5 tries), then sends a sealed message with files.
//! It arrives in the member of staff's Inbox (or, for a team address of `SEALPOST_TEAMS`, each
//! member's) as written from outside, by the proved address;
//! they answer it as any message, and the writer gets a link as any partner does.
//!
//! Nobody learns who works at the council this way: the code is sent, and the message is
//! accepted with a reference, whether or not the council address belongs to an active member
//! of staff. What is written to anyone else is read and dropped, and the attempt audited.
//! Codes are limited per address and per network address, and sends per address, each an
//! hour, taken before anything is sent (SECURITY A10). The council can turn `/write` off
//! (`SEALPOST_PARTNER_WRITE=false`).

use sealpost_audit::AuditEvent;
use sealpost_crypto::{Binding, ExposeSecret, MessageKey, ObjectKind, Token, TokenHash, code_hash, code_hashes_match, six_digit_code};
use sealpost_domain::api_messages::Addressed;
use sealpost_domain::api_write::{WriteMessage, WriteSent, WriteState};
use sealpost_domain::{EmailAddress, Marking, MessageId, RecipientId, Reference, Role};
use sealpost_mail::{CodeEmail, SendError};
use sealpost_storage::{NewMessage, NewRecipient, OUTSIDE_SENDER, UserRecord, WriteSessionRecord};
use uuid::Uuid;

use crate::app::audit::{self, Action, Actor, Object, Outcome, RequestMeta};
use crate::app::uploads::{self, Form, Uploads};
use crate::error::AppError;
use crate::state::AppState;

const CODE_MINUTES: u32 = 10;
const TRIES_PER_CODE: i64 = 5;
/// Codes per writer's address an hour.
pub const CODES_PER_ADDRESS: i64 = 5;
/// Codes per network address an hour.
pub const CODES_PER_NETWORK: i64 = 20;
/// Messages per writer's address an hour.
pub const SENDS_PER_ADDRESS: i64 = 10;
/// A visit unused this long ends, as a portal session does (SECURITY A9).
const IDLE_MS: i64 = 15 * 60_000;
const HOUR_MS: i64 = 3_600_000;
const DAY_MS: i64 = 86_400_000;

/// A live `/write` visit.
pub struct Writing {
    hash: TokenHash,
    record: WriteSessionRecord,
}

impl Writing {
    /// Where it stands.
    pub fn state(&self) -> WriteState {
        WriteState {
            from: self.record.address.to_string(),
            to: self.record.write_to.clone(),
            verified: self.record.verified_at_ms.is_some(),
            code_minutes: CODE_MINUTES,
        }
    }
}

fn bad(code: &'static str, message: impl Into<String>) -> AppError {
    AppError::bad(code, message)
}

fn turned_off(state: &AppState) -> Result<(), AppError> {
    if state.settings.partner_write {
        return Ok(());
    }
    Err(AppError::Gone {
        code: "partner_write_off",
        message: format!(
            "{} does not take secure messages this way. Contact the person you want to write to, and ask them to send you a secure message first.",
            state.settings.org_name
        ),
    })
}

fn too_many(message: &'static str) -> AppError {
    AppError::TooManyRequests {
        retry_after_secs: 3600,
        message,
    }
}

/// Starts a visit: checks both addresses are addresses and the hourly limits, and emails a
/// code to `from`. Nothing is stored for a visit the limits refuse.
pub async fn start(state: &AppState, from: &str, to: &str, meta: &RequestMeta) -> Result<(Token, Writing), AppError> {
    turned_off(state)?;
    let from = EmailAddress::parse(from).map_err(|e| bad("invalid_address", format!("Your email address: {e}")))?;
    let to = EmailAddress::parse(to).map_err(|e| bad("invalid_council_address", format!("The council address: {e}")))?;
    take_code_limits(state, &from, meta).await?;
    let token = Token::generate()?;
    let hash = token.hash();
    state.store.create_write_session(&hash, &from, to.as_str(), state.now_ms()).await?;
    let record = WriteSessionRecord {
        address: from,
        write_to: to.to_string(),
        last_seen_at_ms: state.now_ms(),
        verified_at_ms: None,
    };
    let writing = Writing { hash, record };
    email_code(state, &writing, meta).await?;
    Ok((token, writing))
}

/// The visit `hash` names, if it is live (unused for less than 15 minutes).
pub async fn resolve(state: &AppState, hash: &TokenHash) -> Result<Writing, AppError> {
    turned_off(state)?;
    let record = state.store.write_session(hash).await?.ok_or(AppError::Unauthenticated)?;
    let now = state.now_ms();
    if now - record.last_seen_at_ms >= IDLE_MS {
        state.store.end_write_session(hash).await?;
        return Err(AppError::Unauthenticated);
    }
    state.store.touch_write_session(hash, now).await?;
    Ok(Writing { hash: *hash, record })
}

/// Emails a fresh code, replacing any earlier one, within the hourly limits for the address
/// and the network address.
pub async fn send_code(state: &AppState, w: &Writing, meta: &RequestMeta) -> Result<(), AppError> {
    take_code_limits(state, &w.record.address, meta).await?;
    email_code(state, w, meta).await
}

/// Takes one code from the hourly limits of the address and of the network address.
async fn take_code_limits(state: &AppState, address: &EmailAddress, meta: &RequestMeta) -> Result<(), AppError> {
    let now = state.now_ms();
    let network = meta.ip.as_deref().unwrap_or("unknown");
    let hour_ago = now - HOUR_MS;
    // The address's own limit first, so one address asked for over and over does not use up
    // the network's.
    if !state
        .store
        .take_write_attempt(&format!("code:address:{address}"), hour_ago, CODES_PER_ADDRESS, now)
        .await?
    {
        return Err(too_many("Too many codes have been sent to this address. Try again in an hour."));
    }
    if !state
        .store
        .take_write_attempt(&format!("code:network:{network}"), hour_ago, CODES_PER_NETWORK, now)
        .await?
    {
        return Err(too_many(
            "Too many codes have been asked for from this network. Try again in an hour.",
        ));
    }
    Ok(())
}

/// Stores a fresh code for the visit and emails it.
async fn email_code(state: &AppState, w: &Writing, meta: &RequestMeta) -> Result<(), AppError> {
    let now = state.now_ms();
    let address = &w.record.address;
    let code = six_digit_code()?;
    state
        .store
        .put_write_code(
            &w.hash,
            &code_hash(&w.hash, code.expose_secret()),
            now + i64::from(CODE_MINUTES) * 60_000,
        )
        .await?;
    let email = CodeEmail {
        to: address.clone(),
        code: code.expose_secret().to_owned(),
        reference: None,
        organisation: state.settings.org_name.clone(),
        minutes: CODE_MINUTES,
        message_id: format!("<code-{}@sealpost>", Uuid::new_v4()),
    };
    match state.mailer.send_code(&email).await {
        Ok(()) => {
            audit::record(
                state,
                meta,
                &Actor::Recipient(address.clone()),
                Action::CodeSent,
                None,
                Outcome::Success,
            )
            .await
        }
        Err(SendError::Transient(reason) | SendError::Permanent(reason)) => {
            tracing::warn!(reason, "write code email not sent");
            state.store.settle_write_code(&w.hash, None).await?;
            Err(AppError::DependencyDown(
                "The code email could not be sent just now. Try again in a few minutes.",
            ))
        }
    }
}

/// Checks the code: every try is counted before it is compared, so parallel guesses cannot
/// pass the limit; right, the address is proved for this visit.
pub async fn verify(state: &AppState, w: &Writing, code: &str, meta: &RequestMeta) -> Result<WriteState, AppError> {
    let digits: String = code.chars().filter(|c| !c.is_whitespace() && *c != '-').collect();
    if digits.len() != 6 || !digits.chars().all(|c| c.is_ascii_digit()) {
        return Err(bad(
            "code_format",
            "The code is the 6 digits in the email we sent you. Type just those numbers.",
        ));
    }
    let now = state.now_ms();
    let actor = Actor::Recipient(w.record.address.clone());
    let live = state
        .store
        .take_write_code_try(&w.hash)
        .await?
        .ok_or_else(|| bad("no_code", "There is no code waiting for this browser. Ask for a new one."))?;
    if live.expires_at_ms <= now {
        state.store.settle_write_code(&w.hash, None).await?;
        return Err(bad("code_expired", "That code has expired. Ask for a new one."));
    }
    if live.tries > TRIES_PER_CODE || !code_hashes_match(&code_hash(&w.hash, &digits), &live.code_hash) {
        audit::record(state, meta, &actor, Action::CodeFailed, None, Outcome::Failure).await?;
        if live.tries >= TRIES_PER_CODE {
            state.store.settle_write_code(&w.hash, None).await?;
            return Err(bad(
                "code_used_up",
                "That code was entered wrongly 5 times and no longer works. Ask for a new one.",
            ));
        }
        let left = TRIES_PER_CODE - live.tries;
        return Err(bad(
            "code_wrong",
            format!(
                "That code is not right. You have {left} more {}.",
                if left == 1 { "try" } else { "tries" }
            ),
        ));
    }
    state.store.settle_write_code(&w.hash, Some(now)).await?;
    audit::record(state, meta, &actor, Action::PortalVerified, None, Outcome::Success).await?;
    let mut state_now = w.state();
    state_now.verified = true;
    Ok(state_now)
}

/// Sends what the proved writer wrote, with its files, to the council address of the visit.
pub async fn send(state: &AppState, w: &Writing, meta: &RequestMeta, mut form: impl Form) -> Result<WriteSent, AppError> {
    if w.record.verified_at_ms.is_none() {
        return Err(AppError::Unauthenticated);
    }
    let now = state.now_ms();
    let from = w.record.address.clone();
    if !state
        .store
        .take_write_attempt(&format!("send:address:{from}"), now - HOUR_MS, SENDS_PER_ADDRESS, now)
        .await?
    {
        return Err(too_many(
            "You have sent as many messages as one person may in an hour. Try again later.",
        ));
    }
    let message: WriteMessage = uploads::json_part(&mut form, "message").await?;
    let (subject, body) = checked(state, message)?;
    let staff = receivers(state, &w.record.write_to).await?;
    let reference = Reference::from_random(sealpost_crypto::random_bytes::<8>()?);
    let actor = Actor::Recipient(from.clone());
    if staff.is_empty() {
        // Nobody to give it to: read the files and drop them, and answer as for a delivery.
        let key = MessageKey::generate();
        let mut uploads = Uploads::new(state);
        uploads.receive(&key, MessageId(Uuid::new_v4()), &mut form).await?;
        drop(uploads);
        audit::record(state, meta, &actor, Action::MessageSend, None, Outcome::Failure).await?;
        return Ok(WriteSent { reference });
    }
    let id = MessageId(Uuid::new_v4());
    let key = MessageKey::generate();
    let mut uploads = Uploads::new(state);
    let attachments = uploads.receive(&key, id, &mut form).await?;
    let m = NewMessage {
        id,
        reference: reference.clone(),
        sender: OUTSIDE_SENDER,
        marking: Marking::Official,
        subject: key.seal(Binding::new(ObjectKind::Subject, id.0), subject.as_bytes())?,
        body: key.seal(Binding::new(ObjectKind::Body, id.0), body.as_bytes())?,
        body_html: None,
        key: state.keyring.wrap(&key, id.0)?,
        created_at_ms: now,
        expires_at_ms: now + i64::from(state.limits.default_expiry_days) * DAY_MS,
        held_until_ms: None,
        max_opens: None,
        view_only_files: false,
        in_reply_to: None,
        outside_sender: Some(from),
        recipients: staff
            .into_iter()
            .map(|u| NewRecipient::Internal {
                id: RecipientId(Uuid::new_v4()),
                address: u.email,
                addressed: Addressed::To,
                user: u.id,
                notify: u.notify_by_email,
            })
            .collect(),
        attachments,
    };
    let event = AuditEvent::new(
        now,
        &actor,
        Action::MessageSend,
        Some(Object::Message(id)),
        Outcome::Success,
        meta.clone(),
    );
    let stored = state.store.create_message(&m, &event).await.map_err(AppError::from);
    uploads.settle(stored, |_| true)?;
    state.outbox_wake.notify_one();
    Ok(WriteSent { reference })
}

/// Whose Inboxes the council address `write_to` reaches: the active member of staff it
/// names, or the active members of the team it names (`SEALPOST_TEAMS`); none for anything
/// else.
async fn receivers(state: &AppState, write_to: &str) -> Result<Vec<UserRecord>, AppError> {
    let Ok(address) = EmailAddress::parse(write_to) else {
        return Ok(Vec::new());
    };
    let addresses = match state.settings.teams.iter().find(|t| t.address == address) {
        Some(team) => team.members.clone(),
        None => vec![address],
    };
    let mut staff = Vec::new();
    for a in &addresses {
        if let Some(u) = state.store.user_by_email(a).await?.filter(can_receive)
            && !staff.iter().any(|s: &UserRecord| s.id == u.id)
        {
            staff.push(u);
        }
    }
    Ok(staff)
}

/// Who may be written to: an active member of staff (not IG or IT, who read no mail here).
fn can_receive(u: &UserRecord) -> bool {
    !u.disabled && u.role == Role::Staff && u.id != OUTSIDE_SENDER
}

fn checked(state: &AppState, m: WriteMessage) -> Result<(String, String), AppError> {
    let subject = m.subject.trim().to_owned();
    if subject.is_empty() {
        return Err(bad("no_subject", "Enter a subject."));
    }
    if subject.len() > state.limits.max_subject_bytes as usize || subject.contains(['\r', '\n']) {
        return Err(bad(
            "subject_too_long",
            format!(
                "The subject must be one line of at most {} characters.",
                state.limits.max_subject_bytes
            ),
        ));
    }
    if m.body.len() > state.limits.max_body_bytes as usize {
        return Err(bad(
            "body_too_long",
            format!(
                "The message is too long: at most {} KiB of text.",
                state.limits.max_body_bytes / 1024
            ),
        ));
    }
    Ok((subject, m.body))
}
