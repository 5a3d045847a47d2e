//! The SMTP intake listener (issue 18): where the council's Exchange connector delivers mail
//! tagged `[secure]`. Commands are parsed by `smtp-proto` (Stalwart's parser, which does no
//! I/O); this is only the session loop around it: who may connect, the limits, the timeouts and
//! the replies. Each message is handed to [`crate::app::intake::take`].
//!
//! Limits: the peer must be in `SEALPOST_INTAKE_ALLOW`; at most `max_sessions` sessions at once
//! (421 beyond); `per_minute` messages a minute per peer (451 beyond); commands of at most 4 KiB
//! (500); 100 recipients (452); DATA of at most `max_bytes` (552, the rest read and dropped);
//! two minutes for each command and ten for a message's data. On shutdown the listener closes
//! at once, a session waiting for a command is told 421, and one in the middle of a message
//! finishes it first (SECURITY G7).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use smtp_proto::request::receiver::{DataReceiver, RequestReceiver};
use smtp_proto::{EhloResponse, Request};
use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Semaphore, watch};
use tokio::task::JoinSet;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};

use crate::app::intake::{self, Envelope};
use crate::rate_limit::IpLimiter;
use crate::settings::Intake;
use crate::state::AppState;

/// Recipients one message may have.
pub const MAX_RECIPIENTS: usize = 100;
const COMMAND_TIMEOUT: Duration = Duration::from_secs(120);
const DATA_TIMEOUT: Duration = Duration::from_secs(600);

/// The STARTTLS acceptor for a PEM certificate chain and key (TLS 1.2 and 1.3, rustls's safe
/// defaults, the ring provider).
pub fn tls_acceptor(cert: &std::path::Path, key: &std::path::Path) -> anyhow::Result<TlsAcceptor> {
    use anyhow::Context as _;
    let chain = CertificateDer::pem_file_iter(cert)
        .and_then(Iterator::collect::<Result<Vec<_>, _>>)
        .with_context(|| format!("reading the intake certificate {}", cert.display()))?;
    let key = PrivateKeyDer::from_pem_file(key).with_context(|| format!("reading the intake key {}", key.display()))?;
    let provider = Arc::new(tokio_rustls::rustls::crypto::ring::default_provider());
    let config = tokio_rustls::rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .context("the intake certificate and key do not match")?;
    Ok(TlsAcceptor::from(Arc::new(config)))
}

/// Serves the intake on `listener` until `stop` turns true, then lets each session finish the
/// message it is receiving. With `tls`, a session must STARTTLS before MAIL.
pub async fn serve(listener: TcpListener, state: AppState, tls: Option<TlsAcceptor>, stop: watch::Receiver<bool>) {
    let Some(settings) = state.settings.intake.clone() else { return };
    let sessions = Arc::new(Semaphore::new(settings.max_sessions as usize));
    let limiter = Arc::new(IpLimiter::new(settings.per_minute, settings.per_minute));
    let mut running = JoinSet::new();
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(pair) => pair,
                Err(error) => {
                    tracing::warn!(%error, "intake: accepting a connection failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = stopped(stop.clone()) => break,
        };
        if !settings.allow.iter().any(|net| net.contains(&peer.ip())) {
            // Not the council's mail server: no conversation at all.
            tracing::warn!(peer = %peer.ip(), "intake: a connection from outside SEALPOST_INTAKE_ALLOW was refused");
            running.spawn(refuse(stream, "554 5.7.1 This address may not send mail here\r\n"));
            continue;
        }
        let Ok(permit) = sessions.clone().try_acquire_owned() else {
            running.spawn(refuse(stream, "421 4.3.2 Too many connections; try again later\r\n"));
            continue;
        };
        let session = Session {
            tls: tls.clone(),
            state: state.clone(),
            settings: settings.clone(),
            limiter: limiter.clone(),
            peer,
            stop: stop.clone(),
        };
        running.spawn(async move {
            let _permit = permit;
            if let Err(error) = session.run(Conn::Plain(stream)).await {
                tracing::debug!(%error, "intake: session ended");
            }
        });
        while running.try_join_next().is_some() {}
    }
    drop(listener);
    while running.join_next().await.is_some() {}
}

async fn refuse(mut stream: TcpStream, reply: &'static str) {
    let _ = tokio::time::timeout(Duration::from_secs(5), stream.write_all(reply.as_bytes())).await;
}

struct Session {
    /// STARTTLS, when configured (and then required before MAIL).
    tls: Option<TlsAcceptor>,
    state: AppState,
    settings: Intake,
    limiter: Arc<IpLimiter>,
    peer: SocketAddr,
    stop: watch::Receiver<bool>,
}

/// How a read ended when it did not bring bytes.
#[derive(Debug, thiserror::Error)]
enum Ended {
    #[error("the peer closed the connection")]
    Closed,
    #[error("the peer was too slow")]
    TimedOut,
    #[error("shutting down")]
    Stopping,
    #[error("i/o: {0}")]
    Io(#[from] std::io::Error),
}

impl Session {
    async fn run(mut self, mut stream: Conn) -> Result<(), Ended> {
        let host = host_name(&self.state.settings.public_url);
        reply(&mut stream, &format!("220 {host} Sealpost secure mail intake ready\r\n")).await?;
        let mut buffer = vec![0u8; 8192];
        let mut pending: Vec<u8> = Vec::new();
        let mut receiver = RequestReceiver::default();
        let mut from: Option<String> = None;
        let mut to: Vec<String> = Vec::new();
        loop {
            if pending.is_empty() {
                let n = self.read(&mut stream, &mut buffer, COMMAND_TIMEOUT, true).await;
                let n = match n {
                    Err(Ended::Stopping) => {
                        reply(&mut stream, "421 4.3.2 Sealpost is restarting; try again shortly\r\n").await?;
                        return Err(Ended::Stopping);
                    }
                    Err(Ended::TimedOut) => {
                        reply(&mut stream, "421 4.4.2 Timed out waiting for a command\r\n").await?;
                        return Err(Ended::TimedOut);
                    }
                    other => other?,
                };
                pending.extend_from_slice(&buffer[..n]);
            }
            let mut bytes = pending.iter();
            let request = receiver.ingest(&mut bytes).map(Request::into_owned);
            let consumed = pending.len() - bytes.as_slice().len();
            pending.drain(..consumed);
            let request = match request {
                Ok(request) => request,
                Err(smtp_proto::Error::NeedsMoreData { .. }) => {
                    // Everything given is buffered in the receiver; read on.
                    pending.clear();
                    let n = self.read(&mut stream, &mut buffer, COMMAND_TIMEOUT, true).await?;
                    pending.extend_from_slice(&buffer[..n]);
                    continue;
                }
                Err(smtp_proto::Error::ResponseTooLong) => {
                    reply(&mut stream, "500 5.5.2 Line too long\r\n").await?;
                    continue;
                }
                Err(smtp_proto::Error::UnknownCommand) => {
                    reply(&mut stream, "500 5.5.1 Command not recognised\r\n").await?;
                    continue;
                }
                Err(smtp_proto::Error::InvalidSenderAddress) => {
                    reply(&mut stream, "501 5.1.7 Bad sender address\r\n").await?;
                    continue;
                }
                Err(smtp_proto::Error::InvalidRecipientAddress) => {
                    reply(&mut stream, "501 5.1.3 Bad recipient address\r\n").await?;
                    continue;
                }
                Err(_) => {
                    reply(&mut stream, "501 5.5.4 Syntax error\r\n").await?;
                    continue;
                }
            };
            match request {
                Request::Ehlo { .. } => {
                    let mut ehlo = EhloResponse::new(host.as_str());
                    ehlo.capabilities = smtp_proto::EXT_SIZE | smtp_proto::EXT_8BIT_MIME | smtp_proto::EXT_ENHANCED_STATUS_CODES;
                    if self.tls.is_some() && !stream.is_tls() {
                        ehlo.capabilities |= smtp_proto::EXT_START_TLS;
                    }
                    ehlo.size = self.settings.max_bytes;
                    let mut text = Vec::new();
                    ehlo.write(&mut text)?;
                    stream.write_all(&text).await?;
                    (from, to) = (None, Vec::new());
                }
                Request::Helo { .. } => {
                    reply(&mut stream, &format!("250 {host}\r\n")).await?;
                    (from, to) = (None, Vec::new());
                }
                Request::StartTls => match (&self.tls, stream.is_tls()) {
                    (Some(acceptor), false) => {
                        reply(&mut stream, "220 2.0.0 Ready to start TLS\r\n").await?;
                        // Anything the client sent before the handshake is discarded (RFC 3207).
                        pending.clear();
                        receiver = RequestReceiver::default();
                        (from, to) = (None, Vec::new());
                        let Conn::Plain(tcp) = stream else { return Err(Ended::Closed) };
                        let tls = tokio::time::timeout(COMMAND_TIMEOUT, acceptor.accept(tcp))
                            .await
                            .map_err(|_| Ended::TimedOut)??;
                        stream = Conn::Tls(Box::new(tls));
                    }
                    (Some(_), true) => reply(&mut stream, "503 5.5.1 TLS is already on\r\n").await?,
                    (None, _) => reply(&mut stream, "502 5.5.1 STARTTLS is not offered here\r\n").await?,
                },
                Request::Mail { .. } if self.tls.is_some() && !stream.is_tls() => {
                    reply(&mut stream, "530 5.7.0 Issue STARTTLS first\r\n").await?;
                }
                Request::Mail { from: mail } => {
                    if mail.size > self.settings.max_bytes {
                        reply(&mut stream, "552 5.3.4 The message is larger than Sealpost takes\r\n").await?;
                    } else {
                        from = Some(mail.address);
                        to.clear();
                        reply(&mut stream, "250 2.1.0 OK\r\n").await?;
                    }
                }
                Request::Rcpt { to: rcpt } => {
                    if from.is_none() {
                        reply(&mut stream, "503 5.5.1 MAIL first\r\n").await?;
                    } else if to.len() >= MAX_RECIPIENTS {
                        reply(&mut stream, "452 4.5.3 Too many recipients (at most 100)\r\n").await?;
                    } else {
                        to.push(rcpt.address);
                        reply(&mut stream, "250 2.1.5 OK\r\n").await?;
                    }
                }
                Request::Data => {
                    let Some(sender) = from.take().filter(|_| !to.is_empty()) else {
                        reply(&mut stream, "503 5.5.1 MAIL and RCPT first\r\n").await?;
                        continue;
                    };
                    reply(&mut stream, "354 Send the message, ending with <CRLF>.<CRLF>\r\n").await?;
                    let data = self.data(&mut stream, &mut buffer, &mut pending).await?;
                    let envelope = Envelope {
                        peer: self.peer.ip(),
                        from: sender,
                        to: std::mem::take(&mut to),
                    };
                    let answer = self.deliver(envelope, data).await;
                    reply(&mut stream, &answer).await?;
                }
                Request::Rset => {
                    (from, to) = (None, Vec::new());
                    reply(&mut stream, "250 2.0.0 OK\r\n").await?;
                }
                Request::Noop { .. } => reply(&mut stream, "250 2.0.0 OK\r\n").await?,
                Request::Quit => {
                    reply(&mut stream, "221 2.0.0 Goodbye\r\n").await?;
                    return Ok(());
                }
                Request::Vrfy { .. } => reply(&mut stream, "252 2.5.2 Cannot verify\r\n").await?,
                _ => reply(&mut stream, "502 5.5.1 Not implemented\r\n").await?,
            }
        }
    }

    /// Reads the message after DATA: `Some` bytes, or `None` when it grew past the limit (the
    /// rest is read and dropped so the session can answer 552 and go on).
    async fn data(&mut self, stream: &mut Conn, buffer: &mut [u8], pending: &mut Vec<u8>) -> Result<Option<Vec<u8>>, Ended> {
        let mut receiver = DataReceiver::new();
        let mut message = Vec::new();
        let mut too_large = false;
        loop {
            if pending.is_empty() {
                let n = self.read(stream, buffer, DATA_TIMEOUT, false).await?;
                pending.extend_from_slice(&buffer[..n]);
            }
            let mut bytes = pending.iter();
            let done = receiver.ingest(&mut bytes, &mut message);
            let consumed = pending.len() - bytes.as_slice().len();
            pending.drain(..consumed);
            if message.len() > self.settings.max_bytes {
                too_large = true;
                message.clear();
            }
            if done {
                return Ok((!too_large).then_some(message));
            }
        }
    }

    /// Takes a received message in and answers for it.
    async fn deliver(&self, envelope: Envelope, data: Option<Vec<u8>>) -> String {
        let Some(data) = data else {
            return "552 5.3.4 The message is larger than Sealpost takes\r\n".into();
        };
        if self.limiter.check(envelope.peer, self.state.now_ms()).is_err() {
            return "451 4.7.1 Too many messages from this server; try again in a minute\r\n".into();
        }
        match intake::take(&self.state, envelope, &data).await {
            Ok(words) => format!("250 2.0.0 {}\r\n", one_line(&words)),
            Err(refusal) => {
                tracing::info!(code = refusal.code, "intake: message refused");
                let [a, b, c] = refusal.status;
                format!("{} {a}.{b}.{c} {}\r\n", refusal.code, one_line(&refusal.text))
            }
        }
    }

    /// Reads some bytes, within `timeout`; while `idle` (between commands) a shutdown ends it.
    async fn read(&mut self, stream: &mut Conn, buffer: &mut [u8], timeout: Duration, idle: bool) -> Result<usize, Ended> {
        let stopping = async {
            if idle {
                stopped(self.stop.clone()).await;
            } else {
                std::future::pending::<()>().await;
            }
        };
        tokio::select! {
            read = tokio::time::timeout(timeout, stream.read(buffer)) => match read {
                Err(_) => Err(Ended::TimedOut),
                Ok(Ok(0)) => Err(Ended::Closed),
                Ok(Ok(n)) => Ok(n),
                Ok(Err(e)) => Err(Ended::Io(e)),
            },
            () = stopping => Err(Ended::Stopping),
        }
    }
}

/// Completes once `stop` is true (or its sender is gone).
async fn stopped(mut stop: watch::Receiver<bool>) {
    while !*stop.borrow_and_update() {
        if stop.changed().await.is_err() {
            return;
        }
    }
}

async fn reply(stream: &mut Conn, text: &str) -> Result<(), Ended> {
    stream.write_all(text.as_bytes()).await?;
    Ok(())
}

/// Text safe on one SMTP reply line: no line breaks, printable ASCII, at most 400 characters.
fn one_line(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_ascii_graphic() || c == ' ' { c } else { ' ' })
        .take(400)
        .collect()
}

/// The host of the public URL, for the greeting.
fn host_name(public_url: &str) -> String {
    public_url
        .split("://")
        .nth(1)
        .and_then(|rest| rest.split(['/', ':']).next())
        .filter(|h| !h.is_empty())
        .unwrap_or("sealpost")
        .to_owned()
}

/// A session's connection: plain, or after STARTTLS.
enum Conn {
    Plain(TcpStream),
    Tls(Box<tokio_rustls::server::TlsStream<TcpStream>>),
}

impl Conn {
    fn is_tls(&self) -> bool {
        matches!(self, Self::Tls(_))
    }
}

impl AsyncRead for Conn {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            Self::Plain(s) => Pin::new(s).poll_read(cx, buf),
            Self::Tls(s) => Pin::new(s).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for Conn {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<std::io::Result<usize>> {
        match self.get_mut() {
            Self::Plain(s) => Pin::new(s).poll_write(cx, buf),
            Self::Tls(s) => Pin::new(s).poll_write(cx, buf),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            Self::Plain(s) => Pin::new(s).poll_flush(cx),
            Self::Tls(s) => Pin::new(s).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            Self::Plain(s) => Pin::new(s).poll_shutdown(cx),
            Self::Tls(s) => Pin::new(s).poll_shutdown(cx),
        }
    }
}
