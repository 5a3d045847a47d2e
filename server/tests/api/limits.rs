//! Brute-force limits (SECURITY A3): per-IP bucket and per-address failure count, both checked
//! before the password is hashed.

use reqwest::StatusCode;
use sealpost_domain::{EmailAddress, Role};

use crate::test_app::{PASSWORD, body, device_cookie, spawn_app, spawn_app_with};

async fn failures(app: &crate::test_app::TestApp, email: &str) -> i64 {
    app.state
        .store
        .count_login_failures(&EmailAddress::parse(email).unwrap(), 0)
        .await
        .unwrap()
}

#[tokio::test]
async fn failures_past_the_burst_from_one_address_are_refused_before_any_hashing() {
    let app = spawn_app_with(|s| s.login_ip_burst = 10).await;
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
    // A minute later (5 a minute by default) attempts are allowed again.
    app.clock.advance_minutes(1);
    assert_eq!(app.login("ann@testshire.gov.uk", PASSWORD).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn successful_sign_ins_from_a_shared_office_address_never_use_up_its_allowance() {
    let app = spawn_app_with(|s| s.login_ip_burst = 3).await;
    app.create_user("ann@testshire.gov.uk", PASSWORD, Role::Staff).await;
    for _ in 0..13 {
        assert_eq!(app.login("ann@testshire.gov.uk", PASSWORD).await.status(), StatusCode::OK);
    }
    for _ in 0..3 {
        assert_eq!(
            app.login("ann@testshire.gov.uk", "wrong password guess").await.status(),
            StatusCode::UNAUTHORIZED,
            "13 good sign-ins left the whole burst for failures"
        );
    }
    assert_eq!(
        app.login("ann@testshire.gov.uk", "wrong password guess").await.status(),
        StatusCode::TOO_MANY_REQUESTS
    );
}

/// Fires `n` wrong sign-ins at once (`email(i)` picks the address) and returns how many were
/// answered 401 and 429, and how many passwords the server actually checked.
async fn parallel_wrong_sign_ins(app: &crate::test_app::TestApp, n: usize, email: impl Fn(usize) -> String) -> (usize, usize, u64) {
    let before = app.state.hasher.verification_count();
    let statuses = futures::future::join_all((0..n).map(|i| {
        let email = email(i);
        async move { app.login(&email, "wrong password guess").await.status() }
    }))
    .await;
    let count = |s| statuses.iter().filter(|&&x| x == s).count();
    let checked = app.state.hasher.verification_count() - before;
    (count(StatusCode::UNAUTHORIZED), count(StatusCode::TOO_MANY_REQUESTS), checked)
}

#[tokio::test]
async fn forty_parallel_wrong_passwords_from_one_address_check_exactly_the_burst() {
    let app = spawn_app().await;
    let burst = app.state.settings.login_ip_burst as usize;
    assert!(burst < 40, "the default burst ({burst}) is below the 40 fired");
    let (wrong, refused, checked) = parallel_wrong_sign_ins(&app, 40, |i| format!("guess{i}@testshire.gov.uk")).await;
    assert_eq!((wrong, refused, checked), (burst, 40 - burst, burst as u64));
}

#[tokio::test]
async fn forty_parallel_wrong_passwords_for_one_account_check_exactly_its_hourly_limit() {
    let app = spawn_app_with(|s| s.login_ip_burst = 1000).await;
    app.create_user("ann@testshire.gov.uk", PASSWORD, Role::Staff).await;
    let (wrong, refused, checked) = parallel_wrong_sign_ins(&app, 40, |_| "ann@testshire.gov.uk".into()).await;
    assert_eq!((wrong, refused, checked), (20, 20, 20));
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

#[tokio::test]
async fn strangers_guessing_cannot_lock_an_officer_out_of_a_browser_she_signs_in_from() {
    let app = spawn_app_with(|s| s.login_ip_burst = 1000).await;
    app.create_user("ida@testshire.gov.uk", PASSWORD, Role::Ig).await;
    // Ida signs in from her own browser, which is then known to her account.
    let first = app.login("ida@testshire.gov.uk", PASSWORD).await;
    assert_eq!(first.status(), StatusCode::OK);
    let device = device_cookie(&first).expect("a device cookie");
    let set = first
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .collect::<Vec<_>>();
    assert!(
        set.iter()
            .any(|c| c.starts_with("__Host-sealpost_device=") && c.contains("HttpOnly") && c.contains("SameSite=Strict")),
        "{set:?}"
    );
    // Someone else makes 20 wrong guesses: the address is locked for any other browser...
    for _ in 0..20 {
        assert_eq!(
            app.login("ida@testshire.gov.uk", "wrong password guess").await.status(),
            StatusCode::UNAUTHORIZED
        );
    }
    assert_eq!(
        app.login("ida@testshire.gov.uk", PASSWORD).await.status(),
        StatusCode::TOO_MANY_REQUESTS
    );
    // ...but Ida's own browser signs in, and is not given a second device cookie.
    let own = app.login_with_cookie("ida@testshire.gov.uk", PASSWORD, &device).await;
    assert_eq!(own.status(), StatusCode::OK);
    assert!(device_cookie(&own).is_none());
    // A device cookie of one account does nothing for another.
    app.create_user("ann@testshire.gov.uk", PASSWORD, Role::Staff).await;
    for _ in 0..20 {
        app.login("ann@testshire.gov.uk", "wrong password guess").await;
    }
    let borrowed = app.login_with_cookie("ann@testshire.gov.uk", PASSWORD, &device).await;
    assert_eq!(borrowed.status(), StatusCode::TOO_MANY_REQUESTS);
    // The known browser has a limit of its own: 10 failures an hour, counted exactly even in
    // parallel, then it waits too.
    let before = app.state.hasher.verification_count();
    let tries =
        futures::future::join_all((0..40).map(|_| app.login_with_cookie("ida@testshire.gov.uk", "wrong password guess", &device))).await;
    let wrong = tries.iter().filter(|r| r.status() == StatusCode::UNAUTHORIZED).count();
    assert_eq!((wrong, app.state.hasher.verification_count() - before), (10, 10));
    assert_eq!(
        app.login_with_cookie("ida@testshire.gov.uk", PASSWORD, &device).await.status(),
        StatusCode::TOO_MANY_REQUESTS
    );
}
