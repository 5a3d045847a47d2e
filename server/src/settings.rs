//! Settings: one typed tree, loaded once from defaults, then an optional `sealpost.toml`, then
//! `SEALPOST_…` environment variables, and passed by value. Names are an operator contract.
//! Secrets (the SMTP URL may hold a password) are never printed.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use sealpost_domain::EmailAddress;
use secrecy::SecretString;
use serde::Deserialize;

/// Everything the server and CLI need to know about their environment.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Address and port to listen on (`SEALPOST_LISTEN`, default 127.0.0.1:8080).
    pub listen: SocketAddr,
    /// Where the SQLite file, outgoing mail and blobs live (`SEALPOST_DATA_DIR`, default `./data`).
    pub data_dir: PathBuf,
    /// Where the master key and escrow recipient live (`SEALPOST_KEY_DIR`, default `<data>/keys`).
    pub key_dir: PathBuf,
    /// `sqlite://…` or `postgres://…` (`SEALPOST_DATABASE_URL`, default `<data>/sealpost.db`).
    pub database_url: SecretString,
    /// The council these settings serve, when it is not the deployment's default one (see
    /// [`Settings::for_tenant`]); its data is in its own PostgreSQL schema.
    pub tenant: Option<sealpost_storage::TenantRecord>,
    /// What these settings were made from, so a tenant's can be made from it.
    source: Source,
    /// The URL people reach Sealpost at (`SEALPOST_PUBLIC_URL`, default `http://<listen>`).
    pub public_url: String,
    /// The council's name, shown on every page (`SEALPOST_ORG_NAME`).
    pub org_name: String,
    /// Optional relay in lettre's URL form (`SEALPOST_SMTP_URL`); none means `.eml` files.
    pub smtp_url: Option<SecretString>,
    /// Staff session idle timeout in minutes (SECURITY A9, default 30).
    pub session_idle_minutes: u32,
    /// Staff session absolute lifetime in hours (SECURITY A9, default 12).
    pub session_absolute_hours: u32,
    /// Failed sign-ins one IP may burst (SECURITY A3, default 30: a council office is one NAT address).
    pub login_ip_burst: u32,
    /// Failed sign-ins an IP regains per minute (default 5).
    pub login_ip_per_minute: u32,
    /// Failed sign-ins per address per hour before it is refused (default 20).
    pub login_account_failures_per_hour: u32,
    /// Where sealed attachments go (`SEALPOST_BLOB_URL`: `file:///abs/path` or
    /// `s3://bucket/prefix`; default `<data>/blobs`).
    pub blob_url: Option<String>,
    /// A bucket's S3-compatible server and keys, where the standard `AWS_…` variables do not
    /// say (`SEALPOST_S3_ENDPOINT`, `SEALPOST_S3_ACCESS_KEY_ID`, `SEALPOST_S3_SECRET_ACCESS_KEY`).
    pub s3: sealpost_storage::S3Options,
    /// The From address of notifications (`SEALPOST_MAIL_FROM`, default `sealpost@<public host>`).
    pub mail_from: String,
    /// Largest attachment in MiB (`SEALPOST_MAX_ATTACHMENT_MIB`, default 25; SECURITY D5).
    pub max_attachment_mib: u32,
    /// Largest total of attachments per message in MiB (`SEALPOST_MAX_MESSAGE_MIB`, default 100).
    pub max_message_mib: u32,
    /// Longest expiry a sender may choose, in days (`SEALPOST_MAX_EXPIRY_DAYS`, default 90).
    pub max_expiry_days: u32,
    /// Longest message text in KiB (`SEALPOST_MAX_BODY_KIB`, default 256; SECURITY D6).
    pub max_body_kib: u32,
    /// Run the notification worker in this process (`SEALPOST_OUTBOX_WORKER`, default true).
    /// Turn off on web-only instances when a separate instance sends the mail.
    pub outbox_worker: bool,
    /// People outside the council may start a secure message to a member of staff at `/write`
    /// (`SEALPOST_PARTNER_WRITE`, default true).
    pub partner_write: bool,
    /// Days a deleted message stays in a person's Deleted box before it is emptied
    /// (`SEALPOST_DELETED_DAYS`, default 30).
    pub deleted_days: u32,
    /// Days an OFFICIAL message is kept from its send before it is crypto-shredded with its
    /// replies and files (issue 19); 0 keeps it.
    pub retention_days_official: u32,
    /// The same for OFFICIAL-SENSITIVE messages.
    pub retention_days_sensitive: u32,
    /// The policy for each marking (issue 20): the longest expiry
    /// (`SEALPOST_POLICY_OFFICIAL_MAX_EXPIRY_DAYS`, `…_SENSITIVE_…`, default and at most
    /// `SEALPOST_MAX_EXPIRY_DAYS`), whether partners need a passphrase for OFFICIAL
    /// (`SEALPOST_POLICY_OFFICIAL_PASSPHRASE`, `optional` or `required`; OFFICIAL-SENSITIVE always
    /// needs one) and the most opens per partner (`SEALPOST_POLICY_OFFICIAL_MAX_OPENS`,
    /// `…_SENSITIVE_…`, default 0: no limit) and whether partners may only view files
    /// (`SEALPOST_POLICY_OFFICIAL_FILES`, `…_SENSITIVE_…`: `download`, the default, or `view`).
    pub policy: sealpost_domain::Policy,
    /// Seconds a sent message waits before anyone receives it, while its sender may undo the
    /// send (`SEALPOST_SEND_HOLD_SECONDS`, default 30, at most 300, 0 for none).
    pub send_hold_seconds: u32,
    /// Words and phrases whose presence in a message proposes OFFICIAL-SENSITIVE, like an NHS
    /// number does (`SEALPOST_CHECK_KEYWORDS`, comma-separated; default none).
    pub check_keywords: sealpost_checks::Keywords,
    /// Personal webmail domains (`SEALPOST_CHECK_WEBMAIL_DOMAINS`, comma-separated; default
    /// gmail.com, outlook.com, hotmail.com, yahoo.com, icloud.com and the like).
    pub webmail_domains: Vec<String>,
    /// Whether OFFICIAL-SENSITIVE mail may go to a personal webmail address
    /// (`SEALPOST_POLICY_SENSITIVE_WEBMAIL`: `refuse`, the default, or `allow`, which asks the
    /// sender to confirm instead).
    pub sensitive_webmail_allowed: bool,
    /// Team addresses that `/write` accepts, each delivered to its members' Inboxes
    /// (`SEALPOST_TEAMS`, e.g. `safeguarding@council.gov.uk=ann@council.gov.uk,raj@council.gov.uk`,
    /// teams separated by `;`; default none).
    pub teams: Vec<Team>,
    /// Who must use a second factor (TOTP) after their password (`SEALPOST_MFA_REQUIRED`:
    /// `all`, the default, `admin,ig`, or `none`). Anyone who has set one up uses it.
    pub mfa_required: MfaRequired,
    /// Single sign-on with the council's OpenID provider, when `SEALPOST_OIDC_ISSUER` is set.
    pub oidc: Option<Oidc>,
    /// Password sign-in for staff and IG (`SEALPOST_PASSWORD_LOGIN`, default true). Off once
    /// single sign-on works; administrators can still sign in with a password (and their second
    /// factor), so a broken identity provider never locks IT out.
    pub password_login: bool,
    /// Where Prometheus scrapes `/metrics` (`SEALPOST_METRICS_LISTEN`, e.g. `127.0.0.1:9464`;
    /// off by default): a separate address, never the public one.
    pub metrics_listen: Option<SocketAddr>,
    /// Mail intake from the council's mail system (`SEALPOST_INTAKE_LISTEN`, e.g. `0.0.0.0:2525`;
    /// off by default): staff send secure mail from Outlook through an Exchange connector.
    pub intake: Option<Intake>,
    /// A reverse proxy in front appends the client's address to `X-Forwarded-For`
    /// (`SEALPOST_TRUST_PROXY`, default false). Only turn on when every request comes through it.
    pub trust_proxy: bool,
    /// Sign a checkpoint of the audit chain after this many new events
    /// (`SEALPOST_AUDIT_CHECKPOINT_EVENTS`, default 1000; SECURITY F6)…
    pub audit_checkpoint_events: u32,
    /// …or this many minutes after the last one, if anything happened since
    /// (`SEALPOST_AUDIT_CHECKPOINT_MINUTES`, default 60).
    pub audit_checkpoint_minutes: u32,
    /// The data protection officer, told by email of every break-glass (`SEALPOST_DPO_EMAIL`).
    /// Without it, break-glass is refused (SECURITY C3).
    pub dpo_email: Option<EmailAddress>,
    /// How long a break-glass access lasts, in minutes (`SEALPOST_BREAK_GLASS_MINUTES`, default 30).
    pub break_glass_minutes: u32,
    /// How long a worker's claim on a batch of notifications lasts before another worker may
    /// send them (`SEALPOST_OUTBOX_LEASE_SECONDS`, default 300; SECURITY G4). A batch is sized to
    /// end within half of it (`workers::outbox::batch_size`); after a crash, the claimed ones go
    /// out again this long later.
    pub outbox_lease_seconds: u32,
    /// How many SMTP connections the notification worker keeps open to the relay and sends
    /// over at once (`SEALPOST_SMTP_CONNECTIONS`, default 32, 1 to 100). A relay acknowledges
    /// each message about 40 ms late (delayed ACK), so one connection carries about 25 a second.
    pub smtp_connections: u32,
    /// Sends and replies are refused (507) while the data or blob directory has less than this
    /// many MiB free, so reads, which must write their audit event first, go on working when the
    /// disk fills (`SEALPOST_MIN_FREE_MIB`, default 256; SECURITY G6).
    pub min_free_mib: u32,
    /// How long a client may take to send a request's headers, and the window in which a body
    /// must bring at least 8 KiB (SECURITY D8; `SEALPOST_REQUEST_READ_TIMEOUT_SECONDS`, 30).
    pub request_read_timeout_secs: u32,
    /// File endings that may not be sent, lower case without the dot: programs and scripts
    /// that run when opened (`SEALPOST_BLOCKED_FILE_TYPES`, comma-separated; see
    /// [`DEFAULT_BLOCKED_FILE_TYPES`]; empty allows every type).
    pub blocked_file_types: Vec<String>,
    /// Sealed files that no attachment names and that have not changed for this many minutes
    /// are removed, at start and hourly (`SEALPOST_ORPHAN_BLOB_MINUTES`, default 1440; SECURITY
    /// G2): long enough that another server's slowest upload is never taken. A SQLite server
    /// alone with its data directory removes every orphan older than itself at start.
    pub orphan_blob_minutes: u32,
    /// `text` (default) or `json` log lines.
    pub log_format: LogFormat,
}

/// Who must sign in with a second factor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MfaRequired {
    /// Everyone (the default; NCSC and OWASP ASVS L2).
    All,
    /// Administrators and IG officers only.
    AdminAndIg,
    /// Nobody (those who set one up still use it).
    None,
}

impl MfaRequired {
    /// `all`, `admin,ig` (either order) or `none`.
    fn parse(text: &str) -> Option<Self> {
        let mut words: Vec<String> = text.split(',').map(|w| w.trim().to_lowercase()).filter(|w| !w.is_empty()).collect();
        words.sort();
        match words.iter().map(String::as_str).collect::<Vec<_>>().as_slice() {
            ["all"] => Some(Self::All),
            ["admin", "ig"] => Some(Self::AdminAndIg),
            ["none"] => Some(Self::None),
            _ => None,
        }
    }

    /// Whether an account of `role` must have a second factor.
    pub fn applies_to(self, role: sealpost_domain::Role) -> bool {
        match self {
            Self::All => true,
            Self::AdminAndIg => role != sealpost_domain::Role::Staff,
            Self::None => false,
        }
    }

    /// As it is written in the setting.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::All => "all",
            Self::AdminAndIg => "admin,ig",
            Self::None => "none",
        }
    }
}

/// The council's OpenID provider (Microsoft Entra ID or another).
#[derive(Debug, Clone)]
pub struct Oidc {
    /// `SEALPOST_OIDC_ISSUER`: exactly as the provider names itself; for Entra ID
    /// `https://login.microsoftonline.com/<tenant id>/v2.0`.
    pub issuer: String,
    /// `SEALPOST_OIDC_CLIENT_ID`: the application (client) id.
    pub client_id: String,
    /// `SEALPOST_OIDC_CLIENT_SECRET`.
    pub client_secret: SecretString,
    /// `SEALPOST_OIDC_AUTOCREATE` (default false): someone the provider vouches for who has no
    /// account gets one, as staff. Otherwise only existing accounts may sign in.
    pub autocreate: bool,
    /// `SEALPOST_OIDC_PROVIDER_MFA` (default false): the provider enforces a second factor for
    /// Sealpost (Entra conditional access), so a single sign-on is enough even when its token
    /// does not say so. Otherwise a sign-in whose token lacks `amr: mfa` goes on to Sealpost's
    /// own second factor, as `SEALPOST_MFA_REQUIRED` asks.
    pub provider_mfa: bool,
}

/// The SMTP intake's settings.
#[derive(Debug, Clone)]
pub struct Intake {
    /// Where it listens.
    pub listen: SocketAddr,
    /// Who may connect (`SEALPOST_INTAKE_ALLOW`, comma-separated CIDRs; default loopback only):
    /// where the council's Exchange connector sits.
    pub allow: Vec<ipnet::IpNet>,
    /// Largest message in SMTP DATA, in bytes (`SEALPOST_INTAKE_MAX_MIB`; by default the
    /// message limit plus a third for base64 and a MiB for headers), answered 552.
    pub max_bytes: usize,
    /// Sessions at once (`SEALPOST_INTAKE_MAX_SESSIONS`, default 32); more are answered 421.
    pub max_sessions: u32,
    /// Messages one peer may send a minute (`SEALPOST_INTAKE_PER_MINUTE`, default 120).
    pub per_minute: u32,
    /// The subject tag that makes a message secure, OFFICIAL (`SEALPOST_INTAKE_TAG`, default
    /// `secure`, written `[secure]`).
    pub tag: String,
    /// The tag for OFFICIAL-SENSITIVE (`SEALPOST_INTAKE_SENSITIVE_TAG`, default `secure sensitive`).
    pub sensitive_tag: String,
    /// A shared secret the council's transport rule stamps in `X-Sealpost-Intake-Secret`
    /// (`SEALPOST_INTAKE_SECRET`, default none): when set, mail without it is refused.
    pub secret: Option<SecretString>,
    /// STARTTLS with this certificate chain and key, PEM files (`SEALPOST_INTAKE_TLS_CERT` and
    /// `_KEY`). When set, a session must start TLS before MAIL.
    pub tls: Option<(PathBuf, PathBuf)>,
}

/// A council address that stands for several members of staff (a team's shared address).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Team {
    /// The address people outside write to.
    pub address: EmailAddress,
    /// Whose Inboxes it reaches.
    pub members: Vec<EmailAddress>,
}

/// `team=member,member;team=member`: `None` when an address does not parse or a team has no
/// members.
fn teams(text: &str) -> Option<Vec<Team>> {
    let mut out = Vec::new();
    for entry in text.split(';').map(str::trim).filter(|e| !e.is_empty()) {
        let (address, members) = entry.split_once('=')?;
        let members: Vec<EmailAddress> = members
            .split(',')
            .map(str::trim)
            .filter(|m| !m.is_empty())
            .map(EmailAddress::parse)
            .collect::<Result<_, _>>()
            .ok()?;
        if members.is_empty() {
            return None;
        }
        out.push(Team {
            address: EmailAddress::parse(address.trim()).ok()?,
            members,
        });
    }
    Some(out)
}

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object a line, for log shippers.
    Json,
}

/// The file and environment layer: every key optional.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct Layer {
    listen: Option<SocketAddr>,
    data_dir: Option<PathBuf>,
    key_dir: Option<PathBuf>,
    database_url: Option<String>,
    public_url: Option<String>,
    org_name: Option<String>,
    smtp_url: Option<String>,
    session_idle_minutes: Option<u32>,
    session_absolute_hours: Option<u32>,
    login_ip_burst: Option<u32>,
    login_ip_per_minute: Option<u32>,
    login_account_failures_per_hour: Option<u32>,
    trust_proxy: Option<bool>,
    outbox_worker: Option<bool>,
    partner_write: Option<bool>,
    deleted_days: Option<u32>,
    retention_days_official: Option<u32>,
    retention_days_sensitive: Option<u32>,
    send_hold_seconds: Option<u32>,
    policy_official_max_expiry_days: Option<u32>,
    policy_sensitive_max_expiry_days: Option<u32>,
    policy_official_passphrase: Option<String>,
    policy_official_max_opens: Option<u32>,
    policy_sensitive_max_opens: Option<u32>,
    policy_official_files: Option<String>,
    policy_sensitive_files: Option<String>,
    check_keywords: Option<String>,
    webmail_domains: Option<String>,
    sensitive_webmail: Option<String>,
    teams: Option<String>,
    mfa_required: Option<String>,
    oidc_issuer: Option<String>,
    oidc_client_id: Option<String>,
    oidc_client_secret: Option<String>,
    oidc_autocreate: Option<bool>,
    oidc_provider_mfa: Option<bool>,
    password_login: Option<bool>,
    intake_listen: Option<SocketAddr>,
    metrics_listen: Option<SocketAddr>,
    intake_allow: Option<String>,
    intake_max_mib: Option<u32>,
    intake_max_sessions: Option<u32>,
    intake_per_minute: Option<u32>,
    intake_tag: Option<String>,
    intake_sensitive_tag: Option<String>,
    intake_secret: Option<String>,
    intake_tls_cert: Option<PathBuf>,
    intake_tls_key: Option<PathBuf>,
    audit_checkpoint_events: Option<u32>,
    audit_checkpoint_minutes: Option<u32>,
    dpo_email: Option<String>,
    break_glass_minutes: Option<u32>,
    blob_url: Option<String>,
    s3_endpoint: Option<String>,
    s3_access_key_id: Option<String>,
    s3_secret_access_key: Option<String>,
    mail_from: Option<String>,
    max_attachment_mib: Option<u32>,
    max_message_mib: Option<u32>,
    max_expiry_days: Option<u32>,
    max_body_kib: Option<u32>,
    min_free_mib: Option<u32>,
    request_read_timeout_seconds: Option<u32>,
    blocked_file_types: Option<String>,
    outbox_lease_seconds: Option<u32>,
    smtp_connections: Option<u32>,
    orphan_blob_minutes: Option<u32>,
    log_format: Option<LogFormat>,
}

/// Settings could not be loaded; the message names the key at fault, never a value.
#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    /// The file could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The file is not valid TOML for these keys.
    #[error("{path} is not valid: {message}")]
    File {
        /// The file.
        path: PathBuf,
        /// The parser's explanation.
        message: String,
    },
    /// An environment variable has a value of the wrong shape.
    #[error("environment variable {0} has an invalid value")]
    Env(String),
}

/// The longest undo window a council may set.
pub const MAX_SEND_HOLD_SECONDS: u32 = 300;

impl Settings {
    /// Loads settings: defaults, then `file` if it exists (an explicitly named file must
    /// exist), then `SEALPOST_…` variables from `env`.
    pub fn load(file: Option<&Path>, explicit: bool, env: impl IntoIterator<Item = (String, String)>) -> Result<Self, SettingsError> {
        let mut layer = Layer::default();
        if let Some(path) = file {
            match std::fs::read_to_string(path) {
                Ok(text) => {
                    layer = toml::from_str(&text).map_err(|e| SettingsError::File {
                        path: path.into(),
                        message: e.message().to_owned(),
                    })?
                }
                Err(e) if e.kind() == std::io::ErrorKind::NotFound && !explicit => {}
                Err(source) => return Err(SettingsError::Read { path: path.into(), source }),
            }
        }
        for (key, value) in env {
            if let Some(name) = key.strip_prefix("SEALPOST_") {
                apply_env(&mut layer, name, value).map_err(|()| SettingsError::Env(key.clone()))?;
            }
        }
        Self::from_layer(layer)
    }

    fn from_layer(l: Layer) -> Result<Self, SettingsError> {
        let source = Source(Box::new(l.clone()));
        let listen = l.listen.unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], 8080)));
        let data_dir = l.data_dir.unwrap_or_else(|| PathBuf::from("data"));
        let key_dir = l.key_dir.unwrap_or_else(|| data_dir.join("keys"));
        let database_url = l
            .database_url
            .unwrap_or_else(|| format!("sqlite://{}", data_dir.join("sealpost.db").display()));
        let public_url = l
            .public_url
            .unwrap_or_else(|| format!("http://{listen}"))
            .trim_end_matches('/')
            .to_owned();
        let default_mail_from = default_mail_from(&public_url);
        if l.password_login == Some(false) && l.oidc_issuer.as_deref().is_none_or(|i| i.trim().is_empty()) {
            // Nobody but administrators could sign in.
            return Err(SettingsError::Env(
                "SEALPOST_PASSWORD_LOGIN (false needs SEALPOST_OIDC_ISSUER)".into(),
            ));
        }
        Ok(Self {
            listen,
            data_dir,
            key_dir,
            database_url: SecretString::from(database_url),
            tenant: None,
            source,
            public_url,
            org_name: l.org_name.unwrap_or_else(|| "Sealpost".to_owned()),
            smtp_url: l.smtp_url.filter(|s| !s.is_empty()).map(SecretString::from),
            session_idle_minutes: l.session_idle_minutes.unwrap_or(30),
            session_absolute_hours: l.session_absolute_hours.unwrap_or(12),
            login_ip_burst: l.login_ip_burst.unwrap_or(30),
            login_ip_per_minute: l.login_ip_per_minute.unwrap_or(5),
            login_account_failures_per_hour: l.login_account_failures_per_hour.unwrap_or(20),
            trust_proxy: l.trust_proxy.unwrap_or(false),
            audit_checkpoint_events: l.audit_checkpoint_events.unwrap_or(1000).max(1),
            audit_checkpoint_minutes: l.audit_checkpoint_minutes.unwrap_or(60).max(1),
            dpo_email: match l.dpo_email.filter(|s| !s.trim().is_empty()) {
                Some(text) => Some(EmailAddress::parse(&text).map_err(|_| SettingsError::Env("SEALPOST_DPO_EMAIL".into()))?),
                None => None,
            },
            break_glass_minutes: l.break_glass_minutes.unwrap_or(30).clamp(1, 24 * 60),
            outbox_worker: l.outbox_worker.unwrap_or(true),
            partner_write: l.partner_write.unwrap_or(true),
            deleted_days: l.deleted_days.unwrap_or(30),
            retention_days_official: l.retention_days_official.unwrap_or(730),
            retention_days_sensitive: l.retention_days_sensitive.unwrap_or(730),
            send_hold_seconds: match l.send_hold_seconds.unwrap_or(30) {
                s @ 0..=MAX_SEND_HOLD_SECONDS => s,
                _ => {
                    return Err(SettingsError::Env(format!(
                        "SEALPOST_SEND_HOLD_SECONDS (at most {MAX_SEND_HOLD_SECONDS})"
                    )));
                }
            },
            check_keywords: sealpost_checks::Keywords::parse(l.check_keywords.as_deref().unwrap_or_default()),
            webmail_domains: match l.webmail_domains.as_deref() {
                Some(list) => list.split(',').map(|d| d.trim().to_lowercase()).filter(|d| !d.is_empty()).collect(),
                None => sealpost_checks::PERSONAL_WEBMAIL.iter().map(|d| (*d).to_owned()).collect(),
            },
            policy: {
                let longest = l.max_expiry_days.unwrap_or(90);
                let expiry = |set: Option<u32>| set.unwrap_or(longest).clamp(1, longest.max(1));
                let view_only = |set: Option<&str>, name: &str| match set.map(str::trim) {
                    None | Some("download") => Ok(false),
                    Some("view") => Ok(true),
                    Some(_) => Err(SettingsError::Env(name.into())),
                };
                sealpost_domain::Policy {
                    official: sealpost_domain::MarkingPolicy {
                        max_expiry_days: expiry(l.policy_official_max_expiry_days),
                        passphrase_required: match l.policy_official_passphrase.as_deref().map(str::trim) {
                            None | Some("optional") => false,
                            Some("required") => true,
                            Some(_) => return Err(SettingsError::Env("SEALPOST_POLICY_OFFICIAL_PASSPHRASE".into())),
                        },
                        max_opens: l.policy_official_max_opens.unwrap_or(0),
                        view_only_files: view_only(l.policy_official_files.as_deref(), "SEALPOST_POLICY_OFFICIAL_FILES")?,
                    },
                    sensitive: sealpost_domain::MarkingPolicy {
                        max_expiry_days: expiry(l.policy_sensitive_max_expiry_days),
                        passphrase_required: true,
                        max_opens: l.policy_sensitive_max_opens.unwrap_or(0),
                        view_only_files: view_only(l.policy_sensitive_files.as_deref(), "SEALPOST_POLICY_SENSITIVE_FILES")?,
                    },
                }
            },
            sensitive_webmail_allowed: match l.sensitive_webmail.as_deref().map(str::trim) {
                None | Some("refuse") => false,
                Some("allow") => true,
                Some(_) => return Err(SettingsError::Env("SEALPOST_POLICY_SENSITIVE_WEBMAIL".into())),
            },
            teams: teams(l.teams.as_deref().unwrap_or_default()).ok_or_else(|| SettingsError::Env("SEALPOST_TEAMS".into()))?,
            mfa_required: match l.mfa_required.as_deref() {
                None => MfaRequired::All,
                Some(text) => MfaRequired::parse(text).ok_or_else(|| SettingsError::Env("SEALPOST_MFA_REQUIRED".into()))?,
            },
            oidc: oidc(
                l.oidc_issuer,
                l.oidc_client_id,
                l.oidc_client_secret,
                l.oidc_autocreate,
                l.oidc_provider_mfa,
            )?,
            password_login: l.password_login.unwrap_or(true),
            metrics_listen: l.metrics_listen,
            intake: match l.intake_listen {
                None => None,
                Some(listen) => Some(Intake {
                    listen,
                    allow: cidrs(l.intake_allow.as_deref().unwrap_or("127.0.0.0/8,::1/128"))
                        .ok_or_else(|| SettingsError::Env("SEALPOST_INTAKE_ALLOW".into()))?,
                    max_bytes: match l.intake_max_mib {
                        Some(mib) => mib as usize * 1024 * 1024,
                        None => l.max_message_mib.unwrap_or(100) as usize * 1024 * 1024 / 3 * 4 + 1024 * 1024,
                    },
                    max_sessions: l.intake_max_sessions.unwrap_or(32).max(1),
                    per_minute: l.intake_per_minute.unwrap_or(120).max(1),
                    tag: tag(l.intake_tag.as_deref().unwrap_or("secure")),
                    sensitive_tag: tag(l.intake_sensitive_tag.as_deref().unwrap_or("secure sensitive")),
                    secret: l
                        .intake_secret
                        .filter(|s| !s.trim().is_empty())
                        .map(|s| SecretString::from(s.trim().to_owned())),
                    tls: match (l.intake_tls_cert, l.intake_tls_key) {
                        (Some(cert), Some(key)) => Some((cert, key)),
                        (None, None) => None,
                        _ => return Err(SettingsError::Env("SEALPOST_INTAKE_TLS_CERT and _KEY (both or neither)".into())),
                    },
                }),
            },
            blob_url: l.blob_url.filter(|s| !s.is_empty()),
            s3: sealpost_storage::S3Options {
                endpoint: l.s3_endpoint.filter(|s| !s.trim().is_empty()),
                keys: match (l.s3_access_key_id, l.s3_secret_access_key) {
                    (Some(id), Some(secret)) => Some((id, secret)),
                    (None, None) => None,
                    _ => {
                        let both = "SEALPOST_S3_ACCESS_KEY_ID and _SECRET_ACCESS_KEY (both or neither)";
                        return Err(SettingsError::Env(both.into()));
                    }
                },
            },
            mail_from: l.mail_from.unwrap_or(default_mail_from),
            max_attachment_mib: l.max_attachment_mib.unwrap_or(25),
            max_message_mib: l.max_message_mib.unwrap_or(100),
            max_expiry_days: l.max_expiry_days.unwrap_or(90),
            max_body_kib: l.max_body_kib.unwrap_or(256),
            min_free_mib: l.min_free_mib.unwrap_or(256),
            request_read_timeout_secs: l.request_read_timeout_seconds.unwrap_or(30).max(1),
            blocked_file_types: file_types(l.blocked_file_types.as_deref().unwrap_or(DEFAULT_BLOCKED_FILE_TYPES)),
            outbox_lease_seconds: l.outbox_lease_seconds.unwrap_or(300).max(1),
            smtp_connections: l.smtp_connections.unwrap_or(32).clamp(1, 100),
            orphan_blob_minutes: l.orphan_blob_minutes.unwrap_or(1440),
            log_format: l.log_format.unwrap_or(LogFormat::Text),
        })
    }
}

/// `10.0.0.0/8, 192.168.1.5` (a bare address is one host); `None` if any is not an address.
fn cidrs(text: &str) -> Option<Vec<ipnet::IpNet>> {
    text.split(',')
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .map(|c| {
            c.parse::<ipnet::IpNet>()
                .ok()
                .or_else(|| c.parse::<std::net::IpAddr>().ok().map(ipnet::IpNet::from))
        })
        .collect()
}

/// A subject tag's words, lower case, single-spaced, without brackets.
fn tag(text: &str) -> String {
    text.trim_matches(|c: char| c == '[' || c == ']' || c.is_whitespace())
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

/// Single sign-on's settings: all three of issuer, client id and secret, or none.
fn oidc(
    issuer: Option<String>,
    client_id: Option<String>,
    secret: Option<String>,
    autocreate: Option<bool>,
    provider_mfa: Option<bool>,
) -> Result<Option<Oidc>, SettingsError> {
    let given = |v: Option<String>| v.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty());
    let Some(issuer) = given(issuer) else { return Ok(None) };
    let missing = |name: &str| SettingsError::Env(format!("SEALPOST_{name} (needed with SEALPOST_OIDC_ISSUER)"));
    Ok(Some(Oidc {
        // Exactly as given: some providers' issuers end in `/`, and it must match the tokens'.
        issuer,
        client_id: given(client_id).ok_or_else(|| missing("OIDC_CLIENT_ID"))?,
        client_secret: SecretString::from(given(secret).ok_or_else(|| missing("OIDC_CLIENT_SECRET"))?),
        autocreate: autocreate.unwrap_or(false),
        provider_mfa: provider_mfa.unwrap_or(false),
    }))
}

/// Programs, scripts and pages that run when opened: what mail gateways block by default.
pub const DEFAULT_BLOCKED_FILE_TYPES: &str =
    "exe,com,scr,pif,bat,cmd,msi,msp,dll,cpl,jar,js,jse,vbs,vbe,wsf,wsh,ps1,psm1,hta,htm,html,xhtml,svg,lnk,reg,scf,url";

/// `"EXE, .bat,,js"` → `["exe", "bat", "js"]`.
fn file_types(list: &str) -> Vec<String> {
    list.split(',')
        .map(|t| t.trim().trim_start_matches('.').to_lowercase())
        .filter(|t| !t.is_empty())
        .collect()
}

/// Settings a council's own file may not set: where the deployment listens, keeps its data
/// and keys, reaches its database and files, and what the default council alone serves.
const DEPLOYMENT_ONLY: [&str; 34] = [
    "listen",
    "data_dir",
    "key_dir",
    "database_url",
    "public_url",
    "org_name",
    "mail_from",
    "blob_url",
    "s3_endpoint",
    "s3_access_key_id",
    "s3_secret_access_key",
    "smtp_url",
    "metrics_listen",
    "outbox_worker",
    "outbox_lease_seconds",
    "smtp_connections",
    "orphan_blob_minutes",
    "trust_proxy",
    "log_format",
    // Shared disk, bucket and listener: one council must not weaken them for the others.
    "min_free_mib",
    "request_read_timeout_seconds",
    "max_attachment_mib",
    "max_message_mib",
    "max_body_kib",
    "intake_listen",
    "intake_allow",
    "intake_max_mib",
    "intake_max_sessions",
    "intake_per_minute",
    "intake_tag",
    "intake_sensitive_tag",
    "intake_secret",
    "intake_tls_cert",
    "intake_tls_key",
];

/// A council's own settings file laid over `l`: the same names and types as the main file (an
/// unknown name is refused), none of [`DEPLOYMENT_ONLY`], each taking effect as its
/// `SEALPOST_…` variable would.
fn overlay_council_file(l: &mut Layer, file: &Path, text: &str) -> Result<(), SettingsError> {
    let bad = |message: String| SettingsError::File {
        path: file.to_path_buf(),
        message,
    };
    toml::from_str::<Layer>(text).map_err(|e| bad(e.message().to_owned()))?;
    let table: toml::Table = toml::from_str(text).map_err(|e| bad(e.message().to_owned()))?;
    for (key, value) in table {
        if DEPLOYMENT_ONLY.contains(&key.as_str()) {
            return Err(bad(format!(
                "{key} is the deployment's, not a council's: set it in the main settings"
            )));
        }
        let value = match value {
            toml::Value::String(s) => s,
            toml::Value::Integer(n) => n.to_string(),
            toml::Value::Boolean(b) => b.to_string(),
            _ => return Err(bad(format!("{key} must be text, a whole number or true/false"))),
        };
        let name = env_name(&key);
        // A name that takes effect on a blank layer takes effect on `l` (one whose variable
        // is named otherwise would otherwise be dropped without a word).
        let mut probe = Layer::default();
        let blank = format!("{probe:?}");
        apply_env(&mut probe, &name, value.clone()).map_err(|()| bad(format!("the value of {key} is not right")))?;
        if format!("{probe:?}") == blank {
            return Err(bad(format!("{key} cannot be set for one council")));
        }
        apply_env(l, &name, value).map_err(|()| bad(format!("the value of {key} is not right")))?;
    }
    Ok(())
}

/// The `SEALPOST_…` name (without the prefix) of a settings file key.
fn env_name(key: &str) -> String {
    match key {
        "webmail_domains" => "CHECK_WEBMAIL_DOMAINS".into(),
        "sensitive_webmail" => "POLICY_SENSITIVE_WEBMAIL".into(),
        other => other.to_uppercase(),
    }
}

/// What a [`Settings`] was made from. Its `Debug` shows nothing: it holds secrets as given.
#[derive(Clone, Default)]
struct Source(Box<Layer>);

impl std::fmt::Debug for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Source(..)")
    }
}

/// `sealpost@<host of the public URL>`, or `sealpost@localhost` for an address without a name.
fn default_mail_from(public_url: &str) -> String {
    let host = public_url
        .split("://")
        .nth(1)
        .unwrap_or_default()
        .split(['/', ':'])
        .next()
        .unwrap_or_default();
    if host.is_empty() || host.parse::<std::net::IpAddr>().is_ok() {
        "sealpost@localhost".into()
    } else {
        format!("sealpost@{host}")
    }
}

impl Settings {
    /// The settings of tenant `t` (issue 21): the deployment's, less what belongs to the
    /// default council alone (its name, address, From address, single sign-on, teams, DPO,
    /// intake and metrics), then the tenant's own file `<keys>/tenants/<slug>/sealpost.toml`
    /// if there is one (the same names as `sealpost.toml`, for the settings a council may set
    /// for itself). Its own database schema and role, key directory (`<keys>/tenants/<slug>`),
    /// data directory and blob prefix (`…/tenants/<slug>`), name, and public address (its
    /// first host name, with this deployment's scheme and port).
    pub fn for_tenant(&self, t: &sealpost_storage::TenantRecord) -> Result<Settings, SettingsError> {
        let slug = t.slug.as_str();
        let key_dir = self.key_dir.join("tenants").join(slug);
        let mut l = (*self.source.0).clone();
        (l.org_name, l.public_url, l.mail_from, l.teams, l.dpo_email) = (None, None, None, None, None);
        (l.oidc_issuer, l.oidc_client_id, l.oidc_client_secret) = (None, None, None);
        (l.oidc_autocreate, l.oidc_provider_mfa, l.password_login) = (None, None, None);
        let file = key_dir.join("sealpost.toml");
        match std::fs::read_to_string(&file) {
            Ok(text) => overlay_council_file(&mut l, &file, &text)?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(source) => return Err(SettingsError::Read { path: file, source }),
        }
        let mut s = Settings::from_layer(l)?;
        // What only the deployment may say stays exactly as the deployment has it.
        s.listen = self.listen;
        s.database_url = self.database_url.clone();
        s.smtp_url = self.smtp_url.clone();
        s.s3 = self.s3.clone();
        (s.outbox_worker, s.trust_proxy, s.log_format) = (self.outbox_worker, self.trust_proxy, self.log_format);
        (s.min_free_mib, s.request_read_timeout_secs) = (self.min_free_mib, self.request_read_timeout_secs);
        (s.max_attachment_mib, s.max_message_mib, s.max_body_kib) = (self.max_attachment_mib, self.max_message_mib, self.max_body_kib);
        (s.intake, s.metrics_listen) = (None, None);
        s.tenant = Some(t.clone());
        s.key_dir = key_dir;
        s.data_dir = self.data_dir.join("tenants").join(slug);
        s.blob_url = self
            .blob_url
            .as_ref()
            .map(|url| format!("{}/tenants/{slug}", url.trim_end_matches('/')));
        s.public_url = self.public_url.clone();
        if let Some(host) = t.hosts.first() {
            let (scheme, rest) = self.public_url.split_once("://").unwrap_or(("https", ""));
            let authority = rest.split('/').next().unwrap_or_default();
            let port = match authority.rsplit_once(':') {
                Some((_, port)) if !authority.ends_with(']') && port.chars().all(|c| c.is_ascii_digit()) => format!(":{port}"),
                _ => String::new(),
            };
            s.public_url = format!("{scheme}://{host}{port}");
        }
        s.org_name = t.name.clone();
        s.mail_from = default_mail_from(&s.public_url);
        Ok(s)
    }

    /// The SQLite database file, if that is the database.
    pub fn sqlite_file(&self) -> Option<PathBuf> {
        use secrecy::ExposeSecret;
        let url = self.database_url.expose_secret();
        let path = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:"))?;
        Some(PathBuf::from(path.split('?').next().unwrap_or(path)))
    }

    /// The content limits these settings give.
    pub fn limits(&self) -> sealpost_domain::Limits {
        let mib = |n: u32| u64::from(n) * 1024 * 1024;
        sealpost_domain::Limits {
            max_attachment_bytes: mib(self.max_attachment_mib),
            max_message_bytes: mib(self.max_message_mib),
            max_expiry_days: self.max_expiry_days,
            max_body_bytes: self.max_body_kib.saturating_mul(1024),
            ..sealpost_domain::Limits::default()
        }
    }
}

fn apply_env(l: &mut Layer, name: &str, v: String) -> Result<(), ()> {
    fn num(v: &str) -> Result<Option<u32>, ()> {
        v.trim().parse().map(Some).map_err(|_| ())
    }
    match name {
        "LISTEN" => l.listen = Some(v.trim().parse().map_err(|_| ())?),
        "DATA_DIR" => l.data_dir = Some(v.into()),
        "KEY_DIR" => l.key_dir = Some(v.into()),
        "DATABASE_URL" => l.database_url = Some(v),
        "PUBLIC_URL" => l.public_url = Some(v),
        "ORG_NAME" => l.org_name = Some(v),
        "SMTP_URL" => l.smtp_url = Some(v),
        "SESSION_IDLE_MINUTES" => l.session_idle_minutes = num(&v)?,
        "SESSION_ABSOLUTE_HOURS" => l.session_absolute_hours = num(&v)?,
        "LOGIN_IP_BURST" => l.login_ip_burst = num(&v)?,
        "LOGIN_IP_PER_MINUTE" => l.login_ip_per_minute = num(&v)?,
        "LOGIN_ACCOUNT_FAILURES_PER_HOUR" => l.login_account_failures_per_hour = num(&v)?,
        "BLOB_URL" => l.blob_url = Some(v),
        "S3_ENDPOINT" => l.s3_endpoint = Some(v),
        "S3_ACCESS_KEY_ID" => l.s3_access_key_id = Some(v),
        "S3_SECRET_ACCESS_KEY" => l.s3_secret_access_key = Some(v),
        "MAIL_FROM" => l.mail_from = Some(v),
        "MAX_ATTACHMENT_MIB" => l.max_attachment_mib = num(&v)?,
        "MAX_MESSAGE_MIB" => l.max_message_mib = num(&v)?,
        "MAX_EXPIRY_DAYS" => l.max_expiry_days = num(&v)?,
        "MAX_BODY_KIB" => l.max_body_kib = num(&v)?,
        "MIN_FREE_MIB" => l.min_free_mib = num(&v)?,
        "REQUEST_READ_TIMEOUT_SECONDS" => l.request_read_timeout_seconds = num(&v)?,
        "BLOCKED_FILE_TYPES" => l.blocked_file_types = Some(v),
        "OUTBOX_LEASE_SECONDS" => l.outbox_lease_seconds = num(&v)?,
        "SMTP_CONNECTIONS" => l.smtp_connections = num(&v)?,
        "ORPHAN_BLOB_MINUTES" => l.orphan_blob_minutes = num(&v)?,
        "OUTBOX_WORKER" => l.outbox_worker = Some(v.trim().parse().map_err(|_| ())?),
        "PARTNER_WRITE" => l.partner_write = Some(v.trim().parse().map_err(|_| ())?),
        "DELETED_DAYS" => l.deleted_days = num(&v)?,
        "RETENTION_DAYS_OFFICIAL" => l.retention_days_official = num(&v)?,
        "RETENTION_DAYS_SENSITIVE" => l.retention_days_sensitive = num(&v)?,
        "SEND_HOLD_SECONDS" => l.send_hold_seconds = num(&v)?,
        "POLICY_OFFICIAL_MAX_EXPIRY_DAYS" => l.policy_official_max_expiry_days = num(&v)?,
        "POLICY_SENSITIVE_MAX_EXPIRY_DAYS" => l.policy_sensitive_max_expiry_days = num(&v)?,
        "POLICY_OFFICIAL_PASSPHRASE" => l.policy_official_passphrase = Some(v),
        "POLICY_OFFICIAL_MAX_OPENS" => l.policy_official_max_opens = num(&v)?,
        "POLICY_SENSITIVE_MAX_OPENS" => l.policy_sensitive_max_opens = num(&v)?,
        "POLICY_OFFICIAL_FILES" => l.policy_official_files = Some(v),
        "POLICY_SENSITIVE_FILES" => l.policy_sensitive_files = Some(v),
        "CHECK_KEYWORDS" => l.check_keywords = Some(v),
        "CHECK_WEBMAIL_DOMAINS" => l.webmail_domains = Some(v),
        "POLICY_SENSITIVE_WEBMAIL" => l.sensitive_webmail = Some(v),
        "TEAMS" => l.teams = Some(v),
        "MFA_REQUIRED" => l.mfa_required = Some(v),
        "OIDC_ISSUER" => l.oidc_issuer = Some(v),
        "OIDC_CLIENT_ID" => l.oidc_client_id = Some(v),
        "OIDC_CLIENT_SECRET" => l.oidc_client_secret = Some(v),
        "OIDC_AUTOCREATE" => l.oidc_autocreate = Some(v.trim().parse().map_err(|_| ())?),
        "OIDC_PROVIDER_MFA" => l.oidc_provider_mfa = Some(v.trim().parse().map_err(|_| ())?),
        "INTAKE_LISTEN" => l.intake_listen = Some(v.trim().parse().map_err(|_| ())?),
        "METRICS_LISTEN" => l.metrics_listen = Some(v.trim().parse().map_err(|_| ())?),
        "INTAKE_ALLOW" => l.intake_allow = Some(v),
        "INTAKE_MAX_MIB" => l.intake_max_mib = num(&v)?,
        "INTAKE_MAX_SESSIONS" => l.intake_max_sessions = num(&v)?,
        "INTAKE_PER_MINUTE" => l.intake_per_minute = num(&v)?,
        "INTAKE_TAG" => l.intake_tag = Some(v),
        "INTAKE_SENSITIVE_TAG" => l.intake_sensitive_tag = Some(v),
        "INTAKE_SECRET" => l.intake_secret = Some(v),
        "INTAKE_TLS_CERT" => l.intake_tls_cert = Some(v.into()),
        "INTAKE_TLS_KEY" => l.intake_tls_key = Some(v.into()),
        "PASSWORD_LOGIN" => l.password_login = Some(v.trim().parse().map_err(|_| ())?),
        "AUDIT_CHECKPOINT_EVENTS" => l.audit_checkpoint_events = num(&v)?,
        "AUDIT_CHECKPOINT_MINUTES" => l.audit_checkpoint_minutes = num(&v)?,
        "DPO_EMAIL" => l.dpo_email = Some(v),
        "BREAK_GLASS_MINUTES" => l.break_glass_minutes = num(&v)?,
        "TRUST_PROXY" => l.trust_proxy = Some(v.trim().parse().map_err(|_| ())?),
        "LOG_FORMAT" => {
            l.log_format = Some(match v.as_str() {
                "text" => LogFormat::Text,
                "json" => LogFormat::Json,
                _ => return Err(()),
            })
        }
        // Variables read elsewhere (keys, config path, test switches) are not settings keys.
        _ => {}
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use secrecy::ExposeSecret;

    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
    }

    #[test]
    fn defaults_need_nothing_set() {
        let s = Settings::load(None, false, env(&[])).unwrap();
        assert_eq!(s.listen.to_string(), "127.0.0.1:8080");
        assert_eq!(s.database_url.expose_secret(), "sqlite://data/sealpost.db");
        assert_eq!(s.key_dir, PathBuf::from("data/keys"));
        assert_eq!(s.public_url, "http://127.0.0.1:8080");
        assert!(s.smtp_url.is_none());
        assert_eq!((s.session_idle_minutes, s.session_absolute_hours), (30, 12));
    }

    #[test]
    fn the_environment_overrides_the_file_which_overrides_defaults() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("sealpost.toml");
        std::fs::write(
            &file,
            "org_name = \"File Council\"\ndata_dir = \"/srv/sp\"\nlisten = \"0.0.0.0:9000\"\n",
        )
        .unwrap();
        let s = Settings::load(
            Some(&file),
            true,
            env(&[
                ("SEALPOST_ORG_NAME", "Env Council"),
                ("SEALPOST_PUBLIC_URL", "https://mail.example.gov.uk/"),
            ]),
        )
        .unwrap();
        assert_eq!(s.org_name, "Env Council");
        assert_eq!(s.data_dir, PathBuf::from("/srv/sp"));
        assert_eq!(s.key_dir, PathBuf::from("/srv/sp/keys"));
        assert_eq!(s.listen.port(), 9000);
        assert_eq!(s.public_url, "https://mail.example.gov.uk");
    }

    #[test]
    fn bad_values_name_the_key_but_not_the_value() {
        let err = Settings::load(None, false, env(&[("SEALPOST_LISTEN", "nonsense-secret")]))
            .unwrap_err()
            .to_string();
        assert!(err.contains("SEALPOST_LISTEN") && !err.contains("nonsense-secret"), "{err}");
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("sealpost.toml");
        std::fs::write(&file, "colour = \"blue\"\n").unwrap();
        assert!(Settings::load(Some(&file), true, env(&[])).is_err());
        assert!(Settings::load(Some(&dir.path().join("missing.toml")), true, env(&[])).is_err());
        assert!(Settings::load(Some(&dir.path().join("missing.toml")), false, env(&[])).is_ok());
    }

    #[test]
    fn the_second_factor_is_required_of_everyone_unless_said_otherwise() {
        let load = |v: &str| Settings::load(None, false, env(&[("SEALPOST_MFA_REQUIRED", v)])).map(|s| s.mfa_required);
        assert_eq!(Settings::load(None, false, env(&[])).unwrap().mfa_required, MfaRequired::All);
        assert_eq!(load("ig, admin").unwrap(), MfaRequired::AdminAndIg);
        assert_eq!(load("NONE").unwrap(), MfaRequired::None);
        assert!(load("staff").is_err());
        assert!(MfaRequired::AdminAndIg.applies_to(sealpost_domain::Role::Ig));
        assert!(!MfaRequired::AdminAndIg.applies_to(sealpost_domain::Role::Staff));
    }

    #[test]
    fn teams_are_addresses_with_members_and_a_bad_one_is_refused() {
        let s = Settings::load(
            None,
            false,
            env(&[(
                "SEALPOST_TEAMS",
                " help@c.gov.uk = a@c.gov.uk, b@c.gov.uk ; mash@c.gov.uk=c@c.gov.uk",
            )]),
        )
        .unwrap();
        assert_eq!(s.teams.len(), 2);
        assert_eq!(s.teams[0].address.as_str(), "help@c.gov.uk");
        assert_eq!(s.teams[0].members.len(), 2);
        assert_eq!(s.teams[1].members[0].as_str(), "c@c.gov.uk");
        for bad in ["help@c.gov.uk", "help@c.gov.uk=", "help=a@c.gov.uk", "help@c.gov.uk=a"] {
            let err = Settings::load(None, false, env(&[("SEALPOST_TEAMS", bad)])).unwrap_err();
            assert!(err.to_string().contains("SEALPOST_TEAMS"), "{bad}: {err}");
        }
        assert!(Settings::load(None, false, env(&[])).unwrap().teams.is_empty());
    }

    #[test]
    fn single_sign_on_needs_its_three_values_and_password_sign_in_needs_it_to_go_off() {
        let issuer = ("SEALPOST_OIDC_ISSUER", " https://login.microsoftonline.com/5b4f2c6e/v2.0 ");
        let s = Settings::load(
            None,
            false,
            env(&[
                issuer,
                ("SEALPOST_OIDC_CLIENT_ID", "app"),
                ("SEALPOST_OIDC_CLIENT_SECRET", "s3cret"),
            ]),
        )
        .unwrap();
        let oidc = s.oidc.unwrap();
        assert_eq!(oidc.issuer, "https://login.microsoftonline.com/5b4f2c6e/v2.0");
        assert_eq!((oidc.client_id.as_str(), oidc.client_secret.expose_secret()), ("app", "s3cret"));
        assert!(!oidc.autocreate && !oidc.provider_mfa && s.password_login);
        let err = Settings::load(None, false, env(&[issuer, ("SEALPOST_OIDC_CLIENT_ID", "app")])).unwrap_err();
        assert!(err.to_string().contains("SEALPOST_OIDC_CLIENT_SECRET"), "{err}");
        let err = Settings::load(None, false, env(&[("SEALPOST_PASSWORD_LOGIN", "false")])).unwrap_err();
        assert!(err.to_string().contains("SEALPOST_OIDC_ISSUER"), "{err}");
        assert!(Settings::load(None, false, env(&[])).unwrap().oidc.is_none());
    }

    #[test]
    fn intake_is_off_until_it_has_an_address_and_then_allows_loopback_only() {
        assert!(Settings::load(None, false, env(&[])).unwrap().intake.is_none());
        let s = Settings::load(None, false, env(&[("SEALPOST_INTAKE_LISTEN", "127.0.0.1:2525")])).unwrap();
        let intake = s.intake.unwrap();
        assert!(
            intake
                .allow
                .iter()
                .any(|n| n.contains(&"127.0.0.1".parse::<std::net::IpAddr>().unwrap()))
        );
        assert!(
            !intake
                .allow
                .iter()
                .any(|n| n.contains(&"10.1.2.3".parse::<std::net::IpAddr>().unwrap()))
        );
        assert_eq!((intake.tag.as_str(), intake.sensitive_tag.as_str()), ("secure", "secure sensitive"));
        let s = Settings::load(
            None,
            false,
            env(&[
                ("SEALPOST_INTAKE_LISTEN", "0.0.0.0:2525"),
                ("SEALPOST_INTAKE_ALLOW", "10.0.0.0/8, 192.168.1.5"),
                ("SEALPOST_INTAKE_TAG", "[Encrypt]"),
            ]),
        )
        .unwrap();
        let intake = s.intake.unwrap();
        assert_eq!(intake.allow.len(), 2);
        assert_eq!(intake.tag, "encrypt");
        let err = Settings::load(
            None,
            false,
            env(&[("SEALPOST_INTAKE_LISTEN", "0.0.0.0:2525"), ("SEALPOST_INTAKE_ALLOW", "exchange")]),
        )
        .unwrap_err();
        assert!(err.to_string().contains("SEALPOST_INTAKE_ALLOW"), "{err}");
    }

    #[test]
    fn a_tenant_keeps_the_deployment_s_limits_and_sets_its_own_council_settings() {
        let keys = tempfile::tempdir().unwrap();
        let deployment = Settings::load(
            None,
            false,
            env(&[
                ("SEALPOST_KEY_DIR", keys.path().to_str().unwrap()),
                ("SEALPOST_PUBLIC_URL", "https://sealpost.testshire.gov.uk:8443/"),
                ("SEALPOST_DPO_EMAIL", "dpo@testshire.gov.uk"),
                ("SEALPOST_OIDC_ISSUER", "https://login.example/testshire"),
                ("SEALPOST_OIDC_CLIENT_ID", "app"),
                ("SEALPOST_OIDC_CLIENT_SECRET", "s3cret"),
                ("SEALPOST_MAX_ATTACHMENT_MIB", "40"),
                ("SEALPOST_BLOB_URL", "s3://bucket/sealpost"),
            ]),
        )
        .unwrap();
        let north = sealpost_storage::TenantRecord {
            slug: sealpost_domain::TenantSlug::parse("north").unwrap(),
            name: "North Council".into(),
            hosts: vec![sealpost_domain::HostName::parse("sealpost.north.gov.uk").unwrap()],
            db_role: "sealpost_tenant_north_x".into(),
        };
        let plain = deployment.for_tenant(&north).unwrap();
        assert_eq!(plain.public_url, "https://sealpost.north.gov.uk:8443");
        assert_eq!(
            (plain.org_name.as_str(), plain.mail_from.as_str()),
            ("North Council", "sealpost@sealpost.north.gov.uk")
        );
        assert_eq!(plain.key_dir, keys.path().join("tenants/north"));
        assert_eq!(plain.blob_url.as_deref(), Some("s3://bucket/sealpost/tenants/north"));
        assert!(
            plain.oidc.is_none() && plain.dpo_email.is_none(),
            "the default council's own are not North's"
        );
        assert_eq!(plain.max_attachment_mib, 40, "the deployment's limits hold");

        std::fs::create_dir_all(keys.path().join("tenants/north")).unwrap();
        let file = keys.path().join("tenants/north/sealpost.toml");
        std::fs::write(
            &file,
            "dpo_email = \"dpo@north.gov.uk\"\nretention_days_official = 365\noidc_autocreate = true\n",
        )
        .unwrap();
        let own = deployment.for_tenant(&north).unwrap();
        assert_eq!(own.dpo_email.map(|e| e.as_str().to_owned()).as_deref(), Some("dpo@north.gov.uk"));
        assert_eq!(own.retention_days_official, 365);
        assert!(own.oidc.is_none(), "autocreate alone sets up no provider");
        for bad in [
            "database_url = \"postgres://elsewhere/db\"",
            "listen = \"0.0.0.0:1\"",
            "retention_days_official = \"soon\"",
            "nonsense = 1",
        ] {
            std::fs::write(&file, bad).unwrap();
            let err = deployment.for_tenant(&north).unwrap_err().to_string();
            assert!(err.contains("sealpost.toml"), "{bad}: {err}");
        }
        assert!(!format!("{deployment:?}").contains("s3cret"), "settings never print a secret");
    }
}
