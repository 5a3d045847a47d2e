//! Legal hold and erasure (issue 19): an IG officer puts a message on legal hold, with a
//! reason, so nothing deletes it until the hold is lifted; or erases one message now (a
//! misdirected attachment, say), with a reason: the same crypto-shred as retention, recorded
//! as theirs, and the data protection officer and the administrators are emailed. Each step is
//! on the audit log in the transaction that makes it.

use sealpost_audit::AuditEvent;
use sealpost_domain::api_audit::LifecycleRequest;
use sealpost_domain::{EmailAddress, Reference, Role, time};
use sealpost_mail::StaffNotice;
use sealpost_storage::{MessageFacts, ShredReason, UserRecord};

use crate::app::audit::{Action, Actor, Object, Outcome, RequestMeta};
use crate::app::auth::require_ig;
use crate::app::retention;
use crate::error::AppError;
use crate::state::AppState;

/// The shortest reason accepted: a sentence, not "x".
const MIN_REASON_CHARS: usize = 10;
/// The longest reason accepted.
const MAX_REASON_CHARS: usize = 2_000;

/// Puts message `reference` on legal hold for `user` (IG).
pub async fn place(
    state: &AppState,
    user: &UserRecord,
    meta: &RequestMeta,
    reference: &str,
    request: LifecycleRequest,
) -> Result<(), AppError> {
    let (facts, reason) = checked(state, user, reference, &request).await?;
    let event = event(state, user, meta, Action::MessageHoldPlaced, &facts);
    if state
        .store
        .place_legal_hold(facts.id, &reason, user.id, state.now_ms(), &event)
        .await?
    {
        tracing::info!(message = %facts.id, "legal hold placed");
        return Ok(());
    }
    Err(AppError::bad("already_held", "This message is already on legal hold."))
}

/// Lifts the legal hold on message `reference` for `user` (IG).
pub async fn lift(state: &AppState, user: &UserRecord, meta: &RequestMeta, reference: &str) -> Result<(), AppError> {
    let facts = facts(state, user, reference).await?;
    let event = event(state, user, meta, Action::MessageHoldLifted, &facts);
    if state.store.lift_legal_hold(facts.id, &event).await? {
        tracing::info!(message = %facts.id, "legal hold lifted");
        return Ok(());
    }
    Err(AppError::bad("not_held", "This message is not on legal hold."))
}

/// Erases message `reference` now for `user` (IG), then tells the DPO and the administrators.
pub async fn erase(
    state: &AppState,
    user: &UserRecord,
    meta: &RequestMeta,
    reference: &str,
    request: LifecycleRequest,
) -> Result<(), AppError> {
    let (facts, reason) = checked(state, user, reference, &request).await?;
    if state.store.legal_hold(facts.id).await?.is_some() {
        return Err(AppError::bad(
            "on_legal_hold",
            "This message is on legal hold: lift the hold first if it must be erased.",
        ));
    }
    let now = state.now_ms();
    let actor = Actor::User(user.id);
    let erased = retention::shred(
        &state.store,
        &state.blobs,
        facts.id,
        (ShredReason::Erased, Some(&reason)),
        (&actor, meta),
        now,
    )
    .await?;
    if !erased {
        // Held or erased meanwhile: say which.
        return Err(match state.store.legal_hold(facts.id).await? {
            Some(_) => AppError::bad("on_legal_hold", "This message was put on legal hold meanwhile: it was not erased."),
            None => gone(),
        });
    }
    state.message_keys.forget(facts.id);
    tracing::warn!(message = %facts.id, "message erased by IG");
    tell_dpo_and_admins(state, user, &facts, &reason, now).await;
    Ok(())
}

/// The DPO (if set) and every active administrator hear of an erasure. Best effort: the
/// erasure stands, and is on the audit log, even if an email fails.
async fn tell_dpo_and_admins(state: &AppState, user: &UserRecord, facts: &MessageFacts, reason: &str, now: i64) {
    let mut to: Vec<EmailAddress> = state.settings.dpo_email.iter().cloned().collect();
    match state.store.list_users().await {
        Ok(users) => to.extend(users.into_iter().filter(|u| u.role == Role::Admin && !u.disabled).map(|u| u.email)),
        Err(e) => tracing::warn!(error = %e, "erasure: the administrators could not be listed to be told"),
    }
    to.sort_by(|a, b| a.as_str().cmp(b.as_str()));
    to.dedup();
    for address in to {
        let notice = StaffNotice {
            to: address,
            subject: format!("Erased: secure message {}", facts.reference),
            text: format!(
                "{name} ({email}), an information governance officer, erased secure message {reference} (sent {sent}) at {at} (UTC). \
                 Its content, files and replies can no longer be opened by anyone; its record and audit trail remain.\n\nTheir reason:\n{reason}\n",
                name = user.display_name.as_str(),
                email = user.email,
                reference = facts.reference,
                sent = time::format_date(facts.created_at_ms),
                at = time::rfc3339(now),
            ),
            message_id: format!("<erased-{}@sealpost>", uuid::Uuid::new_v4()),
            in_reply_to: None,
        };
        if let Err(e) = state.mailer.send_notice(&notice).await {
            tracing::warn!(error = %e, "erasure: a notice to the DPO or an administrator was not sent");
        }
    }
}

/// The message `reference` names, for an IG officer; 410 if it was already deleted.
async fn facts(state: &AppState, user: &UserRecord, reference: &str) -> Result<MessageFacts, AppError> {
    require_ig(user)?;
    let facts = match Reference::parse_typed(reference) {
        Some(r) => state.store.message_facts(&r).await?,
        None => None,
    }
    .ok_or(AppError::NotFound)?;
    if facts.shredded.is_some() {
        return Err(gone());
    }
    Ok(facts)
}

/// [`facts`], and the request's reason, checked.
async fn checked(
    state: &AppState,
    user: &UserRecord,
    reference: &str,
    request: &LifecycleRequest,
) -> Result<(MessageFacts, String), AppError> {
    let facts = facts(state, user, reference).await?;
    let reason = request.reason.trim().to_owned();
    if !(MIN_REASON_CHARS..=MAX_REASON_CHARS).contains(&reason.chars().count()) {
        return Err(AppError::bad(
            "reason_required",
            format!("Give the reason, in {MIN_REASON_CHARS} to {MAX_REASON_CHARS} characters. It is kept on the record."),
        ));
    }
    Ok((facts, reason))
}

fn event(state: &AppState, user: &UserRecord, meta: &RequestMeta, action: Action, facts: &MessageFacts) -> AuditEvent {
    AuditEvent::new(
        state.now_ms(),
        &Actor::User(user.id),
        action,
        Some(Object::Message(facts.id)),
        Outcome::Success,
        meta.clone(),
    )
}

fn gone() -> AppError {
    AppError::Gone {
        code: "message_deleted",
        message: "This message has already been deleted for good.".into(),
    }
}
