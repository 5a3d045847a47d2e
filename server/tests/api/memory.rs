//! Memory stays bounded under a storm of failed sign-ins (SECURITY A11), measured on the real
//! `sealpost serve` process: argon2id's 19 MiB working memory is reused by a fixed number of
//! hashing workers instead of being left behind in every thread that ever hashed.

use reqwest::StatusCode;
use serde_json::json;

use crate::real_server::Installation;

const ADDRESSES: usize = 40;
const PER_ADDRESS: usize = 8;

#[tokio::test]
async fn three_hundred_and_twenty_failed_sign_ins_from_forty_addresses_leave_the_server_under_100_mib() {
    let mut install = Installation::new().await;
    // Behind a proxy, each request's address is the last X-Forwarded-For entry: 40 offices.
    install.env.push(("SEALPOST_TRUST_PROXY".into(), "true".into()));
    let server = install.start().await;
    let idle = server.rss_mib();
    let storm = (0..ADDRESSES).map(|a| {
        let server = &server;
        async move {
            let mut statuses = Vec::new();
            for n in 0..PER_ADDRESS {
                let r = server
                    .client
                    .post(format!("{}/api/v1/auth/login", server.address))
                    .header("x-sealpost-csrf", "1")
                    .header("x-forwarded-for", format!("192.0.2.{a}"))
                    .json(&json!({ "email": format!("guess{a}x{n}@testshire.gov.uk"), "password": "wrong password guess" }))
                    .send()
                    .await
                    .unwrap();
                statuses.push(r.status());
            }
            statuses
        }
    });
    let statuses: Vec<StatusCode> = futures::future::join_all(storm).await.into_iter().flatten().collect();
    assert_eq!(statuses.len(), ADDRESSES * PER_ADDRESS);
    assert!(
        statuses.iter().all(|s| *s == StatusCode::UNAUTHORIZED),
        "every attempt reached the password check: {statuses:?}"
    );
    let after = server.rss_mib();
    println!("memory: idle {idle} MiB, after {} failed sign-ins {after} MiB", statuses.len());
    assert!(after < 100, "RSS after the storm is {after} MiB (idle {idle} MiB)");
}
