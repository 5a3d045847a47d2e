//! Prometheus metrics (issue 21), on both backends: `/metrics` answers on its own address only
//! (not the public one), in the text format a Prometheus parser reads, with requests by route
//! and status, the outbox, the audit writer and sign-in failures; no address or content.

use reqwest::StatusCode;
use serde_json::json;

use crate::staff::{message, people};
use crate::test_app::{TestApp, spawn_app, spawn_app_with};

async fn scrape(app: &TestApp) -> (String, Vec<prometheus_parse::Sample>) {
    let address = app.metrics.expect("the metrics listener");
    let text = reqwest::get(format!("http://{address}/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let lines = text.lines().map(|l| Ok(l.to_owned()));
    let scrape = prometheus_parse::Scrape::parse(lines).expect("Prometheus' text format");
    (text, scrape.samples)
}

fn value(samples: &[prometheus_parse::Sample], name: &str, labels: &[(&str, &str)]) -> f64 {
    samples
        .iter()
        .filter(|s| s.metric == name && labels.iter().all(|(k, v)| s.labels.get(k) == Some(*v)))
        .map(|s| match s.value {
            prometheus_parse::Value::Counter(v) | prometheus_parse::Value::Gauge(v) | prometheus_parse::Value::Untyped(v) => v,
            prometheus_parse::Value::Histogram(ref buckets) => buckets.last().map_or(0.0, |b| b.count),
            _ => 0.0,
        })
        .sum()
}

/// Whether the public address answers `/metrics` with metrics.
async fn public_metrics(app: &TestApp) -> bool {
    let text = app.get("/metrics").send().await.unwrap().text().await.unwrap();
    text.contains("sealpost_")
}

#[tokio::test]
async fn metrics_are_served_on_their_own_address_in_prometheus_text_format() {
    let app = spawn_app_with(|s| s.metrics_listen = Some("127.0.0.1:0".parse().unwrap())).await;
    let p = people(&app).await;
    // Not on the public address (where an unknown path is the web app's page).
    assert!(!public_metrics(&app).await);
    let (_, before) = scrape(&app).await;
    let sends_before = value(
        &before,
        "sealpost_http_requests_total",
        &[("route", "/api/v1/messages"), ("status", "200")],
    );
    let failures_before = value(&before, "sealpost_sign_in_failures_total", &[]);
    let partner = "pc.jones@met.police.uk";
    for _ in 0..3 {
        assert_eq!(
            app.send(&p.ann, message(&[partner], "Visit", "Tuesday."), &[]).await.status(),
            StatusCode::OK
        );
    }
    let wrong = app
        .post("/api/v1/auth/login")
        .json(&json!({ "email": "ann@testshire.gov.uk", "password": "not the password at all" }))
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    let (text, after) = scrape(&app).await;
    let sends = value(
        &after,
        "sealpost_http_requests_total",
        &[("route", "/api/v1/messages"), ("status", "200")],
    );
    assert!(sends - sends_before >= 3.0, "{sends_before} → {sends}");
    assert!(value(&after, "sealpost_sign_in_failures_total", &[]) > failures_before);
    assert!(
        value(&after, "sealpost_outbox_pending", &[]) >= 3.0,
        "the three notifications wait (no worker here)"
    );
    assert!(value(&after, "sealpost_audit_commit_seconds", &[]) > 0.0, "audit commits are timed");
    assert!(text.contains("sealpost_http_request_duration_seconds_bucket"), "latency histograms");
    // Labels are route templates and codes: never an address, an id or a token.
    assert!(!text.contains(partner) && !text.contains("ann@"), "no address in the metrics");
    assert!(!text.contains("/api/v1/messages/0") && !text.contains("/s/"), "no concrete path");
}

#[tokio::test]
async fn without_a_metrics_address_there_is_no_metrics_listener() {
    let app = spawn_app().await;
    assert!(app.metrics.is_none());
    assert!(!public_metrics(&app).await);
}
