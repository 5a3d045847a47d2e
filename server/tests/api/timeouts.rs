//! Slow clients are cut off (SECURITY D8): headers must arrive within the read timeout, and a
//! body must keep up a minimum rate, or the connection is closed (a body gets a 408 first).
//! The timeout is shortened to 2 s here; the default is 30 s.

use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::test_app::spawn_app_with;

const TIMEOUT_SECS: u32 = 2;

/// Connects, sends `head`, then `trickle` one piece at a time every 300 ms (stopping when the
/// server hangs up), and returns what the server answered and when it closed the connection.
async fn trickle(address: &str, head: String, trickle: &'static [u8]) -> (String, Duration) {
    let host = address.trim_start_matches("http://");
    let stream = TcpStream::connect(host).await.unwrap();
    let (mut reader, mut writer) = stream.into_split();
    let started = Instant::now();
    writer.write_all(head.as_bytes()).await.unwrap();
    let sender = tokio::spawn(async move {
        for piece in trickle.chunks(1).cycle().take(200) {
            tokio::time::sleep(Duration::from_millis(300)).await;
            if writer.write_all(piece).await.is_err() {
                return;
            }
        }
    });
    let mut answer = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(20), reader.read_to_end(&mut answer)).await;
    sender.abort();
    assert!(read.is_ok(), "the server kept the slow connection open for 20 s");
    (String::from_utf8_lossy(&answer).into_owned(), started.elapsed())
}

#[tokio::test]
async fn a_client_that_trickles_header_lines_is_disconnected_after_the_read_timeout() {
    let app = spawn_app_with(|s| s.request_read_timeout_secs = TIMEOUT_SECS).await;
    let head = "GET /api/v1/auth/me HTTP/1.1\r\nHost: x\r\n".to_owned();
    let (answer, after) = trickle(&app.address, head, b"X: y\r\n").await;
    assert!(answer.is_empty(), "no request was ever complete: {answer:?}");
    assert!(
        after >= Duration::from_secs(2) && after < Duration::from_secs(6),
        "closed after {after:?}"
    );
}

#[tokio::test]
async fn a_body_sent_a_byte_at_a_time_is_answered_408_and_closed() {
    let app = spawn_app_with(|s| s.request_read_timeout_secs = TIMEOUT_SECS).await;
    let head = "POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\nx-sealpost-csrf: 1\r\n\
                content-type: application/json\r\ncontent-length: 500\r\n\r\n"
        .to_owned();
    let (answer, after) = trickle(&app.address, head, b"{").await;
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer:?}");
    assert!(answer.contains("request_timeout"), "{answer:?}");
    assert!(after < Duration::from_secs(8), "closed after {after:?}");
}

#[tokio::test]
async fn an_ordinary_request_is_not_affected_by_the_read_timeout() {
    let app = spawn_app_with(|s| s.request_read_timeout_secs = TIMEOUT_SECS).await;
    let r = app.login("nobody@testshire.gov.uk", "wrong password guess").await;
    assert_eq!(r.status(), reqwest::StatusCode::UNAUTHORIZED);
}
