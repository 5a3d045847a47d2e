//! How many audit events each group commit carried during a load, read from the server's own
//! Prometheus histogram (`sealpost_audit_batch_events`, buckets 1, 2, 4, … 512), so batching
//! is visible beside the throughput it buys, and how much of a load's wall-clock time the
//! appender spent in a commit (`sealpost_audit_commit_seconds`: from the batch handed to the
//! store to its answer, waiting for a core included), the one serial step of an audited read.

/// The histogram as rendered at one moment: cumulative counts per upper bound, sum and count.
pub struct Snapshot {
    buckets: Vec<(f64, f64)>,
    sum: f64,
    count: f64,
    /// Seconds spent in commits.
    committing: f64,
}

/// Reads the histogram now (all zero until the first commit).
pub fn snapshot() -> Snapshot {
    let text = sealpost_server::metrics::install().map(|h| h.render()).unwrap_or_default();
    let value = |line: &str| line.rsplit(' ').next().and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    let mut s = Snapshot {
        buckets: vec![],
        sum: 0.0,
        count: 0.0,
        committing: 0.0,
    };
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("sealpost_audit_batch_events_bucket{le=\"") {
            let bound = rest.split('"').next().and_then(|b| b.parse::<f64>().ok()).unwrap_or(f64::INFINITY);
            s.buckets.push((bound, value(line)));
        } else if line.starts_with("sealpost_audit_batch_events_sum") {
            s.sum = value(line);
        } else if line.starts_with("sealpost_audit_batch_events_count") {
            s.count = value(line);
        } else if line.starts_with("sealpost_audit_commit_seconds_sum") {
            s.committing = value(line);
        }
    }
    s
}

/// The commits between `before` and now, over a load of `seconds`: how many, the mean events
/// in each, the bucket bound that 99 % of them stayed within, and the share of the time the
/// appender was in a commit.
pub fn since(before: &Snapshot, seconds: f64) -> String {
    let after = snapshot();
    let commits = after.count - before.count;
    if commits < 1.0 {
        return "no audit commits".into();
    }
    let mean = (after.sum - before.sum) / commits;
    let at = |s: &Snapshot, bound: f64| s.buckets.iter().find(|(b, _)| *b == bound).map_or(0.0, |(_, n)| *n);
    let p99 = after
        .buckets
        .iter()
        .find(|(bound, n)| n - at(before, *bound) >= 0.99 * commits)
        .map_or(f64::INFINITY, |(bound, _)| *bound);
    let busy = 100.0 * (after.committing - before.committing) / seconds;
    format!(
        "{commits:.0} audit commits, {mean:.1} events each on average, p99 ≤ {p99:.0}; the appender in a commit {busy:.0} % of the time (waiting for a core included)"
    )
}
