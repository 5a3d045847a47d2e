//! Sends account emails (set-up invitations from the admin console) queued in their own outbox,
//! beside the notification outbox and with its rules: claimed under a lease, retried with the
//! same backoff for up to 72 hours when the relay is down, given up on a permanent refusal,
//! which the admin console then shows. The set-up link is made just before the email goes, so
//! no secret waits in the database; a retry makes a fresh one.

use sealpost_mail::{InviteEmail, SendError};
use sealpost_storage::{AccountEmailOutcome, DueAccountEmail};

use crate::app::admin::{SETUP_LINK_HOURS, new_setup_link};
use crate::app::audit::{self, Action, Actor, Object, Origin, Outcome};
use crate::error::AppError;
use crate::state::AppState;
use crate::workers::outbox::{GIVE_UP_MS, backoff_ms};

const BATCH: i64 = 10;

/// Sends every account email due now; returns how many were handled.
pub async fn deliver_due(state: &AppState) -> Result<usize, AppError> {
    let lease_ms = i64::from(state.settings.outbox_lease_seconds) * 1000;
    let due = state.store.claim_due_account_emails(state.now_ms(), lease_ms, BATCH).await?;
    for email in &due {
        let outcome = match deliver(state, email).await {
            Ok(outcome) => outcome,
            // The database or the audit log failed us: try again later, as for a relay fault.
            Err(e) => {
                tracing::warn!(error = %e, "account email not sent; trying again later");
                let reason = "Sealpost could not send the email just now".to_owned();
                if state.now_ms() - email.first_queued_at_ms < GIVE_UP_MS {
                    AccountEmailOutcome::Retry(state.now_ms() + backoff_ms(email.attempts), reason)
                } else {
                    AccountEmailOutcome::Failed(reason)
                }
            }
        };
        state.store.settle_account_email(email, &outcome).await?;
    }
    Ok(due.len())
}

async fn deliver(state: &AppState, e: &DueAccountEmail) -> Result<AccountEmailOutcome, AppError> {
    if e.user.password_hash.is_some() || e.user.disabled {
        // Set up (or disabled) since it was queued: nothing to invite them to.
        return Ok(AccountEmailOutcome::Failed("no longer needed".into()));
    }
    let invite = InviteEmail {
        to: e.user.email.clone(),
        name: e.user.display_name.as_str().to_owned(),
        organisation: state.settings.org_name.clone(),
        link: new_setup_link(&state.store, &state.settings.public_url, e.user.id, state.now_ms()).await?,
        hours: SETUP_LINK_HOURS,
        message_id: format!("<invite-{}@sealpost>", e.id),
    };
    let object = Some(Object::Person(e.user.email.clone()));
    let origin = Origin::default();
    Ok(match state.mailer.send_notice(&invite.notice()).await {
        Ok(()) => {
            audit::record(state, &origin, &Actor::System, Action::NotificationSent, object, Outcome::Success).await?;
            AccountEmailOutcome::Sent
        }
        Err(SendError::Transient(reason)) if state.now_ms() - e.first_queued_at_ms < GIVE_UP_MS => {
            tracing::info!(attempt = e.attempts + 1, reason, "invitation deferred");
            AccountEmailOutcome::Retry(state.now_ms() + backoff_ms(e.attempts), reason)
        }
        Err(SendError::Transient(reason) | SendError::Permanent(reason)) => {
            tracing::warn!(reason, "invitation failed");
            audit::record(state, &origin, &Actor::System, Action::NotificationFailed, object, Outcome::Failure).await?;
            AccountEmailOutcome::Failed(reason)
        }
    })
}
