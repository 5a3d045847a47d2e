//! `sealpost backup` and `sealpost restore` (SQLite and the local blob store; PostgreSQL
//! deployments use pg_dump and their blob store's tools, then `sealpost restore` without a
//! directory to check and record the restore).

use std::fs;
use std::path::{Component, Path};

use anyhow::{Context, bail};
use sealpost_crypto::{ExposeSecret, SecretString, sha256_hex_of};

use crate::clock::{Clock, SystemClock};
use crate::settings::Settings;
use crate::startup;
use crate::workers::checkpoints;
use crate::{app, keyfiles};

const DATABASE: &str = "sealpost.db";
const MANIFEST: &str = "manifest.txt";
const KEYS: &str = "keys.age";
const BLOBS: &str = "blobs";
/// Blob keys and attachment ids checked per page after a restore.
const PAGE: i64 = 500;

/// Takes a consistent backup while the server runs: the database (VACUUM INTO), then the blob
/// files (written before their message commits and never changed, so every message in the
/// copy has its files), then, with `with_keys`, the key directory sealed to that recipient,
/// and a manifest of every file's SHA-256 with the audit head.
pub async fn backup(settings: &Settings, out: &Path, with_keys: Option<&str>) -> anyhow::Result<()> {
    if out.exists() && fs::read_dir(out)?.next().is_some() {
        bail!("{} is not empty: back up into a new or empty directory", out.display());
    }
    if settings.blob_url.is_some() {
        bail!("the blob store is remote (SEALPOST_BLOB_URL): back up the database with its own tools, then the bucket");
    }
    // Sealed first, so a bad recipient costs nothing.
    let keys = with_keys
        .map(|recipient| {
            let (bundle, names) = keyfiles::bundle(&settings.key_dir)?;
            let sealed = sealpost_crypto::seal_key_backup(recipient, bundle.expose_secret()).context("--with-keys")?;
            anyhow::Ok((sealed, names))
        })
        .transpose()?;
    startup::create_private_dir(out)?;
    let store = startup::open_store(settings, SystemClock.now_ms()).await?;
    let head = store.audit_head().await?;
    if !store.backup_into(&out.join(DATABASE)).await? {
        bail!("the database is PostgreSQL: back it up with pg_dump (or base backups and WAL), then copy the blob store");
    }
    let mut files = vec![out.join(DATABASE)];
    let blobs = settings.data_dir.join(BLOBS);
    for path in files_under(&blobs)? {
        let target = out.join(BLOBS).join(path.strip_prefix(&blobs)?);
        fs::create_dir_all(target.parent().context("a blob file has a folder")?)?;
        fs::copy(&path, &target).with_context(|| format!("copying {}", path.display()))?;
        files.push(target);
    }
    if let Some((sealed, names)) = &keys {
        fs::write(out.join(KEYS), sealed)?;
        files.push(out.join(KEYS));
        println!("Sealed the key directory ({}) to the recipient given.", names.join(", "));
    }
    files.sort();
    let mut manifest = format!(
        "# Sealpost backup, {}\n# audit head {head} (the copy holds at least the events up to it)\n",
        sealpost_domain::time::rfc3339(SystemClock.now_ms())
    );
    for file in &files {
        let hash = sha256_hex_of(fs::File::open(file)?)?;
        manifest.push_str(&format!("{hash}  {}\n", file.strip_prefix(out)?.display()));
    }
    fs::write(out.join(MANIFEST), manifest)?;
    println!(
        "Backed up the database and {} files to {} (audit head {head}); {}.",
        files.len() - 1 - usize::from(keys.is_some()),
        out.display(),
        if keys.is_some() {
            "the keys are in keys.age, sealed to the recipient given"
        } else {
            "keys are not in it: back up the key directory apart, or use --with-keys"
        }
    );
    Ok(())
}

/// Restores a backup made by [`backup`] into an empty data directory, or, with no `from`,
/// takes a database and blob store already put back by other means (pg_restore): checks the
/// audit chain, that every message opens with the master key and has its files, then signs a
/// record of the restore so `audit verify` reports it rather than a rollback.
pub async fn restore(settings: &Settings, from: Option<&Path>, identity: Option<&Path>) -> anyhow::Result<()> {
    if let Some(from) = from {
        put_back(settings, from, identity)?;
    }
    let store = startup::open_store(settings, SystemClock.now_ms()).await?;
    let blobs = startup::open_blobs(settings)?;
    let keyring = keyfiles::load(&settings.key_dir).context("the master key (restore the key directory first)")?;
    let (opened, failed) = app::rotation::messages_opening(&store, &keyring).await?;
    let mut missing = vec![];
    let mut after = String::new();
    loop {
        let page = store.live_blob_keys(&after, PAGE).await?;
        for (id, key) in &page {
            if blobs.reader(key).await.is_err() {
                missing.push(id.clone());
            }
        }
        match page.last() {
            Some((id, _)) if page.len() as i64 == PAGE => after.clone_from(id),
            _ => break,
        }
    }
    if !failed.is_empty() || !missing.is_empty() {
        bail!(
            "the restore is not complete, so it was not recorded: {} messages do not open with the master key ({}), {} files are missing from the blob store ({})",
            failed.len(),
            failed.join(", "),
            missing.len(),
            missing.join(", ")
        );
    }
    let key = keyfiles::load_audit_key(&settings.key_dir)?;
    let restore = checkpoints::record_restore(&store, &key, &settings.key_dir, SystemClock.now_ms())
        .await
        .context("the audit log of the backup")?;
    println!("{opened} messages open with the master key, and every file they need is in the blob store.");
    println!("{restore}");
    println!("The restore is signed and recorded: `sealpost audit verify` reports it.");
    Ok(())
}

/// Checks the backup in `from` against its manifest and copies it into the empty data
/// directory (and its keys into an empty key directory, opened with `identity`).
fn put_back(settings: &Settings, from: &Path, identity: Option<&Path>) -> anyhow::Result<()> {
    let Some(database) = settings.sqlite_file() else {
        bail!(
            "the database is PostgreSQL: restore it with pg_restore and the blob store with its own tools, then run `sealpost restore` without a directory to check and record the restore"
        );
    };
    if settings.blob_url.is_some() {
        bail!(
            "the blob store is remote (SEALPOST_BLOB_URL): restore the bucket with its own tools, then run `sealpost restore` without a directory"
        );
    }
    let blobs = settings.data_dir.join(BLOBS);
    // A WAL left beside a missing database would be played into the restored one.
    let wal = database.with_file_name(format!(
        "{}-wal",
        database.file_name().map(|n| n.to_string_lossy()).unwrap_or_default()
    ));
    if fs::metadata(&database).is_ok_and(|m| m.len() > 0) || wal.exists() || !files_under(&blobs)?.is_empty() {
        bail!(
            "{} already holds a database or files: restore into an empty data directory",
            settings.data_dir.display()
        );
    }
    let files = checked_manifest(from)?;
    if !files.iter().any(|f| f == DATABASE) {
        bail!("the manifest lists no {DATABASE}: this is not a Sealpost backup");
    }
    if keyfiles::exist(&settings.key_dir) {
        if files.iter().any(|f| f == KEYS) {
            println!("The key directory already holds a master key: using it (keys.age is not needed).");
        }
    } else if files.iter().any(|f| f == KEYS) {
        let Some(identity) = identity else {
            bail!("the keys in this backup are sealed: give the identity they were sealed to with --identity FILE");
        };
        let text = SecretString::from(fs::read_to_string(identity).with_context(|| format!("reading {}", identity.display()))?);
        let bundle =
            sealpost_crypto::open_key_backup(&text, &fs::read(from.join(KEYS))?).context("keys.age does not open with that identity")?;
        let names = keyfiles::unbundle(&settings.key_dir, bundle.expose_secret())?;
        println!("Put back the keys ({}) in {}.", names.join(", "), settings.key_dir.display());
    } else {
        bail!(
            "there is no master key in {} and this backup holds none (it was taken without --with-keys): put the key directory back first",
            settings.key_dir.display()
        );
    }
    startup::create_private_dir(&settings.data_dir)?;
    if let Some(parent) = database.parent().filter(|p| !p.as_os_str().is_empty()) {
        fs::create_dir_all(parent)?;
    }
    copy_synced(&from.join(DATABASE), &database)?;
    let mut copied = 0;
    for name in files.iter().filter(|f| f.starts_with("blobs/")) {
        let target = settings.data_dir.join(name);
        fs::create_dir_all(target.parent().context("a blob file has a folder")?)?;
        copy_synced(&from.join(name), &target)?;
        copied += 1;
    }
    println!(
        "Copied the database and {copied} files into {}; every hash matched the manifest.",
        settings.data_dir.display()
    );
    Ok(())
}

/// The files `from`'s manifest lists, each checked against its SHA-256. Refuses a path that
/// leaves the backup directory.
fn checked_manifest(from: &Path) -> anyhow::Result<Vec<String>> {
    let text = fs::read_to_string(from.join(MANIFEST))
        .with_context(|| format!("reading {} (is this a Sealpost backup?)", from.join(MANIFEST).display()))?;
    let mut files = vec![];
    for line in text.lines().filter(|l| !l.starts_with('#') && !l.trim().is_empty()) {
        let Some((hash, name)) = line.split_once("  ") else {
            bail!("the manifest is damaged: {line:?}");
        };
        if !Path::new(name).components().all(|c| matches!(c, Component::Normal(_))) {
            bail!("the manifest names a file outside the backup: {name:?}");
        }
        let file = fs::File::open(from.join(name)).with_context(|| format!("{name} is listed in the manifest but missing"))?;
        if sha256_hex_of(file)? != hash {
            bail!("{name} does not match its hash in the manifest: the backup is damaged or was altered");
        }
        files.push(name.to_owned());
    }
    Ok(files)
}

/// Every file under `dir`, at any depth (none if it does not exist).
fn files_under(dir: &Path) -> anyhow::Result<Vec<std::path::PathBuf>> {
    let mut files = vec![];
    let mut stack = vec![dir.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = fs::read_dir(&dir) else { continue };
        for entry in entries {
            let path = entry?.path();
            if path.is_dir() {
                stack.push(path);
            } else {
                files.push(path);
            }
        }
    }
    Ok(files)
}

/// Copies `from` to a new file `to` and syncs it, so a crash after the restore loses nothing.
fn copy_synced(from: &Path, to: &Path) -> anyhow::Result<()> {
    fs::copy(from, to).with_context(|| format!("copying {} to {}", from.display(), to.display()))?;
    fs::File::open(to)?.sync_all()?;
    Ok(())
}
