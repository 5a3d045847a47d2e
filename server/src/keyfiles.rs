//! Key files in the key directory: `master.key` (age identities, 0600; the first is active),
//! `escrow.pub` (the escrow recipient) and `audit-signing.key` (Ed25519, 0600, with its public
//! half in `audit-signing.pub`; SECURITY F6). The environment may supply them instead
//! (`SEALPOST_MASTER_KEY`, `SEALPOST_ESCROW_RECIPIENT`, `SEALPOST_AUDIT_SIGNING_KEY`). Keys
//! never go into the database.

use std::fs;
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use sealpost_audit::checkpoint::SignedCheckpoint;
use sealpost_crypto::{
    AuditSigningKey, Binding, CryptoError, EscrowRecipient, ExposeSecret, Keyring, MessageKey, Sealed, SecretSlice, SecretString,
    VerifyKey, WrappedKey, generate_key_pair,
};

const MASTER: &str = "master.key";
const ESCROW_PUB: &str = "escrow.pub";
const AUDIT_KEY: &str = "audit-signing.key";
const AUDIT_PUB: &str = "audit-signing.pub";
/// The last checkpoint this installation signed, kept beside the key and outside the database.
const LAST_SIGNED: &str = "audit-last-checkpoint.txt";
/// Written only when Sealpost generates the escrow pair itself; must be moved offline.
pub const ESCROW_SECRET: &str = "escrow-identity-MOVE-OFFLINE.txt";
/// A tenant's PostgreSQL password (issue 21), beside its keys.
const DATABASE_PASSWORD: &str = "database-password";

/// What `init` did, for the operator's console.
pub struct InitReport {
    /// The master key file written.
    pub master_path: PathBuf,
    /// The escrow identity file written, if Sealpost generated the escrow pair.
    pub escrow_secret_path: Option<PathBuf>,
    /// The escrow recipient in use.
    pub escrow_recipient: String,
}

/// Creates the master key and escrow recipient in `dir` unless a master key exists already.
/// With `escrow` given (an `age1…` recipient whose identity the council generated offline),
/// only the public key is stored; otherwise a pair is generated and its identity written to
/// a 0600 file that the operator must move offline.
pub fn init(dir: &Path, escrow: Option<&str>) -> anyhow::Result<InitReport> {
    let master_path = dir.join(MASTER);
    if master_path.exists() {
        bail!("{} already exists; refusing to overwrite a master key", master_path.display());
    }
    fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    fs::set_permissions(dir, fs::Permissions::from_mode(0o700))?;
    let (escrow_recipient, escrow_secret_path) = match escrow {
        Some(r) => {
            EscrowRecipient::parse(r).context("--escrow-recipient")?;
            (r.trim().to_owned(), None)
        }
        None => {
            let pair = generate_key_pair();
            let path = dir.join(ESCROW_SECRET);
            let text = format!(
                "# Sealpost escrow identity. Move this file OFFLINE (printed, in a safe) and delete it here.\n# It alone can decrypt every message. Recipient: {}\n{}\n",
                pair.recipient,
                pair.identity.expose_secret()
            );
            write_private(&path, &text)?;
            (pair.recipient, Some(path))
        }
    };
    fs::write(dir.join(ESCROW_PUB), format!("{escrow_recipient}\n"))?;
    let master = generate_key_pair();
    write_private(
        &master_path,
        format!(
            "# Sealpost master key (active first). Recipient: {}\n{}\n",
            master.recipient,
            master.identity.expose_secret()
        ),
    )?;
    create_audit_key(dir)?;
    Ok(InitReport {
        master_path,
        escrow_secret_path,
        escrow_recipient,
    })
}

/// Keeps a tenant's database password in its key directory (0600).
pub fn write_database_password(dir: &Path, password: &SecretString) -> anyhow::Result<()> {
    fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    fs::set_permissions(dir, fs::Permissions::from_mode(0o700))?;
    write_private(&dir.join(DATABASE_PASSWORD), format!("{}\n", password.expose_secret()))
}

/// A tenant's database password, from its key directory.
pub fn database_password(dir: &Path) -> anyhow::Result<SecretString> {
    let text = read_private(&dir.join(DATABASE_PASSWORD))?;
    Ok(SecretString::from(text.expose_secret().trim().to_owned()))
}

/// Whether any key comes from the environment rather than the key directory.
pub fn from_environment() -> bool {
    ["SEALPOST_MASTER_KEY", "SEALPOST_ESCROW_RECIPIENT", "SEALPOST_AUDIT_SIGNING_KEY"]
        .iter()
        .any(|name| std::env::var_os(name).is_some())
}

/// Loads the keyring from the environment or the key directory.
pub fn load(dir: &Path) -> anyhow::Result<Keyring> {
    let identities = match std::env::var("SEALPOST_MASTER_KEY") {
        Ok(v) => SecretString::from(v),
        Err(_) => read_private(&dir.join(MASTER))?,
    };
    let escrow = match std::env::var("SEALPOST_ESCROW_RECIPIENT") {
        Ok(v) => v,
        Err(_) => fs::read_to_string(dir.join(ESCROW_PUB)).with_context(|| format!("reading {}", dir.join(ESCROW_PUB).display()))?,
    };
    Ok(Keyring::from_identity_file(&identities, EscrowRecipient::parse(&escrow)?)?)
}

/// The escrow identity in `file` as a keyring of its own (wrapping to the escrow recipient
/// recorded in `dir`): for `sealpost keys recover`.
pub fn load_escrow_identity(dir: &Path, file: &Path) -> anyhow::Result<Keyring> {
    let identity = SecretString::from(fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?);
    let escrow = match std::env::var("SEALPOST_ESCROW_RECIPIENT") {
        Ok(v) => v,
        Err(_) => fs::read_to_string(dir.join(ESCROW_PUB)).with_context(|| format!("reading {}", dir.join(ESCROW_PUB).display()))?,
    };
    let keyring = Keyring::from_identity_file(&identity, EscrowRecipient::parse(&escrow)?).context("the escrow identity file")?;
    if keyring.active_recipient() != escrow.trim() {
        bail!(
            "{} is not the identity of the escrow recipient {} recorded for this server",
            file.display(),
            escrow.trim()
        );
    }
    Ok(keyring)
}

/// Loads the audit signing key from the environment or the key directory, creating it there
/// first if this installation predates it.
pub fn load_audit_key(dir: &Path) -> anyhow::Result<AuditSigningKey> {
    if let Ok(v) = std::env::var("SEALPOST_AUDIT_SIGNING_KEY") {
        return AuditSigningKey::parse(&SecretString::from(v)).context("SEALPOST_AUDIT_SIGNING_KEY");
    }
    if !dir.join(AUDIT_KEY).exists() {
        create_audit_key(dir)?;
    }
    AuditSigningKey::parse(&read_private(&dir.join(AUDIT_KEY))?).with_context(|| format!("reading {}", dir.join(AUDIT_KEY).display()))
}

fn create_audit_key(dir: &Path) -> anyhow::Result<()> {
    let key = AuditSigningKey::generate()?;
    write_private(&dir.join(AUDIT_KEY), key.to_file_text().expose_secret())?;
    fs::write(dir.join(AUDIT_PUB), format!("{}\n", key.verify_key()))?;
    Ok(())
}

/// A key file's text, refused if other users could read it.
fn read_private(path: &Path) -> anyhow::Result<SecretString> {
    let mode = fs::metadata(path)
        .with_context(|| format!("reading {}", path.display()))?
        .permissions()
        .mode();
    if mode & 0o077 != 0 {
        bail!(
            "{} is readable by other users (mode {:o}); run: chmod 600 {}",
            path.display(),
            mode & 0o777,
            path.display()
        );
    }
    Ok(SecretString::from(fs::read_to_string(path)?))
}

/// The public half of the audit signing key, for verifying: from the environment's key, or
/// `audit-signing.pub`. Never creates a key (a missing one is an incident, not a first start).
pub fn load_audit_verify_key(dir: &Path) -> anyhow::Result<VerifyKey> {
    if let Ok(v) = std::env::var("SEALPOST_AUDIT_SIGNING_KEY") {
        return Ok(AuditSigningKey::parse(&SecretString::from(v))
            .context("SEALPOST_AUDIT_SIGNING_KEY")?
            .verify_key());
    }
    let path = dir.join(AUDIT_PUB);
    let text = fs::read_to_string(&path).with_context(|| format!("reading {} (the audit log's public key)", path.display()))?;
    text.parse().with_context(|| path.display().to_string())
}

/// The last checkpoint this installation signed, if it has signed one.
pub fn last_signed(dir: &Path) -> anyhow::Result<Option<SignedCheckpoint>> {
    match fs::read_to_string(dir.join(LAST_SIGNED)) {
        Ok(text) => Ok(Some(text.parse().with_context(|| dir.join(LAST_SIGNED).display().to_string())?)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e).with_context(|| format!("reading {}", dir.join(LAST_SIGNED).display())),
    }
}

/// Records `c` as the last checkpoint signed (written whole, then renamed into place).
pub fn remember_signed(dir: &Path, c: &SignedCheckpoint) -> anyhow::Result<()> {
    let path = dir.join(LAST_SIGNED);
    let tmp = dir.join(format!("{LAST_SIGNED}.tmp"));
    let _ = fs::remove_file(&tmp);
    write_private(&tmp, c.to_string())?;
    fs::rename(&tmp, &path).with_context(|| format!("writing {}", path.display()))?;
    Ok(())
}

/// The key directory's files as one bundle for a backup (`sealpost backup --with-keys`): for
/// each, a line `file NAME LENGTH` then its bytes and a newline. The escrow identity is left
/// out (it belongs offline), and so are half-written files.
pub fn bundle(dir: &Path) -> anyhow::Result<(SecretSlice<u8>, Vec<String>)> {
    let mut names = vec![];
    for entry in fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))? {
        let entry = entry?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if entry.file_type()?.is_file() && name != ESCROW_SECRET && !name.ends_with(".tmp") && !name.ends_with(".next") {
            names.push(name);
        }
    }
    names.sort();
    let mut out = Vec::new();
    for name in &names {
        let bytes = fs::read(dir.join(name)).with_context(|| format!("reading {}", dir.join(name).display()))?;
        out.extend_from_slice(format!("file {name} {}\n", bytes.len()).as_bytes());
        out.extend_from_slice(&bytes);
        out.push(b'\n');
    }
    Ok((SecretSlice::from(out), names))
}

/// Writes the files of a [`bundle`] into `dir` (0600 each), refusing to replace any file
/// there. Returns their names.
pub fn unbundle(dir: &Path, bundle: &[u8]) -> anyhow::Result<Vec<String>> {
    const DAMAGED: &str = "the keys in the backup are damaged";
    let mut rest = bundle;
    let mut files = vec![];
    while !rest.is_empty() {
        let end = rest.iter().position(|&b| b == b'\n').context(DAMAGED)?;
        let line = std::str::from_utf8(&rest[..end]).context(DAMAGED)?;
        let mut words = line.splitn(3, ' ');
        let (Some("file"), Some(name), Some(len)) = (words.next(), words.next(), words.next()) else {
            bail!(DAMAGED);
        };
        let len: usize = len.parse().context(DAMAGED)?;
        if name.is_empty() || name.starts_with('.') || name.contains('/') || rest.len() < end + 1 + len + 1 {
            bail!(DAMAGED);
        }
        let bytes = &rest[end + 1..end + 1 + len];
        files.push((name.to_owned(), bytes));
        rest = &rest[end + 1 + len + 1..];
    }
    fs::create_dir_all(dir)?;
    fs::set_permissions(dir, fs::Permissions::from_mode(0o700))?;
    for (name, bytes) in &files {
        write_private(&dir.join(name), bytes)?;
    }
    Ok(files.into_iter().map(|(name, _)| name).collect())
}

/// True when keys are configured (files or environment).
pub fn exist(dir: &Path) -> bool {
    std::env::var_os("SEALPOST_MASTER_KEY").is_some() || dir.join(MASTER).exists()
}

fn write_private(path: &Path, text: impl AsRef<[u8]>) -> anyhow::Result<()> {
    let mut f = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("creating {}", path.display()))?;
    f.write_all(text.as_ref())?;
    f.sync_all()?;
    Ok(())
}

/// Writes `keyring` as the master key file in `dir`, replacing the old one atomically (a new
/// 0600 file, synced, then renamed over it): a crash leaves the old file or the new, never
/// half of one. Refused when the master key comes from the environment.
pub fn replace_master(dir: &Path, keyring: &Keyring) -> anyhow::Result<()> {
    if std::env::var_os("SEALPOST_MASTER_KEY").is_some() {
        bail!(
            "the master key comes from SEALPOST_MASTER_KEY: rotate it there (the new identity first), not in {}",
            dir.display()
        );
    }
    let path = dir.join(MASTER);
    let next = dir.join(format!("{MASTER}.next"));
    let _ = fs::remove_file(&next);
    write_private(&next, keyring.identity_file().expose_secret())?;
    fs::rename(&next, &path).with_context(|| format!("replacing {}", path.display()))?;
    if let Ok(d) = fs::File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

/// The keyring a running server uses: as loaded at start, and loaded again from the key
/// directory when the master key file changes (a `sealpost keys rotate` or `retire` ran), at
/// most every [`RECHECK`], and whenever something does not open with the keys held. So a
/// rotation is safe while the server runs: what it re-wraps still opens, and new messages are
/// wrapped to the new key soon after.
pub struct LiveKeyring {
    dir: PathBuf,
    current: std::sync::RwLock<std::sync::Arc<Keyring>>,
    checked: std::sync::Mutex<(std::time::Instant, Option<std::time::SystemTime>)>,
}

/// How often the master key file's time is looked at.
const RECHECK: std::time::Duration = std::time::Duration::from_secs(10);

impl LiveKeyring {
    /// Starts from `keyring`, loaded from `dir`.
    pub fn new(keyring: Keyring, dir: PathBuf) -> Self {
        let modified = modified(&dir);
        Self {
            dir,
            current: std::sync::RwLock::new(std::sync::Arc::new(keyring)),
            checked: std::sync::Mutex::new((std::time::Instant::now(), modified)),
        }
    }

    /// The keys now, after a look at the file if it is time.
    fn get(&self) -> std::sync::Arc<Keyring> {
        let due = self.checked.lock().is_ok_and(|c| c.0.elapsed() >= RECHECK);
        if due {
            self.reload(false);
        }
        self.current.read().map_or_else(|p| p.into_inner().clone(), |k| k.clone())
    }

    /// Loads the keys again if the file changed (or `always`); true if new keys were loaded.
    fn reload(&self, always: bool) -> bool {
        let Ok(mut checked) = self.checked.lock() else { return false };
        let now = modified(&self.dir);
        checked.0 = std::time::Instant::now();
        if !always && now == checked.1 {
            return false;
        }
        checked.1 = now;
        match load(&self.dir) {
            Ok(keyring) => {
                if let Ok(mut current) = self.current.write() {
                    *current = std::sync::Arc::new(keyring);
                }
                tracing::info!("master key file read again");
                true
            }
            Err(e) => {
                tracing::error!(error = %e, "the master key file could not be read again; keeping the keys loaded");
                false
            }
        }
    }

    /// Tries `open` with the keys held, and once more after reading the file again.
    fn opening<T>(&self, open: impl Fn(&Keyring) -> Result<T, CryptoError>) -> Result<T, CryptoError> {
        match open(&self.get()) {
            Err(_) if self.reload(true) => open(&self.get()),
            result => result,
        }
    }

    /// See [`Keyring::wrap`].
    pub fn wrap(&self, key: &MessageKey, message: uuid::Uuid) -> Result<WrappedKey, CryptoError> {
        self.get().wrap(key, message)
    }

    /// See [`Keyring::unwrap`].
    pub fn unwrap(&self, wrapped: impl AsRef<[u8]>, message: uuid::Uuid) -> Result<MessageKey, CryptoError> {
        self.opening(|k| k.unwrap(wrapped.as_ref(), message))
    }

    /// See [`Keyring::seal_secret`].
    pub fn seal_secret(&self, binding: Binding, secret: &[u8]) -> Result<Sealed, CryptoError> {
        self.get().seal_secret(binding, secret)
    }

    /// See [`Keyring::open_secret`].
    pub fn open_secret(&self, binding: Binding, sealed: impl AsRef<[u8]>) -> Result<SecretSlice<u8>, CryptoError> {
        self.opening(|k| k.open_secret(binding, sealed.as_ref()))
    }

    /// See [`Keyring::active_recipient`].
    pub fn active_recipient(&self) -> String {
        self.get().active_recipient()
    }
}

/// When the master key file last changed, if it is a file.
fn modified(dir: &Path) -> Option<std::time::SystemTime> {
    fs::metadata(dir.join(MASTER)).and_then(|m| m.modified()).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn init_writes_a_0600_master_key_that_loads_and_refuses_to_overwrite() {
        let dir = tempfile::tempdir().unwrap();
        let report = init(dir.path(), None).unwrap();
        let mode = fs::metadata(&report.master_path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        assert!(report.escrow_secret_path.is_some());
        assert!(load(dir.path()).is_ok());
        assert!(init(dir.path(), None).is_err());
        let audit_key = dir.path().join(AUDIT_KEY);
        assert_eq!(fs::metadata(&audit_key).unwrap().permissions().mode() & 0o777, 0o600);
        let public = fs::read_to_string(dir.path().join(AUDIT_PUB)).unwrap();
        assert_eq!(load_audit_key(dir.path()).unwrap().verify_key().to_string(), public.trim());
    }

    #[test]
    fn an_installation_without_an_audit_key_gets_one_on_first_load() {
        let dir = tempfile::tempdir().unwrap();
        init(dir.path(), None).unwrap();
        fs::remove_file(dir.path().join(AUDIT_KEY)).unwrap();
        let first = load_audit_key(dir.path()).unwrap().verify_key();
        assert_eq!(load_audit_key(dir.path()).unwrap().verify_key(), first, "created once, then kept");
        fs::set_permissions(dir.path().join(AUDIT_KEY), fs::Permissions::from_mode(0o640)).unwrap();
        assert!(load_audit_key(dir.path()).unwrap_err().to_string().contains("chmod 600"));
    }

    #[test]
    fn a_given_escrow_recipient_is_stored_without_any_escrow_secret() {
        let dir = tempfile::tempdir().unwrap();
        let escrow = generate_key_pair();
        let report = init(dir.path(), Some(&escrow.recipient)).unwrap();
        assert!(report.escrow_secret_path.is_none());
        assert!(!dir.path().join(ESCROW_SECRET).exists());
        assert!(init(tempfile::tempdir().unwrap().path(), Some("age1notakey")).is_err());
    }

    #[test]
    fn a_world_readable_master_key_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let report = init(dir.path(), None).unwrap();
        fs::set_permissions(&report.master_path, fs::Permissions::from_mode(0o644)).unwrap();
        assert!(load(dir.path()).unwrap_err().to_string().contains("chmod 600"));
    }
}
