//! Test support (feature `testing`): a real SMTP server on a loopback port that accepts mail,
//! or answers from a script (e.g. `421` five times, then `250`), and keeps what it received.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

/// A running SMTP sink.
#[derive(Clone)]
pub struct SmtpSink {
    /// `smtp://127.0.0.1:PORT`, for `SEALPOST_SMTP_URL`.
    pub url: String,
    state: Arc<Mutex<SinkState>>,
}

#[derive(Default)]
struct SinkState {
    script: VecDeque<u16>,
    received: Vec<String>,
    attempts: usize,
}

impl SmtpSink {
    /// Starts a sink whose first replies to DATA follow `script`; later ones are 250.
    pub async fn start(script: &[u16]) -> std::io::Result<Self> {
        Self::start_on("127.0.0.1:0", script).await
    }

    /// Starts a sink on `address` (a relay coming back up on the port it was configured on).
    pub async fn start_on(address: &str, script: &[u16]) -> std::io::Result<Self> {
        let listener = TcpListener::bind(address).await?;
        let url = format!("smtp://{}", listener.local_addr()?);
        let state = Arc::new(Mutex::new(SinkState {
            script: script.iter().copied().collect(),
            ..SinkState::default()
        }));
        let shared = state.clone();
        tokio::spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                tokio::spawn(session(socket, shared.clone()));
            }
        });
        Ok(Self { url, state })
    }

    /// The messages accepted so far, with quoted-printable soft breaks and escapes decoded so
    /// a test can search the text as a person would read it.
    pub fn received(&self) -> Vec<String> {
        self.state
            .lock()
            .map(|s| s.received.iter().map(|m| decode_quoted_printable(m)).collect())
            .unwrap_or_default()
    }

    /// How many times a message was offered (accepted or not).
    pub fn attempts(&self) -> usize {
        self.state.lock().map(|s| s.attempts).unwrap_or_default()
    }
}

async fn session(socket: tokio::net::TcpStream, state: Arc<Mutex<SinkState>>) -> std::io::Result<()> {
    let (read, mut write) = socket.into_split();
    let mut lines = BufReader::new(read).lines();
    write.write_all(b"220 sink.test ESMTP\r\n").await?;
    while let Some(line) = lines.next_line().await? {
        let verb = line.split_whitespace().next().unwrap_or_default().to_ascii_uppercase();
        match verb.as_str() {
            "EHLO" | "HELO" => write.write_all(b"250-sink.test\r\n250 8BITMIME\r\n").await?,
            "DATA" => {
                write.write_all(b"354 go ahead\r\n").await?;
                let mut data = String::new();
                while let Some(l) = lines.next_line().await? {
                    if l == "." {
                        break;
                    }
                    data.push_str(&l);
                    data.push_str("\r\n");
                }
                let code = {
                    let mut s = state.lock().map_err(|_| std::io::Error::other("poisoned"))?;
                    s.attempts += 1;
                    let code = s.script.pop_front().unwrap_or(250);
                    if code == 250 {
                        s.received.push(data);
                    }
                    code
                };
                write
                    .write_all(format!("{code} {}\r\n", if code == 250 { "queued" } else { "refused by script" }).as_bytes())
                    .await?;
                if code == 421 {
                    return Ok(());
                }
            }
            "QUIT" => {
                write.write_all(b"221 bye\r\n").await?;
                return Ok(());
            }
            _ => write.write_all(b"250 ok\r\n").await?,
        }
    }
    Ok(())
}

/// Undoes quoted-printable: `=\r\n` soft breaks vanish and `=XX` becomes the byte XX.
pub fn decode_quoted_printable(text: &str) -> String {
    let joined = text.replace("=\r\n", "");
    let bytes = joined.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'=', Some(b)) => {
                out.push(b);
                i += 3;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Submits `raw` to the SMTP server at `addr` with lettre, as a mail client would (EHLO, MAIL,
/// RCPT, DATA, with 8-bit bytes as they are): the server's reply to the message, as
/// `"CODE words"`, or lettre's error (a refusal among them) in words.
pub async fn submit(addr: std::net::SocketAddr, from: &str, to: &[&str], raw: &[u8]) -> Result<String, String> {
    use lettre::AsyncTransport as _;
    use lettre::address::{Address, Envelope};
    let parse = |a: &str| a.parse::<Address>().map_err(|e| e.to_string());
    let sender = if from.is_empty() { None } else { Some(parse(from)?) };
    let recipients = to.iter().map(|a| parse(a)).collect::<Result<Vec<_>, _>>()?;
    let envelope = Envelope::new(sender, recipients).map_err(|e| e.to_string())?;
    let transport = lettre::AsyncSmtpTransport::<lettre::Tokio1Executor>::builder_dangerous(addr.ip().to_string())
        .port(addr.port())
        .build();
    let response = transport.send_raw(&envelope, raw).await.map_err(|e| e.to_string())?;
    Ok(format!("{} {}", response.code(), response.message().collect::<Vec<_>>().join(" ")))
}
