//! `sealpost tenant add|list`, and the settings `--tenant SLUG` gives every other command.

use anyhow::{Context, bail};
use sealpost_domain::{DisplayName, HostName, TenantSlug};
use sealpost_storage::StorageError;

use super::TenantCommand;
use crate::clock::{Clock, SystemClock};
use crate::settings::Settings;
use crate::{keyfiles, startup};

pub(crate) async fn run(settings: &Settings, command: TenantCommand) -> anyhow::Result<()> {
    match command {
        TenantCommand::Add {
            name,
            slug,
            hosts,
            escrow_recipient,
        } => add(settings, &name, &slug, &hosts, escrow_recipient.as_deref()).await,
        TenantCommand::List => list(settings).await,
    }
}

/// The settings of the council `slug`, which must be registered.
pub(crate) async fn settings_of(settings: Settings, slug: &str) -> anyhow::Result<Settings> {
    let slug = TenantSlug::parse(slug).map_err(|e| anyhow::anyhow!("--tenant: {e}"))?;
    if keyfiles::from_environment() {
        // The keys in the environment are the default council's: with them, a command for
        // another council would sign or wrap with the wrong keys.
        bail!("--tenant {slug}: unset SEALPOST_MASTER_KEY and the other key variables; each council's keys are files");
    }
    let store = startup::open_store(&settings, SystemClock.now_ms()).await?;
    let tenants = store.tenants().await?;
    store.close().await;
    match tenants.iter().find(|t| t.slug == slug) {
        Some(tenant) => Ok(settings.for_tenant(tenant)?),
        None => bail!("there is no tenant {slug}; `sealpost tenant list` shows them"),
    }
}

async fn add(settings: &Settings, name: &str, slug: &str, hosts: &[String], escrow: Option<&str>) -> anyhow::Result<()> {
    let name = DisplayName::parse(name).map_err(|e| anyhow::anyhow!("--name: {e}"))?;
    let slug = TenantSlug::parse(slug).map_err(|e| anyhow::anyhow!("--slug: {e}"))?;
    let hosts = hosts
        .iter()
        .map(|h| HostName::parse(h).map_err(|e| anyhow::anyhow!("--host {h}: {e}")))
        .collect::<anyhow::Result<Vec<_>>>()?;
    if keyfiles::from_environment() {
        bail!("tenants need key files of their own: unset SEALPOST_MASTER_KEY and the other key variables");
    }
    if let Some(own) = HostName::from_url(&settings.public_url).filter(|own| hosts.contains(own)) {
        bail!("--host {own} is the default council's own address (SEALPOST_PUBLIC_URL)");
    }
    let store = startup::open_store(settings, SystemClock.now_ms()).await?;
    let (tenant, password) = match store.add_tenant(&slug, name.as_str(), &hosts, SystemClock.now_ms()).await {
        Ok(added) => added,
        Err(StorageError::Duplicate) => bail!("a tenant named {slug}, or one answering on one of those host names, exists already"),
        Err(e) => return Err(e).context("registering the tenant"),
    };
    store.close().await;
    let tenant_settings = settings.for_tenant(&tenant)?;
    keyfiles::write_database_password(&tenant_settings.key_dir, &password)?;
    if !keyfiles::exist(&tenant_settings.key_dir) {
        super::init_keys(&tenant_settings, escrow)?;
    }
    let tenant_store = startup::open_store(&tenant_settings, SystemClock.now_ms()).await?;
    tenant_store.close().await;
    println!(
        "Tenant {slug} ({name}) added: it answers at {}. Restart the servers to serve it.",
        tenant_settings.public_url,
        name = name.as_str()
    );
    let exe = std::env::current_exe().map_or_else(|_| "sealpost".to_owned(), |p| p.display().to_string());
    println!("Create its first administrator (it prints a one-time set-up link):");
    println!("  {exe} --tenant {slug} user add --email you@their-council.gov.uk --name \"Your Name\" --role admin");
    Ok(())
}

async fn list(settings: &Settings) -> anyhow::Result<()> {
    let store = startup::open_store(settings, SystemClock.now_ms()).await?;
    let tenants = store.tenants().await?;
    store.close().await;
    if tenants.is_empty() {
        println!("No tenants: this deployment serves one council ({}).", settings.org_name);
        return Ok(());
    }
    println!("default\t{}\t(any other host name)", settings.org_name);
    for t in tenants {
        let hosts: Vec<&str> = t.hosts.iter().map(HostName::as_str).collect();
        println!("{}\t{}\t{}", t.slug, t.name, hosts.join(", "));
    }
    Ok(())
}
