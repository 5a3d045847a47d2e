//! The HTTP surface: one router per resource, merged here, wrapped in the middleware that every
//! response passes through (security headers even on errors, CSRF checks, request tracing).

mod admin;
mod api_errors;
mod assets;
mod audit;
mod auth;
mod body_rate;
mod client;
mod cookie;
mod drafts;
mod form;
mod health;
mod json;
mod messages;
mod middleware;
mod portal;
mod write;

use axum::Router;

use crate::state::AppState;

pub use cookie::SESSION_COOKIE;

/// The whole application.
pub fn router(state: AppState) -> Router {
    let api = Router::new()
        .merge(auth::router())
        .merge(admin::router())
        .merge(audit::router())
        .merge(messages::router(&state))
        .merge(drafts::router(&state))
        .merge(portal::router(&state))
        .merge(write::router(&state))
        .route("/openapi.json", axum::routing::get(openapi))
        .fallback(api_not_found);
    Router::new()
        .nest("/api/v1", api)
        .merge(health::router())
        .merge(assets::router())
        .layer(axum::middleware::from_fn_with_state(state.clone(), middleware::csrf))
        .layer(axum::middleware::from_fn_with_state(state.clone(), body_rate::min_rate))
        .layer(axum::middleware::from_fn(api_errors::json_errors))
        .layer(axum::middleware::from_fn(middleware::security_headers))
        .layer(axum::middleware::from_fn(middleware::trace_request))
        .with_state(state)
}

/// The API's OpenAPI 3.1 document (kept beside the routes; a test checks every route is in it).
pub const OPENAPI: &str = include_str!("../openapi.json");

async fn openapi() -> impl axum::response::IntoResponse {
    ([(axum::http::header::CONTENT_TYPE, "application/json")], OPENAPI)
}

async fn api_not_found() -> crate::error::AppError {
    crate::error::AppError::NotFound
}
