//! Brute-force limits (SECURITY A3): per-IP bucket and per-address failure count, both checked
//! before the password is hashed.

use reqwest::StatusCode;
use sealpost_domain::{EmailAddress, Role};

use crate::test_app::{PASSWORD, body, spawn_app, spawn_app_with};

async fn failures(app: &crate::test_app::TestApp, email: &str) -> i64 {
    app.state
        .store
        .count_login_failures(&EmailAddress::parse(email).unwrap(), 0)
        .await
        .unwrap()
}

#[tokio::test]
async fn the_eleventh_attempt_from_one_address_is_refused_before_any_hashing() {
    let app = spawn_app().await;
    app.create_user("ann@testshire.gov.uk", PASSWORD, Role::Staff).await;
    for _ in 0..10 {
        assert_eq!(
            app.login("ann@testshire.gov.uk", "wrong password guess").await.status(),
            StatusCode::UNAUTHORIZED
        );
    }
    assert_eq!(failures(&app, "ann@testshire.gov.uk").await, 10);
    // The eleventh attempt never reaches verification: a wrong password would be recorded as
    // a failure if it were checked, and it is not.
    let refused = app.login("ann@testshire.gov.uk", "wrong password guess").await;
    assert_eq!(refused.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry: u64 = refused.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=60).contains(&retry));
    assert_eq!(body(refused).await["code"], "too_many_requests");
    assert_eq!(failures(&app, "ann@testshire.gov.uk").await, 10);
    assert_eq!(
        app.login("ann@testshire.gov.uk", PASSWORD).await.status(),
        StatusCode::TOO_MANY_REQUESTS,
        "even the right password"
    );
    // A minute later one more attempt is allowed.
    app.clock.advance_minutes(1);
    assert_eq!(app.login("ann@testshire.gov.uk", PASSWORD).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn twenty_failures_in_an_hour_lock_the_address_whether_or_not_it_has_an_account() {
    let app = spawn_app_with(|s| s.login_ip_burst = 1000).await;
    app.create_user("ann@testshire.gov.uk", PASSWORD, Role::Staff).await;
    for email in ["ann@testshire.gov.uk", "ghost@testshire.gov.uk"] {
        for _ in 0..20 {
            assert_eq!(app.login(email, "wrong password guess").await.status(), StatusCode::UNAUTHORIZED);
        }
        let locked = app.login(email, "wrong password guess").await;
        assert_eq!(locked.status(), StatusCode::TOO_MANY_REQUESTS, "{email}");
        assert!(body(locked).await["message"].as_str().unwrap().contains("Too many failed sign-ins"));
        assert_eq!(
            app.login(email, PASSWORD).await.status(),
            StatusCode::TOO_MANY_REQUESTS,
            "{email}: even the right password"
        );
    }
    app.clock.advance_minutes(61);
    assert_eq!(app.login("ann@testshire.gov.uk", PASSWORD).await.status(), StatusCode::OK);
}
