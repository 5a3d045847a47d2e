//! `/healthz` (the process is up) and `/readyz` (it can reach its database and its blob store).

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;

use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route("/healthz", get(|| async { "ok" })).route("/readyz", get(ready))
}

async fn ready(State(state): State<AppState>) -> (StatusCode, &'static str) {
    if let Err(e) = state.store.ping().await {
        tracing::warn!(error = %e, "not ready: the database");
        return (StatusCode::SERVICE_UNAVAILABLE, "database unavailable");
    }
    if let Err(e) = state.blobs.ping().await {
        crate::metrics::blob_error();
        tracing::warn!(error = %e, "not ready: the blob store");
        return (StatusCode::SERVICE_UNAVAILABLE, "blob store unavailable");
    }
    (StatusCode::OK, "ready")
}
