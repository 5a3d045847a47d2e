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
