//! The notification worker (SECURITY G3, G4). It claims due outbox rows: for a partner it opens
//! the sealed link token with the message key and sends the notification; for a colleague it
//! sends a notice that mail is waiting (no content). Transient failures (4xx, relay
//! unreachable) are retried with exponential backoff from 30 s to 1 h, for up to 72 hours;
//! permanent ones (5xx) are marked failed with the reason, which the sender sees.

use std::time::Duration;

use futures::StreamExt;
use sealpost_crypto::{Binding, ExposeSecret, ObjectKind};
use sealpost_domain::EmailAddress;
use sealpost_mail::{Notification, SendError, StaffNotice};
use sealpost_storage::{Delivery, DueNotification};
use tokio::sync::watch;

use crate::app::audit::{self, Action, Actor, Object, Origin, Outcome};
use crate::error::AppError;
use crate::state::AppState;

/// The most notifications claimed at once. They are sent over `SEALPOST_SMTP_CONNECTIONS`
/// pooled connections at a time (a relay's delayed ACK costs each message about 40 ms, so one
/// connection tops out near 25 a second), then recorded in one transaction: one commit for the
/// batch, not one per notification. A crash after the relay took them and before that commit
/// sends them again once their lease ends, each copy with the same Message-ID (SECURITY G4):
/// at most one batch of duplicates per crash, one copy of each. See [`batch_size`].
pub const BATCH: i64 = 128;

/// How many notifications one pass claims: as many rounds of the connections as fit in half
/// the lease with every send taking the whole [`sealpost_mail::SEND_TIMEOUT`] (at least one
/// round), and at most [`BATCH`]. So a batch is recorded before its lease can end, even
/// against a relay that answers nothing, and another worker never sends it a second time.
pub fn batch_size(connections: u32, lease_seconds: u32) -> i64 {
    let rounds = (u64::from(lease_seconds) / 2 / sealpost_mail::SEND_TIMEOUT.as_secs()).max(1);
    i64::try_from(rounds * u64::from(connections.max(1))).unwrap_or(BATCH).min(BATCH)
}

/// Transient failures are retried for this long after the first try.
pub const GIVE_UP_MS: i64 = 72 * 3_600_000;
const IDLE_POLL: Duration = Duration::from_secs(30);

/// Runs until `stop` turns true, finishing the batch in hand first (SECURITY G7).
pub async fn run(state: AppState, mut stop: watch::Receiver<bool>) {
    loop {
        if let Err(e) = deliver_due(&state).await {
            tracing::warn!(error = %e, "outbox pass failed; retrying later");
        }
        let next = match (
            state.store.next_notification_due().await,
            state.store.next_account_email_due().await,
            state.store.next_release().await,
        ) {
            (Ok(a), Ok(b), Ok(c)) => a.into_iter().chain(b).chain(c).min(),
            _ => None,
        };
        let wait = match next {
            Some(at) => Duration::from_millis(u64::try_from(at - state.now_ms()).unwrap_or(0)).min(IDLE_POLL),
            None => IDLE_POLL,
        };
        tokio::select! {
            () = state.outbox_wake.notified() => {}
            () = tokio::time::sleep(wait) => {}
            _ = stop.changed() => return,
        }
        if *stop.borrow() {
            return;
        }
    }
}

/// Releases the messages whose undo window has ended, on its own, until `stop` turns true:
/// colleagues see them on time even while the relay is slow, and on an instance that sends no
/// mail. It looks at most every second (one indexed query), sooner when a window ends sooner.
pub async fn release(state: AppState, mut stop: watch::Receiver<bool>) {
    const MOST: Duration = Duration::from_secs(1);
    loop {
        // A read first: the write (and on SQLite its lock) only when a window has ended.
        let next = state.store.next_release().await;
        if let Ok(Some(at)) = next
            && at <= state.now_ms()
            && let Err(e) = state.store.release_held(state.now_ms()).await
        {
            tracing::warn!(error = %e, "releasing held messages failed; retrying");
        }
        let wait = match next {
            Ok(Some(at)) => Duration::from_millis(u64::try_from(at - state.now_ms()).unwrap_or(0)).clamp(Duration::from_millis(50), MOST),
            _ => MOST,
        };
        tokio::select! {
            () = tokio::time::sleep(wait) => {}
            _ = stop.changed() => return,
        }
        if *stop.borrow() {
            return;
        }
    }
}

/// Releases the messages whose undo window has ended (their recipients see them from now on),
/// then sends every notification and account email due now; returns how many were sent.
pub async fn deliver_due(state: &AppState) -> Result<usize, AppError> {
    state.store.release_held(state.now_ms()).await?;
    // Account emails must never hold up notifications, nor the other way round.
    let accounts = super::account_mail::deliver_due(state).await;
    let notifications = deliver_due_notifications(state).await?;
    Ok(accounts? + notifications)
}

async fn deliver_due_notifications(state: &AppState) -> Result<usize, AppError> {
    let (connections, lease) = (state.settings.smtp_connections, state.settings.outbox_lease_seconds);
    let batch = batch_size(connections, lease);
    let due = state
        .store
        .claim_due_notifications(state.now_ms(), i64::from(lease) * 1000, batch)
        .await?;
    let at_once = usize::try_from(connections.max(1)).unwrap_or(1);
    let claimed = due.len();
    let attempts = due.into_iter().map(|n| async move { attempt(state, &n).await.map(|d| (n, d)) });
    let done: Vec<(DueNotification, Delivery)> = futures::stream::iter(attempts)
        .buffer_unordered(at_once)
        .filter_map(std::future::ready)
        .collect()
        .await;
    record(state, &done).await?;
    let origin = Origin::default();
    let records = done.iter().filter_map(|(n, delivery)| {
        let (action, outcome) = match delivery {
            Delivery::Sent => (Action::NotificationSent, Outcome::Success),
            Delivery::Failed(_) => (Action::NotificationFailed, Outcome::Failure),
            Delivery::Retry { .. } => return None,
        };
        let object = Some(Object::Recipient(n.message_id, n.address.clone()));
        Some(audit::record(state, &origin, &Actor::System, action, object, outcome))
    });
    // Concurrent, so the audit writer commits them together.
    futures::future::join_all(records)
        .await
        .into_iter()
        .collect::<Result<Vec<()>, AppError>>()?;
    Ok(claimed)
}

/// Records a sent batch. The relay has them all, so a failed commit (a busy or briefly
/// unreachable database) is tried again, then row by row: one row that cannot be written must
/// not send the rest a second time when their lease ends.
async fn record(state: &AppState, done: &[(DueNotification, Delivery)]) -> Result<(), AppError> {
    for wait_ms in [0, 250, 1000] {
        tokio::time::sleep(Duration::from_millis(wait_ms)).await;
        match state.store.finish_notifications(done).await {
            Ok(()) => return Ok(()),
            Err(e) => tracing::warn!(error = %e, rows = done.len(), "recording sent notifications failed; trying again"),
        }
    }
    let mut failed = None;
    for row in done {
        if let Err(e) = state.store.finish_notifications(std::slice::from_ref(row)).await {
            tracing::error!(error = %e, "a sent notification could not be recorded; it goes out again when its lease ends");
            failed = Some(e);
        }
    }
    failed.map_or(Ok(()), |e| Err(e.into()))
}

/// Tries one claimed notification: what became of it, or `None` when it is no longer ours to
/// send (revoked or taken over since it was claimed, or its state could not be read: then its
/// lease brings it back). One that cannot be prepared fails on its own; the batch goes on.
async fn attempt(state: &AppState, n: &DueNotification) -> Option<Delivery> {
    match state.store.notification_still_live(n).await {
        Ok(true) => {}
        Ok(false) => return None,
        Err(e) => {
            tracing::warn!(error = %e, "could not check a notification before sending; it goes out when its lease ends");
            return None;
        }
    }
    let email = match compose(state, n) {
        Ok(email) => email,
        Err(e) => {
            tracing::error!(error = %e, "notification could not be prepared");
            return Some(Delivery::Failed(
                "Sealpost could not prepare the notification; ask IT to check the server log".into(),
            ));
        }
    };
    let outcome = match &email {
        Outgoing::Partner(notification) => state.mailer.send(notification).await,
        Outgoing::Colleague(notice) => state.mailer.send_notice(notice).await,
    };
    Some(match outcome {
        Ok(()) => {
            crate::metrics::notification("sent");
            Delivery::Sent
        }
        Err(SendError::Transient(reason)) if state.now_ms() - n.first_queued_at_ms < GIVE_UP_MS => {
            tracing::info!(attempt = n.attempts + 1, reason, "notification deferred");
            crate::metrics::notification("retry");
            Delivery::Retry {
                at_ms: state.now_ms() + backoff_ms(n.attempts),
                reason,
            }
        }
        Err(SendError::Transient(reason) | SendError::Permanent(reason)) => {
            tracing::warn!(reason, "notification failed");
            crate::metrics::notification("failed");
            Delivery::Failed(reason)
        }
    })
}

/// What an outbox row sends.
enum Outgoing {
    /// A partner's notification, with their secure link.
    Partner(Notification),
    /// A colleague's notice that secure mail is waiting in Sealpost.
    Colleague(StaffNotice),
}

fn compose(state: &AppState, n: &DueNotification) -> Result<Outgoing, AppError> {
    let to = n.address.clone();
    let Some(sealed_link) = &n.sealed_link else {
        // Names the message, so an answer from Outlook continues the conversation.
        let message_id = crate::app::notices::about_message("notice", n.message_id, n.outbox_id);
        return Ok(Outgoing::Colleague(colleague_notice(state, n, to, message_id)));
    };
    let message_id = format!("<{}@sealpost>", n.outbox_id);
    let key = state.keyring.unwrap(&n.key, n.message_id.0)?;
    let token = key.open(Binding::new(ObjectKind::LinkToken, n.recipient_id.0), sealed_link)?;
    let token = std::str::from_utf8(token.expose_secret()).map_err(|e| AppError::Internal(e.into()))?;
    Ok(Outgoing::Partner(Notification {
        to,
        sender_name: n.sender_name.clone(),
        sender_email: n.sender_email.clone(),
        sender_phone: n.sender_phone.clone(),
        organisation: state.settings.org_name.clone(),
        marking: n.marking,
        reference: n.reference.clone(),
        link: format!("{}/s/{token}", state.settings.public_url),
        expires: sealpost_domain::time::format_date(n.expires_at_ms),
        message_id,
    }))
}

/// A colleague's notice: who, the marking, the reference and where to read it; never the
/// subject, body or files (SECURITY B5 holds for colleagues too).
fn colleague_notice(state: &AppState, n: &DueNotification, to: EmailAddress, message_id: String) -> StaffNotice {
    let link = format!("{}/messages/{}", state.settings.public_url, n.message_id);
    StaffNotice {
        to,
        subject: format!("Secure message from {} [{}] {}", n.sender_name, n.marking.label(), n.reference),
        text: format!(
            "{sender} has sent you a secure message in Sealpost.\n\n\
             Marking:   {marking}\nReference: {reference}\n\n\
             Read it here (you may need to sign in):\n{link}\n\n\
             The message itself stays in Sealpost. To stop these emails, untick \"Email me when secure mail arrives\" on your Inbox page.\n",
            sender = n.sender_name,
            marking = n.marking.label(),
            reference = n.reference,
        ),
        message_id,
        in_reply_to: None,
    }
}

/// 30 s, 1 min, 2 min, … capped at 1 hour.
pub fn backoff_ms(attempts: i64) -> i64 {
    let shift = u32::try_from(attempts.clamp(0, 20)).unwrap_or(20);
    (30_000i64 << shift).min(3_600_000)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_batch_fits_in_half_its_lease_with_every_send_timing_out() {
        assert_eq!(batch_size(32, 300), 128, "five rounds of 32, capped");
        assert_eq!(batch_size(8, 300), 40);
        assert_eq!(batch_size(1, 300), 5);
        assert_eq!(batch_size(8, 2), 8, "a short lease: one round");
        assert_eq!(batch_size(0, 0), 1);
    }

    #[test]
    fn backoff_doubles_from_thirty_seconds_to_an_hour() {
        assert_eq!(backoff_ms(0), 30_000);
        assert_eq!(backoff_ms(1), 60_000);
        assert_eq!(backoff_ms(6), 1_920_000);
        assert_eq!(backoff_ms(7), 3_600_000);
        assert_eq!(backoff_ms(500), 3_600_000);
    }
}
