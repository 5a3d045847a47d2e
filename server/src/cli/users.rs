//! `sealpost user …`: accounts for IT, from the server's shell. Each command prints what to do
//! next; only `add` and `reset-password` print a secret, the one-time set-up link they exist
//! to make. Each change is on the audit record as the admin console's are (the actor is
//! `system`, from the command line), written before the change.

use std::io::Read;

use anyhow::{Context, bail};
use sealpost_audit::{Action, Actor, AuditEvent, Object, Origin, Outcome};
use sealpost_crypto::{ExposeSecret, SecretString};
use sealpost_domain::{DisplayName, EmailAddress, PhoneNumber, Role, UserId, check_password_policy};
use sealpost_storage::{NewUser, StorageError, Store, UserRecord};

use super::UserCommand;
use crate::clock::{Clock, SystemClock};
use crate::settings::Settings;
use crate::startup;

use crate::app::admin::{SETUP_LINK_HOURS, new_setup_link};

/// `user add`: creates an account and prints its set-up link (or takes a password on stdin).
async fn add(settings: &Settings, email: &str, name: &str, role: Role, password_stdin: bool) -> anyhow::Result<()> {
    let email = EmailAddress::parse(email).context("--email")?;
    let display_name = DisplayName::parse(name).context("--name")?;
    let password_hash = if password_stdin {
        let mut input = String::new();
        std::io::stdin()
            .read_to_string(&mut input)
            .context("reading the password from standard input")?;
        let password = SecretString::from(input.trim_end_matches(['\n', '\r']).to_owned());
        check_password_policy(password.expose_secret()).context("password")?;
        Some(sealpost_crypto::PasswordHasher::new()?.hash(&password)?)
    } else {
        None
    };
    let store = startup::open_store(settings, SystemClock.now_ms()).await?;
    if store.user_by_email(&email).await?.is_none() {
        record(&store, Action::AccountInvite, &email).await?;
    }
    let new_user = NewUser {
        email: email.clone(),
        display_name,
        role,
        password_hash,
    };
    let id = match store.create_user(&new_user, SystemClock.now_ms()).await {
        Err(StorageError::Duplicate) => bail!(
            "an account for {email} already exists. To send them a new set-up link: sealpost user reset-password --email {email}; \
             to change its role: sealpost user set-role --email {email} --role ROLE; if it is disabled: sealpost user enable --email {email}"
        ),
        other => other?,
    };
    if new_user.password_hash.is_some() {
        println!("Created {role} account {email}. They can sign in at {}.", settings.public_url);
    } else {
        println!("Created {role} account {email}. Send them this one-time set-up link (valid {SETUP_LINK_HOURS} hours):");
        print_setup_link(settings, &store, id).await?;
    }
    Ok(())
}

/// Runs one `user` command.
pub async fn run(settings: &Settings, command: UserCommand) -> anyhow::Result<()> {
    let open = || startup::open_store(settings, SystemClock.now_ms());
    match command {
        UserCommand::Add {
            email,
            name,
            role,
            password_stdin,
        } => add(settings, &email, &name, role, password_stdin).await,
        UserCommand::List => list(&open().await?).await,
        UserCommand::Disable { email } => {
            let (store, user) = account(open().await?, &email).await?;
            record(&store, Action::AccountDisable, &user.email).await?;
            store.disable_user(user.id).await?;
            println!("Disabled {} and ended its sessions.", user.email);
            Ok(())
        }
        UserCommand::Enable { email } => {
            let (store, user) = account(open().await?, &email).await?;
            record(&store, Action::AccountEnable, &user.email).await?;
            store.enable_user(user.id).await?;
            println!("Enabled {}. It can sign in again with its password.", user.email);
            Ok(())
        }
        UserCommand::SetRole { email, role } => {
            let (store, user) = account(open().await?, &email).await?;
            record(&store, Action::AccountRole, &user.email).await?;
            store.set_user_role(user.id, role).await?;
            println!(
                "{} is now {role} (was {}). Its sessions have ended; the new role applies when it signs in again.",
                user.email, user.role
            );
            Ok(())
        }
        UserCommand::SetPhone { email, phone } => {
            let number = match phone.trim() {
                "" => None,
                text => Some(PhoneNumber::parse(text).context("--phone")?),
            };
            let (store, user) = account(open().await?, &email).await?;
            store.set_phone(user.id, number.as_ref()).await?;
            match number {
                Some(n) => println!("Partners will see {n} as a way to reach {}.", user.email),
                None => println!("Removed the telephone number of {}.", user.email),
            }
            Ok(())
        }
        UserCommand::ResetSecondFactor { email } => {
            let (store, user) = account(open().await?, &email).await?;
            record(&store, Action::SecondFactorReset, &user.email).await?;
            store.reset_second_factor(user.id).await?;
            println!(
                "Removed the second factor of {} and ended its sessions. It sets one up again when it next signs in.",
                user.email
            );
            Ok(())
        }
        UserCommand::ResetPassword { email } => {
            let (store, user) = account(open().await?, &email).await?;
            // A new set-up link: on record as an invitation sent again.
            record(&store, Action::AccountInvite, &user.email).await?;
            store.clear_password(user.id).await?;
            println!(
                "Removed the password of {} and ended its sessions. Send them this one-time set-up link (valid {SETUP_LINK_HOURS} hours) to choose a new one:",
                user.email
            );
            print_setup_link(settings, &store, user.id).await
        }
    }
}

/// Records an administrator's change to `whom`'s account, made from the command line.
async fn record(store: &Store, action: Action, whom: &EmailAddress) -> anyhow::Result<()> {
    let origin = Origin {
        user_agent: Some("sealpost command line".into()),
        ..Origin::default()
    };
    let event = AuditEvent::new(
        SystemClock.now_ms(),
        &Actor::System,
        action,
        Some(Object::Person(whom.clone())),
        Outcome::Success,
        origin,
    );
    store.append_audit(&event).await?;
    Ok(())
}

/// The store and the account named by `--email`, or a sentence saying how to create it.
async fn account(store: Store, email: &str) -> anyhow::Result<(Store, UserRecord)> {
    let email = EmailAddress::parse(email).context("--email")?;
    let user = store
        .user_by_email(&email)
        .await?
        .with_context(|| format!("no account for {email}. To create one: sealpost user add --email {email} --name NAME"))?;
    Ok((store, user))
}

async fn print_setup_link(settings: &Settings, store: &Store, id: UserId) -> anyhow::Result<()> {
    let link = new_setup_link(store, &settings.public_url, id, SystemClock.now_ms()).await?;
    println!("  {link}");
    Ok(())
}

async fn list(store: &Store) -> anyhow::Result<()> {
    let users = store.list_users().await?;
    if users.is_empty() {
        println!("There are no accounts yet. Create the first one: sealpost user add --email E --name N --role admin");
        return Ok(());
    }
    println!("{:<40} {:<30} {:<6} status", "address", "name", "role");
    for u in &users {
        let status = match (u.disabled, u.password_hash.is_some()) {
            (true, _) => "disabled",
            (false, true) => "active",
            (false, false) => "waiting for set-up",
        };
        println!(
            "{:<40} {:<30} {:<6} {status}",
            u.email.as_str(),
            u.display_name.as_str(),
            u.role.as_str()
        );
    }
    let n = users.len();
    println!("{n} {}", if n == 1 { "account" } else { "accounts" });
    Ok(())
}
