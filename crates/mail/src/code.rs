//! The one-time code email (SECURITY B3): the six digits, how long they work, and the message's
//! reference so the recipient can tie it to the notification. Never any content.

use lettre::message::{Mailbox, header::ContentType};
use sealpost_domain::{EmailAddress, Reference};

use crate::MailError;

/// A code to email to a recipient who asked for one.
#[derive(Clone)]
pub struct CodeEmail {
    /// The recipient.
    pub to: EmailAddress,
    /// The six digits. Secret: never logged, and left out of `Debug`.
    pub code: String,
    /// The message's reference, as in the notification.
    pub reference: Reference,
    /// The council.
    pub organisation: String,
    /// Minutes the code works for.
    pub minutes: u32,
    /// A unique Message-ID.
    pub message_id: String,
}

impl std::fmt::Debug for CodeEmail {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CodeEmail")
            .field("reference", &self.reference)
            .finish_non_exhaustive()
    }
}

impl CodeEmail {
    /// The plain-text body.
    pub fn text(&self) -> String {
        format!(
            "Your Sealpost confirmation code is:\n\n    {code}\n\nIt works for {minutes} minutes, once, in the browser where you asked for it.\n\
             It is for the secure message with reference {reference} from {org}.\n\n\
             If you did not ask for a code, you can ignore this email. Never share the code with anyone.\n",
            code = self.code,
            minutes = self.minutes,
            reference = self.reference,
            org = self.organisation,
        )
    }

    /// The whole email, from `from`.
    pub fn build(&self, from: &str) -> Result<lettre::Message, MailError> {
        let from: Mailbox = from.parse().map_err(|_| MailError::Address("the From address"))?;
        let to: Mailbox = self.to.as_str().parse().map_err(|_| MailError::Address("the recipient address"))?;
        lettre::Message::builder()
            .from(from)
            .to(to)
            .subject(format!("Your Sealpost confirmation code ({})", self.reference))
            .message_id(Some(self.message_id.clone()))
            .header(ContentType::TEXT_PLAIN)
            .body(self.text())
            .map_err(|e| MailError::Build(e.to_string()))
    }
}
