//! HTTP multipart as the use cases' [`Form`]: the framework stays in `routes/`.

use axum::extract::Multipart;
use axum::extract::multipart::{Field, MultipartError};
use bytes::Bytes;

use crate::app::uploads::{Form, FormPart};
use crate::error::AppError;

/// A request's multipart body.
pub(super) struct MultipartForm(pub Multipart);

impl Form for MultipartForm {
    type Part<'a> = MultipartPart<'a>;

    async fn next_part(&mut self) -> Result<Option<MultipartPart<'_>>, AppError> {
        Ok(self.0.next_field().await.map_err(form_error)?.map(MultipartPart))
    }
}

/// One field of a multipart body.
pub(super) struct MultipartPart<'a>(Field<'a>);

impl FormPart for MultipartPart<'_> {
    fn name(&self) -> Option<&str> {
        self.0.name()
    }

    fn file_name(&self) -> Option<&str> {
        self.0.file_name()
    }

    async fn chunk(&mut self) -> Result<Option<Bytes>, AppError> {
        self.0.chunk().await.map_err(form_error)
    }
}

/// A broken or oversized body, in the person's words.
fn form_error(e: MultipartError) -> AppError {
    if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
        AppError::TooLarge("The upload is larger than this server accepts.".into())
    } else {
        AppError::bad("invalid_form", "The upload was interrupted or is not a valid form. Try again.")
    }
}
