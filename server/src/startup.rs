//! Building and running the server. `Application::build` binds its own listener, so tests pass
//! port 0 and read the port back; the same path serves production.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use anyhow::Context;
use sealpost_crypto::ExposeSecret;
use sealpost_mail::Mailer;
use sealpost_storage::{BlobStore, DirectoryLock, Store};
use tokio::net::TcpListener;

use crate::clock::Clock;
use crate::keyfiles;
use crate::routes;
use crate::settings::Settings;
use crate::state::{AppState, Parts};
use crate::workers::{blob_sweep, checkpoints, outbox};

/// A bound, ready-to-run server.
pub struct Application {
    listener: TcpListener,
    /// The SMTP intake's listener, when `SEALPOST_INTAKE_LISTEN` is set.
    intake: Option<TcpListener>,
    /// Its STARTTLS acceptor, when it has a certificate.
    intake_tls: Option<tokio_rustls::TlsAcceptor>,
    /// `/metrics`' listener, when `SEALPOST_METRICS_LISTEN` is set.
    metrics: Option<TcpListener>,
    /// The default council's state.
    state: AppState,
    /// Every other council on this deployment, with the host names it answers on.
    tenants: Vec<(Vec<sealpost_domain::HostName>, AppState)>,
    started: std::time::SystemTime,
    /// Held while serving: no other server is using this data directory.
    data_lock: Option<DirectoryLock>,
}

impl Application {
    /// Binds the listeners, then connects to the database, migrates it and loads the keys: of
    /// the default council, and of every other tenant registered (issue 21).
    pub async fn build(settings: Settings, clock: Arc<dyn Clock>) -> anyhow::Result<Self> {
        let started = std::time::SystemTime::now();
        let listener = TcpListener::bind(settings.listen)
            .await
            .with_context(|| format!("binding {}", settings.listen))?;
        let intake_tls = match settings.intake.as_ref().and_then(|i| i.tls.as_ref()) {
            Some((cert, key)) => Some(crate::intake::tls_acceptor(cert, key)?),
            None => None,
        };
        let intake = match &settings.intake {
            Some(i) => Some(
                TcpListener::bind(i.listen)
                    .await
                    .with_context(|| format!("binding the intake to {}", i.listen))?,
            ),
            None => None,
        };
        let metrics = match settings.metrics_listen {
            Some(address) => {
                crate::metrics::install();
                Some(
                    crate::metrics::bind(address)
                        .await
                        .with_context(|| format!("binding the metrics listener to {address}"))?,
                )
            }
            None => None,
        };
        let mut settings = settings;
        if settings.public_url == format!("http://{}", settings.listen) {
            // The default public URL follows the address actually bound (port 0 picks one).
            settings.public_url = format!("http://{}", listener.local_addr()?);
        }
        let bound = listener.local_addr()?;
        let state = build_state(settings, clock.clone(), bound).await?;
        let mut tenants = vec![];
        for tenant in state.store.tenants().await? {
            if keyfiles::from_environment() {
                anyhow::bail!(
                    "tenant {} needs keys of its own, but SEALPOST_MASTER_KEY (or another key) is set in the environment: \
                     with tenants, keep every council's keys in files ({}/tenants/<slug>)",
                    tenant.slug,
                    state.settings.key_dir.display()
                );
            }
            let settings = state.settings.for_tenant(&tenant)?;
            let tenant_state = build_state(settings, clock.clone(), bound)
                .await
                .with_context(|| format!("starting tenant {}", tenant.slug))?;
            tenants.push((tenant.hosts, tenant_state));
        }
        let data_lock = DirectoryLock::try_take(&state.settings.data_dir.join("sealpost.lock")).context("locking the data directory")?;
        Ok(Self {
            listener,
            intake,
            intake_tls,
            metrics,
            state,
            tenants,
            started,
            data_lock,
        })
    }

    /// The address actually bound (its port is real even when 0 was asked for).
    pub fn local_addr(&self) -> anyhow::Result<SocketAddr> {
        Ok(self.listener.local_addr()?)
    }

    /// The SMTP intake's address, when it listens.
    pub fn intake_addr(&self) -> Option<SocketAddr> {
        self.intake.as_ref().and_then(|l| l.local_addr().ok())
    }

    /// `/metrics`' address, when it listens.
    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.metrics.as_ref().and_then(|l| l.local_addr().ok())
    }

    /// The default council's state (tests reach the store through it).
    pub fn state(&self) -> AppState {
        self.state.clone()
    }

    /// The state of tenant `slug`, if it is registered.
    pub fn tenant_state(&self, slug: &str) -> Option<AppState> {
        self.tenants
            .iter()
            .find(|(_, state)| state.settings.tenant.as_ref().is_some_and(|t| t.slug.as_str() == slug))
            .map(|(_, state)| state.clone())
    }

    /// Serves until `shutdown` completes, then drains in-flight requests and the outbox worker
    /// (SECURITY G7), and signs a last audit checkpoint.
    pub async fn run_until(self, shutdown: impl Future<Output = ()> + Send + 'static) -> anyhow::Result<()> {
        let (stop, stopped) = tokio::sync::watch::channel(false);
        // Alone with its files: SQLite (one database file) and nobody else holding the lock.
        let alone = self.data_lock.is_some() && self.state.store.backend() == "sqlite" && !self.state.blobs.is_remote();
        let mut workers = vec![Workers::start(&self.state, self.started, alone, &stopped)];
        workers.extend(
            self.tenants
                .iter()
                .map(|(_, state)| Workers::start(state, self.started, false, &stopped)),
        );
        // The intake and the metrics serve the default council.
        let intake = self
            .intake
            .map(|listener| tokio::spawn(crate::intake::serve(listener, self.state.clone(), self.intake_tls, stopped.clone())));
        let metrics = self
            .metrics
            .map(|listener| tokio::spawn(crate::metrics::serve(listener, self.state.clone())));
        let header_timeout = std::time::Duration::from_secs(self.state.settings.request_read_timeout_secs.into());
        let app = routes::by_host(
            routes::router(self.state),
            self.tenants.into_iter().map(|(hosts, state)| (hosts, routes::router(state))),
        );
        crate::serve::serve(self.listener, app, header_timeout, shutdown).await;
        let _ = stop.send(true);
        if let Some(metrics) = metrics {
            metrics.abort();
        }
        if let Some(intake) = intake {
            let _ = intake.await;
        }
        for w in workers {
            w.finish().await;
        }
        Ok(())
    }
}

/// One council's background work: the outbox worker, the release of held sends, the audit
/// checkpoint signer and the hourly sweep.
struct Workers {
    store: Store,
    worker: Option<tokio::task::JoinHandle<()>>,
    releaser: tokio::task::JoinHandle<()>,
    sweeper: tokio::task::JoinHandle<()>,
    signer: tokio::task::JoinHandle<()>,
    stop_signer: tokio::sync::watch::Sender<bool>,
}

impl Workers {
    fn start(state: &AppState, started: std::time::SystemTime, alone: bool, stopped: &tokio::sync::watch::Receiver<bool>) -> Self {
        // The signer stops after the outbox worker, so its last checkpoint covers the
        // worker's last events.
        let (stop_signer, signer_stopped) = tokio::sync::watch::channel(false);
        Self {
            store: state.store.clone(),
            worker: state
                .settings
                .outbox_worker
                .then(|| tokio::spawn(outbox::run(state.clone(), stopped.clone()))),
            releaser: tokio::spawn(outbox::release(state.clone(), stopped.clone())),
            sweeper: tokio::spawn(blob_sweep::run(state.clone(), started, alone, stopped.clone())),
            signer: tokio::spawn(checkpoints::run(state.clone(), signer_stopped)),
            stop_signer,
        }
    }

    /// Waits for the work to stop (the caller has signalled `stopped`), signs a last
    /// checkpoint and closes the database.
    async fn finish(self) {
        if let Some(worker) = self.worker {
            let _ = worker.await;
        }
        let _ = self.sweeper.await;
        let _ = self.releaser.await;
        let _ = self.stop_signer.send(true);
        let _ = self.signer.await;
        self.store.close().await;
    }
}

/// One council's state: its database (migrated), keys, blob store and mail.
async fn build_state(settings: Settings, clock: Arc<dyn Clock>, bound: SocketAddr) -> anyhow::Result<AppState> {
    // Its lock and outgoing mail live here, whatever holds the database and the files.
    create_private_dir(&settings.data_dir)?;
    let store = open_store(&settings, clock.now_ms()).await?;
    let keyring = keyfiles::load(&settings.key_dir).context("loading the master key")?;
    let audit_key = keyfiles::load_audit_key(&settings.key_dir).context("loading the audit signing key")?;
    let blobs = open_blobs(&settings)?;
    let smtp = settings.smtp_url.as_ref().map(|u| u.expose_secret().to_owned());
    let (outbox, from) = (settings.data_dir.join("outbox"), settings.mail_from.clone());
    let mailer = Mailer::new(smtp.as_deref(), outbox, from, settings.smtp_connections).context("setting up outgoing mail")?;
    AppState::new(
        Parts {
            store,
            keyring,
            audit_key,
            blobs,
            mailer,
        },
        settings,
        clock,
        bound,
    )
}

/// The blob store the settings name: `SEALPOST_BLOB_URL`, or `blobs/` in the data directory.
pub fn open_blobs(settings: &Settings) -> anyhow::Result<BlobStore> {
    Ok(match &settings.blob_url {
        Some(url) => BlobStore::from_url(url, &settings.s3)?,
        None => BlobStore::local(&settings.data_dir.join("blobs"))?,
    })
}

/// Opens and migrates the configured database, creating the data directory for SQLite.
pub async fn open_store(settings: &Settings, now_ms: i64) -> anyhow::Result<Store> {
    let url = settings.database_url.expose_secret();
    if url.starts_with("sqlite:") {
        create_private_dir(&settings.data_dir)?;
    }
    let store = match &settings.tenant {
        Some(tenant) => {
            let password = keyfiles::database_password(&settings.key_dir)
                .with_context(|| format!("reading tenant {}'s database password", tenant.slug))?;
            Store::connect_tenant(url, tenant, &password)
                .await
                .with_context(|| format!("opening tenant {}'s schema (check SEALPOST_DATABASE_URL)", tenant.slug))?
        }
        None => Store::connect(url)
            .await
            .context("opening the database (check SEALPOST_DATABASE_URL)")?,
    };
    let applied = store.migrate(now_ms).await.context("migrating the database")?;
    if applied > 0 {
        tracing::info!(applied, backend = store.backend(), "database migrated");
    }
    Ok(store)
}

/// Creates `dir` (0700) if it is missing.
pub fn create_private_dir(dir: &Path) -> anyhow::Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    if !dir.exists() {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .with_context(|| format!("creating {}", dir.display()))?;
    }
    Ok(())
}

/// Completes on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! { () = ctrl_c => {}, () = term => {} }
    tracing::info!("shutting down: draining requests");
}
