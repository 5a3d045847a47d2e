//! Mail from the council's own mail system (Outlook through Exchange), parsed with
//! `mail-parser`: the only place that names it. Text, HTML and multipart/alternative bodies,
//! attachments, inline images and forwarded messages (kept as `.eml` files), quoted-printable
//! and base64, and legacy character sets (ISO-8859-1, Windows-1252 and the rest, through
//! `encoding_rs`). Nothing here is stored: the caller seals what it keeps.

use mail_parser::{MessageParser, MimeHeaders, PartType};

/// A parsed message, as the intake hands it to the send use case.
pub struct Incoming {
    /// The header From's address, as written (the caller checks it against the envelope).
    pub from: Option<String>,
    /// The To and Cc headers' addresses, lower-cased: who the sender showed the message to.
    /// Envelope recipients not among them were blind copies.
    pub to: Vec<String>,
    /// The Cc header's addresses, lower-cased.
    pub cc: Vec<String>,
    /// The subject, decoded.
    pub subject: String,
    /// The text body: the text part, or the HTML part rendered as text.
    pub text: String,
    /// The HTML body, when the message has one: cleaned ([`crate::html::clean`]), with its
    /// inline images in it as `data:` URLs.
    pub html: Option<crate::html::CleanHtml>,
    /// Attachments, inline images and forwarded messages, in order.
    pub files: Vec<IncomingFile>,
    /// Message ids this message answers (In-Reply-To, then References).
    pub answers: Vec<String>,
    /// Its own Message-ID, if it has one (a receipt answers it).
    pub message_id: Option<String>,
    /// The value of the header the council's transport rule stamps ([`SECRET_HEADER`]), if
    /// any: a shared secret, kept out of `Debug`.
    pub stamped_secret: Option<String>,
}

/// The header a council's transport rule may stamp with a shared secret, so the intake takes
/// only mail that came through the rule. It is checked, then gone: nothing stored keeps it.
pub const SECRET_HEADER: &str = "X-Sealpost-Intake-Secret";

impl std::fmt::Debug for Incoming {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Content stays out of logs.
        f.debug_struct("Incoming")
            .field("to", &self.to.len())
            .field("cc", &self.cc.len())
            .field("files", &self.files.len())
            .finish_non_exhaustive()
    }
}

/// One file from the message.
pub struct IncomingFile {
    /// Its name, as the sender's client gave it (or one made up for an unnamed part).
    pub name: String,
    /// Its bytes, decoded.
    pub bytes: Vec<u8>,
}

/// Why a message cannot be taken in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum IntakeRefusal {
    /// Not a MIME message at all.
    #[error("the message could not be read as email (MIME)")]
    NotMime,
    /// Outlook's rich text (TNEF, `winmail.dat`): its attachments are hidden inside.
    #[error("the message is in Outlook's rich text format (winmail.dat), which hides its attachments; send it as HTML or plain text")]
    Tnef,
}

/// Parses a message as received in SMTP DATA.
///
/// mail-parser 0.11.9 panics on some malformed multiparts ("Invalid part ID", found by the
/// `mime_intake` fuzz target): such a message is refused as not readable, never a crash of the
/// session.
pub fn parse(raw: &[u8]) -> Result<Incoming, IntakeRefusal> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| parse_unguarded(raw))).unwrap_or(Err(IntakeRefusal::NotMime))
}

fn parse_unguarded(raw: &[u8]) -> Result<Incoming, IntakeRefusal> {
    let message = MessageParser::default().parse(raw).ok_or(IntakeRefusal::NotMime)?;
    // A message with no headers at all is not mail.
    if message.headers().is_empty() {
        return Err(IntakeRefusal::NotMime);
    }
    let mut files = Vec::new();
    let mut images = crate::html::InlineImages::new();
    for (n, part) in message.attachments().enumerate() {
        let tnef = part.is_content_type("application", "ms-tnef")
            || part.attachment_name().is_some_and(|name| name.eq_ignore_ascii_case("winmail.dat"));
        if tnef {
            return Err(IntakeRefusal::Tnef);
        }
        let name = match (&part.body, part.attachment_name()) {
            (_, Some(name)) if !name.trim().is_empty() => name.trim().to_owned(),
            (PartType::Message(inner), _) => format!("{}.eml", inner.subject().map_or("Forwarded message", str::trim)),
            _ => format!("attachment-{}", n + 1),
        };
        let name = match &part.body {
            PartType::Message(_) if !name.to_ascii_lowercase().ends_with(".eml") => format!("{name}.eml"),
            _ => name,
        };
        if let (Some(id), Some(kind)) = (part.content_id(), part.content_type())
            && let Some(url) =
                crate::html::inline_image(&format!("{}/{}", kind.ctype(), kind.subtype().unwrap_or_default()), part.contents())
        {
            images.insert(id.trim().trim_matches(['<', '>']).to_owned(), url);
        }
        files.push(IncomingFile {
            name,
            bytes: part.contents().to_vec(),
        });
    }
    let addresses = |list: Option<&mail_parser::Address<'_>>| -> Vec<String> {
        list.map(|a| a.iter().filter_map(|a| a.address()).map(str::to_lowercase).collect())
            .unwrap_or_default()
    };
    let mut answers: Vec<String> = Vec::new();
    for value in [message.in_reply_to(), message.references()] {
        match value {
            mail_parser::HeaderValue::Text(id) => answers.push(id.to_string()),
            mail_parser::HeaderValue::TextList(ids) => answers.extend(ids.iter().map(ToString::to_string)),
            _ => {}
        }
    }
    let html = (message.html_body_count() > 0 && has_html_part(&message))
        .then(|| message.body_html(0).map(|h| crate::html::clean(&h, &images)))
        .flatten();
    Ok(Incoming {
        from: message.from().and_then(|a| a.first()).and_then(|a| a.address()).map(str::to_owned),
        to: addresses(message.to()),
        cc: addresses(message.cc()),
        subject: message.subject().unwrap_or_default().trim().to_owned(),
        // Lines end in `\n` in Sealpost, as the browser sends them (a lone CR too: a quoted-
        // printable soft break can leave one).
        text: message
            .body_text(0)
            .map(|t| t.replace("\r\n", "\n").replace('\r', "\n"))
            .unwrap_or_default(),
        html,
        files,
        answers,
        message_id: message.message_id().map(|id| format!("<{}>", id.trim_matches(['<', '>']))),
        stamped_secret: message.header(SECRET_HEADER).and_then(|v| v.as_text()).map(|v| v.trim().to_owned()),
    })
}

/// A delivery status notification (RFC 3464, `multipart/report; report-type=delivery-status`):
/// the relay's report that an email of ours could not be delivered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryReport {
    /// The Message-IDs of the email it reports on, from the message or headers it returns.
    pub original_ids: Vec<String>,
    /// The recipients it failed for (`Action: failed`); delays and successes are left out.
    pub failed: Vec<FailedRecipient>,
}

/// One recipient a delivery report says the email failed for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FailedRecipient {
    /// `Final-Recipient`, without its address type.
    pub address: String,
    /// `Status`, e.g. `5.1.1`.
    pub status: String,
    /// `Diagnostic-Code`, without its type: the remote server's own words, if given.
    pub diagnostic: Option<String>,
}

/// The delivery report in `raw`, or `None` if it is not one.
pub fn delivery_report(raw: &[u8]) -> Option<DeliveryReport> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| delivery_report_unguarded(raw))).unwrap_or(None)
}

fn delivery_report_unguarded(raw: &[u8]) -> Option<DeliveryReport> {
    let message = MessageParser::default().parse(raw)?;
    let kind = message.content_type()?;
    let is_report = kind.ctype().eq_ignore_ascii_case("multipart")
        && kind.subtype().is_some_and(|s| s.eq_ignore_ascii_case("report"))
        && kind
            .attribute("report-type")
            .is_some_and(|t| t.eq_ignore_ascii_case("delivery-status") || t.eq_ignore_ascii_case("global-delivery-status"));
    if !is_report {
        return None;
    }
    let mut report = DeliveryReport {
        original_ids: vec![],
        failed: vec![],
    };
    for part in &message.parts {
        let Some(kind) = part.content_type() else { continue };
        let subtype = kind.subtype().unwrap_or_default().to_ascii_lowercase();
        match (kind.ctype().to_ascii_lowercase().as_str(), subtype.as_str()) {
            ("message", "delivery-status" | "global-delivery-status") => {
                report.failed.extend(failed_recipients(&String::from_utf8_lossy(part.contents())));
            }
            ("message", "rfc822" | "global") => {
                if let PartType::Message(inner) = &part.body {
                    report.original_ids.extend(inner.message_id().map(bracketed));
                }
            }
            ("text", "rfc822-headers") => {
                let headers = MessageParser::default().parse_headers(part.contents());
                report
                    .original_ids
                    .extend(headers.as_ref().and_then(|h| h.message_id()).map(bracketed));
            }
            _ => {}
        }
    }
    Some(report)
}

/// `<id>`, however it was written.
fn bracketed(id: &str) -> String {
    format!("<{}>", id.trim().trim_matches(['<', '>']))
}

/// The per-recipient blocks of a `message/delivery-status` body whose action is `failed`.
fn failed_recipients(body: &str) -> Vec<FailedRecipient> {
    // Fields as in a header: a line starting with white space continues the one before, and a
    // blank line ends a block (the first block is about the message, the rest one recipient each).
    let mut blocks: Vec<Vec<(String, String)>> = vec![];
    let mut block: Vec<(String, String)> = vec![];
    for line in body.lines() {
        if line.trim().is_empty() {
            if !block.is_empty() {
                blocks.push(std::mem::take(&mut block));
            }
        } else if line.starts_with([' ', '\t']) {
            if let Some((_, value)) = block.last_mut() {
                value.push(' ');
                value.push_str(line.trim());
            }
        } else if let Some((name, value)) = line.split_once(':') {
            block.push((name.trim().to_ascii_lowercase(), value.trim().to_owned()));
        }
    }
    blocks.push(block);
    let typed = |value: &str| value.split_once(';').map_or(value, |(_, v)| v).trim().to_owned();
    blocks
        .iter()
        .filter_map(|block| {
            let field = |name: &str| block.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str());
            if !field("action")?.trim().eq_ignore_ascii_case("failed") {
                return None;
            }
            Some(FailedRecipient {
                address: typed(field("final-recipient")?),
                status: field("status").unwrap_or("5.0.0").trim().to_owned(),
                diagnostic: field("diagnostic-code").map(typed).filter(|d| !d.is_empty()),
            })
        })
        .collect()
}

/// Whether the message has a real HTML body (mail-parser also renders text bodies as HTML).
fn has_html_part(message: &mail_parser::Message<'_>) -> bool {
    message.html_bodies().any(|part| matches!(part.body, PartType::Html(_)))
}

#[cfg(test)]
mod tests {
    use super::*;

    const CRLF: &str = "\r\n";

    fn mail(lines: &[&str]) -> Vec<u8> {
        lines.join(CRLF).into_bytes()
    }

    #[test]
    fn a_plain_text_message_gives_its_subject_body_and_addresses() {
        let raw = mail(&[
            "From: Ann Lee <Ann@Testshire.gov.uk>",
            "To: Pat <pat@nhs.net>, bob@testshire.gov.uk",
            "Cc: Cat <cat@police.uk>",
            "Subject: [secure] Case 42",
            "In-Reply-To: <a@sealpost>",
            "",
            "Hello Pat.",
        ]);
        let m = parse(&raw).unwrap();
        assert_eq!(m.from.as_deref(), Some("Ann@Testshire.gov.uk"));
        assert_eq!(m.to, ["pat@nhs.net", "bob@testshire.gov.uk"]);
        assert_eq!(m.cc, ["cat@police.uk"]);
        assert_eq!(m.subject, "[secure] Case 42");
        assert_eq!(m.text.trim(), "Hello Pat.");
        assert!(m.html.is_none() && m.files.is_empty());
        assert_eq!(m.answers, ["a@sealpost"]);
        assert!(m.message_id.is_none());
        assert!(m.stamped_secret.is_none());
        let stamped = parse(&mail(&["From: a@b.uk", "X-Sealpost-Intake-Secret:  abc123 ", "", "x"])).unwrap();
        assert_eq!(stamped.stamped_secret.as_deref(), Some("abc123"));
    }

    #[test]
    fn html_only_mail_gives_text_too_and_legacy_charsets_are_decoded() {
        let raw = mail(&[
            "From: ann@testshire.gov.uk",
            "Subject: =?ISO-8859-1?Q?Caf=E9?=",
            "Content-Type: text/html; charset=ISO-8859-1",
            "Content-Transfer-Encoding: quoted-printable",
            "",
            "<p>Caf=E9 at <b>noon</b></p>",
        ]);
        let m = parse(&raw).unwrap();
        assert_eq!(m.subject, "Café");
        assert!(m.text.contains("Café at noon"), "{}", m.text);
        assert!(m.html.unwrap().as_str().contains("<b>noon</b>"));
    }

    #[test]
    fn attachments_and_a_forwarded_message_become_files() {
        let raw = mail(&[
            "From: ann@testshire.gov.uk",
            "Subject: files",
            "Content-Type: multipart/mixed; boundary=b",
            "",
            "--b",
            "Content-Type: multipart/alternative; boundary=c",
            "",
            "--c",
            "Content-Type: text/plain",
            "",
            "See attached.",
            "--c",
            "Content-Type: text/html",
            "",
            "<p>See attached.</p>",
            "--c--",
            "--b",
            "Content-Type: application/pdf; name=report.pdf",
            "Content-Disposition: attachment; filename=report.pdf",
            "Content-Transfer-Encoding: base64",
            "",
            "JVBERi0xLjQK",
            "--b",
            "Content-Type: message/rfc822",
            "",
            "From: someone@nhs.net",
            "Subject: Referral",
            "",
            "The original.",
            "--b--",
        ]);
        let m = parse(&raw).unwrap();
        assert_eq!(m.text.trim(), "See attached.");
        assert!(m.html.is_some());
        let names: Vec<&str> = m.files.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(names, ["report.pdf", "Referral.eml"]);
        assert_eq!(m.files[0].bytes, b"%PDF-1.4\n");
        assert!(String::from_utf8_lossy(&m.files[1].bytes).contains("The original."));
    }

    #[test]
    fn html_is_cleaned_and_its_inline_image_shown_from_the_message() {
        let raw = mail(&[
            "From: ann@testshire.gov.uk",
            "Subject: logo",
            "Content-Type: multipart/related; boundary=b",
            "",
            "--b",
            "Content-Type: text/html",
            "",
            "<p onclick=\"alert(1)\">Our logo: <img src=\"cid:logo@council\"><script>alert(2)</script></p>",
            "--b",
            "Content-Type: image/png",
            "Content-ID: <logo@council>",
            "Content-Disposition: inline; filename=logo.png",
            "Content-Transfer-Encoding: base64",
            "",
            "iVBORw0KGgo=",
            "--b--",
        ]);
        let m = parse(&raw).unwrap();
        let html = m.html.unwrap().into_string();
        assert_eq!(html, "<p>Our logo: <img src=\"data:image/png;base64,iVBORw0KGgo=\"></p>");
        assert_eq!(m.files.len(), 1, "the image is a file too");
    }

    #[test]
    fn winmail_dat_and_non_mail_are_refused() {
        let raw = mail(&[
            "From: ann@testshire.gov.uk",
            "Subject: rich",
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
        ]);
        assert_eq!(parse(&raw).unwrap_err(), IntakeRefusal::Tnef);
        assert_eq!(parse(b"").unwrap_err(), IntakeRefusal::NotMime);
    }

    /// A delivery report as Exchange and Postfix write them: the status part, then the
    /// returned headers or message.
    pub(crate) fn bounce(returned: &str) -> Vec<u8> {
        mail(&[
            "From: MAILER-DAEMON@relay.testshire.gov.uk",
            "To: sealpost@testshire.gov.uk",
            "Subject: Undeliverable: Secure message from Ann Lee",
            "Content-Type: multipart/report; report-type=delivery-status; boundary=r",
            "",
            "--r",
            "Content-Type: text/plain",
            "",
            "Delivery has failed to these recipients.",
            "--r",
            "Content-Type: message/delivery-status",
            "",
            "Reporting-MTA: dns; relay.testshire.gov.uk",
            "",
            "Final-Recipient: rfc822; pat@nhs.example",
            "Action: failed",
            "Status: 5.1.1",
            "Diagnostic-Code: smtp; 550 5.1.1 <pat@nhs.example>:",
            " Recipient address rejected: User unknown",
            "",
            "Final-Recipient: rfc822; sam@nhs.example",
            "Action: delayed",
            "Status: 4.4.1",
            "",
            "--r",
            returned,
            "",
            "From: sealpost@testshire.gov.uk",
            "Message-ID: <0f0e8a4e-8c1f-4b0e-9d55-6a7d1c2b3e4f@sealpost>",
            "Subject: Secure message from Ann Lee",
            "",
            "--r--",
        ])
    }

    #[test]
    fn a_delivery_report_names_the_email_and_the_recipients_it_failed_for() {
        for returned in ["Content-Type: text/rfc822-headers", "Content-Type: message/rfc822"] {
            let report = delivery_report(&bounce(returned)).unwrap_or_else(|| panic!("{returned}"));
            assert_eq!(
                report.original_ids,
                ["<0f0e8a4e-8c1f-4b0e-9d55-6a7d1c2b3e4f@sealpost>"],
                "{returned}"
            );
            assert_eq!(
                report.failed,
                [FailedRecipient {
                    address: "pat@nhs.example".into(),
                    status: "5.1.1".into(),
                    diagnostic: Some("550 5.1.1 <pat@nhs.example>: Recipient address rejected: User unknown".into()),
                }],
                "a delay is not a failure"
            );
        }
        assert!(delivery_report(b"From: a@b.uk\r\nSubject: hi\r\n\r\nnot a report").is_none());
        let other = String::from_utf8(bounce("Content-Type: text/rfc822-headers"))
            .unwrap()
            .replace("report-type=delivery-status", "report-type=disposition-notification");
        assert!(delivery_report(other.as_bytes()).is_none(), "a read receipt is not a bounce");
    }

    #[test]
    fn a_message_that_makes_mail_parser_panic_is_refused_instead() {
        let raw = include_bytes!("../tests/mail-parser-panic.eml");
        assert_eq!(parse(raw).unwrap_err(), IntakeRefusal::NotMime);
    }
}
