//! The SMTP intake (issue 18): real SMTP conversations with the listener, as the council's
//! Exchange connector would hold them, and what each message becomes.

use reqwest::StatusCode;
use sealpost_domain::Role;
use sealpost_server::settings::Intake;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

use crate::test_app::{PASSWORD, TestApp, body, spawn_app_with};

const ANN: &str = "ann@testshire.gov.uk";
const BOB: &str = "bob@testshire.gov.uk";

fn intake(configure: impl FnOnce(&mut Intake)) -> Intake {
    let mut intake = Intake {
        listen: "127.0.0.1:0".parse().unwrap(),
        allow: vec!["127.0.0.0/8".parse().unwrap()],
        max_bytes: 4 * 1024 * 1024,
        max_sessions: 8,
        per_minute: 1000,
        tag: "secure".into(),
        sensitive_tag: "secure sensitive".into(),
        secret: None,
        tls: None,
    };
    configure(&mut intake);
    intake
}

/// A server with the intake on, Ann and Bob as staff: Bob's session cookie.
async fn app_with(configure: impl FnOnce(&mut Intake) + Send + 'static) -> (TestApp, String) {
    let app = spawn_app_with(move |s| {
        s.intake = Some(intake(configure));
        s.max_attachment_mib = 1;
    })
    .await;
    app.create_user(ANN, PASSWORD, Role::Staff).await;
    app.create_user(BOB, PASSWORD, Role::Staff).await;
    let bob = app.sign_in(BOB, PASSWORD).await;
    (app, bob)
}

/// One SMTP client connection.
struct Smtp {
    stream: BufReader<TcpStream>,
}

impl Smtp {
    /// Connects and returns the greeting.
    async fn connect(app: &TestApp) -> (Self, String) {
        let stream = TcpStream::connect(app.intake.expect("the intake listens")).await.unwrap();
        let mut smtp = Self {
            stream: BufReader::new(stream),
        };
        let greeting = smtp.reply().await;
        (smtp, greeting)
    }

    /// One whole reply (every line of a multi-line one), or "" if the server closed.
    async fn reply(&mut self) -> String {
        reply_from(&mut self.stream).await
    }

    async fn command(&mut self, line: &str) -> String {
        self.stream.get_mut().write_all(format!("{line}\r\n").as_bytes()).await.unwrap();
        self.reply().await
    }

    /// MAIL, RCPT for each, DATA and the message: the reply to the message.
    async fn send(&mut self, from: &str, to: &[&str], message: &str) -> String {
        assert!(self.command(&format!("MAIL FROM:<{from}>")).await.starts_with("250"));
        for rcpt in to {
            assert!(self.command(&format!("RCPT TO:<{rcpt}>")).await.starts_with("250"));
        }
        assert!(self.command("DATA").await.starts_with("354"));
        let stuffed = message.replace("\r\n.", "\r\n..");
        self.stream
            .get_mut()
            .write_all(format!("{stuffed}\r\n.\r\n").as_bytes())
            .await
            .unwrap();
        self.reply().await
    }
}

/// Connects, says EHLO and sends one message: the reply to it.
async fn send(app: &TestApp, from: &str, to: &[&str], message: &str) -> String {
    let (mut smtp, greeting) = Smtp::connect(app).await;
    assert!(greeting.starts_with("220"), "{greeting}");
    assert!(smtp.command("EHLO exchange.testshire.gov.uk").await.starts_with("250"));
    let answer = smtp.send(from, to, message).await;
    assert!(smtp.command("QUIT").await.starts_with("221"));
    answer
}

fn plain(from: &str, to: &str, subject: &str, text: &str) -> String {
    format!("From: Ann Lee <{from}>\r\nTo: {to}\r\nSubject: {subject}\r\nMessage-ID: <1@exchange>\r\n\r\n{text}")
}

#[tokio::test]
async fn a_tagged_message_from_outlook_is_sealed_and_sent_to_a_colleague_and_a_partner() {
    let (app, bob) = app_with(|_| {}).await;
    let answer = send(
        &app,
        ANN,
        &[BOB, "pat@nhs.net"],
        &plain(
            ANN,
            "Bob <bob@testshire.gov.uk>, pat@nhs.net",
            "[secure] Case 42 referral",
            "Hello both.\r\nAnn",
        ),
    )
    .await;
    assert!(answer.starts_with("250 2.0.0 Sent securely as SP-"), "{answer}");

    let inbox = body(app.list(&bob, "inbox").await).await;
    assert_eq!(inbox[0]["subject"], "Case 42 referral", "the tag is not part of the subject");
    let id = inbox[0]["id"].as_str().unwrap();
    let detail = body(app.read(&bob, id).await).await;
    assert_eq!(detail["body"].as_str().unwrap().trim(), "Hello both.\nAnn");
    assert_eq!(inbox[0]["marking"], "official");
    // The partner's notification and Bob's notice are queued like any others.
    assert_eq!(app.deliver_due().await, 2);
    assert!(app.audit_actions(id).await.contains(&"message.send".to_owned()));
}

#[tokio::test]
async fn html_mail_with_two_attachments_and_a_forwarded_message_arrives_with_its_files() {
    let (app, bob) = app_with(|_| {}).await;
    let message = [
        &format!("From: {ANN}"),
        &format!("To: {BOB}"),
        "Subject: [SECURE] Files for the panel",
        "MIME-Version: 1.0",
        "Content-Type: multipart/mixed; boundary=outer",
        "",
        "--outer",
        "Content-Type: multipart/alternative; boundary=alt",
        "",
        "--alt",
        "Content-Type: text/plain; charset=ISO-8859-1",
        "Content-Transfer-Encoding: quoted-printable",
        "",
        "Caf=E9 notes attached.",
        "--alt",
        "Content-Type: text/html; charset=utf-8",
        "",
        "<p>Café notes <b>attached</b>.</p>",
        "--alt--",
        "--outer",
        "Content-Type: application/pdf; name=\"notes.pdf\"",
        "Content-Disposition: attachment; filename=\"notes.pdf\"",
        "Content-Transfer-Encoding: base64",
        "",
        "JVBERi0xLjQK",
        "--outer",
        "Content-Type: text/csv; name=\"cases.csv\"",
        "Content-Disposition: attachment; filename=\"cases.csv\"",
        "",
        "id,name",
        "--outer",
        "Content-Type: message/rfc822",
        "",
        "From: gp@nhs.net",
        "Subject: Referral",
        "",
        "The original referral.",
        "--outer--",
    ]
    .join("\r\n");
    let answer = send(&app, ANN, &[BOB], &message).await;
    assert!(answer.starts_with("250"), "{answer}");
    let inbox = body(app.list(&bob, "inbox").await).await;
    let id = inbox[0]["id"].as_str().unwrap();
    let detail = body(app.read(&bob, id).await).await;
    assert_eq!(detail["body"].as_str().unwrap().trim(), "Café notes attached.");
    let names: Vec<&str> = detail["attachments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["notes.pdf", "cases.csv", "Referral.eml"]);
    let pdf = detail["attachments"][0]["id"].as_str().unwrap();
    let download = app.download(&bob, id, pdf).await;
    assert_eq!(download.bytes().await.unwrap().as_ref(), b"%PDF-1.4\n");
    assert_eq!(
        detail["html"], "<p>Café notes <b>attached</b>.</p>",
        "the HTML, cleaned, beside the text"
    );
}

#[tokio::test]
async fn html_from_outlook_is_cleaned_before_it_is_sealed_and_text_mail_has_none() {
    let (app, bob) = app_with(|_| {}).await;
    let message = [
        &format!("From: {ANN}"),
        &format!("To: {BOB}"),
        "Subject: [secure] Formatted",
        "Content-Type: text/html; charset=utf-8",
        "",
        r#"<p onmouseover="top.xss=1">Case <b>7</b><script>top.xss=1</script><img src="https://evil.example/read.gif"><a href="javascript:top.xss=1">go</a></p>"#,
    ]
    .join("\r\n");
    assert!(send(&app, ANN, &[BOB], &message).await.starts_with("250"));
    let inbox = body(app.list(&bob, "inbox").await).await;
    let detail = body(app.read(&bob, inbox[0]["id"].as_str().unwrap()).await).await;
    assert_eq!(
        detail["html"].as_str().unwrap().trim(),
        r#"<p>Case <b>7</b><img><a rel="noopener noreferrer">go</a></p>"#
    );
    assert!(
        detail["body"].as_str().unwrap().contains("Case 7"),
        "the text alternative: {detail}"
    );
    // Sealed like the rest: the database holds neither the markup nor the words.
    let stored = app.state.store.fetch_bytes("SELECT body_html FROM messages").await.unwrap();
    assert_eq!(stored.len(), 1);
    assert!(!String::from_utf8_lossy(&stored[0]).contains("Case"), "sealed at rest");

    assert!(
        send(&app, ANN, &[BOB], &plain(ANN, BOB, "[secure] Plain", "Just text"))
            .await
            .starts_with("250")
    );
    let inbox = body(app.list(&bob, "inbox").await).await;
    let plain_one = inbox.as_array().unwrap().iter().find(|m| m["subject"] == "Plain").unwrap();
    let detail = body(app.read(&bob, plain_one["id"].as_str().unwrap()).await).await;
    assert!(detail.get("html").is_none(), "{detail}");
}

#[tokio::test]
async fn an_eight_bit_body_sent_by_lettre_arrives_as_written() {
    let (app, bob) = app_with(|_| {}).await;
    let message = format!(
        "From: {ANN}\r\nTo: {BOB}\r\nSubject: [secure] Ünïcödé notes\r\nMIME-Version: 1.0\r\n\
         Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n\
         Café, naïve, Ægir and 東京: 8-bit bytes, not encoded.\r\n"
    );
    let intake = app.intake.expect("the intake listens");
    let answer = sealpost_mail::testing::submit(intake, ANN, &[BOB], message.as_bytes())
        .await
        .unwrap();
    assert!(answer.starts_with("250") && answer.contains("Sent securely as SP-"), "{answer}");
    let inbox = body(app.list(&bob, "inbox").await).await;
    assert_eq!(inbox[0]["subject"], "Ünïcödé notes");
    let detail = body(app.read(&bob, inbox[0]["id"].as_str().unwrap()).await).await;
    assert_eq!(
        detail["body"].as_str().unwrap().trim(),
        "Café, naïve, Ægir and 東京: 8-bit bytes, not encoded."
    );
    // lettre hears a refusal as the error it is.
    let refused = sealpost_mail::testing::submit(intake, "stranger@testshire.gov.uk", &[BOB], message.as_bytes()).await;
    let refused = refused.unwrap_err();
    assert!(
        refused.contains("550") && refused.contains("must be the sender's own"),
        "a 550 with its reason: {refused}"
    );
}

#[tokio::test]
async fn mail_not_from_an_active_member_of_staff_or_not_tagged_is_refused_with_a_reason() {
    let (app, bob) = app_with(|_| {}).await;
    let refusals = [
        (
            "stranger@testshire.gov.uk",
            plain("stranger@testshire.gov.uk", BOB, "[secure] hi", "x"),
            "not a member of staff",
        ),
        (
            ANN,
            plain("boss@testshire.gov.uk", BOB, "[secure] hi", "x"),
            "From address must be the sender's own",
        ),
        (ANN, plain(ANN, BOB, "no tag here", "x"), "tagged [secure]"),
    ];
    for (from, message, why) in refusals {
        let answer = send(&app, from, &[BOB], &message).await;
        assert!(answer.starts_with("550 5.7.1"), "{answer}");
        assert!(answer.contains(why), "{answer}");
    }
    let tnef = [
        &format!("From: {ANN}"),
        "Subject: [secure] rich text",
        "Content-Type: multipart/mixed; boundary=b",
        "",
        "--b",
        "Content-Type: text/plain",
        "",
        "x",
        "--b",
        "Content-Type: application/ms-tnef; name=winmail.dat",
        "Content-Transfer-Encoding: base64",
        "",
        "eJ8+IgAAAA==",
        "--b--",
    ]
    .join("\r\n");
    let answer = send(&app, ANN, &[BOB], &tnef).await;
    assert!(answer.starts_with("550 5.6.1") && answer.contains("winmail.dat"), "{answer}");
    // OFFICIAL-SENSITIVE between colleagues needs no passphrase.
    let answer = send(&app, ANN, &[BOB], &plain(ANN, BOB, "[secure sensitive] child", "x")).await;
    assert!(answer.starts_with("250"), "{answer}");
    let inbox = body(app.list(&bob, "inbox").await).await;
    assert_eq!(inbox.as_array().unwrap().len(), 1, "only the last was taken");
    assert_eq!(inbox[0]["marking"], "official-sensitive");
    // Every decision is on the audit record, refusals by reason.
    let mut actions = app
        .db
        .store
        .fetch_texts("SELECT action FROM audit_events WHERE action LIKE 'intake.%'")
        .await
        .unwrap();
    actions.sort();
    assert_eq!(
        actions,
        [
            "intake.accepted",
            "intake.refused_content",
            "intake.refused_sender",
            "intake.refused_sender",
            "intake.refused_untagged"
        ]
    );
}

#[tokio::test]
async fn with_a_shared_secret_only_mail_stamped_by_the_councils_rule_is_taken() {
    let (app, bob) = app_with(|i| i.secret = Some(sealpost_crypto::SecretString::from("rule-stamp-83f1"))).await;
    let stamped = |secret: &str| format!("X-Sealpost-Intake-Secret: {secret}\r\n{}", plain(ANN, BOB, "[secure] hi", "x"));
    let unstamped = send(&app, ANN, &[BOB], &plain(ANN, BOB, "[secure] hi", "x")).await;
    assert!(
        unstamped.starts_with("550 5.7.1") && unstamped.contains("secure mail rule"),
        "{unstamped}"
    );
    assert!(send(&app, ANN, &[BOB], &stamped("rule-stamp-83f0")).await.starts_with("550"));
    let answer = send(&app, ANN, &[BOB], &stamped("rule-stamp-83f1")).await;
    assert!(answer.starts_with("250"), "{answer}");
    assert_eq!(body(app.list(&bob, "inbox").await).await.as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn the_limits_recipients_size_and_an_attachment_one_byte_over() {
    let (app, bob) = app_with(|i| i.max_bytes = 2 * 1024 * 1024).await;
    let (mut smtp, _) = Smtp::connect(&app).await;
    let ehlo = smtp.command("EHLO exchange").await;
    assert!(ehlo.contains("SIZE 2097152"), "{ehlo}");
    assert!(smtp.command(&format!("MAIL FROM:<{ANN}>")).await.starts_with("250"));
    for n in 0..100 {
        assert!(smtp.command(&format!("RCPT TO:<p{n}@nhs.net>")).await.starts_with("250"));
    }
    assert!(
        smtp.command("RCPT TO:<p100@nhs.net>").await.starts_with("452"),
        "the 101st recipient"
    );
    assert!(smtp.command("RSET").await.starts_with("250"));
    // Declared too large up front.
    assert!(smtp.command(&format!("MAIL FROM:<{ANN}> SIZE=99999999")).await.starts_with("552"));
    // Sent too large: the whole message is read, refused, and the session goes on.
    let big = plain(ANN, BOB, "[secure] big", &"x".repeat(2 * 1024 * 1024 + 10));
    assert!(smtp.send(ANN, &[BOB], &big).await.starts_with("552 5.3.4"));
    assert!(smtp.command("NOOP").await.starts_with("250"));
    // An attachment at the 1 MiB limit is taken; one byte more is refused with 552.
    for (size, expected) in [(1024 * 1024, "250"), (1024 * 1024 + 1, "552")] {
        let encoded = base64(&vec![b'a'; size]);
        let message = format!(
            "From: {ANN}\r\nTo: {BOB}\r\nSubject: [secure] file\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nsee file\r\n--b\r\nContent-Type: application/octet-stream; name=f.bin\r\nContent-Disposition: attachment; filename=f.bin\r\nContent-Transfer-Encoding: base64\r\n\r\n{encoded}\r\n--b--"
        );
        let answer = smtp.send(ANN, &[BOB], &message).await;
        assert!(answer.starts_with(expected), "{size}: {answer}");
    }
    assert_eq!(body(app.list(&bob, "inbox").await).await.as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn a_peer_outside_the_allow_list_is_refused_before_any_conversation() {
    let (app, _) = app_with(|i| i.allow = vec!["10.0.0.0/8".parse().unwrap()]).await;
    let (mut smtp, greeting) = Smtp::connect(&app).await;
    assert!(greeting.starts_with("554 5.7.1"), "{greeting}");
    assert_eq!(smtp.reply().await, "", "and the connection is closed");
    assert_eq!(
        app.get("/api/v1/info").send().await.unwrap().status(),
        StatusCode::OK,
        "the web side is unaffected"
    );
}

/// Standard base64 with line breaks every 76 characters, as mail has it.
fn base64(bytes: &[u8]) -> String {
    const TABLE: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [chunk[0], *chunk.get(1).unwrap_or(&0), *chunk.get(2).unwrap_or(&0)];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(TABLE[(n >> (18 - 6 * i)) as usize & 63] as char);
            } else {
                out.push('=');
            }
        }
    }
    out.as_bytes()
        .chunks(76)
        .map(|l| std::str::from_utf8(l).unwrap())
        .collect::<Vec<_>>()
        .join("\r\n")
}

#[tokio::test]
async fn what_comes_in_by_smtp_is_never_stored_in_the_clear() {
    let (app, bob) = app_with(|_| {}).await;
    let canary = "CANARY-7f3e91-intake";
    let message = [
        &format!("From: {ANN}"),
        &format!("To: {BOB}, pat@nhs.net"),
        &format!("Subject: [secure] subject {canary}-s"),
        "Content-Type: multipart/mixed; boundary=b",
        "",
        "--b",
        "Content-Type: text/plain",
        "",
        &format!("body {canary}-b"),
        "--b",
        &format!("Content-Type: text/plain; name=\"{canary}-n.txt\""),
        &format!("Content-Disposition: attachment; filename=\"{canary}-n.txt\""),
        "",
        &format!("bytes {canary}-f"),
        "--b--",
    ]
    .join("\r\n");
    let answer = send(&app, ANN, &[BOB, "pat@nhs.net"], &message).await;
    assert!(answer.starts_with("250"), "{answer}");
    assert_eq!(app.deliver_due().await, 2, "the partner's notification and Bob's notice");
    // It is all there for Bob…
    let inbox = body(app.list(&bob, "inbox").await).await;
    assert_eq!(inbox[0]["subject"], format!("subject {canary}-s"));
    // …and nowhere on disk or in the database in the clear.
    for part in ["s", "b", "n", "f"] {
        crate::messages::assert_no_canary(&app, &format!("{canary}-{part}")).await;
    }
}

#[tokio::test]
async fn forty_connections_at_once_get_the_session_limit_and_the_rest_are_told_to_come_back() {
    let (app, _) = app_with(|i| i.max_sessions = 8).await;
    let connections = futures::future::join_all((0..40).map(|_| Smtp::connect(&app))).await;
    let greeted = connections.iter().filter(|(_, g)| g.starts_with("220")).count();
    let busy = connections.iter().filter(|(_, g)| g.starts_with("421 4.3.2")).count();
    assert_eq!((greeted, busy), (8, 32));
    drop(connections);
    // Once they have gone, a new one is served.
    let mut greeting = String::new();
    for _ in 0..50 {
        greeting = Smtp::connect(&app).await.1;
        if greeting.starts_with("220") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert!(greeting.starts_with("220"), "{greeting}");
}

#[tokio::test]
async fn a_peer_past_its_messages_a_minute_is_asked_to_try_again_later() {
    let (app, bob) = app_with(|i| i.per_minute = 3).await;
    let (mut smtp, _) = Smtp::connect(&app).await;
    assert!(smtp.command("HELO exchange").await.starts_with("250"));
    let mut answers = Vec::new();
    for n in 0..4 {
        answers.push(smtp.send(ANN, &[BOB], &plain(ANN, BOB, &format!("[secure] {n}"), "x")).await);
    }
    assert!(answers[..3].iter().all(|a| a.starts_with("250")), "{answers:?}");
    assert!(answers[3].starts_with("451 4.7.1"), "{answers:?}");
    assert_eq!(body(app.list(&bob, "inbox").await).await.as_array().unwrap().len(), 3);
}

#[tokio::test]
async fn an_answer_from_outlook_to_a_sealpost_notice_continues_the_conversation() {
    let (app, _) = app_with(|_| {}).await;
    let ann = app.sign_in(ANN, PASSWORD).await;
    assert!(
        send(&app, ANN, &[BOB], &plain(ANN, BOB, "[secure] Case 9", "First."))
            .await
            .starts_with("250")
    );
    assert_eq!(app.deliver_due().await, 1, "Bob's notice");
    // Bob answers the notice in Outlook: his client sets In-Reply-To to the notice's Message-ID.
    let outbox = crate::test_app::walk(&app.dir.path().join("data/outbox"));
    let notice = outbox
        .iter()
        .map(|f| std::fs::read_to_string(f).unwrap())
        .find(|m| m.contains(&format!("To: {BOB}")))
        .expect("Bob's notice as an .eml file");
    let notice_id = notice
        .lines()
        .find_map(|l| l.strip_prefix("Message-ID: "))
        .unwrap()
        .trim()
        .to_owned();
    let answer = format!(
        "From: {BOB}\r\nTo: {ANN}\r\nSubject: RE: [secure] Case 9\r\nIn-Reply-To: {notice_id}\r\nReferences: {notice_id}\r\n\r\nAnswered."
    );
    assert!(send(&app, BOB, &[ANN], &answer).await.starts_with("250"));
    let inbox = body(app.list(&ann, "inbox").await).await;
    let id = inbox[0]["id"].as_str().unwrap();
    let thread = body(app.read(&ann, id).await).await["thread"].clone();
    assert_eq!(
        thread.as_array().unwrap().len(),
        2,
        "the answer is in the first message's conversation: {thread}"
    );

    // An In-Reply-To naming a message Bob may not read starts a new conversation instead.
    let stranger = format!("<notice-1.m-{}@sealpost>", uuid::Uuid::new_v4());
    let other = format!("From: {BOB}\r\nTo: {ANN}\r\nSubject: [secure] Other\r\nIn-Reply-To: {stranger}\r\n\r\nNew.");
    assert!(send(&app, BOB, &[ANN], &other).await.starts_with("250"));
    let inbox = body(app.list(&ann, "inbox").await).await;
    let newest = inbox
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["subject"] == "Other")
        .unwrap_or_else(|| panic!("{inbox:#}"));
    let thread = body(app.read(&ann, newest["id"].as_str().unwrap()).await).await["thread"].clone();
    // A message alone in its conversation lists no thread.
    assert!(thread.as_array().is_none_or(|parts| parts.len() <= 1), "{thread}");
}

/// Reads one whole SMTP reply from any stream.
async fn reply_from<S: tokio::io::AsyncRead + Unpin>(stream: &mut BufReader<S>) -> String {
    let mut all = String::new();
    loop {
        let mut line = String::new();
        if stream.read_line(&mut line).await.unwrap() == 0 {
            return all;
        }
        all.push_str(&line);
        if line.as_bytes().get(3) != Some(&b'-') {
            return all;
        }
    }
}

async fn say<S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin>(stream: &mut BufReader<S>, line: &str) -> String {
    stream.get_mut().write_all(format!("{line}\r\n").as_bytes()).await.unwrap();
    reply_from(stream).await
}

#[tokio::test]
async fn with_a_certificate_a_session_must_start_tls_and_then_mail_goes_through() {
    use tokio_rustls::rustls::pki_types::pem::PemObject;
    use tokio_rustls::rustls::pki_types::{CertificateDer, ServerName};
    use tokio_rustls::rustls::{ClientConfig, RootCertStore};

    let dir = tempfile::tempdir().unwrap();
    let (cert, key) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
    let made = std::process::Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-days",
            "1",
        ])
        .args([
            "-subj",
            "/CN=localhost",
            "-addext",
            "subjectAltName=DNS:localhost",
            "-addext",
            "basicConstraints=critical,CA:FALSE",
        ])
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .output()
        .expect("openssl makes a test certificate");
    assert!(made.status.success(), "{}", String::from_utf8_lossy(&made.stderr));
    let (c, k) = (cert.clone(), key.clone());
    let (app, bob) = app_with(move |i| i.tls = Some((c, k))).await;

    let tcp = TcpStream::connect(app.intake.unwrap()).await.unwrap();
    let mut plain = BufReader::new(tcp);
    assert!(reply_from(&mut plain).await.starts_with("220"));
    assert!(say(&mut plain, "EHLO exchange").await.contains("STARTTLS"));
    assert!(
        say(&mut plain, &format!("MAIL FROM:<{ANN}>")).await.starts_with("530 5.7.0"),
        "no mail in the clear"
    );
    assert!(say(&mut plain, "STARTTLS").await.starts_with("220"));

    let mut roots = RootCertStore::empty();
    roots.add(CertificateDer::from_pem_file(&cert).unwrap()).unwrap();
    let provider = std::sync::Arc::new(tokio_rustls::rustls::crypto::ring::default_provider());
    let config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    let connector = tokio_rustls::TlsConnector::from(std::sync::Arc::new(config));
    let tls = connector
        .connect(ServerName::try_from("localhost").unwrap(), plain.into_inner())
        .await
        .expect("the TLS handshake");
    let mut tls = BufReader::new(tls);
    let ehlo = say(&mut tls, "EHLO exchange").await;
    assert!(ehlo.starts_with("250") && !ehlo.contains("STARTTLS"), "{ehlo}");
    assert!(say(&mut tls, &format!("MAIL FROM:<{ANN}>")).await.starts_with("250"));
    assert!(say(&mut tls, &format!("RCPT TO:<{BOB}>")).await.starts_with("250"));
    assert!(say(&mut tls, "DATA").await.starts_with("354"));
    let answer = say(&mut tls, &format!("{}\r\n.", plain_message())).await;
    assert!(answer.starts_with("250"), "{answer}");
    assert_eq!(body(app.list(&bob, "inbox").await).await.as_array().unwrap().len(), 1);
}

fn plain_message() -> String {
    plain(ANN, BOB, "[secure] over TLS", "Encrypted on the wire too.")
}

#[tokio::test]
async fn a_fault_of_ours_answers_4xx_so_exchange_tries_again_and_nothing_is_half_sent() {
    let (app, bob) = app_with(|_| {}).await;
    app.state
        .store
        .execute_raw("ALTER TABLE audit_events RENAME TO audit_events_gone")
        .await
        .unwrap();
    let answer = send(&app, ANN, &[BOB], &plain(ANN, BOB, "[secure] while broken", "x")).await;
    assert!(answer.starts_with("451 4.3.0"), "{answer}");
    app.state
        .store
        .execute_raw("ALTER TABLE audit_events_gone RENAME TO audit_events")
        .await
        .unwrap();
    assert_eq!(body(app.list(&bob, "inbox").await).await, serde_json::json!([]), "nothing was sent");
    // Exchange's retry goes through.
    let answer = send(&app, ANN, &[BOB], &plain(ANN, BOB, "[secure] while broken", "x")).await;
    assert!(answer.starts_with("250"), "{answer}");
}

/// The emails Sealpost has written to `to` so far (the test server writes mail as files).
fn mail_to(app: &TestApp, to: &str) -> Vec<String> {
    let mut mail: Vec<(std::time::SystemTime, String)> = crate::test_app::walk(&app.dir.path().join("data/outbox"))
        .iter()
        .map(|f| (f.metadata().unwrap().modified().unwrap(), std::fs::read_to_string(f).unwrap()))
        .filter(|(_, m)| m.contains(&format!("To: {to}")))
        .collect();
    mail.sort();
    mail.into_iter()
        .map(|(_, m)| sealpost_mail::testing::decode_quoted_printable(&m))
        .collect()
}

/// The hourly pass that discards held mail past its time: how many went.
async fn discard_held(app: &TestApp) -> usize {
    sealpost_server::app::intake::discard_held(&app.state).await.unwrap()
}

/// A header's value in a whole email.
fn header<'a>(mail: &'a str, name: &str) -> Option<&'a str> {
    mail.lines().find_map(|l| l.strip_prefix(&format!("{name}: "))).map(str::trim)
}

#[tokio::test]
async fn the_sender_gets_a_receipt_with_the_reference_the_recipients_and_a_link_but_no_content() {
    let (app, _) = app_with(|_| {}).await;
    let message = format!(
        "From: {ANN}\r\nTo: {BOB}\r\nCc: pat@nhs.net\r\nSubject: [secure] Receipt canary\r\nMessage-ID: <outlook-1@testshire.gov.uk>\r\n\r\nBody canary."
    );
    let answer = send(&app, ANN, &[BOB, "pat@nhs.net", "dee@police.uk"], &message).await;
    let reference = answer.trim().rsplit(' ').next().unwrap().to_owned();
    assert!(reference.starts_with("SP-"), "{answer}");
    let receipts = mail_to(&app, ANN);
    assert_eq!(receipts.len(), 1, "one receipt");
    let receipt = &receipts[0];
    assert!(header(receipt, "Subject").unwrap().contains(&reference), "{receipt}");
    assert_eq!(
        header(receipt, "In-Reply-To"),
        Some("<outlook-1@testshire.gov.uk>"),
        "it answers the sent mail"
    );
    let id = body(app.list(&app.sign_in(ANN, PASSWORD).await, "sent").await).await[0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    for needle in [
        format!("To:        {BOB}"),
        "Cc:        pat@nhs.net".to_owned(),
        "Bcc:       dee@police.uk".to_owned(),
        format!("/messages/{id}"),
    ] {
        assert!(receipt.contains(&needle), "{needle} missing from {receipt}");
    }
    assert!(
        !receipt.contains("canary"),
        "neither the subject nor the body is in the receipt: {receipt}"
    );
}

#[tokio::test]
async fn official_sensitive_mail_to_a_partner_is_held_until_the_sender_sets_a_passphrase() {
    let (app, _) = app_with(|_| {}).await;
    let ann = app.sign_in(ANN, PASSWORD).await;
    let message = [
        &format!("From: {ANN}"),
        "To: pat@nhs.net",
        "Subject: [secure sensitive] Child protection plan",
        "Content-Type: multipart/mixed; boundary=b",
        "",
        "--b",
        "Content-Type: text/plain",
        "",
        "The plan is attached.",
        "--b",
        "Content-Type: application/pdf; name=plan.pdf",
        "Content-Disposition: attachment; filename=plan.pdf",
        "Content-Transfer-Encoding: base64",
        "",
        "JVBERi0xLjQK",
        "--b--",
    ]
    .join("\r\n");
    let answer = send(&app, ANN, &["pat@nhs.net"], &message).await;
    assert!(answer.starts_with("250") && answer.contains("passphrase"), "{answer}");
    assert_eq!(app.deliver_due().await, 0, "nothing is sent while it is held");
    assert!(body(app.list(&ann, "sent").await).await.as_array().unwrap().is_empty());

    // The receipt says so, and links to the held message in Sealpost.
    let receipt = mail_to(&app, ANN).pop().expect("a receipt");
    assert!(receipt.contains("NOT sent"), "{receipt}");
    let drafts = body(app.get("/api/v1/drafts").header("cookie", &ann).send().await.unwrap()).await;
    let draft = drafts[0]["id"].as_str().unwrap().to_owned();
    assert!(receipt.contains(&format!("/compose?draft={draft}")), "{receipt}");
    assert!(drafts[0]["held_until"].as_i64().unwrap() > app.state.now_ms() + 23 * 3_600_000);
    let held = body(
        app.get(&format!("/api/v1/drafts/{draft}"))
            .header("cookie", &ann)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(held["content"]["subject"], "Child protection plan");
    assert_eq!(held["content"]["marking"], "official-sensitive");
    assert_eq!(held["attachments"][0]["name"], "plan.pdf");
    assert_eq!(app.audit_actions(&draft).await, ["intake.held"]);

    // Ann opens it, sets the passphrase and sends it: the partner's notification goes.
    let sent = app
        .send(
            &ann,
            serde_json::json!({
                "recipients": ["pat@nhs.net"], "subject": "Child protection plan", "body": "The plan is attached.",
                "marking": "official-sensitive", "passphrase": "blue heron at dawn", "draft": draft,
            }),
            &[],
        )
        .await;
    assert_eq!(sent.status(), StatusCode::OK, "{:?}", body(sent).await);
    assert_eq!(app.deliver_due().await, 1, "the partner's notification");
    assert_eq!(discard_held(&app).await, 0, "a sent message is not discarded");
}

#[tokio::test]
async fn a_held_message_not_sent_in_24_hours_is_discarded_and_the_sender_told() {
    let (app, _) = app_with(|_| {}).await;
    let ann = app.sign_in(ANN, PASSWORD).await;
    let answer = send(
        &app,
        ANN,
        &["pat@nhs.net"],
        &plain(ANN, "pat@nhs.net", "[secure sensitive] Waiting", "x"),
    )
    .await;
    assert!(answer.starts_with("250"), "{answer}");
    let draft = body(app.get("/api/v1/drafts").header("cookie", &ann).send().await.unwrap()).await[0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    app.clock.advance_minutes(23 * 60);
    assert_eq!(discard_held(&app).await, 0, "not yet");
    app.clock.advance_minutes(61);
    assert_eq!(discard_held(&app).await, 1);
    let ann = app.sign_in(ANN, PASSWORD).await; // a day on, a new session
    let drafts = body(app.get("/api/v1/drafts").header("cookie", &ann).send().await.unwrap()).await;
    assert!(drafts.as_array().unwrap().is_empty(), "{drafts}");
    let told = mail_to(&app, ANN).pop().unwrap();
    assert!(
        header(&told, "Subject").unwrap().starts_with("Discarded:") && told.contains("pat@nhs.net"),
        "{told}"
    );
    assert_eq!(app.audit_actions(&draft).await, ["intake.held", "intake.discarded"]);
    assert!(
        mail_to(&app, "pat@nhs.net").iter().all(|m| header(m, "To") != Some("pat@nhs.net")),
        "and nothing went to the partner"
    );
}

/// A relay's bounce for the notification with Message-ID `id`.
fn bounce_for(id: &str) -> String {
    [
        "From: MAILER-DAEMON@relay.testshire.gov.uk",
        "To: sealpost@testshire.gov.uk",
        "Subject: Undeliverable: Secure message",
        "Content-Type: multipart/report; report-type=delivery-status; boundary=r",
        "",
        "--r",
        "Content-Type: text/plain",
        "",
        "Delivery has failed.",
        "--r",
        "Content-Type: message/delivery-status",
        "",
        "Reporting-MTA: dns; relay.testshire.gov.uk",
        "",
        "Final-Recipient: rfc822; pat@nhs.net",
        "Action: failed",
        "Status: 5.1.1",
        "Diagnostic-Code: smtp; 550 5.1.1 User unknown",
        "",
        "--r",
        "Content-Type: text/rfc822-headers",
        "",
        &format!("Message-ID: {id}"),
        "Subject: Secure message from Ann",
        "",
        "--r--",
    ]
    .join("\r\n")
}

#[tokio::test]
async fn a_bounce_for_a_notification_marks_the_recipient_and_tells_the_sender() {
    let (app, _) = app_with(|_| {}).await;
    let ann = app.sign_in(ANN, PASSWORD).await;
    let answer = send(&app, ANN, &["pat@nhs.net"], &plain(ANN, "pat@nhs.net", "[secure] Case 5", "x")).await;
    assert!(answer.starts_with("250"), "{answer}");
    assert_eq!(app.deliver_due().await, 1);
    let notification = mail_to(&app, "pat@nhs.net").pop().unwrap();
    let id = header(&notification, "Message-ID").unwrap().to_owned();

    // The relay returns the bounce to Sealpost's own address with an empty envelope sender.
    let answer = send(&app, "", &["sealpost@testshire.gov.uk"], &bounce_for(&id)).await;
    assert!(answer.starts_with("250"), "{answer}");
    let message = body(app.list(&ann, "sent").await).await[0]["id"].as_str().unwrap().to_owned();
    let detail = body(app.read(&ann, &message).await).await;
    let pat = &detail["recipients"][0];
    assert_eq!(pat["status"], "failed", "{detail}");
    assert!(pat["detail"].as_str().unwrap().contains("550 5.1.1 User unknown"), "{pat}");
    let told = mail_to(&app, ANN).pop().unwrap();
    assert!(header(&told, "Subject").unwrap().starts_with("Not delivered: SP-"), "{told}");
    assert!(app.audit_actions(&message).await.contains(&"notification.bounced".to_owned()));

    // The same report again, or one about no notification of ours, is taken and changes nothing.
    let before = app.audit_actions(&message).await.len();
    for report in [bounce_for(&id), bounce_for(&format!("<{}@sealpost>", uuid::Uuid::new_v4()))] {
        assert!(send(&app, "", &["sealpost@testshire.gov.uk"], &report).await.starts_with("250"));
    }
    assert_eq!(app.audit_actions(&message).await.len(), before, "nothing more on the record");
    // An empty sender with anything but a report is refused.
    let answer = send(&app, "", &[BOB], &plain(ANN, BOB, "[secure] sneaky", "x")).await;
    assert!(answer.starts_with("550"), "{answer}");
}

#[tokio::test]
async fn what_the_compose_page_would_ask_about_is_sent_and_said_in_the_receipt() {
    let (app, _) = app_with(|_| {}).await;
    let message = format!(
        "From: {ANN}\r\nTo: carer@gmail.com\r\nSubject: [secure] Visit\r\nMessage-ID: <outlook-9@testshire.gov.uk>\r\n\r\nHer NHS number is 943 476 5919."
    );
    let answer = send(&app, ANN, &["carer@gmail.com"], &message).await;
    assert!(answer.contains("SP-"), "sent: {answer}");
    let receipt = mail_to(&app, ANN).pop().unwrap();
    assert!(receipt.contains("CHECK: Sealpost sent it"), "{receipt}");
    assert!(receipt.contains("carer@gmail.com is a personal email address"), "{receipt}");
    assert!(receipt.contains("1 NHS number"), "{receipt}");
    assert!(
        !receipt.contains("943 476 5919") && !receipt.contains("9434765919"),
        "the number is never repeated: {receipt}"
    );
    // A receipt without concerns says nothing of checks.
    let plain_message = format!("From: {ANN}\r\nTo: {BOB}\r\nSubject: [secure] Rota\r\n\r\nThe rota.");
    send(&app, ANN, &[BOB], &plain_message).await;
    assert!(!mail_to(&app, ANN).pop().unwrap().contains("CHECK:"));
}
