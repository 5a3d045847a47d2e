//! Short notices to staff about their own messages (e.g. a recipient locked out). They name the
//! reference and the recipient's address, never the message's content.

use lettre::message::{Mailbox, header::ContentType};
use sealpost_domain::EmailAddress;

use crate::MailError;

/// A plain-text notice to a member of staff. Its text may hold a one-time link (an
/// invitation), so `Debug` shows only whom it is to and its subject.
#[derive(Clone)]
pub struct StaffNotice {
    /// The staff member.
    pub to: EmailAddress,
    /// One line.
    pub subject: String,
    /// The text.
    pub text: String,
    /// A unique Message-ID.
    pub message_id: String,
    /// The Message-ID of the sender's own email this answers (a receipt for mail sent from
    /// Outlook), so their mail client shows the two together.
    pub in_reply_to: Option<String>,
}

impl std::fmt::Debug for StaffNotice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StaffNotice")
            .field("to", &self.to)
            .field("subject", &self.subject)
            .finish_non_exhaustive()
    }
}

impl StaffNotice {
    /// The whole email, from `from`.
    pub fn build(&self, from: &str) -> Result<lettre::Message, MailError> {
        let from: Mailbox = from.parse().map_err(|_| MailError::Address("the From address"))?;
        let to: Mailbox = self.to.as_str().parse().map_err(|_| MailError::Address("the staff address"))?;
        let mut builder = lettre::Message::builder()
            .from(from)
            .to(to)
            .subject(self.subject.clone())
            .message_id(Some(self.message_id.clone()));
        if let Some(id) = &self.in_reply_to {
            builder = builder.in_reply_to(id.clone()).references(id.clone());
        }
        builder
            .header(ContentType::TEXT_PLAIN)
            .body(self.text.clone())
            .map_err(|e| MailError::Build(e.to_string()))
    }
}
