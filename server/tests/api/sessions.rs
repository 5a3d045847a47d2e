//! Session lifetime (SECURITY A9): 30 minutes idle, 12 hours absolute, with the server's clock
//! moved by hand.

use reqwest::StatusCode;
use sealpost_domain::Role;

use crate::test_app::{PASSWORD, spawn_app};

#[tokio::test]
async fn a_session_idle_for_thirty_minutes_ends() {
    let app = spawn_app().await;
    app.create_user("ann@testshire.gov.uk", PASSWORD, Role::Staff).await;
    let cookie = app.sign_in("ann@testshire.gov.uk", PASSWORD).await;
    app.clock.advance_minutes(29);
    assert_eq!(app.me(&cookie).await.status(), StatusCode::OK, "29 minutes idle is fine");
    app.clock.advance_minutes(29);
    assert_eq!(app.me(&cookie).await.status(), StatusCode::OK, "use slid the idle window");
    app.clock.advance_minutes(30);
    assert_eq!(app.me(&cookie).await.status(), StatusCode::UNAUTHORIZED);
    app.clock.advance_minutes(-30);
    assert_eq!(
        app.me(&cookie).await.status(),
        StatusCode::UNAUTHORIZED,
        "an ended session stays ended"
    );
}

#[tokio::test]
async fn a_busy_session_still_ends_after_twelve_hours() {
    let app = spawn_app().await;
    app.create_user("ann@testshire.gov.uk", PASSWORD, Role::Staff).await;
    let cookie = app.sign_in("ann@testshire.gov.uk", PASSWORD).await;
    for _ in 0..(12 * 3 - 1) {
        app.clock.advance_minutes(20);
        assert_eq!(app.me(&cookie).await.status(), StatusCode::OK);
    }
    app.clock.advance_minutes(20);
    assert_eq!(app.me(&cookie).await.status(), StatusCode::UNAUTHORIZED);
}
