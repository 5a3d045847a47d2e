//! The invitation an administrator sends a new member of staff: who invited them to which
//! council's Sealpost, and the one-time link where they choose a password. The link is a
//! secret: never logged, and left out of `Debug`.

use sealpost_domain::EmailAddress;

use crate::StaffNotice;

/// An account set-up invitation.
#[derive(Clone)]
pub struct InviteEmail {
    /// The new member of staff.
    pub to: EmailAddress,
    /// Their name, as the administrator entered it.
    pub name: String,
    /// The council.
    pub organisation: String,
    /// The one-time set-up link.
    pub link: String,
    /// Hours the link works for.
    pub hours: u32,
    /// A unique Message-ID.
    pub message_id: String,
}

impl std::fmt::Debug for InviteEmail {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InviteEmail")
            .field("message_id", &self.message_id)
            .finish_non_exhaustive()
    }
}

impl InviteEmail {
    /// The plain-text body.
    pub fn text(&self) -> String {
        format!(
            "Hello {name},\n\n\
             You have a Sealpost account at {organisation}, for sending and receiving secure email.\n\
             Choose your password here (the link works once, for {hours} hours):\n\n    {link}\n\n\
             Your sign-in name is {to}.\n\n\
             If you did not expect this, tell your IT team and do not use the link.\n",
            name = self.name,
            organisation = self.organisation,
            hours = self.hours,
            link = self.link,
            to = self.to,
        )
    }

    /// The email itself, a plain notice to its addressee.
    pub fn notice(&self) -> StaffNotice {
        StaffNotice {
            to: self.to.clone(),
            subject: format!("Your Sealpost account at {}", self.organisation),
            text: self.text(),
            message_id: self.message_id.clone(),
            in_reply_to: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_invitation_holds_the_link_and_the_sign_in_name_and_keeps_the_link_out_of_debug() {
        let invite = InviteEmail {
            to: EmailAddress::parse("dee@testshire.gov.uk").unwrap(),
            name: "Dee Patel".into(),
            organisation: "Testshire County Council".into(),
            link: "https://mail.testshire.gov.uk/setup/abc123".into(),
            hours: 72,
            message_id: "<invite-1@sealpost>".into(),
        };
        let text = invite.text();
        assert!(text.contains("https://mail.testshire.gov.uk/setup/abc123"));
        assert!(text.contains("Your sign-in name is dee@testshire.gov.uk."));
        assert!(text.contains("for 72 hours"));
        assert!(!format!("{invite:?}").contains("abc123"));
        let notice = invite.notice();
        assert_eq!(notice.subject, "Your Sealpost account at Testshire County Council");
        assert!(!format!("{notice:?}").contains("abc123"), "nor in the notice's");
    }
}
