//! The password rule (SECURITY A2): 12 to 128 characters, no composition rules, and not one of
//! the passwords that breach corpora show people choose most often.

/// Shortest password accepted, in characters.
pub const MIN_PASSWORD_CHARS: usize = 12;
/// Longest password accepted, in characters.
pub const MAX_PASSWORD_CHARS: usize = 128;

/// Common passwords of 12 or more characters, lower-cased (shorter ones fail the length rule).
const COMMON: &[&str] = &[
    "123456789012",
    "1234567890123",
    "12345678910",
    "password1234",
    "password123!",
    "passwordpassword",
    "qwertyuiop123",
    "qwertyuiopasdf",
    "1q2w3e4r5t6y",
    "iloveyou1234",
    "welcome12345",
    "letmein12345",
    "administrator",
    "changeme1234",
    "trustno1trustno1",
    "aaaaaaaaaaaa",
    "abcdefghijkl",
    "abc123abc123",
    "football1234",
    "monkey123456",
    "sunshine1234",
    "princess1234",
    "qazwsxedcrfv",
    "1qaz2wsx3edc",
    "zaq12wsxcde3",
    "password12345",
    "p@ssw0rd1234",
    "passw0rd1234",
    "council12345",
    "summer2026!!",
    "winter2026!!",
    "spring2026!!",
    "autumn2026!!",
    "welcome2026!",
    "password2026",
    "qwerty123456",
    "111111111111",
    "000000000000",
    "987654321098",
    "asdfghjkl123",
];

/// Why a password was refused. The messages are shown to the person choosing it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PasswordPolicyError {
    /// Fewer than 12 characters.
    #[error("Use at least 12 characters.")]
    TooShort,
    /// More than 128 characters.
    #[error("Use at most 128 characters.")]
    TooLong,
    /// Found in the list of common passwords.
    #[error("That password is too common. Choose a phrase of a few unrelated words.")]
    Common,
}

/// Checks a proposed password against the policy.
pub fn check_password_policy(password: &str) -> Result<(), PasswordPolicyError> {
    let chars = password.chars().count();
    if chars < MIN_PASSWORD_CHARS {
        return Err(PasswordPolicyError::TooShort);
    }
    if chars > MAX_PASSWORD_CHARS {
        return Err(PasswordPolicyError::TooLong);
    }
    if COMMON.contains(&password.to_lowercase().as_str()) {
        return Err(PasswordPolicyError::Common);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_password_policy_table_holds() {
        let cases: &[(&str, Result<(), PasswordPolicyError>)] = &[
            ("short", Err(PasswordPolicyError::TooShort)),
            ("elevenchars", Err(PasswordPolicyError::TooShort)),
            ("twelve chars", Ok(())),
            ("correct horse battery staple", Ok(())),
            ("Password1234", Err(PasswordPolicyError::Common)),
            ("QWERTY123456", Err(PasswordPolicyError::Common)),
        ];
        for (pw, want) in cases {
            assert_eq!(&check_password_policy(pw), want, "{pw}");
        }
        assert_eq!(check_password_policy(&"x".repeat(128)), Ok(()));
        assert_eq!(check_password_policy(&"x".repeat(129)), Err(PasswordPolicyError::TooLong));
    }
}
