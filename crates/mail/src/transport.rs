//! Sending: a pooled SMTP transport built from the relay URL (lettre's form, e.g.
//! `smtp://relay:25?tls=required`, `smtps://relay:465`), or `.eml` files in a directory when no
//! relay is configured. Failures are sorted into transient (retry later) and permanent.

use std::path::PathBuf;
use std::time::Duration;

use lettre::transport::smtp::PoolConfig;
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use tokio::io::AsyncWriteExt;

use crate::{CodeEmail, Notification, StaffNotice};

/// The longest one email may take at the relay, connecting included: lettre's own timeout
/// covers only the connection, so a relay that stops answering mid-dialogue would otherwise
/// hold a send (and the outbox batch it belongs to) for ever. Past it, the send is a transient
/// failure, tried again later.
pub const SEND_TIMEOUT: Duration = Duration::from_secs(30);

/// Where notifications go.
pub enum Mailer {
    /// A relay.
    Smtp {
        /// The pooled transport.
        transport: AsyncSmtpTransport<Tokio1Executor>,
        /// The From address.
        from: String,
    },
    /// No relay: each email becomes `<dir>/<message id>.eml`.
    Files {
        /// The directory.
        dir: PathBuf,
        /// The From address.
        from: String,
    },
}

/// The mailer could not be set up, or an email could not be built.
#[derive(Debug, thiserror::Error)]
pub enum MailError {
    /// The relay URL is not one lettre understands. The URL itself is not repeated (it may hold
    /// a password).
    #[error("the SMTP relay URL is not valid (expected e.g. smtp://relay.example:25)")]
    BadUrl,
    /// An address could not be used.
    #[error("{0} is not a valid email address")]
    Address(&'static str),
    /// lettre refused to build the message.
    #[error("cannot build the email: {0}")]
    Build(String),
}

/// Why a send failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    /// Try again later: a 4xx reply, a refused or dropped connection, a timeout.
    #[error("temporary failure: {0}")]
    Transient(String),
    /// Do not retry: a 5xx reply, or an email that cannot be built.
    #[error("permanent failure: {0}")]
    Permanent(String),
}

impl Mailer {
    /// A mailer for `relay_url` that keeps up to `connections` open to it for reuse, or one
    /// writing `.eml` files into `dir` when there is none.
    pub fn new(relay_url: Option<&str>, dir: PathBuf, from: String, connections: u32) -> Result<Self, MailError> {
        from.parse::<lettre::message::Mailbox>()
            .map_err(|_| MailError::Address("the From address"))?;
        match relay_url {
            Some(url) => {
                let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
                    .map_err(|_| MailError::BadUrl)?
                    .timeout(Some(SEND_TIMEOUT))
                    .pool_config(PoolConfig::new().max_size(connections.max(1)))
                    .build();
                Ok(Mailer::Smtp { transport, from })
            }
            None => Ok(Mailer::Files { dir, from }),
        }
    }

    /// True when mail really leaves this server (a relay), rather than landing in a folder.
    pub fn is_relay(&self) -> bool {
        matches!(self, Mailer::Smtp { .. })
    }

    /// Says where mail goes, for the start-up message.
    pub fn describe(&self) -> String {
        match self {
            Mailer::Smtp { .. } => "through the configured SMTP relay".into(),
            Mailer::Files { dir, .. } => format!("as .eml files in {} (no SMTP relay configured)", dir.display()),
        }
    }

    /// Sends one notification.
    pub async fn send(&self, notification: &Notification) -> Result<(), SendError> {
        let email = notification.build(self.from()).map_err(|e| SendError::Permanent(e.to_string()))?;
        self.deliver(email, &notification.message_id).await
    }

    /// Sends a one-time code.
    pub async fn send_code(&self, code: &CodeEmail) -> Result<(), SendError> {
        let email = code.build(self.from()).map_err(|e| SendError::Permanent(e.to_string()))?;
        self.deliver(email, &code.message_id).await
    }

    /// Sends a notice to a member of staff.
    pub async fn send_notice(&self, notice: &StaffNotice) -> Result<(), SendError> {
        let email = notice.build(self.from()).map_err(|e| SendError::Permanent(e.to_string()))?;
        self.deliver(email, &notice.message_id).await
    }

    fn from(&self) -> &str {
        match self {
            Mailer::Smtp { from, .. } | Mailer::Files { from, .. } => from,
        }
    }

    async fn deliver(&self, email: lettre::Message, message_id: &str) -> Result<(), SendError> {
        match self {
            Mailer::Smtp { transport, .. } => match tokio::time::timeout(SEND_TIMEOUT, transport.send(email)).await {
                Ok(sent) => sent.map(|_| ()).map_err(classify),
                Err(_) => Err(SendError::Transient(format!(
                    "the relay did not answer within {} seconds",
                    SEND_TIMEOUT.as_secs()
                ))),
            },
            Mailer::Files { dir, .. } => {
                let name: String = message_id.chars().filter(|c| c.is_ascii_alphanumeric() || *c == '-').collect();
                tokio::fs::create_dir_all(dir)
                    .await
                    .map_err(|e| SendError::Transient(e.to_string()))?;
                // The file holds a link or a code: readable by the service account only.
                let path = dir.join(format!("{name}.eml"));
                let mut file = tokio::fs::OpenOptions::new()
                    .write(true)
                    .create(true)
                    .truncate(true)
                    .mode(0o600)
                    .open(&path)
                    .await
                    .map_err(|e| SendError::Transient(e.to_string()))?;
                file.write_all(&email.formatted())
                    .await
                    .map_err(|e| SendError::Transient(e.to_string()))?;
                file.sync_all().await.map_err(|e| SendError::Transient(e.to_string()))
            }
        }
    }
}

fn classify(e: lettre::transport::smtp::Error) -> SendError {
    let reply = e.status().map(|code| code.to_string());
    let text = match &reply {
        Some(code) => format!("the relay answered {code}"),
        None => "the relay could not be reached".to_owned(),
    };
    if e.is_permanent() {
        SendError::Permanent(text)
    } else {
        SendError::Transient(text)
    }
}
