//! Messages: ids, protective markings, reference codes, and the limits that apply to content
//! (SECURITY D5, D6).

use serde::{Deserialize, Serialize};
use uuid::Uuid;

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub Uuid);

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                self.0.fmt(f)
            }
        }

        impl std::str::FromStr for $name {
            type Err = uuid::Error;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Uuid::parse_str(s).map(Self)
            }
        }
    };
}

id_type!(
    /// The id of a message.
    MessageId
);
id_type!(
    /// The id of an attachment.
    AttachmentId
);
id_type!(
    /// The id of one recipient of one message.
    RecipientId
);
id_type!(
    /// The id of a secure reply to a message.
    ReplyId
);

/// The Government Security Classification marking of a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Marking {
    /// The default for council business.
    #[default]
    Official,
    /// Needs extra care; external recipients also need a passphrase given by phone (B4).
    OfficialSensitive,
}

impl Marking {
    /// The stable name used in storage and the API.
    pub fn as_str(self) -> &'static str {
        match self {
            Marking::Official => "official",
            Marking::OfficialSensitive => "official-sensitive",
        }
    }

    /// How it is written on screen and in notifications.
    pub fn label(self) -> &'static str {
        match self {
            Marking::Official => "OFFICIAL",
            Marking::OfficialSensitive => "OFFICIAL-SENSITIVE",
        }
    }

    /// Parses the stable name.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "official" => Some(Marking::Official),
            "official-sensitive" => Some(Marking::OfficialSensitive),
            _ => None,
        }
    }
}

/// Alphabet of reference codes: no 0/O, 1/I/L, so they can be read over the phone.
pub const REFERENCE_ALPHABET: &[u8; 30] = b"23456789ABCDEFGHJKMNPQRSTUVWXY";

/// A short code that names a message in notifications, phone calls and the audit log,
/// e.g. `SP-7K3M-Q9XD`. Not a secret, and not enough to open anything.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Reference(String);

impl Reference {
    /// Builds a reference from 8 random bytes (each picks one character).
    pub fn from_random(bytes: [u8; 8]) -> Self {
        let c = |b: u8| char::from(REFERENCE_ALPHABET[usize::from(b) % REFERENCE_ALPHABET.len()]);
        let s: String = bytes.iter().map(|b| c(*b)).collect();
        Self(format!("SP-{}-{}", &s[..4], &s[4..]))
    }

    /// A reference as a person types it: any case, spaces and dashes anywhere, `SP` optional
    /// (`ykvg3tsb`, `SP YKVG 3TSB`, `sp-ykvg-3tsb`). `None` unless what is left is eight
    /// characters of the reference alphabet, after an optional `SP`.
    pub fn parse_typed(text: &str) -> Option<Self> {
        let plain: String = text
            .chars()
            .filter(|c| !c.is_whitespace() && *c != '-')
            .collect::<String>()
            .to_ascii_uppercase();
        let code = match plain.len() {
            10 => plain.strip_prefix("SP")?,
            8 => plain.as_str(),
            _ => return None,
        };
        code.bytes()
            .all(|c| REFERENCE_ALPHABET.contains(&c))
            .then(|| Self(format!("SP-{}-{}", &code[..4], &code[4..])))
    }

    /// Wraps a stored reference.
    pub fn from_stored(text: String) -> Self {
        Self(text)
    }

    /// The code as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for Reference {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// What the council's policy sets for messages of one marking (issue 20), shown on the compose
/// page and enforced at the send.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct MarkingPolicy {
    /// Longest its links may work, in days.
    pub max_expiry_days: u32,
    /// Recipients outside the council need a passphrase, given to them by phone.
    pub passphrase_required: bool,
    /// Most times each recipient outside the council may open it in the portal; 0: no limit.
    pub max_opens: u32,
    /// Recipients outside the council may only view its files in the browser (images, PDF and
    /// text), not download them.
    #[serde(default)]
    pub view_only_files: bool,
}

/// The policy for each marking. The default is Sealpost's behaviour without one: a passphrase
/// for OFFICIAL-SENSITIVE only, the longest expiry allowed, and no limit on opens.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Policy {
    /// OFFICIAL.
    pub official: MarkingPolicy,
    /// OFFICIAL-SENSITIVE.
    pub sensitive: MarkingPolicy,
}

impl Policy {
    /// The policy for `marking`.
    pub fn of(&self, marking: Marking) -> &MarkingPolicy {
        match marking {
            Marking::Official => &self.official,
            Marking::OfficialSensitive => &self.sensitive,
        }
    }
}

impl Default for Policy {
    fn default() -> Self {
        let longest = Limits::default().max_expiry_days;
        Self {
            official: MarkingPolicy {
                max_expiry_days: longest,
                passphrase_required: false,
                max_opens: 0,
                view_only_files: false,
            },
            sensitive: MarkingPolicy {
                max_expiry_days: longest,
                passphrase_required: true,
                max_opens: 0,
                view_only_files: false,
            },
        }
    }
}

/// Content limits, shown to the web app so it can warn before uploading.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Limits {
    /// Largest attachment, in bytes (D5 default 25 MiB).
    pub max_attachment_bytes: u64,
    /// Largest total of attachments in one message, in bytes (D5 default 100 MiB).
    pub max_message_bytes: u64,
    /// Most attachments in one message.
    pub max_attachments: u32,
    /// Longest subject, in bytes (D6: 998, the RFC 5322 line limit).
    pub max_subject_bytes: u32,
    /// Longest body, in bytes.
    pub max_body_bytes: u32,
    /// Most recipients of one message.
    pub max_recipients: u32,
    /// Expiry when the sender does not choose, in days.
    pub default_expiry_days: u32,
    /// Longest expiry a sender may choose, in days.
    pub max_expiry_days: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_attachment_bytes: 25 * 1024 * 1024,
            max_message_bytes: 100 * 1024 * 1024,
            max_attachments: 20,
            max_subject_bytes: 998,
            max_body_bytes: 256 * 1024,
            max_recipients: 50,
            default_expiry_days: 30,
            max_expiry_days: 90,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_are_readable_and_unambiguous() {
        let r = Reference::from_random([0, 1, 2, 29, 30, 255, 100, 7]);
        assert_eq!(r.as_str().len(), 12);
        assert!(r.as_str().starts_with("SP-"));
        assert!(!r.as_str()[3..].contains(['0', 'O', '1', 'I', 'L']));
        assert_eq!(Reference::parse_typed(r.as_str()), Some(r.clone()));
    }

    #[test]
    fn a_typed_reference_is_read_as_people_write_it() {
        let want = Some(Reference::from_stored("SP-7K3M-Q9XD".into()));
        for typed in [
            "SP-7K3M-Q9XD",
            "sp-7k3m-q9xd",
            " 7K3M-Q9XD ",
            "SP-7K3M - Q9XD",
            "7k3mq9xd",
            "SP 7K3M Q9XD",
            "sp7k3mq9xd",
        ] {
            assert_eq!(Reference::parse_typed(typed), want, "{typed}");
        }
        for bad in [
            "",
            "SP-",
            "SP-7K3M",
            "SP-7K3M-Q9X",
            "SP-7K3M-Q9XO",
            "SP-7K3M-Q9XD-AAAA",
            "X-7K3M-Q9XD",
            "XX7K3MQ9XD",
            "SP-7K3M-Q9XD\u{00E9}",
        ] {
            assert_eq!(Reference::parse_typed(bad), None, "{bad}");
        }
    }

    #[test]
    fn markings_round_trip() {
        for m in [Marking::Official, Marking::OfficialSensitive] {
            assert_eq!(Marking::parse(m.as_str()), Some(m));
        }
        assert_eq!(
            serde_json::to_string(&Marking::OfficialSensitive).unwrap(),
            "\"official-sensitive\""
        );
    }
}
