//! Scenario 12: one PostgreSQL database under one instance of Sealpost, then under two.

use std::sync::Arc;
use std::time::Duration;

use sealpost_storage::testing::TestDatabase;

use crate::client::{self, load};
use crate::setup::{PARTNER, Server};

/// Scenario 12: the audited portal open on one instance, then spread over two instances of
/// `sealpost serve` (in this process) on one PostgreSQL database, with the same connections.
pub async fn row(db: TestDatabase, connections: usize, length: Duration) {
    let one = Server::start(db, 64).await;
    let two = one.beside().await;
    let ann = one.account("ann@testshire.gov.uk").await;
    let ten_kib = "Referral details. ".repeat(10 * 1024 / 18);
    let sent = one.send(&ann, &[PARTNER], "Case 1 referral", &ten_kib).await;
    let id = sent["id"].as_str().unwrap().to_owned();
    let partner = one.partner_session().await;
    let path = format!("/api/v1/portal/messages/{id}");
    let on = |s: &Server| client::get(&s.client, format!("{}{path}", s.base), Some(partner.clone()));
    let alone = load(connections, length, on(&one)).await;
    let (first, second) = (on(&one), on(&two));
    let turn = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let both: client::Request = Arc::new(move || {
        if turn.fetch_add(1, std::sync::atomic::Ordering::Relaxed).is_multiple_of(2) {
            first()
        } else {
            second()
        }
    });
    let spread = load(connections, length, both).await;
    println!("\n12. portal open, 10 KiB, audited, {connections} connections, on one PostgreSQL:");
    println!("| Instances | Throughput | p50 | p99 | Errors |\n|---|---|---|---|---|");
    for (n, f) in [(1, &alone), (2, &spread)] {
        println!(
            "| {n} | {:.0} /s | {:.2} ms | {:.2} ms | {} |",
            f.per_second(),
            f.p50_ms,
            f.p99_ms,
            f.errors
        );
    }
    println!("two instances ÷ one: {:.2}", spread.per_second() / alone.per_second());
}
