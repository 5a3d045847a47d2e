//! Short emails to the sender about their own message: a recipient was locked out, or sent a
//! secure reply. They name the reference and the recipient's address, never any content.
//! Best effort: what they report stands, and shows in Sealpost, even if the email fails.

use sealpost_domain::MessageId;
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
        message_id: about_message(kind, link.message_id, uuid::Uuid::new_v4()),
        in_reply_to: None,
    };
    if let Err(e) = state.mailer.send_notice(&notice).await {
        tracing::warn!(error = %e, notice = kind, "notice to the sender not sent");
    }
}

/// The Message-ID of an email to staff about `message`: unique, and naming the message, so an
/// answer written in Outlook (its In-Reply-To or References) continues that conversation when
/// it comes back through the intake.
pub fn about_message(kind: &str, message: MessageId, unique: impl std::fmt::Display) -> String {
    format!("<{kind}-{unique}.m-{message}@sealpost>")
}

/// The message an email to staff was about, from its Message-ID (with or without the angle
/// brackets); `None` for any other id.
pub fn message_about(id: &str) -> Option<MessageId> {
    let local = id.trim().trim_start_matches('<').trim_end_matches('>').strip_suffix("@sealpost")?;
    let (_, message) = local.rsplit_once(".m-")?;
    message.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_notice_id_names_its_message_and_nothing_else_does() {
        let message = MessageId(uuid::Uuid::new_v4());
        let id = about_message("reply", message, 7);
        assert_eq!(message_about(&id), Some(message));
        assert_eq!(message_about(id.trim_matches(['<', '>'])), Some(message));
        assert_eq!(message_about("<1234@sealpost>"), None);
        assert_eq!(message_about(&format!("<x.m-{}@elsewhere.org>", message.0)), None);
        assert_eq!(message_about("<x.m-not-a-uuid@sealpost>"), None);
    }
}
