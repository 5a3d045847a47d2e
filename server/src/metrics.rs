//! Prometheus metrics (issue 21): what operations watch, never content, addresses or ids. The
//! only module that names the `metrics` crates. Recording is a no-op until the recorder is
//! installed, which happens when `SEALPOST_METRICS_LISTEN` is set; `/metrics` is then served on
//! that address alone, never on the public one.
//!
//! - `sealpost_http_requests_total{route,method,status}` and
//!   `sealpost_http_request_duration_seconds{route}` (route templates, so a bounded set);
//! - `sealpost_outbox_pending` and `sealpost_outbox_oldest_seconds`, read at each scrape, and
//!   `sealpost_notifications_total{outcome}`;
//! - `sealpost_audit_batch_events` and `sealpost_audit_commit_seconds`;
//! - `sealpost_sign_in_failures_total` and `sealpost_sign_in_lockouts_total`;
//! - `sealpost_blob_errors_total`.

use std::net::SocketAddr;
use std::sync::OnceLock;
use std::time::Duration;

use axum::extract::State;
use axum::routing::get;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use tokio::net::TcpListener;

use crate::state::AppState;

static RECORDER: OnceLock<Option<PrometheusHandle>> = OnceLock::new();

/// Installs the process-wide recorder (once; later calls get the same handle). `None` if
/// another recorder was installed first.
pub fn install() -> Option<&'static PrometheusHandle> {
    RECORDER
        .get_or_init(|| {
            let seconds = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0];
            let events = [1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0, 512.0];
            PrometheusBuilder::new()
                .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), &seconds)
                .and_then(|b| b.set_buckets_for_metric(Matcher::Full("sealpost_audit_batch_events".into()), &events))
                .ok()?
                .install_recorder()
                .ok()
        })
        .as_ref()
}

/// One answered request: its route template, method and status, and how long it took.
pub fn request(route: &str, method: &str, status: u16, took: Duration) {
    // Methods are the client's to invent: anything unusual is one label, so the set stays small.
    let method = match method {
        "GET" | "HEAD" | "POST" | "PUT" | "PATCH" | "DELETE" | "OPTIONS" => method,
        _ => "OTHER",
    };
    let labels = [
        ("route", route.to_owned()),
        ("method", method.to_owned()),
        ("status", status.to_string()),
    ];
    metrics::counter!("sealpost_http_requests_total", &labels).increment(1);
    metrics::histogram!("sealpost_http_request_duration_seconds", "route" => route.to_owned()).record(took.as_secs_f64());
}

/// One notification handled by the outbox worker: `sent`, `retry`, `failed` or `bounced`.
pub fn notification(outcome: &'static str) {
    metrics::counter!("sealpost_notifications_total", "outcome" => outcome).increment(1);
}

/// One batch committed by the audit writer: how many events, and how long the commit took.
pub fn audit_batch(events: usize, took: Duration) {
    metrics::histogram!("sealpost_audit_batch_events").record(events as f64);
    metrics::histogram!("sealpost_audit_commit_seconds").record(took.as_secs_f64());
}

/// A sign-in refused for a wrong address or password.
pub fn sign_in_failure() {
    metrics::counter!("sealpost_sign_in_failures_total").increment(1);
}

/// A sign-in refused by a limit (the network's, or the account's after too many failures).
pub fn sign_in_lockout() {
    metrics::counter!("sealpost_sign_in_lockouts_total").increment(1);
}

/// The blob store failed a read, write or delete.
pub fn blob_error() {
    metrics::counter!("sealpost_blob_errors_total").increment(1);
}

/// Binds `address` for `/metrics`.
pub async fn bind(address: SocketAddr) -> anyhow::Result<TcpListener> {
    Ok(TcpListener::bind(address).await?)
}

/// Serves `/metrics` on `listener` until the process ends: the outbox gauges are read from
/// the database at each scrape, then everything is rendered in Prometheus' text format.
pub async fn serve(listener: TcpListener, state: AppState) {
    let Some(handle) = install() else {
        tracing::warn!("metrics: another recorder is installed; /metrics is not served");
        return;
    };
    let app = axum::Router::new().route("/metrics", get(scrape)).with_state((state, handle));
    if let Err(e) = axum::serve(listener, app).await {
        tracing::warn!(error = %e, "metrics listener stopped");
    }
}

async fn scrape(State((state, handle)): State<(AppState, &'static PrometheusHandle)>) -> String {
    match state.store.outbox_depth().await {
        Ok((pending, oldest_ms)) => {
            metrics::gauge!("sealpost_outbox_pending").set(pending as f64);
            let age = oldest_ms.map_or(0.0, |at| (state.now_ms() - at).max(0) as f64 / 1000.0);
            metrics::gauge!("sealpost_outbox_oldest_seconds").set(age);
        }
        Err(e) => tracing::warn!(error = %e, "metrics: the outbox could not be read"),
    }
    handle.render()
}
