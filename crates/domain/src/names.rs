//! People's display names as shown to colleagues and in notifications.

use serde::{Deserialize, Serialize};

/// Longest display name, in characters.
pub const MAX_DISPLAY_NAME_CHARS: usize = 100;

/// A person's name: 1 to 100 characters, no control characters (so it is safe in a mail header).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct DisplayName(String);

/// Why a name was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DisplayNameError {
    /// Blank.
    #[error("Enter a name.")]
    Empty,
    /// Over the limit.
    #[error("A name can be at most 100 characters.")]
    TooLong,
    /// Contains line breaks or other control characters.
    #[error("A name cannot contain line breaks or control characters.")]
    Invalid,
}

impl DisplayName {
    /// Parses a name, trimming surrounding spaces.
    pub fn parse(input: &str) -> Result<Self, DisplayNameError> {
        let name = input.trim();
        if name.is_empty() {
            Err(DisplayNameError::Empty)
        } else if name.chars().count() > MAX_DISPLAY_NAME_CHARS {
            Err(DisplayNameError::TooLong)
        } else if name
            .chars()
            .any(|c| c.is_control() || (crate::unicode::is_bidi_control(c) && !matches!(c, '\u{200E}' | '\u{200F}' | '\u{061C}')))
        {
            Err(DisplayNameError::Invalid)
        } else {
            Ok(Self(name.to_owned()))
        }
    }

    /// The name as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for DisplayName {
    type Error = DisplayNameError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<DisplayName> for String {
    fn from(value: DisplayName) -> Self {
        value.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_trimmed_and_limited() {
        assert_eq!(DisplayName::parse(" Ann Lee ").unwrap().as_str(), "Ann Lee");
        assert_eq!(DisplayName::parse(""), Err(DisplayNameError::Empty));
        assert_eq!(DisplayName::parse("a\r\nBcc: x"), Err(DisplayNameError::Invalid));
        assert!(DisplayName::parse(&"é".repeat(100)).is_ok());
        assert_eq!(DisplayName::parse(&"é".repeat(101)), Err(DisplayNameError::TooLong));
    }
}

/// A telephone number as people write it: digits with spaces, `+`, `-`, `(` and `)`, 6 to 20
/// digits. Shown to partners as a way to reach the sender; safe in a mail body and a header.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct PhoneNumber(String);

/// Why a telephone number was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("Enter a telephone number of 6 to 20 digits, like 01632 960123 or +44 1632 960123.")]
pub struct PhoneNumberError;

impl PhoneNumber {
    /// Parses a number, trimming and folding runs of spaces.
    pub fn parse(input: &str) -> Result<Self, PhoneNumberError> {
        let folded = input.split_whitespace().collect::<Vec<_>>().join(" ");
        let digits = folded.chars().filter(char::is_ascii_digit).count();
        let allowed = folded.chars().all(|c| c.is_ascii_digit() || " +-()".contains(c));
        if allowed && (6..=20).contains(&digits) {
            Ok(Self(folded))
        } else {
            Err(PhoneNumberError)
        }
    }

    /// The number as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for PhoneNumber {
    type Error = PhoneNumberError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<PhoneNumber> for String {
    fn from(value: PhoneNumber) -> Self {
        value.0
    }
}

impl std::fmt::Display for PhoneNumber {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod phone_tests {
    use super::PhoneNumber;

    #[test]
    fn telephone_numbers_are_read_as_people_write_them_and_nothing_else_passes() {
        assert_eq!(PhoneNumber::parse("  01632   960123 ").unwrap().as_str(), "01632 960123");
        assert!(PhoneNumber::parse("+44 (0)1632 960-123").is_ok());
        for bad in ["", "12345", "call me", "01632 960123\r\nBcc: x", "1".repeat(21).as_str()] {
            assert!(PhoneNumber::parse(bad).is_err(), "{bad:?}");
        }
    }
}
