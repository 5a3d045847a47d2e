//! The load generator: `connections` tasks send one request after another for a fixed time, and
//! the figures come from every latency recorded. Bounded in time and only ever on loopback.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// One request: resolves to whether it succeeded.
pub type Request = Arc<dyn Fn() -> Pin<Box<dyn Future<Output = bool> + Send>> + Send + Sync>;

/// Throughput and latency of one load.
pub struct Figures {
    pub requests: usize,
    pub errors: usize,
    pub seconds: f64,
    pub p50_ms: f64,
    pub p95_ms: f64,
    pub p99_ms: f64,
}

impl Figures {
    pub fn per_second(&self) -> f64 {
        self.requests as f64 / self.seconds
    }

    /// Figures from the latencies of successful requests.
    pub fn from_latencies(mut all: Vec<Duration>, errors: usize, seconds: f64) -> Self {
        all.sort_unstable();
        let pick = |q: f64| {
            all.get(((all.len() as f64 * q) as usize).min(all.len().saturating_sub(1)))
                .map_or(0.0, |d| d.as_secs_f64() * 1e3)
        };
        Figures {
            requests: all.len(),
            errors,
            seconds,
            p50_ms: pick(0.50),
            p95_ms: pick(0.95),
            p99_ms: pick(0.99),
        }
    }
}

/// `connections` tasks run `request` back to back for `length`.
pub async fn load(connections: usize, length: Duration, request: Request) -> Figures {
    let raw = run(connections, length, request).await;
    Figures::from_latencies(raw.latencies, raw.errors, raw.seconds)
}

/// Two loads in turns, `a` then `b`, `turns` times, each `length / turns` at a time: both
/// measured over the same stretch of time, so that a machine which speeds up or slows down
/// (this development VM's HTTP ceiling moves by a third between runs) moves both alike.
pub async fn in_turns(connections: usize, length: Duration, turns: u32, a: Request, b: Request) -> (Figures, Figures) {
    let (mut first, mut second) = (Raw::default(), Raw::default());
    for _ in 0..turns {
        first.add(run(connections, length / turns, a.clone()).await);
        second.add(run(connections, length / turns, b.clone()).await);
    }
    (first.figures(), second.figures())
}

/// Every latency of a load, its errors and how long it ran.
#[derive(Default)]
struct Raw {
    latencies: Vec<Duration>,
    errors: usize,
    seconds: f64,
}

impl Raw {
    fn add(&mut self, other: Raw) {
        self.latencies.extend(other.latencies);
        self.errors += other.errors;
        self.seconds += other.seconds;
    }

    fn figures(self) -> Figures {
        Figures::from_latencies(self.latencies, self.errors, self.seconds)
    }
}

async fn run(connections: usize, length: Duration, request: Request) -> Raw {
    let started = Instant::now();
    let deadline = started + length;
    let tasks: Vec<_> = (0..connections)
        .map(|_| {
            let request = request.clone();
            tokio::spawn(async move {
                let (mut latencies, mut errors) = (Vec::new(), 0usize);
                while Instant::now() < deadline {
                    let t = Instant::now();
                    if request().await {
                        latencies.push(t.elapsed());
                    } else {
                        errors += 1;
                    }
                }
                (latencies, errors)
            })
        })
        .collect();
    let mut raw = Raw::default();
    for t in tasks {
        let (l, e) = t.await.unwrap();
        raw.latencies.extend(l);
        raw.errors += e;
    }
    raw.seconds = started.elapsed().as_secs_f64();
    raw
}

/// A GET of `url` with an optional cookie, succeeding on a 2xx with its whole body read.
pub fn get(client: &reqwest::Client, url: String, cookie: Option<String>) -> Request {
    let client = client.clone();
    Arc::new(move || {
        let mut request = client.get(&url);
        if let Some(c) = &cookie {
            request = request.header("cookie", c);
        }
        Box::pin(async move {
            match request.send().await {
                Ok(r) if r.status().is_success() => r.bytes().await.is_ok(),
                _ => false,
            }
        })
    })
}

/// The markdown row of a load, with its ratio to `reference`.
pub fn row(name: &str, f: &Figures, reference: Option<&Figures>) {
    let ratio = reference.map_or(String::from("–"), |r| format!("{:.1} %", 100.0 * f.per_second() / r.per_second()));
    println!(
        "| {name} | {:.0} /s | {:.2} ms | {:.2} ms | {} | {ratio} |",
        f.per_second(),
        f.p50_ms,
        f.p99_ms,
        f.errors
    );
}
