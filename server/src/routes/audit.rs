//! `/api/v1/audit/*`: for information governance officers. Verifying is a POST: it walks the
//! whole chain and is itself recorded.

use axum::extract::State;
use axum::routing::post;
use axum::{Json, Router};
use sealpost_domain::api_audit::AuditVerification;

use super::client::Meta;
use super::cookie::SignedIn;
use crate::app::audit;
use crate::error::AppError;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route("/audit/verify", post(verify))
}

async fn verify(State(state): State<AppState>, signed_in: SignedIn, Meta(meta): Meta) -> Result<Json<AuditVerification>, AppError> {
    audit::verify_for(&state, &signed_in.user, &meta).await.map(Json)
}
