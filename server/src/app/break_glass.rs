//! Break-glass (SECURITY C3): the one way an IG officer sees a message's content. It takes a
//! written reason and the officer's password again; the data protection officer is emailed
//! before anything is granted (no DPO address configured, no break-glass); the grant and its
//! audit event commit together before the content is shown; the access ends after
//! `break_glass_minutes`, and every further read or download within it is recorded as usual.

use sealpost_crypto::SecretString;
use sealpost_domain::api_audit::{BreakGlassAccess, BreakGlassRequest};
use sealpost_domain::{AttachmentId, Reference, time};
use sealpost_mail::StaffNotice;
use sealpost_storage::{BreakGlassGrant, UserRecord};

use sealpost_audit::AuditEvent;

use crate::app::audit::{self, Action, Actor, Object, Outcome, RequestMeta};
use crate::app::auth;
use crate::app::disclosure::{self, Download, Viewer};
use crate::error::AppError;
use crate::state::AppState;

/// The shortest reason accepted: a sentence, not "x".
const MIN_REASON_CHARS: usize = 20;
/// The longest reason accepted.
const MAX_REASON_CHARS: usize = 2_000;

/// Opens the message `reference` for `user` (an IG officer) by break-glass.
pub async fn open(
    state: &AppState,
    user: &UserRecord,
    meta: &RequestMeta,
    reference: &str,
    request: BreakGlassRequest,
    device: Option<&sealpost_crypto::TokenHash>,
) -> Result<BreakGlassAccess, AppError> {
    auth::require_ig(user)?;
    let reason = request.reason.trim().to_owned();
    let chars = reason.chars().count();
    if !(MIN_REASON_CHARS..=MAX_REASON_CHARS).contains(&chars) {
        return Err(AppError::bad(
            "reason_required",
            format!(
                "Say why you need to see the content, in {MIN_REASON_CHARS} to {MAX_REASON_CHARS} characters. The data protection officer will read it."
            ),
        ));
    }
    let Some(dpo) = state.settings.dpo_email.clone() else {
        return Err(AppError::bad(
            "no_dpo",
            "Break-glass is switched off: no data protection officer's address is set (SEALPOST_DPO_EMAIL). Ask IT to set it.",
        ));
    };
    if !state.mailer.is_relay() {
        return Err(AppError::bad(
            "no_relay",
            "Break-glass is switched off: with no mail relay (SEALPOST_SMTP_URL) the data protection officer cannot be emailed. Ask IT to set it.",
        ));
    }
    let facts = match Reference::parse_typed(reference) {
        Some(r) => state.store.message_facts(&r).await?,
        None => None,
    }
    .ok_or(AppError::NotFound)?;
    if let Err(refused) = auth::reauthenticate(state, user, SecretString::from(request.password), device).await {
        record_refusal(state, user, meta, &facts.id).await;
        return Err(refused);
    }

    let now = state.now_ms();
    let until = now + i64::from(state.settings.break_glass_minutes) * 60_000;
    // The DPO hears first: if they cannot be told, nothing is opened.
    let notice = StaffNotice {
        to: dpo,
        subject: format!("Break-glass: {} opened message {}", user.display_name.as_str(), facts.reference),
        text: format!(
            "{name} ({email}), an information governance officer, used break-glass to open the content of secure message {reference} at {at} (UTC), for {minutes} minutes.\n\nTheir reason:\n{reason}\n\nThe access is recorded in the Sealpost audit log. If it was not expected, speak to them and review the log.\n",
            name = user.display_name.as_str(),
            email = user.email,
            reference = facts.reference,
            at = time::rfc3339(now),
            minutes = state.settings.break_glass_minutes,
        ),
        message_id: format!("<break-glass-{}@sealpost>", uuid::Uuid::new_v4()),
        in_reply_to: None,
    };
    state.mailer.send_notice(&notice).await.map_err(|e| {
        tracing::error!(error = %e, "break-glass refused: the DPO could not be told");
        AppError::DependencyDown("The data protection officer could not be emailed, so nothing was opened. Try again in a few minutes.")
    })?;
    let event = AuditEvent::new(
        now,
        &Actor::User(user.id),
        Action::BreakGlass,
        Some(Object::Message(facts.id)),
        Outcome::Success,
        meta.clone(),
    );
    let grant = state
        .store
        .grant_break_glass(user.id, facts.id, &reason, now, until, &event)
        .await
        .map_err(AppError::Unavailable)?;
    tracing::warn!(user = %user.id, message = %facts.id, "break-glass access granted");
    let m = state.store.message_under_grant(&grant).await?.ok_or(AppError::NotFound)?;
    Ok(BreakGlassAccess {
        detail: disclosure::reveal_granted(state, m).await?,
        until_ms: grant.expires_at_ms,
        reason: grant.reason,
    })
}

/// The officer's grant for `reference` still in force, or 404 (as for any message that is not
/// theirs to read, SECURITY C1).
async fn grant_for(state: &AppState, user: &UserRecord, reference: &str) -> Result<BreakGlassGrant, AppError> {
    auth::require_ig(user)?;
    let facts = match Reference::parse_typed(reference) {
        Some(r) => state.store.message_facts(&r).await?,
        None => None,
    }
    .ok_or(AppError::NotFound)?;
    state
        .store
        .active_break_glass(user.id, facts.id, state.now_ms())
        .await?
        .ok_or(AppError::NotFound)
}

/// Reads the message again within a grant; recorded as a read.
pub async fn read(state: &AppState, user: &UserRecord, meta: &RequestMeta, reference: &str) -> Result<BreakGlassAccess, AppError> {
    let grant = grant_for(state, user, reference).await?;
    let m = state.store.message_under_grant(&grant).await?.ok_or(AppError::NotFound)?;
    Ok(BreakGlassAccess {
        detail: disclosure::reveal(state, m, &Actor::User(user.id), Viewer::BreakGlass, meta).await?,
        until_ms: grant.expires_at_ms,
        reason: grant.reason,
    })
}

/// Downloads one of the message's files within a grant; recorded before the first byte.
pub async fn download(
    state: &AppState,
    user: &UserRecord,
    meta: &RequestMeta,
    reference: &str,
    attachment: AttachmentId,
) -> Result<Download, AppError> {
    let grant = grant_for(state, user, reference).await?;
    let m = state.store.message_under_grant(&grant).await?.ok_or(AppError::NotFound)?;
    disclosure::open_attachment(state, &m, attachment, Viewer::BreakGlass, &Actor::User(user.id), meta).await
}

/// Records a refused break-glass (wrong password), so attempts are on the log too.
async fn record_refusal(state: &AppState, user: &UserRecord, meta: &RequestMeta, message: &sealpost_domain::MessageId) {
    let object = Some(Object::Message(*message));
    if let Err(e) = audit::record(state, meta, &Actor::User(user.id), Action::BreakGlass, object, Outcome::Failure).await {
        tracing::error!(error = %e, "could not record a refused break-glass");
    }
}
