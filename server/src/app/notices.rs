//! Short emails to the sender about their own message: a recipient was locked out, or sent a
//! secure reply. They name the reference and the recipient's address, never any content.
//! Best effort: what they report stands, and shows in Sealpost, even if the email fails.

use sealpost_mail::StaffNotice;
use sealpost_storage::LinkRecord;

use crate::state::AppState;

/// Emails the sender of `link`'s message; `kind` names the notice in its Message-ID and in a
/// warning if it cannot be sent.
pub async fn tell_sender(state: &AppState, link: &LinkRecord, kind: &'static str, subject: String, text: String) {
    let notice = StaffNotice {
        to: link.sender_email.clone(),
        subject,
        text,
        message_id: format!("<{kind}-{}@sealpost>", uuid::Uuid::new_v4()),
    };
    if let Err(e) = state.mailer.send_notice(&notice).await {
        tracing::warn!(error = %e, notice = kind, "notice to the sender not sent");
    }
}
