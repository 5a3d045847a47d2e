//! The command line: `serve`, `migrate`, `keys init`, `user add|list|disable|enable|set-role|
//! reset-password`, `audit verify`, `audit checkpoint`, `audit export`, `tenant add|list`; with
//! `--tenant SLUG`, a command acts on that council of the deployment. Commands
//! print what an operator needs to act on; they never print secrets other than the one-time
//! set-up link they were asked to create.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context, bail};
use clap::{Parser, Subcommand};
use sealpost_domain::Role;

use sealpost_audit::chain::Head;
use sealpost_audit::checkpoint::SignedCheckpoint;

use crate::app::audit::Action;
use crate::app::{audit, governance};
use crate::clock::{Clock, SystemClock};
use crate::settings::Settings;
use crate::startup::{self, Application};
use crate::workers::checkpoints;
use crate::{keyfiles, telemetry};

mod backup;
mod tenants;
mod users;

/// Sealpost: secure webmail for councils.
#[derive(Debug, Parser)]
#[command(name = "sealpost", version, about)]
pub struct Cli {
    /// Settings file (default: ./sealpost.toml if present).
    #[arg(long, global = true, env = "SEALPOST_CONFIG")]
    config: Option<PathBuf>,
    /// Act on this council of a deployment shared by several (its short name, as `tenant list`
    /// shows); without it, the default council.
    #[arg(long, global = true, value_name = "SLUG")]
    tenant: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the web server (creates the database and keys on first start).
    Serve,
    /// Apply database migrations and exit.
    Migrate,
    /// Manage master keys.
    Keys {
        #[command(subcommand)]
        command: KeysCommand,
    },
    /// Manage accounts.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// The audit log.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
    /// Take a consistent backup while the server runs: the SQLite database (VACUUM INTO), then
    /// the blob store's files, and a manifest with each file's SHA-256 and the audit head.
    /// Keys are included only with --with-keys, sealed to the age recipient given.
    /// (PostgreSQL: use pg_dump.)
    Backup {
        /// An empty or new directory to write the backup to.
        #[arg(long)]
        out: PathBuf,
        /// Include the key directory, sealed to this age recipient (age1…, e.g. from
        /// age-keygen on a machine kept offline).
        #[arg(long, value_name = "RECIPIENT")]
        with_keys: Option<String>,
    },
    /// Restore a backup into an empty data directory: check every file against the manifest,
    /// copy them in, check the audit chain and that every message opens with its files, then
    /// sign a record of the restore so `audit verify` reports it (a rollback made by hand is
    /// still a break). Without a directory: check and record a database and blob store put
    /// back by other means (pg_restore).
    Restore {
        /// The backup directory written by `sealpost backup`.
        from: Option<PathBuf>,
        /// The age identity file the backup's keys were sealed to (--with-keys), when the key
        /// directory is empty.
        #[arg(long)]
        identity: Option<PathBuf>,
    },
    /// The retention schedule (SEALPOST_RETENTION_DAYS_OFFICIAL and _SENSITIVE).
    Retention {
        #[command(subcommand)]
        command: RetentionCommand,
    },
    /// Councils sharing this deployment (PostgreSQL): each has its own host names, people,
    /// keys, audit chain and database schema. Restart the servers after adding one.
    Tenant {
        #[command(subcommand)]
        command: TenantCommand,
    },
}

#[derive(Debug, Subcommand)]
pub(crate) enum TenantCommand {
    /// Add a council: its database schema and role, its keys (under <keys>/tenants/SLUG) and
    /// its host names. Then create its first administrator with `--tenant SLUG user add`.
    Add {
        /// The council's name, shown on its pages and in its notification emails.
        #[arg(long)]
        name: String,
        /// A short name: lower-case letters, digits and underscores (e.g. north).
        #[arg(long)]
        slug: String,
        /// A host name its people and partners use (e.g. sealpost.north.gov.uk); repeat for
        /// more. The first is its public address.
        #[arg(long = "host", required = true)]
        hosts: Vec<String>,
        /// The council's escrow recipient (age1…), generated offline. Without it, one is
        /// generated and its secret half written for you to move offline.
        #[arg(long)]
        escrow_recipient: Option<String>,
    },
    /// List the councils: short name, name and host names.
    List,
}

#[derive(Debug, Subcommand)]
enum RetentionCommand {
    /// Crypto-shred now every message whose time is up (the server also does this hourly):
    /// its key and files are deleted, its record stays. Messages on legal hold are kept.
    Run,
}

#[derive(Debug, Subcommand)]
enum AuditCommand {
    /// Walk the hash chain from its first event: print the head (SEQ:HASH) it reaches, or the
    /// first event that breaks it and exit 1.
    Verify {
        /// A head printed by an earlier verify (SEQ:HASH): the log must still reach it unchanged.
        #[arg(long)]
        checkpoint: Option<String>,
        /// A file written by `sealpost audit checkpoint` and kept elsewhere: it must be signed
        /// by this server's audit key, and the log must still pass through it. May be repeated.
        #[arg(long)]
        checkpoint_file: Vec<PathBuf>,
    },
    /// Write the events between two days (UTC, inclusive) as CSV, oldest first. The export is
    /// itself recorded in the log.
    Export {
        /// The first day, YYYY-MM-DD (default: the first event).
        #[arg(long)]
        from: Option<String>,
        /// The last day, YYYY-MM-DD (default: today).
        #[arg(long)]
        to: Option<String>,
        /// Write the CSV here instead of to standard output.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Sign the chain's head now (after verifying the events since the last checkpoint) and
    /// write the newest signed checkpoint, to keep outside this server.
    Checkpoint {
        /// Write the checkpoint here instead of to standard output.
        #[arg(long)]
        out: Option<PathBuf>,
    },
}

#[derive(Debug, Subcommand)]
enum KeysCommand {
    /// Create the master key (0600) and record the escrow recipient.
    Init {
        /// The council's escrow recipient (age1…), generated offline with age-keygen. Without
        /// it, Sealpost generates an escrow pair and writes its secret half for you to move
        /// offline.
        #[arg(long)]
        escrow_recipient: Option<String>,
    },
    /// Make a new master key active and re-wrap every message key, draft key and second-factor
    /// secret to it (content is not re-encrypted). Safe while the server runs; after a crash,
    /// run it again and it carries on. The old key stays in master.key until `keys retire`.
    Rotate {
        /// Pause this many milliseconds after each key, to spare a busy server.
        #[arg(long, default_value_t = 0)]
        pace_ms: u64,
    },
    /// Drop the old master keys from master.key, after checking that nothing needs them.
    Retire,
    /// Upgrade message keys made before envelope v2 (an X25519 identity per message): add a
    /// symmetric key and re-seal each message's subject, body, file names and replies with
    /// it, so opening them costs no X25519 operation. Files keep their sealing. Safe while
    /// the server runs; run again after a crash and it carries on.
    Upgrade {
        /// Pause this many milliseconds after each message, to spare a busy server.
        #[arg(long, default_value_t = 0)]
        pace_ms: u64,
    },
    /// Prove that every message opens with the escrow identity alone (exit 1 if any does not).
    /// With --rewrap, when the master key is lost: wrap every key again to the master key in
    /// master.key, or to a new one written there if it is missing or unreadable.
    Recover {
        /// The escrow identity file (AGE-SECRET-KEY-1…), brought from where it is kept offline.
        #[arg(long)]
        escrow_identity: PathBuf,
        /// Re-wrap every key to the master key (a new one if master.key is lost).
        #[arg(long)]
        rewrap: bool,
    },
}

#[derive(Debug, Subcommand)]
pub(crate) enum UserCommand {
    /// Create an account. Prints a one-time set-up link unless --password-stdin is given.
    Add {
        /// The person's email address (their sign-in name).
        #[arg(long)]
        email: String,
        /// The person's name as colleagues and recipients see it.
        #[arg(long)]
        name: String,
        /// staff, ig or admin.
        #[arg(long, default_value = "staff")]
        role: Role,
        /// Read the password from standard input instead of printing a set-up link.
        #[arg(long)]
        password_stdin: bool,
    },
    /// Disable an account and end its sessions at once.
    Disable {
        /// The account's email address.
        #[arg(long)]
        email: String,
    },
    /// Enable a disabled account again.
    Enable {
        /// The account's email address.
        #[arg(long)]
        email: String,
    },
    /// Change an account's role; its sessions end, so the new role applies at the next sign-in.
    SetRole {
        /// The account's email address.
        #[arg(long)]
        email: String,
        /// staff, ig or admin.
        #[arg(long)]
        role: Role,
    },
    /// Remove an account's password, end its sessions and print a new one-time set-up link.
    ResetPassword {
        /// The account's email address.
        #[arg(long)]
        email: String,
    },
    /// Remove an account's second factor and recovery codes and end its sessions: it sets one
    /// up again at its next sign-in (for someone who lost their phone).
    ResetSecondFactor {
        /// The account's email address.
        #[arg(long)]
        email: String,
    },
    /// Set the telephone number partners see as a way to reach this person (empty clears it).
    SetPhone {
        /// The account's email address.
        #[arg(long)]
        email: String,
        /// The number, e.g. "01632 960123"; "" to remove it.
        #[arg(long)]
        phone: String,
    },
    /// List every account: address, name, role and status.
    List,
}

/// Runs the command; errors are printed once, plainly, and give exit code 1.
pub fn main(cli: Cli) -> ExitCode {
    let result = (|| {
        let explicit = cli.config.is_some();
        let path = cli.config.clone().unwrap_or_else(|| PathBuf::from("sealpost.toml"));
        let settings = Settings::load(Some(&path), explicit, std::env::vars())?;
        telemetry::init(settings.log_format);
        let runtime = tokio::runtime::Runtime::new()?;
        runtime.block_on(async move {
            let settings = match &cli.tenant {
                Some(slug) if matches!(cli.command, Command::Serve | Command::Tenant { .. }) => {
                    bail!("--tenant {slug}: `serve` serves every council, and `tenant` manages them; leave --tenant out")
                }
                Some(slug) => tenants::settings_of(settings, slug).await?,
                None => settings,
            };
            run(cli.command, settings).await
        })
    })();
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(command: Command, settings: Settings) -> anyhow::Result<()> {
    match command {
        Command::Serve => serve(settings).await,
        Command::Migrate => {
            let store = startup::open_store(&settings, SystemClock.now_ms()).await?;
            println!("Database ({}) is up to date.", store.backend());
            Ok(())
        }
        Command::Keys {
            command: KeysCommand::Init { escrow_recipient },
        } => init_keys(&settings, escrow_recipient.as_deref()),
        Command::Keys {
            command: KeysCommand::Rotate { pace_ms },
        } => rotate_keys(&settings, std::time::Duration::from_millis(pace_ms)).await,
        Command::Keys {
            command: KeysCommand::Retire,
        } => retire_keys(&settings).await,
        Command::Keys {
            command: KeysCommand::Upgrade { pace_ms },
        } => upgrade_keys(&settings, std::time::Duration::from_millis(pace_ms)).await,
        Command::Keys {
            command: KeysCommand::Recover { escrow_identity, rewrap },
        } => recover_keys(&settings, &escrow_identity, rewrap).await,
        Command::Audit {
            command: AuditCommand::Verify {
                checkpoint,
                checkpoint_file,
            },
        } => verify_audit(&settings, checkpoint.as_deref(), &checkpoint_file).await,
        Command::Audit {
            command: AuditCommand::Export { from, to, out },
        } => export_audit(&settings, from.as_deref(), to.as_deref(), out.as_deref()).await,
        Command::Audit {
            command: AuditCommand::Checkpoint { out },
        } => export_checkpoint(&settings, out.as_deref()).await,
        Command::User { command } => users::run(&settings, command).await,
        Command::Retention {
            command: RetentionCommand::Run,
        } => retention_run(&settings).await,
        Command::Backup { out, with_keys } => backup::backup(&settings, &out, with_keys.as_deref()).await,
        Command::Restore { from, identity } => backup::restore(&settings, from.as_deref(), identity.as_deref()).await,
        Command::Tenant { command } => tenants::run(&settings, command).await,
    }
}

async fn rotate_keys(settings: &Settings, pace: std::time::Duration) -> anyhow::Result<()> {
    use crate::app::rotation;
    let store = startup::open_store(settings, SystemClock.now_ms()).await?;
    let loaded = keyfiles::load(&settings.key_dir)?;
    let pending = rotation::not_on_active(&store, &loaded).await?;
    let keyring = if pending == 0 {
        // Everything is under the active key: a new rotation. The new key is on disk, and on
        // the record, before anything is wrapped to it.
        let rotated = loaded.rotated();
        keyfiles::replace_master(&settings.key_dir, &rotated)?;
        record_system(&store, Action::KeysRotated).await?;
        println!("New master key made active (recipient {}).", rotated.active_recipient());
        rotated
    } else {
        println!("Carrying on a rotation: {pending} keys are not yet under the active master key.");
        loaded
    };
    let rewrapped = rotation::rewrap_all(&store, &keyring, pace).await?;
    let left = rotation::not_on_active(&store, &keyring).await?;
    println!(
        "Re-wrapped {rewrapped} keys; {left} left. master.key holds {} identities; run `sealpost keys retire` when none is left (a running server picks the new key up within seconds).",
        keyring.len()
    );
    Ok(())
}

async fn recover_keys(settings: &Settings, escrow_identity: &std::path::Path, rewrap: bool) -> anyhow::Result<()> {
    use crate::app::rotation;
    let store = startup::open_store(settings, SystemClock.now_ms()).await?;
    let escrow = keyfiles::load_escrow_identity(&settings.key_dir, escrow_identity)?;
    if rewrap {
        let master = match keyfiles::load(&settings.key_dir) {
            Ok(master) => master.retired(),
            Err(e) => {
                // The master key is lost: a new one, on disk and on the record before use.
                println!("The master key could not be read ({e:#}); making a new one.");
                let fresh = escrow.rotated().retired();
                keyfiles::replace_master(&settings.key_dir, &fresh)?;
                record_system(&store, Action::KeysRotated).await?;
                fresh
            }
        };
        let rewrapped = rotation::rewrap_all(&store, &master.and(&escrow), std::time::Duration::ZERO).await?;
        println!(
            "Re-wrapped {rewrapped} keys to the master key (recipient {}).",
            master.active_recipient()
        );
    }
    let (opened, failed) = rotation::messages_opening(&store, &escrow).await?;
    println!("{opened} messages open with the escrow identity alone; {} do not.", failed.len());
    if !failed.is_empty() {
        bail!("these messages do not open with the escrow identity: {}", failed.join(", "));
    }
    Ok(())
}

async fn upgrade_keys(settings: &Settings, pace: std::time::Duration) -> anyhow::Result<()> {
    let store = startup::open_store(settings, SystemClock.now_ms()).await?;
    let keyring = keyfiles::load(&settings.key_dir)?;
    let upgraded = crate::app::rotation::upgrade_all(&store, &keyring, pace).await?;
    if upgraded > 0 {
        record_system(&store, Action::KeysUpgraded).await?;
    }
    println!(
        "Upgraded {upgraded} message {}: their fields now open without an X25519 operation (files keep their sealing).",
        plural(upgraded, "key", "keys")
    );
    Ok(())
}

async fn retire_keys(settings: &Settings) -> anyhow::Result<()> {
    let store = startup::open_store(settings, SystemClock.now_ms()).await?;
    let keyring = keyfiles::load(&settings.key_dir)?;
    let left = crate::app::rotation::not_on_active(&store, &keyring).await?;
    if left > 0 {
        bail!("{left} keys still need an older master key: run `sealpost keys rotate` again first");
    }
    if keyring.len() == 1 {
        println!("master.key holds the active key alone: nothing to retire.");
        return Ok(());
    }
    record_system(&store, Action::KeysRetired).await?;
    keyfiles::replace_master(&settings.key_dir, &keyring.retired())?;
    println!(
        "Retired {} old master keys: every key opens with the active one alone.",
        keyring.len() - 1
    );
    Ok(())
}

/// Appends an event by the system (a command run on the server) to the audit log.
async fn record_system(store: &sealpost_storage::Store, action: Action) -> anyhow::Result<()> {
    let origin = sealpost_audit::Origin {
        user_agent: Some("sealpost command line".into()),
        ..sealpost_audit::Origin::default()
    };
    let event = sealpost_audit::AuditEvent::new(
        SystemClock.now_ms(),
        &sealpost_audit::Actor::System,
        action,
        None,
        sealpost_audit::Outcome::Success,
        origin,
    );
    store.append_audit(&event).await?;
    Ok(())
}

async fn retention_run(settings: &Settings) -> anyhow::Result<()> {
    let store = startup::open_store(settings, SystemClock.now_ms()).await?;
    let blobs = startup::open_blobs(settings)?;
    let shredded = crate::app::retention::run(&store, &blobs, settings, SystemClock.now_ms(), |_| {}).await?;
    println!(
        "Deleted {shredded} message{} whose time under the retention schedule was up (OFFICIAL after {} days, OFFICIAL-SENSITIVE after {}; 0 keeps).",
        if shredded == 1 { "" } else { "s" },
        settings.retention_days_official,
        settings.retention_days_sensitive
    );
    Ok(())
}

async fn serve(settings: Settings) -> anyhow::Result<()> {
    startup::create_private_dir(&settings.data_dir)?;
    if !keyfiles::exist(&settings.key_dir) {
        eprintln!("No master key found: creating one now.");
        init_keys(&settings, None)?;
    }
    let app = Application::build(settings.clone(), Arc::new(SystemClock)).await?;
    let state = app.state();
    // The address comes from the state: with port 0 the default public URL names the port bound.
    println!(
        "Sealpost is running at {} for {} (database: {})",
        state.settings.public_url,
        settings.org_name,
        state.store.backend()
    );
    if settings.org_name == "Sealpost" {
        println!(
            "Warning: SEALPOST_ORG_NAME is not set, so pages and notification emails name the organisation \"Sealpost\". Set it to the council's name."
        );
    }
    println!("Notification emails are sent {}.", state.mailer.describe());
    if state.store.count_users().await? == 0 {
        let exe = std::env::current_exe().map_or_else(|_| "sealpost".to_owned(), |p| p.display().to_string());
        println!("There are no accounts yet. Create the first one (it prints a one-time set-up link):");
        println!("  {exe} user add --email you@your-council.gov.uk --name \"Your Name\" --role admin");
    }
    app.run_until(startup::shutdown_signal()).await
}

pub(crate) fn init_keys(settings: &Settings, escrow: Option<&str>) -> anyhow::Result<()> {
    let report = keyfiles::init(&settings.key_dir, escrow)?;
    println!(
        "Master key written to {} (mode 0600). Back it up: without it, no message can be read.",
        report.master_path.display()
    );
    println!(
        "Every message key is also wrapped to the escrow recipient {}.",
        report.escrow_recipient
    );
    match report.escrow_secret_path {
        Some(path) => {
            eprintln!(
                "WARNING: the escrow identity was generated on this machine and written to {}.",
                path.display()
            );
            eprintln!("         It can decrypt every message. Move it OFFLINE (print it, keep it in a safe) and delete it here.");
            eprintln!("         For production, generate the escrow pair offline and run: sealpost keys init --escrow-recipient age1…");
        }
        None => println!("The escrow identity stays with the council, offline; only its public key is stored here."),
    }
    Ok(())
}

async fn verify_audit(settings: &Settings, checkpoint: Option<&str>, files: &[PathBuf]) -> anyhow::Result<()> {
    let key = keyfiles::load_audit_verify_key(&settings.key_dir)?;
    // The last checkpoint this installation signed must still be on the chain too.
    let mut signed: Vec<SignedCheckpoint> = keyfiles::last_signed(&settings.key_dir)?.into_iter().collect();
    let local = signed.len();
    let heads: Vec<Head> = checkpoint
        .map(|text| text.parse().map_err(|e: &str| anyhow::anyhow!("--checkpoint: {e}")))
        .transpose()?
        .into_iter()
        .collect();
    for path in files {
        let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        let file: SignedCheckpoint = text.parse().with_context(|| path.display().to_string())?;
        if !audit::signed_by(&file, &key) {
            bail!(
                "{} is not signed by this server's audit key: it was altered, or comes from another server",
                path.display()
            );
        }
        signed.push(file);
    }
    let given = signed.len() > local || !heads.is_empty();
    let store = startup::open_store(settings, SystemClock.now_ms()).await?;
    match audit::verify_chain(&store, &key, &signed, &heads).await? {
        Ok(v) => {
            println!(
                "The audit log is intact: {} {}, head {}; checked against {} signed {}{}.",
                v.head.seq,
                plural(v.head.seq, "event", "events"),
                v.head,
                v.checkpoints,
                plural(v.checkpoints, "checkpoint", "checkpoints"),
                if given { " and the ones given" } else { "" }
            );
            for restore in &v.restores {
                println!("{restore}");
            }
            if v.set_aside > 0 {
                println!(
                    "{} signed {} given {} from before a restore, past the backup's end: not looked for.",
                    v.set_aside,
                    plural(v.set_aside, "checkpoint", "checkpoints"),
                    plural(v.set_aside, "is", "are")
                );
            }
            Ok(())
        }
        Err(broken) => bail!("the audit log is NOT intact: {broken}"),
    }
}

async fn export_audit(settings: &Settings, from: Option<&str>, to: Option<&str>, out: Option<&std::path::Path>) -> anyhow::Result<()> {
    let store = startup::open_store(settings, SystemClock.now_ms()).await?;
    let result = match out {
        Some(path) => {
            let mut file = tokio::fs::File::create(path)
                .await
                .with_context(|| format!("creating {}", path.display()))?;
            governance::export_days(&store, SystemClock.now_ms(), from, to, &mut file).await
        }
        None => governance::export_days(&store, SystemClock.now_ms(), from, to, &mut tokio::io::stdout()).await,
    };
    let written = result.map_err(|e| match e {
        crate::error::AppError::BadRequest { message, .. } => anyhow::anyhow!(message),
        other => other.into(),
    })?;
    if let Some(path) = out {
        println!("Wrote {written} events to {}.", path.display());
    }
    Ok(())
}

async fn export_checkpoint(settings: &Settings, out: Option<&std::path::Path>) -> anyhow::Result<()> {
    let key = keyfiles::load_audit_key(&settings.key_dir)?;
    let store = startup::open_store(settings, SystemClock.now_ms()).await?;
    let Some(signed) = checkpoints::sign_and_remember(&store, &key, &settings.key_dir, SystemClock.now_ms()).await? else {
        bail!("the audit log is empty: there is nothing to checkpoint yet");
    };
    let text = signed.to_string();
    match out {
        Some(path) => {
            std::fs::write(path, &text).with_context(|| format!("writing {}", path.display()))?;
            println!(
                "Wrote the checkpoint of event {} to {}. Keep it outside this server; later run: sealpost audit verify --checkpoint-file {}",
                signed.checkpoint.head.seq,
                path.display(),
                path.display()
            );
        }
        None => print!("{text}"),
    }
    Ok(())
}

/// "1 checkpoint", "2 checkpoints".
fn plural<'a>(n: impl TryInto<i64>, one: &'a str, many: &'a str) -> &'a str {
    if n.try_into().is_ok_and(|n| n == 1) { one } else { many }
}
