//! Shared application state: the store, keys, hasher, limits and clock, built once at start.

use std::net::SocketAddr;
use std::sync::Arc;

use sealpost_crypto::{AuditSigningKey, Keyring, PasswordHasher};
use sealpost_domain::Limits;
use sealpost_mail::Mailer;
use sealpost_storage::{BlobStore, Store};
use tokio::sync::Notify;

use crate::clock::Clock;
use crate::key_cache::KeyCache;
use crate::rate_limit::IpLimiter;
use crate::settings::Settings;
use crate::workers::audit_writer::AuditWriter;
use crate::workers::hashing::HashingPool;

/// Single sign-on starts one address may burst, and regains a minute.
const SSO_STARTS_BURST: u32 = 300;
const SSO_STARTS_PER_MINUTE: u32 = 60;

/// What start-up builds before the state: connections and keys.
pub struct Parts {
    /// The database.
    pub store: Store,
    /// The keyring.
    pub keyring: Keyring,
    /// Signs audit checkpoints.
    pub audit_key: AuditSigningKey,
    /// The blob store.
    pub blobs: BlobStore,
    /// The mailer.
    pub mailer: Mailer,
}

/// Cheap to clone: everything sits behind one `Arc`.
#[derive(Clone)]
pub struct AppState(Arc<Inner>);

/// The parts of the state.
pub struct Inner {
    /// The database.
    pub store: Store,
    /// Appends audit events in group commits.
    pub audit: AuditWriter,
    /// Sealed attachment bytes.
    pub blobs: BlobStore,
    /// Outgoing notifications.
    pub mailer: Mailer,
    /// Blob keys of uploads whose message or reply has not committed yet: the orphan sweep
    /// leaves them alone.
    pub uploads_in_flight: std::sync::Mutex<std::collections::HashSet<String>>,
    /// Wakes the outbox worker when a message is queued.
    pub outbox_wake: Notify,
    /// Content limits.
    pub limits: Limits,
    /// The master keyring (used by content features), read again after a rotation.
    pub keyring: crate::keyfiles::LiveKeyring,
    /// Message keys unwrapped in the last minute.
    pub message_keys: KeyCache,
    /// Each person's search index (keyed word hashes, in memory only).
    pub search: crate::search_index::SearchIndexes,
    /// The domains the council writes to, for the lookalike check (read every few minutes).
    pub known_domains: crate::app::concerns::KnownDomains,
    /// Signs audit checkpoints (SECURITY F6).
    pub audit_key: AuditSigningKey,
    /// Password hashing: a few workers, each reusing its memory (SECURITY A4, A11).
    pub hasher: HashingPool,
    /// The per-IP sign-in bucket (SECURITY A3).
    pub login_limiter: IpLimiter,
    /// The council's identity provider, when single sign-on is set up.
    pub sso: Option<sealpost_identity::Provider>,
    /// Single sign-on starts per IP: generous (a council office is one NAT address at 9 am),
    /// but each start stores a row, so a flood is capped.
    pub sso_limiter: IpLimiter,
    /// Time.
    pub clock: Arc<dyn Clock>,
    /// Origins a state-changing request may come from (SECURITY D4): the public URL and the
    /// address actually bound (with `localhost` for a loopback one).
    pub allowed_origins: Vec<String>,
    /// The loaded settings.
    pub settings: Settings,
}

impl AppState {
    /// Assembles the state.
    pub fn new(parts: Parts, settings: Settings, clock: Arc<dyn Clock>, bound: SocketAddr) -> anyhow::Result<Self> {
        let Parts {
            store,
            keyring,
            audit_key,
            blobs,
            mailer,
        } = parts;
        let cores = std::thread::available_parallelism().map_or(2, usize::from);
        let login_limiter = IpLimiter::new(settings.login_ip_burst, settings.login_ip_per_minute);
        let mut allowed_origins = vec![settings.public_url.clone(), format!("http://{bound}")];
        if bound.ip().is_loopback() {
            allowed_origins.push(format!("http://localhost:{}", bound.port()));
        }
        let sso = match &settings.oidc {
            Some(oidc) => Some(sealpost_identity::Provider::new(sealpost_identity::ProviderConfig {
                issuer: oidc.issuer.clone(),
                client_id: oidc.client_id.clone(),
                client_secret: oidc.client_secret.clone(),
                redirect_url: format!("{}{}", settings.public_url, crate::app::sso::CALLBACK_PATH),
            })?),
            None => None,
        };
        Ok(Self(Arc::new(Inner {
            audit: AuditWriter::start(store.clone()),
            store,
            blobs,
            mailer,
            uploads_in_flight: std::sync::Mutex::default(),
            outbox_wake: Notify::new(),
            limits: settings.limits(),
            keyring: crate::keyfiles::LiveKeyring::new(keyring, settings.key_dir.clone()),
            message_keys: KeyCache::default(),
            search: crate::search_index::SearchIndexes::default(),
            known_domains: crate::app::concerns::KnownDomains::default(),
            audit_key,
            hasher: HashingPool::start(PasswordHasher::new()?, cores)?,
            login_limiter,
            sso,
            sso_limiter: IpLimiter::new(SSO_STARTS_BURST, SSO_STARTS_PER_MINUTE),
            clock,
            allowed_origins,
            settings,
        })))
    }

    /// The current time in Unix milliseconds.
    pub fn now_ms(&self) -> i64 {
        self.0.clock.now_ms()
    }
}

impl std::ops::Deref for AppState {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}
