//! Delivery reports (issue 18). The council's relay returns a bounce for one of our
//! notifications to `SEALPOST_MAIL_FROM`, which Exchange routes to the intake with an empty
//! envelope sender. The report names the notification by its Message-ID (`<outbox-id@sealpost>`,
//! unguessable): its recipient is marked failed with the remote server's words, which the
//! sender sees on the message page; the sender is emailed, and `notification.bounced` audited.
//!
//! A report is always taken (250), even one about nothing of ours, so the relay never bounces
//! a bounce; only a fault of ours answers 451, for it to come again.

use sealpost_mail::StaffNotice;
use sealpost_mail::intake::DeliveryReport;
use uuid::Uuid;

use crate::app::audit::{self, Action, Actor, Object, Outcome, RequestMeta};
use crate::app::notices;
use crate::error::AppError;
use crate::state::AppState;

/// The most of a remote server's diagnostic that is kept and shown.
const MAX_DIAGNOSTIC: usize = 300;

/// Takes in `report`: the words of the SMTP reply.
pub async fn take(state: &AppState, meta: &RequestMeta, report: DeliveryReport) -> Result<String, AppError> {
    let Some(failed) = report.failed.first() else {
        return Ok("Delivery report noted (nothing failed)".into());
    };
    let detail = detail(failed.diagnostic.as_deref(), &failed.status);
    let mut marked = 0;
    for outbox in report.original_ids.iter().filter_map(|id| notification_of(id)) {
        let Some(bounced) = state.store.mark_notification_bounced(outbox, &detail).await? else {
            continue;
        };
        if !bounced.changed {
            continue;
        }
        marked += 1;
        crate::metrics::notification("bounced");
        tracing::info!(message = %bounced.message_id, "a notification bounced; its recipient is marked failed");
        audit::record(
            state,
            meta,
            &Actor::System,
            Action::NotificationBounced,
            Some(Object::Recipient(bounced.message_id, bounced.address.clone())),
            Outcome::Failure,
        )
        .await?;
        let notice = StaffNotice {
            to: bounced.sender_email.clone(),
            subject: format!("Not delivered: {} to {}", bounced.reference, bounced.address),
            text: format!(
                "The email telling {address} about your secure message {reference} could not be delivered.\n\n\
                 {detail}\n\n\
                 They have not been told about the message. Check the address with them, then send the message again to the right address from Sealpost:\n\
                 {url}/messages/{id}\n",
                address = bounced.address,
                reference = bounced.reference,
                url = state.settings.public_url,
                id = bounced.message_id,
            ),
            message_id: notices::about_message("bounce", bounced.message_id, Uuid::new_v4()),
            in_reply_to: None,
        };
        if let Err(e) = state.mailer.send_notice(&notice).await {
            tracing::warn!(error = %e, "the sender was not emailed about a bounce; it shows in Sealpost");
        }
    }
    if marked == 0 {
        tracing::info!("a delivery report about no notification of ours still waiting was set aside");
    }
    Ok("Delivery report noted".into())
}

/// The notification a Message-ID of ours names: a partner's notification is `<outbox-id@sealpost>`.
fn notification_of(id: &str) -> Option<Uuid> {
    let local = id.trim().trim_start_matches('<').trim_end_matches('>').strip_suffix("@sealpost")?;
    local.parse().ok()
}

/// What the sender is shown: the remote server's words, on one line and cut short.
fn detail(diagnostic: Option<&str>, status: &str) -> String {
    let said: String = match diagnostic {
        Some(words) => words.chars().filter(|c| !c.is_control()).take(MAX_DIAGNOSTIC).collect(),
        None => format!("status {status}"),
    };
    format!("Bounced: the recipient's mail server said “{said}”")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_partner_notification_id_names_an_outbox_row() {
        let id = Uuid::new_v4();
        assert_eq!(notification_of(&format!("<{id}@sealpost>")), Some(id));
        assert_eq!(notification_of(&format!("{id}@sealpost")), Some(id));
        assert_eq!(notification_of(&format!("<{id}@elsewhere.org>")), None);
        assert_eq!(notification_of(&format!("<notice-{id}.m-{id}@sealpost>")), None);
    }

    #[test]
    fn the_detail_is_one_short_line() {
        let long = format!("550 {}\r\nX-Injected: yes", "a".repeat(1000));
        let shown = detail(Some(&long), "5.1.1");
        assert!(!shown.contains('\n') && !shown.contains('\r'));
        assert!(shown.chars().count() < MAX_DIAGNOSTIC + 60);
        assert!(detail(None, "5.1.1").contains("status 5.1.1"));
    }
}
