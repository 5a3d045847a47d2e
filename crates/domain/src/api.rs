//! The JSON shapes of `/api/v1`, shared by the server and the web app's typed client.

use serde::{Deserialize, Serialize};

use crate::{DisplayName, EmailAddress, Role, UserId};

/// `POST /api/v1/auth/login` body. The password stays a plain string here because the web app
/// builds this; the server moves it into a secret type at once. `Debug` redacts it.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    /// The account's email address, as typed.
    pub email: String,
    /// The password, as typed.
    pub password: String,
}

/// `GET /api/v1/auth/me` and the answer to a successful sign-in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Me {
    /// The account id.
    pub id: UserId,
    /// The account's address.
    pub email: EmailAddress,
    /// The account holder's name.
    pub display_name: DisplayName,
    /// What the account may do.
    pub role: Role,
    /// The council running this Sealpost.
    pub organisation: String,
    /// Emailed a notice (no content) when secure mail arrives.
    pub notify_by_email: bool,
    /// What the sign-in still needs before anything else can be done; absent once signed in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_step: Option<NextStep>,
}

/// What a sign-in still needs after the password.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NextStep {
    /// A code from the authenticator app (or a recovery code): `POST /api/v1/auth/second-factor`.
    SecondFactor,
    /// The account must set up a second factor: `POST /api/v1/auth/totp/start`, then `…/confirm`.
    Enrol,
}

/// `POST /api/v1/auth/second-factor` and `POST /api/v1/auth/totp/confirm`.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CodeRequest {
    /// Six digits from the authenticator app, or (for the second factor) a recovery code.
    pub code: String,
}

/// `POST /api/v1/auth/totp/start`: what to put into an authenticator app. Shown once; `Debug`
/// leaves the secret out.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TotpEnrolment {
    /// The secret in base32, in groups of four, to type in by hand.
    pub secret: String,
    /// The `otpauth://` address the QR code holds.
    pub otpauth_url: String,
    /// The QR code: modules a side...
    pub qr_size: u32,
    /// ...and an SVG path drawing the dark ones (one unit a module).
    pub qr_path: String,
}

/// `POST /api/v1/auth/totp/confirm`: the second factor is set up and the session is signed
/// in. The recovery codes are shown this once; `Debug` leaves them out.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Enrolled {
    /// Ten single-use recovery codes.
    pub recovery_codes: Vec<String>,
    /// The account, signed in.
    pub me: Me,
}

/// `PUT /api/v1/auth/preferences`: the signed-in person's own choices.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Preferences {
    /// Email me a notice (no content) when secure mail arrives.
    pub notify_by_email: bool,
}

/// `GET /api/v1/info`: what the sign-in page shows before anyone is signed in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Info {
    /// The council running this Sealpost.
    pub organisation: String,
    /// People outside the council may start a secure message at `/write`.
    #[serde(default)]
    pub partner_write: bool,
    /// Days a deleted message waits in a person's Deleted box before it goes for good.
    #[serde(default)]
    pub deleted_days: u32,
    /// Staff can sign in through the council's identity provider (single sign-on).
    #[serde(default)]
    pub sso: bool,
    /// Staff and IG can sign in with a password; when false, only administrators can (for
    /// recovery), and the sign-in page leads with single sign-on.
    #[serde(default = "yes")]
    pub password_login: bool,
}

fn yes() -> bool {
    true
}

impl std::fmt::Debug for TotpEnrolment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TotpEnrolment")
            .field("qr_size", &self.qr_size)
            .finish_non_exhaustive()
    }
}

impl std::fmt::Debug for Enrolled {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Enrolled").field("me", &self.me).finish_non_exhaustive()
    }
}

/// Every error body of the API.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiError {
    /// A stable machine-readable code, e.g. `invalid_credentials`.
    pub code: String,
    /// A sentence a person can act on.
    pub message: String,
    /// With `confirm_concerns` (409): what to look at again before sending.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub concerns: Vec<crate::api_messages::Concern>,
}

/// The header every state-changing API request must carry (CSRF defence, SECURITY D4).
pub const CSRF_HEADER: &str = "x-sealpost-csrf";

/// `GET /api/v1/auth/setup/{token}`: whose account a set-up link is for, shown before the
/// person types a password.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SetupLink {
    /// The account's address (its sign-in name).
    pub email: EmailAddress,
    /// The holder's name.
    pub display_name: DisplayName,
}

/// `POST /api/v1/auth/setup` body: the one-time set-up token and the chosen password.
/// `Debug` redacts both.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SetupRequest {
    /// The token from the set-up link.
    pub token: String,
    /// The new password (SECURITY A2 applies).
    pub password: String,
}

impl std::fmt::Debug for LoginRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoginRequest")
            .field("email", &self.email)
            .field("password", &"[redacted]")
            .finish()
    }
}

impl std::fmt::Debug for SetupRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SetupRequest")
            .field("token", &"[redacted]")
            .field("password", &"[redacted]")
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_output_never_shows_passwords_or_tokens() {
        let login = LoginRequest {
            email: "a@b.gov.uk".into(),
            password: "hunter2 hunter2".into(),
        };
        let setup = SetupRequest {
            token: "abcdef0123".into(),
            password: "hunter2 hunter2".into(),
        };
        let text = format!("{login:?} {setup:?}");
        assert!(!text.contains("hunter2") && !text.contains("abcdef0123"), "{text}");
        assert!(text.contains("a@b.gov.uk"));
    }
}
