//! The notification email: plain text and HTML, with nothing from the message itself.

use lettre::message::{Mailbox, MultiPart, header::ContentType};
use sealpost_domain::{EmailAddress, Marking, PhoneNumber, Reference};

use crate::MailError;

/// Everything a notification may say, and nothing more. `Debug` leaves out the link (it holds
/// a bearer token).
#[derive(Clone)]
pub struct Notification {
    /// The recipient.
    pub to: EmailAddress,
    /// The sending staff member's name.
    pub sender_name: String,
    /// Their address: whom the recipient contacts about the message.
    pub sender_email: EmailAddress,
    /// Their telephone number, if they have one on record.
    pub sender_phone: Option<PhoneNumber>,
    /// The council.
    pub organisation: String,
    /// The message's marking.
    pub marking: Marking,
    /// The message's reference code.
    pub reference: Reference,
    /// The secure link. It carries a bearer token: it goes in the email and nowhere else.
    pub link: String,
    /// When the link stops working, as a date people read ("12 December 2026").
    pub expires: String,
    /// Stable per outbox row, so a retry after a crash is recognisable (SECURITY G4).
    pub message_id: String,
}

impl std::fmt::Debug for Notification {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Notification")
            .field("reference", &self.reference)
            .field("message_id", &self.message_id)
            .finish_non_exhaustive()
    }
}

impl Notification {
    /// The email's subject: who and which council, never the message's own subject.
    pub fn subject(&self) -> String {
        format!(
            "Secure message from {} ({}) [{}]",
            self.sender_name,
            self.organisation,
            self.marking.label()
        )
    }

    /// The plain-text part.
    pub fn text(&self) -> String {
        let passphrase = match self.marking {
            Marking::OfficialSensitive => "\nThis message is OFFICIAL-SENSITIVE: the sender will also give you a passphrase by phone.\n",
            Marking::Official => "",
        };
        format!(
            "{sender} of {org} has sent you a secure message.\n\n\
             Marking:   {marking}\nReference: {reference}\n\n\
             Open it here:\n{link}\n\n\
             To open it you will confirm your email address with a one-time code.{passphrase}\n\
             The link works until {expires}. If you were not expecting this message, or have a question about it, contact \
             {sender} at {email}{phone} and quote the reference.\n\
             Sealpost will never ask for a password by email.\n",
            sender = self.sender_name,
            email = self.sender_email,
            phone = self.sender_phone.as_ref().map(|p| format!(" or on {p}")).unwrap_or_default(),
            org = self.organisation,
            marking = self.marking.label(),
            reference = self.reference,
            link = self.link,
            expires = self.expires,
        )
    }

    /// The HTML part: the same words, escaped.
    pub fn html(&self) -> String {
        let e = escape;
        let passphrase = match self.marking {
            Marking::OfficialSensitive => "<p>This message is OFFICIAL-SENSITIVE: the sender will also give you a passphrase by phone.</p>",
            Marking::Official => "",
        };
        format!(
            "<!doctype html><html lang=\"en-GB\"><body style=\"font-family:Arial,sans-serif;font-size:16px;color:#1b1f23\">\
             <p><strong>{sender}</strong> of {org} has sent you a secure message.</p>\
             <p>Marking: <strong>{marking}</strong><br>Reference: <strong>{reference}</strong></p>\
             <p><a href=\"{link}\" style=\"display:inline-block;background:#0b4f6c;color:#ffffff;padding:10px 18px;text-decoration:none;border-radius:4px\">Open the secure message</a></p>\
             <p>To open it you will confirm your email address with a one-time code.</p>{passphrase}\
             <p>The link works until {expires}. If you were not expecting this message, or have a question about it, contact \
             {sender} at {email}{phone} and quote the reference.</p>\
             <p>Sealpost will never ask for a password by email.</p></body></html>",
            sender = e(&self.sender_name),
            email = e(self.sender_email.as_str()),
            phone = self
                .sender_phone
                .as_ref()
                .map(|p| format!(" or on {}", e(p.as_str())))
                .unwrap_or_default(),
            org = e(&self.organisation),
            marking = self.marking.label(),
            reference = e(self.reference.as_str()),
            link = e(&self.link),
            expires = e(&self.expires),
        )
    }

    /// The whole email, from `from`, shown as "Sam Sender via Testshire County Council" so
    /// the recipient sees who it is from before opening it.
    pub fn build(&self, from: &str) -> Result<lettre::Message, MailError> {
        let from: Mailbox = from.parse().map_err(|_| MailError::Address("the From address"))?;
        // Names come from validated types; control characters are dropped here all the same,
        // since a display name is a header value.
        let shown: String = format!("{} via {}", self.sender_name, self.organisation)
            .chars()
            .filter(|c| !c.is_control())
            .collect();
        let from = Mailbox::new(Some(shown), from.email);
        let to: Mailbox = self.to.as_str().parse().map_err(|_| MailError::Address("the recipient address"))?;
        lettre::Message::builder()
            .from(from)
            .to(to)
            .subject(self.subject())
            .message_id(Some(self.message_id.clone()))
            .multipart(
                MultiPart::alternative()
                    .singlepart(
                        lettre::message::SinglePart::builder()
                            .header(ContentType::TEXT_PLAIN)
                            .body(self.text()),
                    )
                    .singlepart(
                        lettre::message::SinglePart::builder()
                            .header(ContentType::TEXT_HTML)
                            .body(self.html()),
                    ),
            )
            .map_err(|e| MailError::Build(e.to_string()))
    }
}

fn escape(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '&' => "&amp;".to_owned(),
            '<' => "&lt;".to_owned(),
            '>' => "&gt;".to_owned(),
            '"' => "&quot;".to_owned(),
            '\'' => "&#39;".to_owned(),
            c => c.to_string(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(sender: &str) -> Notification {
        Notification {
            to: EmailAddress::parse("pc.smith@police.example.uk").unwrap(),
            sender_name: sender.into(),
            sender_email: EmailAddress::parse("ann.lee@testshire.gov.uk").unwrap(),
            sender_phone: Some(PhoneNumber::parse("01632 960123").unwrap()),
            organisation: "Testshire <County> Council".into(),
            marking: Marking::OfficialSensitive,
            reference: Reference::from_stored("SP-ABCD-EFGH".into()),
            link: "https://mail.testshire.gov.uk/s/0123abcd".into(),
            expires: "12 December 2026".into(),
            message_id: "<0000@sealpost>".into(),
        }
    }

    #[test]
    fn the_notification_names_sender_marking_reference_and_link() {
        let n = sample("Ann Lee");
        let raw = String::from_utf8(n.build("sealpost@testshire.gov.uk").unwrap().formatted()).unwrap();
        for part in [n.text(), n.html()] {
            for needle in [
                "Ann Lee",
                "OFFICIAL-SENSITIVE",
                "SP-ABCD-EFGH",
                "https://mail.testshire.gov.uk/s/0123abcd",
                "passphrase by phone",
                "contact Ann Lee at ann.lee@testshire.gov.uk or on 01632 960123",
            ] {
                assert!(part.contains(needle), "missing {needle}");
            }
        }
        assert!(raw.contains("Subject: Secure message from Ann Lee"));
        assert!(raw.contains("Message-ID: <0000@sealpost>"));
        assert!(n.html().contains("Testshire &lt;County&gt; Council"), "HTML is escaped");
        let mut plain = sample("Ann Lee");
        plain.organisation = "Testshire County Council".into();
        let raw = String::from_utf8(plain.build("sealpost@testshire.gov.uk").unwrap().formatted()).unwrap();
        assert!(
            raw.contains("From: \"Ann Lee via Testshire County Council\" <sealpost@testshire.gov.uk>"),
            "{raw}"
        );
    }

    #[test]
    fn a_crlf_in_a_name_cannot_add_a_header() {
        let n = sample("Ann\r\nBcc: attacker@evil.example");
        let raw = String::from_utf8(n.build("sealpost@testshire.gov.uk").unwrap().formatted()).unwrap();
        let headers = raw.split("\r\n\r\n").next().unwrap();
        assert!(!headers.lines().any(|l| l.to_ascii_lowercase().starts_with("bcc:")), "{headers}");
    }
}
