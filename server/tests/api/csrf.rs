//! CSRF defence (SECURITY D4): state changes only by POST, never cross-site, never without the
//! custom header.

use reqwest::StatusCode;
use sealpost_domain::Role;
use serde_json::json;

use crate::test_app::{PASSWORD, body, spawn_app};

#[tokio::test]
async fn a_sign_in_without_the_custom_header_is_refused() {
    let app = spawn_app().await;
    app.create_user("ann@testshire.gov.uk", PASSWORD, Role::Staff).await;
    let response = app
        .client
        .post(format!("{}/api/v1/auth/login", app.address))
        .json(&json!({"email": "ann@testshire.gov.uk", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert!(response.headers().get("set-cookie").is_none());
}

#[tokio::test]
async fn a_foreign_origin_or_a_cross_site_fetch_is_refused_even_with_the_header() {
    let app = spawn_app().await;
    app.create_user("ann@testshire.gov.uk", PASSWORD, Role::Staff).await;
    let cookie = app.sign_in("ann@testshire.gov.uk", PASSWORD).await;
    let foreign = app
        .post("/api/v1/auth/logout")
        .header("cookie", &cookie)
        .header("origin", "https://evil.example")
        .send()
        .await
        .unwrap();
    assert_eq!(foreign.status(), StatusCode::FORBIDDEN);
    let cross = app
        .post("/api/v1/auth/logout")
        .header("cookie", &cookie)
        .header("sec-fetch-site", "cross-site")
        .send()
        .await
        .unwrap();
    assert_eq!(cross.status(), StatusCode::FORBIDDEN);
    assert_eq!(body(cross).await["code"], "forbidden");
    // DNS rebinding: a hostile name resolving to us sends a Host that matches its Origin.
    let port = app.address.rsplit(':').next().unwrap();
    let rebound = app
        .post("/api/v1/auth/logout")
        .header("cookie", &cookie)
        .header("origin", format!("http://evil.example:{port}"))
        .header("host", format!("evil.example:{port}"))
        .send()
        .await
        .unwrap();
    assert_eq!(rebound.status(), StatusCode::FORBIDDEN);
    assert_eq!(app.me(&cookie).await.status(), StatusCode::OK, "the session survived every attempt");
    let localhost = app
        .post("/api/v1/auth/logout")
        .header("cookie", &cookie)
        .header("origin", format!("http://localhost:{port}"))
        .send()
        .await
        .unwrap();
    assert_eq!(localhost.status(), StatusCode::NO_CONTENT, "localhost is the same loopback server");
    let cookie = app.sign_in("ann@testshire.gov.uk", PASSWORD).await;
    let same = app
        .post("/api/v1/auth/logout")
        .header("cookie", &cookie)
        .header("origin", app.address.clone())
        .header("sec-fetch-site", "same-origin")
        .send()
        .await
        .unwrap();
    assert_eq!(same.status(), StatusCode::NO_CONTENT);
}

#[tokio::test]
async fn state_changing_endpoints_do_not_answer_get() {
    let app = spawn_app().await;
    app.create_user("ann@testshire.gov.uk", PASSWORD, Role::Staff).await;
    let cookie = app.sign_in("ann@testshire.gov.uk", PASSWORD).await;
    for path in ["/api/v1/auth/logout", "/api/v1/auth/login", "/api/v1/auth/setup"] {
        let response = app.get(path).header("cookie", &cookie).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::METHOD_NOT_ALLOWED, "{path}");
    }
    assert_eq!(app.me(&cookie).await.status(), StatusCode::OK);
}
