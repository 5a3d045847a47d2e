//! The one error type of the HTTP layer. Each variant maps to a status once, here; 5xx bodies
//! are opaque and their cause is logged once, without content or secrets.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use sealpost_domain::api::ApiError;
use sealpost_storage::StorageError;

/// Everything a handler can fail with.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// Input was malformed; the message says how to fix it.
    #[error("bad request: {code}")]
    BadRequest {
        /// Stable code.
        code: &'static str,
        /// A sentence for the person.
        message: String,
    },
    /// No valid session.
    #[error("not signed in")]
    Unauthenticated,
    /// Wrong email or password (the same answer for unknown accounts, SECURITY A5).
    #[error("invalid credentials")]
    InvalidCredentials,
    /// The right password for an account that IT has disabled.
    #[error("account disabled")]
    AccountDisabled,
    /// The right password, but password sign-in is off for this account's role
    /// (`SEALPOST_PASSWORD_LOGIN=false`): it signs in through the identity provider.
    #[error("password sign-in off")]
    PasswordSignInOff,
    /// A cross-site or header-less state change (SECURITY D4).
    #[error("forbidden: {0}")]
    Forbidden(&'static str),
    /// Missing, or not the caller's to see (the same answer, SECURITY C1).
    #[error("not found")]
    NotFound,
    /// The thing existed but is no longer available (an expired or revoked link).
    #[error("gone: {code}")]
    Gone {
        /// Stable code.
        code: &'static str,
        /// What happened and whom to contact.
        message: String,
    },
    /// The request no longer fits the thing's state (a send undone after its window).
    #[error("conflict: {code}")]
    Conflict {
        /// Stable code.
        code: &'static str,
        /// What happened and what can still be done.
        message: String,
    },
    /// An upload is over a size or count limit (SECURITY D5); the message says which.
    #[error("payload too large")]
    TooLarge(String),
    /// A send has concerns the sender has not confirmed (issue 20): 409 with the list.
    #[error("concerns to confirm")]
    Concerns(Vec<sealpost_domain::api_messages::Concern>),
    /// The client sent its request body too slowly (SECURITY D8).
    #[error("request timeout")]
    SlowRequest,
    /// A limit was hit; try again after this many seconds.
    #[error("too many requests")]
    TooManyRequests {
        /// Seconds until a retry can succeed.
        retry_after_secs: u64,
        /// A sentence for the person.
        message: &'static str,
    },
    /// The database is unreachable (SECURITY G5).
    #[error("service unavailable")]
    Unavailable(#[source] StorageError),
    /// The audit log could not be written, so nothing is revealed (SECURITY F1).
    #[error("audit log unavailable")]
    AuditUnavailable,
    /// A service other than the database is down (the mail relay); the sentence says what to
    /// do. Nothing was changed.
    #[error("dependency unavailable")]
    DependencyDown(&'static str),
    /// The disk is (nearly) full, so nothing was saved (SECURITY G6). Reads go on working.
    #[error("insufficient storage")]
    DiskFull,
    /// Anything else: logged, never shown.
    #[error("internal error")]
    Internal(#[source] anyhow::Error),
}

impl AppError {
    /// A 400 with a stable code and a sentence saying how to fix the input.
    pub fn bad(code: &'static str, message: impl Into<String>) -> Self {
        AppError::BadRequest {
            code,
            message: message.into(),
        }
    }
}

impl From<StorageError> for AppError {
    fn from(e: StorageError) -> Self {
        if matches!(e, StorageError::Blob(_) | StorageError::BlobUnavailable(_) | StorageError::Full) {
            crate::metrics::blob_error();
        }
        match e {
            StorageError::Unavailable(_) | StorageError::BlobUnavailable(_) => AppError::Unavailable(e),
            StorageError::Full => AppError::DiskFull,
            other => AppError::Internal(other.into()),
        }
    }
}

impl From<sealpost_crypto::CryptoError> for AppError {
    fn from(e: sealpost_crypto::CryptoError) -> Self {
        AppError::Internal(e.into())
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        if let AppError::Concerns(concerns) = self {
            let message = "Check before you send: confirm each point below, or go back and change the message.".to_owned();
            return (
                StatusCode::CONFLICT,
                Json(ApiError {
                    code: "confirm_concerns".to_owned(),
                    message,
                    concerns,
                }),
            )
                .into_response();
        }
        let (status, code, message, retry_after) = match &self {
            AppError::BadRequest { code, message } => (StatusCode::BAD_REQUEST, *code, message.clone(), None),
            AppError::Unauthenticated => (StatusCode::UNAUTHORIZED, "unauthenticated", "Sign in to continue.".into(), None),
            AppError::InvalidCredentials => (
                StatusCode::UNAUTHORIZED,
                "invalid_credentials",
                "The email address or password is incorrect.".into(),
                None,
            ),
            AppError::AccountDisabled => (
                StatusCode::FORBIDDEN,
                "account_disabled",
                "Your Sealpost account has been disabled, so you cannot sign in. If you think this is a mistake, contact your IT service desk.".into(),
                None,
            ),
            AppError::PasswordSignInOff => (
                StatusCode::FORBIDDEN,
                "password_sign_in_off",
                "Sign in with your council account: password sign-in is turned off for Sealpost.".into(),
                None,
            ),
            AppError::Forbidden(why) => (StatusCode::FORBIDDEN, "forbidden", (*why).into(), None),
            AppError::NotFound => (StatusCode::NOT_FOUND, "not_found", "Not found.".into(), None),
            AppError::Gone { code, message } => (StatusCode::GONE, *code, message.clone(), None),
            AppError::Conflict { code, message } => (StatusCode::CONFLICT, *code, message.clone(), None),
            AppError::TooLarge(message) => (StatusCode::PAYLOAD_TOO_LARGE, "too_large", message.clone(), None),
            // Answered above, with the list.
            AppError::Concerns(_) => (StatusCode::CONFLICT, "confirm_concerns", String::new(), None),
            AppError::SlowRequest => (
                StatusCode::REQUEST_TIMEOUT,
                "request_timeout",
                "The request arrived too slowly and was stopped. Check your connection and try again.".into(),
                None,
            ),
            AppError::TooManyRequests { retry_after_secs, message } => (
                StatusCode::TOO_MANY_REQUESTS,
                "too_many_requests",
                (*message).into(),
                Some(*retry_after_secs),
            ),
            AppError::Unavailable(cause) => {
                tracing::error!(error = %cause, "storage unavailable");
                (
                    StatusCode::SERVICE_UNAVAILABLE,
                    "unavailable",
                    "Sealpost is temporarily unavailable. Try again in a moment.".into(),
                    Some(5),
                )
            }
            AppError::AuditUnavailable => (
                StatusCode::SERVICE_UNAVAILABLE,
                "unavailable",
                "Sealpost is temporarily unavailable. Try again in a moment.".into(),
                Some(5),
            ),
            AppError::DependencyDown(message) => (StatusCode::SERVICE_UNAVAILABLE, "unavailable", (*message).into(), Some(60)),
            AppError::DiskFull => {
                tracing::error!("refused a write: the disk is full or below SEALPOST_MIN_FREE_MIB");
                (
                    StatusCode::INSUFFICIENT_STORAGE,
                    "insufficient_storage",
                    "The server has run out of storage space, so nothing was saved. Try again later; if it keeps happening, tell your IT service desk.".into(),
                    Some(300),
                )
            }
            AppError::Internal(cause) => {
                tracing::error!(error = format!("{cause:#}"), "internal error");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal",
                    "Something went wrong on our side. Try again, and tell IT if it keeps happening.".into(),
                    None,
                )
            }
        };
        let mut response = (
            status,
            Json(ApiError {
                code: code.to_owned(),
                message,
                concerns: vec![],
            }),
        )
            .into_response();
        if let Some(secs) = retry_after {
            response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        response
    }
}
