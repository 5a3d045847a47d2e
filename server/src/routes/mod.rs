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

/// Councils on one deployment (issue 21): a request goes to the router of the tenant whose
/// host name its `Host` header names, and any other to `default` (so a single council needs no
/// host names at all). Each tenant's router has its own state: database schema, keys, rate
/// limits and caches, so nothing is shared but the process.
pub fn by_host(default: Router, tenants: impl IntoIterator<Item = (Vec<sealpost_domain::HostName>, Router)>) -> Router {
    let mut routes = std::collections::HashMap::new();
    for (hosts, router) in tenants {
        for host in hosts {
            routes.insert(host, router.clone());
        }
    }
    if routes.is_empty() {
        return default;
    }
    let routes = std::sync::Arc::new(routes);
    let dispatch = tower::service_fn(move |request: axum::extract::Request| {
        // The URI's authority (HTTP/2's `:authority`, or an absolute-form request), else `Host`.
        let host = request
            .uri()
            .authority()
            .map(|a| a.as_str().to_owned())
            .or_else(|| {
                let header = request.headers().get(axum::http::header::HOST)?;
                header.to_str().ok().map(str::to_owned)
            })
            .and_then(|h| sealpost_domain::HostName::from_header(&h));
        let router = host.and_then(|h| routes.get(&h).cloned()).unwrap_or_else(|| default.clone());
        tower::ServiceExt::oneshot(router, request)
    });
    Router::new().fallback_service(dispatch)
}

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
