//! Sending through a real SMTP listener started by the test.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use sealpost_domain::{EmailAddress, Marking, Reference};
use sealpost_mail::testing::SmtpSink;
use sealpost_mail::{Mailer, Notification, SendError};

fn notification() -> Notification {
    Notification {
        to: EmailAddress::parse("head@school.example.uk").unwrap(),
        sender_name: "Ann Lee".into(),
        sender_email: EmailAddress::parse("ann.lee@testshire.gov.uk").unwrap(),
        sender_phone: None,
        organisation: "Testshire County Council".into(),
        marking: Marking::Official,
        reference: Reference::from_stored("SP-ABCD-EFGH".into()),
        link: "http://127.0.0.1/s/abc".into(),
        expires: "1 January 2027".into(),
        message_id: "<a1@sealpost>".into(),
    }
}

fn mailer(url: &str) -> Mailer {
    Mailer::new(Some(url), std::env::temp_dir(), "sealpost@testshire.gov.uk".into(), 4).unwrap()
}

#[tokio::test]
async fn a_notification_arrives_at_a_real_smtp_server() {
    let sink = SmtpSink::start(&[]).await.unwrap();
    mailer(&sink.url).send(&notification()).await.unwrap();
    let received = sink.received();
    assert_eq!(received.len(), 1);
    assert!(received[0].contains("SP-ABCD-EFGH") && received[0].contains("http://127.0.0.1/s/abc"));
}

#[tokio::test]
async fn a_421_is_transient_and_a_550_permanent() {
    let sink = SmtpSink::start(&[421, 550]).await.unwrap();
    let m = mailer(&sink.url);
    assert!(matches!(m.send(&notification()).await, Err(SendError::Transient(_))));
    let permanent = m.send(&notification()).await;
    assert_eq!(permanent, Err(SendError::Permanent("the relay answered 550".into())));
    assert_eq!(sink.received().len(), 0);
}

#[tokio::test]
async fn a_relay_that_is_down_is_a_transient_failure() {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let result = mailer(&format!("smtp://127.0.0.1:{port}")).send(&notification()).await;
    assert!(matches!(result, Err(SendError::Transient(_))), "{result:?}");
}

#[tokio::test]
async fn without_a_relay_notifications_are_written_as_eml_files() {
    let dir = std::env::temp_dir().join(format!("sealpost-eml-{}", std::process::id()));
    let m = Mailer::new(None, dir.clone(), "sealpost@testshire.gov.uk".into(), 4).unwrap();
    assert!(m.describe().contains(".eml"));
    m.send(&notification()).await.unwrap();
    let path = dir.join("a1sealpost.eml");
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
        0o600,
        "the link is for the service account only"
    );
    let written = std::fs::read_to_string(&path).unwrap();
    assert!(written.contains("SP-ABCD-EFGH"));
    std::fs::remove_dir_all(dir).unwrap();
}
