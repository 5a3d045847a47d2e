//! Security headers on every response, errors included (SECURITY D3), and health endpoints.

use reqwest::{Method, StatusCode};
use sealpost_domain::Role;

use crate::test_app::{PASSWORD, spawn_app};

#[tokio::test]
async fn every_response_carries_the_security_headers_including_errors() {
    let app = spawn_app().await;
    app.create_user("ann@testshire.gov.uk", PASSWORD, Role::Staff).await;
    let cookie = app.sign_in("ann@testshire.gov.uk", PASSWORD).await;
    let sweep: &[(Method, &str, bool, StatusCode)] = &[
        (Method::GET, "/", false, StatusCode::OK),
        (Method::GET, "/inbox", false, StatusCode::OK),
        (Method::GET, "/healthz", false, StatusCode::OK),
        (Method::GET, "/readyz", false, StatusCode::OK),
        (Method::GET, "/api/v1/info", false, StatusCode::OK),
        (Method::GET, "/api/v1/auth/me", true, StatusCode::OK),
        (Method::GET, "/api/v1/auth/me", false, StatusCode::UNAUTHORIZED),
        (Method::GET, "/api/v1/nowhere", true, StatusCode::NOT_FOUND),
        (Method::GET, "/assets/missing.js", false, StatusCode::NOT_FOUND),
        (Method::POST, "/api/v1/auth/login", false, StatusCode::FORBIDDEN),
        (Method::DELETE, "/api/v1/auth/me", true, StatusCode::FORBIDDEN),
        (Method::GET, "/api/v1/auth/logout", true, StatusCode::METHOD_NOT_ALLOWED),
    ];
    for (method, path, signed_in, expected) in sweep {
        let mut request = app.client.request(method.clone(), format!("{}{path}", app.address));
        if *signed_in {
            request = request.header("cookie", &cookie);
        }
        let response = request.send().await.unwrap();
        let status = response.status();
        let h = response.headers();
        let csp = h["content-security-policy"].to_str().unwrap();
        for directive in [
            "default-src 'self'",
            "script-src 'self' 'wasm-unsafe-eval'",
            "object-src 'none'",
            "base-uri 'none'",
            "frame-ancestors 'none'",
        ] {
            assert!(csp.contains(directive), "{method} {path}: CSP lacks {directive}");
        }
        // An HTML mail's frame inherits this CSP: its one style sheet is allowed by hash.
        let frame_style = format!("style-src 'self' {}", sealpost_domain::text::HTML_FRAME_STYLE_HASH);
        assert!(csp.contains(&frame_style), "{method} {path}: CSP lacks {frame_style}");
        let hsts = h["strict-transport-security"].to_str().unwrap();
        let max_age: u64 = hsts.split(';').next().unwrap().trim_start_matches("max-age=").parse().unwrap();
        assert!(max_age >= 31_536_000, "{path}: HSTS {hsts}");
        assert_eq!(h["x-content-type-options"], "nosniff", "{path}");
        assert_eq!(h["referrer-policy"], "no-referrer", "{path}");
        assert_eq!(h["cross-origin-opener-policy"], "same-origin", "{path}");
        let cache = if path.starts_with("/assets/") { "no-cache" } else { "no-store" };
        assert_eq!(h["cache-control"], cache, "{path}");
        assert!(h.contains_key("x-request-id"), "{path}");
        // The app shell answers 503 with build instructions when the web app was not built.
        let shell_unbuilt = (*path == "/" || *path == "/inbox") && status == StatusCode::SERVICE_UNAVAILABLE;
        assert!(status == *expected || shell_unbuilt, "{method} {path}: {status}");
    }
}

#[tokio::test]
async fn readiness_fails_with_503_when_the_database_is_gone() {
    let app = spawn_app().await;
    assert_eq!(app.get("/readyz").send().await.unwrap().status(), StatusCode::OK);
    app.state.store.close().await;
    let response = app.get("/readyz").send().await.unwrap();
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(app.get("/healthz").send().await.unwrap().status(), StatusCode::OK);
    let me = app
        .get("/api/v1/auth/me")
        .header("cookie", format!("__Host-sealpost_session={}", "ab".repeat(32)))
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), StatusCode::SERVICE_UNAVAILABLE, "storage errors fail closed");
    assert!(me.headers().contains_key("retry-after"));
}

#[tokio::test]
async fn the_openapi_document_lists_every_api_route_and_each_listed_route_answers() {
    let app = spawn_app().await;
    let doc: serde_json::Value = app.get("/api/v1/openapi.json").send().await.unwrap().json().await.unwrap();
    let mut documented: Vec<String> = doc["paths"].as_object().unwrap().keys().cloned().collect();
    documented.sort();
    let mut routes = vec![
        "/api/v1/admin/import",
        "/api/v1/admin/import/preview",
        "/api/v1/admin/settings",
        "/api/v1/admin/users",
        "/api/v1/admin/users/{id}/disable",
        "/api/v1/admin/users/{id}/enable",
        "/api/v1/admin/users/{id}/invite",
        "/api/v1/admin/users/{id}/role",
        "/api/v1/admin/users/{id}/second-factor/reset",
        "/api/v1/audit/break-glass/{reference}",
        "/api/v1/audit/break-glass/{reference}/attachments/{attachment}",
        "/api/v1/audit/checkpoint",
        "/api/v1/audit/events",
        "/api/v1/audit/export",
        "/api/v1/audit/messages/{reference}",
        "/api/v1/audit/messages/{reference}/erase",
        "/api/v1/audit/messages/{reference}/hold",
        "/api/v1/audit/verify",
        "/api/v1/auth/login",
        "/api/v1/auth/logout",
        "/api/v1/auth/me",
        "/api/v1/auth/preferences",
        "/api/v1/auth/second-factor",
        "/api/v1/auth/setup",
        "/api/v1/auth/setup/{token}",
        "/api/v1/auth/sso/callback",
        "/api/v1/auth/sso/start",
        "/api/v1/auth/totp/confirm",
        "/api/v1/auth/totp/start",
        "/api/v1/compose",
        "/api/v1/drafts",
        "/api/v1/folders/deleted/empty",
        "/api/v1/drafts/{id}",
        "/api/v1/drafts/{id}/attachments",
        "/api/v1/drafts/{id}/attachments/{attachment}",
        "/api/v1/info",
        "/api/v1/messages",
        "/api/v1/messages/{id}",
        "/api/v1/messages/{id}/attachments/{attachment}",
        "/api/v1/messages/{id}/forward",
        "/api/v1/messages/{id}/move",
        "/api/v1/messages/{id}/recall",
        "/api/v1/messages/{id}/regrant",
        "/api/v1/messages/{id}/reply",
        "/api/v1/messages/{id}/revoke",
        "/api/v1/openapi.json",
        "/api/v1/portal/code",
        "/api/v1/portal/links/{token}",
        "/api/v1/portal/messages",
        "/api/v1/portal/messages/{id}",
        "/api/v1/portal/messages/{id}/attachments/{attachment}",
        "/api/v1/portal/messages/{id}/reply",
        "/api/v1/portal/redeem",
        "/api/v1/portal/session",
        "/api/v1/portal/signout",
        "/api/v1/portal/verify",
        "/api/v1/search",
        "/api/v1/write/code",
        "/api/v1/write/send",
        "/api/v1/write/session",
        "/api/v1/write/start",
        "/api/v1/write/verify",
    ];
    routes.sort_unstable();
    assert_eq!(documented, routes);
    // An unknown link token answers 404 by design (it must look like a missing route), so the
    // link lookup is left to the portal tests.
    for path in routes.into_iter().filter(|p| !p.contains("{token}")) {
        let concrete = path
            .replace("{id}", "00000000-0000-4000-8000-000000000000")
            .replace("{attachment}", "00000000-0000-4000-8000-000000000000");
        let status = app.get(&concrete).send().await.unwrap().status();
        assert_ne!(
            status,
            StatusCode::NOT_FOUND,
            "{path} is documented but not routed (GET answered 404)"
        );
    }
}

#[tokio::test]
async fn every_api_refusal_has_the_json_error_shape_even_axums_own() {
    let app = spawn_app().await;
    app.create_user("ann@testshire.gov.uk", crate::test_app::PASSWORD, sealpost_domain::Role::Ig)
        .await;
    let ann = app.sign_in("ann@testshire.gov.uk", crate::test_app::PASSWORD).await;
    let not_a_form = app
        .post("/api/v1/messages")
        .header("cookie", &ann)
        .body("hello")
        .send()
        .await
        .unwrap();
    let wrong_method = app.get("/api/v1/portal/signout").send().await.unwrap();
    let bad_query = app
        .get("/api/v1/audit/events?before=yesterday")
        .header("cookie", &ann)
        .send()
        .await
        .unwrap();
    for (what, response, status) in [
        ("a send that is not a form", not_a_form, StatusCode::BAD_REQUEST),
        ("GET on a POST route", wrong_method, StatusCode::METHOD_NOT_ALLOWED),
        ("a query that does not parse", bad_query, StatusCode::BAD_REQUEST),
    ] {
        assert_eq!(response.status(), status, "{what}");
        assert_eq!(response.headers()["content-type"], "application/json", "{what}");
        let error: serde_json::Value = response.json().await.unwrap();
        assert!(
            error["code"].is_string() && error["message"].as_str().is_some_and(|m| !m.is_empty()),
            "{what}: {error}"
        );
    }
}
