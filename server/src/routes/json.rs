//! `ApiJson<T>`: axum's `Json` extractor with its rejections in the API's own error shape
//! (`{ "code", "message" }`), so a client always gets JSON back, and a body with a field we do
//! not know (`"reply_to"`, say) is a 400 that names it instead of being silently dropped.

use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, Request};
use axum::http::StatusCode;
use serde::de::DeserializeOwned;

use crate::error::AppError;

/// A JSON request body, refused in the API's error shape.
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = AppError;

    async fn from_request(request: Request, state: &S) -> Result<Self, AppError> {
        match axum::Json::<T>::from_request(request, state).await {
            Ok(axum::Json(value)) => Ok(ApiJson(value)),
            Err(rejection) => Err(refused(&rejection)),
        }
    }
}

fn refused(rejection: &JsonRejection) -> AppError {
    match rejection {
        JsonRejection::MissingJsonContentType(_) => {
            AppError::bad("not_json", "Send the body as JSON, with Content-Type: application/json.")
        }
        _ if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE => AppError::TooLarge("The request body is too large.".into()),
        _ => AppError::bad("invalid_json", rejection.body_text()),
    }
}
