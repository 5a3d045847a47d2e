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
    /// The message's reference, as in the notification; `None` for a code to write a new
    /// message to the council (`/write`).
    pub reference: Option<Reference>,
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
             {purpose}\n\n\
             If you did not ask for a code, you can ignore this email. Never share the code with anyone.\n",
            code = self.code,
            minutes = self.minutes,
            purpose = match &self.reference {
                Some(reference) => format!(
                    "It is for the secure message with reference {reference} from {}.",
                    self.organisation
                ),
                None => format!("It is for writing a secure message to {}.", self.organisation),
            },
        )
    }

    /// The whole email, from `from`.
    pub fn build(&self, from: &str) -> Result<lettre::Message, MailError> {
        let from: Mailbox = from.parse().map_err(|_| MailError::Address("the From address"))?;
        let to: Mailbox = self.to.as_str().parse().map_err(|_| MailError::Address("the recipient address"))?;
        lettre::Message::builder()
            .from(from)
            .to(to)
            .subject(match &self.reference {
                Some(reference) => format!("Your Sealpost confirmation code ({reference})"),
                None => "Your Sealpost confirmation code".to_owned(),
            })
            .message_id(Some(self.message_id.clone()))
            .header(ContentType::TEXT_PLAIN)
            .body(self.text())
            .map_err(|e| MailError::Build(e.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(reference: Option<Reference>) -> CodeEmail {
        CodeEmail {
            to: EmailAddress::parse("gp@nhs.example.uk").unwrap(),
            code: "123456".into(),
            reference,
            organisation: "Testshire County Council".into(),
            minutes: 10,
            message_id: "<c@sealpost>".into(),
        }
    }

    #[test]
    fn a_code_names_the_message_it_opens_or_says_it_is_for_writing_to_the_council() {
        let opening = code(Some(Reference::from_stored("SP-ABCD-EFGH".into())));
        assert!(opening.text().contains("reference SP-ABCD-EFGH from Testshire County Council"));
        let writing = code(None);
        assert!(
            writing
                .text()
                .contains("It is for writing a secure message to Testshire County Council.")
        );
        assert!(writing.text().contains("123456"));
        assert!(!format!("{writing:?}").contains("123456"), "the code is never in Debug");
    }
}
