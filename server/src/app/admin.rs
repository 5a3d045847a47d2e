//! The admin console (issue 17): council IT invites, disables and enables staff, changes roles
//! and imports a CSV of accounts, in the browser instead of over SSH, and reads the effective
//! settings. For role `admin` only (403 to anyone else). Every change is an audit event on the
//! person it concerns (`person:<address>`), so IG can see who changed which account when. An
//! invitation goes through the account-email outbox; its set-up link is made when it is sent.
//! An administrator cannot change, disable or re-invite their own account here, so the last
//! administrator cannot lock everyone out (the CLI can always set up an admin). Each change is
//! recorded before it is made, so none is ever made unrecorded (if the change then fails, the
//! request fails too, and the record stands for an attempt).

use sealpost_domain::api_admin::{
    AccountStatus, ImportDone, ImportPreview, ImportRequest, ImportRow, InviteRequest, SettingView, StaffAccount,
};
use sealpost_domain::{DisplayName, EmailAddress, Role, UserId};
use sealpost_storage::{AccountListing, NewUser, StorageError, UserRecord};

use crate::app::audit::{self, Action, Actor, Object, Outcome, RequestMeta};
use crate::error::AppError;
use crate::state::AppState;

/// How long a set-up link works.
pub const SETUP_LINK_HOURS: u32 = 72;
/// Most account lines one import may hold.
pub const MAX_IMPORT_ROWS: usize = 1000;

/// Makes a one-time set-up link for `user`, working for [`SETUP_LINK_HOURS`] from `now_ms`.
pub async fn new_setup_link(store: &sealpost_storage::Store, public_url: &str, user: UserId, now_ms: i64) -> Result<String, AppError> {
    let token = sealpost_crypto::Token::generate()?;
    store
        .create_setup_token(&token.hash(), user, now_ms + i64::from(SETUP_LINK_HOURS) * 3_600_000)
        .await?;
    Ok(format!("{public_url}/setup/{}", token.expose_hex()))
}

/// Refuses anyone but an administrator.
pub fn require_admin(user: &UserRecord) -> Result<(), AppError> {
    if user.role == Role::Admin {
        Ok(())
    } else {
        Err(AppError::Forbidden("The admin console is for the council's IT administrators."))
    }
}

/// Every account, by address.
pub async fn list(state: &AppState, admin: &UserRecord) -> Result<Vec<StaffAccount>, AppError> {
    require_admin(admin)?;
    Ok(state.store.list_accounts().await?.into_iter().map(view).collect())
}

fn view(a: AccountListing) -> StaffAccount {
    let status = match (a.user.disabled, a.user.password_hash.is_some()) {
        (true, _) => AccountStatus::Disabled,
        (false, true) => AccountStatus::Active,
        (false, false) => AccountStatus::Invited,
    };
    StaffAccount {
        id: a.user.id,
        email: a.user.email,
        display_name: a.user.display_name,
        role: a.user.role,
        status,
        second_factor: a.user.has_second_factor,
        last_sign_in: a.last_sign_in_ms,
        invite_failed: a.invite_failed,
    }
}

/// Creates an account without a password and emails its holder a set-up link.
pub async fn invite(state: &AppState, admin: &UserRecord, meta: &RequestMeta, r: &InviteRequest) -> Result<StaffAccount, AppError> {
    require_admin(admin)?;
    let new = checked(&r.email, &r.display_name, r.role).map_err(|(field, problem)| AppError::bad(field, problem))?;
    if state.store.user_by_email(&new.email).await?.is_some() {
        return Err(taken(&new.email));
    }
    record(state, admin, meta, Action::AccountInvite, &new.email).await?;
    let id = match state.store.create_invited_users(std::slice::from_ref(&new), state.now_ms()).await {
        Err(StorageError::Duplicate) => return Err(taken(&new.email)),
        other => other?[0],
    };
    state.outbox_wake.notify_one();
    account(state, id).await
}

fn taken(email: &EmailAddress) -> AppError {
    AppError::bad(
        "address_taken",
        format!("{email} already has an account. Find it in the list to change it or send its invitation again."),
    )
}

/// Sends the invitation of an account that has not been set up yet again.
pub async fn resend_invite(state: &AppState, admin: &UserRecord, meta: &RequestMeta, id: UserId) -> Result<StaffAccount, AppError> {
    let user = other_account(state, admin, id).await?;
    if user.password_hash.is_some() {
        return Err(AppError::bad(
            "already_set_up",
            format!("{} has already chosen a password, so there is no invitation to send.", user.email),
        ));
    }
    if user.disabled {
        return Err(AppError::bad(
            "account_disabled",
            format!("{} is disabled. Enable it first, then send the invitation again.", user.email),
        ));
    }
    record(state, admin, meta, Action::AccountInvite, &user.email).await?;
    state.store.queue_invite(user.id, state.now_ms()).await?;
    state.outbox_wake.notify_one();
    account(state, id).await
}

/// Changes an account's role; its sessions end, so the new role applies at its next sign-in.
pub async fn set_role(state: &AppState, admin: &UserRecord, meta: &RequestMeta, id: UserId, role: Role) -> Result<StaffAccount, AppError> {
    let user = other_account(state, admin, id).await?;
    if user.role != role {
        record(state, admin, meta, Action::AccountRole, &user.email).await?;
        state.store.set_user_role(id, role).await?;
    }
    account(state, id).await
}

/// Disables (`true`) or enables an account. Disabling ends its sessions at once.
pub async fn set_disabled(
    state: &AppState,
    admin: &UserRecord,
    meta: &RequestMeta,
    id: UserId,
    disabled: bool,
) -> Result<StaffAccount, AppError> {
    let user = other_account(state, admin, id).await?;
    if disabled {
        // Even an account disabled already: its sessions end again, and that is on record.
        record(state, admin, meta, Action::AccountDisable, &user.email).await?;
        state.store.disable_user(id).await?;
    } else if user.disabled {
        record(state, admin, meta, Action::AccountEnable, &user.email).await?;
        state.store.enable_user(id).await?;
    }
    account(state, id).await
}

/// Removes an account's second factor and recovery codes, ending its sessions: it sets one
/// up again at its next sign-in (for someone who lost their phone).
pub async fn reset_second_factor(state: &AppState, admin: &UserRecord, meta: &RequestMeta, id: UserId) -> Result<StaffAccount, AppError> {
    let user = other_account(state, admin, id).await?;
    record(state, admin, meta, Action::SecondFactorReset, &user.email).await?;
    state.store.reset_second_factor(id).await?;
    account(state, id).await
}

/// Checks every line of a CSV of `address,name,role` without creating anything.
pub async fn preview(state: &AppState, admin: &UserRecord, r: &ImportRequest) -> Result<ImportPreview, AppError> {
    require_admin(admin)?;
    Ok(plan(state, &r.csv).await?.0)
}

/// Creates and invites every account of the CSV, or none if any line has a problem.
pub async fn import(state: &AppState, admin: &UserRecord, meta: &RequestMeta, r: &ImportRequest) -> Result<ImportDone, AppError> {
    require_admin(admin)?;
    let (preview, users) = plan(state, &r.csv).await?;
    if preview.problems > 0 {
        return Err(AppError::bad(
            "import_problems",
            format!(
                "{} of the lines have a problem, so nothing was imported. Preview the file to see which, correct them and import again.",
                preview.problems
            ),
        ));
    }
    if users.is_empty() {
        return Err(AppError::bad("import_empty", "The file has no accounts in it."));
    }
    for u in &users {
        record(state, admin, meta, Action::AccountInvite, &u.email).await?;
    }
    match state.store.create_invited_users(&users, state.now_ms()).await {
        Err(StorageError::Duplicate) => {
            return Err(AppError::bad(
                "import_problems",
                "An address in the file was given an account while you were importing, so nothing was imported. Preview the file again.",
            ));
        }
        other => other?,
    };
    state.outbox_wake.notify_one();
    Ok(ImportDone { created: users.len() })
}

/// The preview of `csv`, and the accounts it would create.
async fn plan(state: &AppState, csv: &str) -> Result<(ImportPreview, Vec<NewUser>), AppError> {
    let records = csv_records(csv);
    if records.len() > MAX_IMPORT_ROWS {
        return Err(AppError::bad(
            "import_too_long",
            format!("A file may hold at most {MAX_IMPORT_ROWS} accounts. Split it and import each part."),
        ));
    }
    let mut rows = Vec::new();
    let mut users: Vec<NewUser> = Vec::new();
    for (line, fields) in records {
        let field = |i: usize| fields.get(i).map(|f| f.trim().to_owned()).unwrap_or_default();
        let (email, name, role) = (field(0), field(1), field(2));
        let role_text = if role.is_empty() { "staff".to_owned() } else { role.to_lowercase() };
        let problem = if fields.len() > 3 {
            Err("There are more than three columns: address, name, role.".to_owned())
        } else {
            match role_text.parse::<Role>() {
                Err(_) => Err("The role must be staff, ig or admin.".to_owned()),
                Ok(role) => checked(&email, &name, role).map_err(|(_, problem)| problem),
            }
        };
        let problem = match problem {
            Ok(user) if users.iter().any(|u| u.email == user.email) => Some("This address is on an earlier line too.".to_owned()),
            Ok(user) if state.store.user_by_email(&user.email).await?.is_some() => Some("This address already has an account.".to_owned()),
            Ok(user) => {
                users.push(user);
                None
            }
            Err(problem) => Some(problem),
        };
        rows.push(ImportRow {
            line,
            email,
            display_name: name,
            role: role_text,
            problem,
        });
    }
    let problems = rows.iter().filter(|r| r.problem.is_some()).count();
    let preview = ImportPreview {
        ready: rows.len() - problems,
        problems,
        rows,
    };
    Ok((preview, users))
}

/// The account an administrator may change: anyone's but their own (404 if there is none).
async fn other_account(state: &AppState, admin: &UserRecord, id: UserId) -> Result<UserRecord, AppError> {
    require_admin(admin)?;
    if id == admin.id {
        return Err(AppError::bad(
            "own_account",
            "You cannot change your own account here. Ask another administrator, or use the sealpost command on the server.",
        ));
    }
    match state.store.user_by_id(id).await? {
        Some(u) if u.id != sealpost_storage::OUTSIDE_SENDER => Ok(u),
        _ => Err(AppError::NotFound),
    }
}

async fn account(state: &AppState, id: UserId) -> Result<StaffAccount, AppError> {
    let listing = state.store.list_accounts().await?.into_iter().find(|a| a.user.id == id);
    listing.map(view).ok_or(AppError::NotFound)
}

async fn record(state: &AppState, admin: &UserRecord, meta: &RequestMeta, action: Action, whom: &EmailAddress) -> Result<(), AppError> {
    let object = Some(Object::Person(whom.clone()));
    audit::record(state, meta, &Actor::User(admin.id), action, object, Outcome::Success).await
}

/// A new account from what was typed, or the field at fault and why.
fn checked(email: &str, name: &str, role: Role) -> Result<NewUser, (&'static str, String)> {
    let email = EmailAddress::parse(email.trim()).map_err(|e| ("invalid_address", format!("The address: {e}")))?;
    let display_name = DisplayName::parse(name.trim()).map_err(|e| ("invalid_name", format!("The name: {e}")))?;
    Ok(NewUser {
        email,
        display_name,
        role,
        password_hash: None,
    })
}

/// The records of a CSV with their line numbers: fields split at commas, a field in double
/// quotes may hold commas and doubled quotes; blank lines and a first line naming the columns
/// (`address,name,role` or `email,…`) are left out.
fn csv_records(text: &str) -> Vec<(u32, Vec<String>)> {
    let mut out = Vec::new();
    // A spreadsheet's "CSV UTF-8" starts with a byte-order mark.
    let text = text.trim_start_matches('\u{feff}');
    for (i, line) in text.lines().enumerate() {
        let line = line.trim_end_matches('\r');
        if line.trim().is_empty() {
            continue;
        }
        let fields = csv_fields(line);
        let first = fields.first().map(|f| f.trim().to_lowercase()).unwrap_or_default();
        if out.is_empty() && (first == "address" || first == "email") {
            continue;
        }
        out.push((u32::try_from(i + 1).unwrap_or(u32::MAX), fields));
    }
    out
}

fn csv_fields(line: &str) -> Vec<String> {
    let mut fields = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                field.push('"');
                chars.next();
            }
            ('"', true) => quoted = false,
            ('"', false) if field.trim().is_empty() => {
                field.clear();
                quoted = true;
            }
            (',', false) => fields.push(std::mem::take(&mut field)),
            (c, _) => field.push(c),
        }
    }
    fields.push(field);
    fields
}

/// The effective settings, in words; secrets only as set or not set.
pub fn settings(state: &AppState, admin: &UserRecord) -> Result<Vec<SettingView>, AppError> {
    require_admin(admin)?;
    let s = &state.settings;
    let set = |secret: bool| if secret { "set (hidden)" } else { "not set" }.to_owned();
    let on = |b: bool| if b { "true" } else { "false" }.to_owned();
    let rows: Vec<(&str, String)> = vec![
        ("SEALPOST_ORG_NAME", s.org_name.clone()),
        ("SEALPOST_PUBLIC_URL", s.public_url.clone()),
        ("SEALPOST_LISTEN", s.listen.to_string()),
        ("SEALPOST_DATABASE_URL", format!("{} ({})", state.store.backend(), set(true))),
        (
            "SEALPOST_SMTP_URL",
            match &s.smtp_url {
                Some(_) => set(true),
                None => "not set: notifications are written as files".to_owned(),
            },
        ),
        ("SEALPOST_MAIL_FROM", s.mail_from.clone()),
        ("SEALPOST_DATA_DIR", s.data_dir.display().to_string()),
        ("SEALPOST_KEY_DIR", s.key_dir.display().to_string()),
        ("SEALPOST_SESSION_IDLE_MINUTES", s.session_idle_minutes.to_string()),
        ("SEALPOST_SESSION_ABSOLUTE_HOURS", s.session_absolute_hours.to_string()),
        (
            "SEALPOST_LOGIN_ACCOUNT_FAILURES_PER_HOUR",
            s.login_account_failures_per_hour.to_string(),
        ),
        ("SEALPOST_MAX_ATTACHMENT_MIB", s.max_attachment_mib.to_string()),
        ("SEALPOST_MAX_MESSAGE_MIB", s.max_message_mib.to_string()),
        ("SEALPOST_MAX_EXPIRY_DAYS", s.max_expiry_days.to_string()),
        ("SEALPOST_MAX_BODY_KIB", s.max_body_kib.to_string()),
        ("SEALPOST_BLOCKED_FILE_TYPES", s.blocked_file_types.join(", ")),
        ("SEALPOST_PARTNER_WRITE", on(s.partner_write)),
        (
            "SEALPOST_TEAMS",
            match s.teams.as_slice() {
                [] => "none".to_owned(),
                teams => teams
                    .iter()
                    .map(|t| format!("{} ({} members)", t.address, t.members.len()))
                    .collect::<Vec<_>>()
                    .join(", "),
            },
        ),
        ("SEALPOST_DELETED_DAYS", s.deleted_days.to_string()),
        ("SEALPOST_RETENTION_DAYS_OFFICIAL", s.retention_days_official.to_string()),
        ("SEALPOST_RETENTION_DAYS_SENSITIVE", s.retention_days_sensitive.to_string()),
        ("SEALPOST_SEND_HOLD_SECONDS", s.send_hold_seconds.to_string()),
        (
            "SEALPOST_POLICY_OFFICIAL_MAX_EXPIRY_DAYS",
            s.policy.official.max_expiry_days.to_string(),
        ),
        (
            "SEALPOST_POLICY_SENSITIVE_MAX_EXPIRY_DAYS",
            s.policy.sensitive.max_expiry_days.to_string(),
        ),
        (
            "SEALPOST_POLICY_OFFICIAL_PASSPHRASE",
            if s.policy.official.passphrase_required {
                "required"
            } else {
                "optional"
            }
            .to_owned(),
        ),
        ("SEALPOST_POLICY_OFFICIAL_MAX_OPENS", s.policy.official.max_opens.to_string()),
        ("SEALPOST_POLICY_SENSITIVE_MAX_OPENS", s.policy.sensitive.max_opens.to_string()),
        (
            "SEALPOST_POLICY_OFFICIAL_FILES",
            files_word(s.policy.official.view_only_files).to_owned(),
        ),
        (
            "SEALPOST_POLICY_SENSITIVE_FILES",
            files_word(s.policy.sensitive.view_only_files).to_owned(),
        ),
        (
            "SEALPOST_DPO_EMAIL",
            s.dpo_email
                .as_ref()
                .map_or_else(|| "not set: break-glass is refused".to_owned(), ToString::to_string),
        ),
        ("SEALPOST_BREAK_GLASS_MINUTES", s.break_glass_minutes.to_string()),
        ("SEALPOST_AUDIT_CHECKPOINT_EVENTS", s.audit_checkpoint_events.to_string()),
        ("SEALPOST_AUDIT_CHECKPOINT_MINUTES", s.audit_checkpoint_minutes.to_string()),
        ("SEALPOST_MFA_REQUIRED", s.mfa_required.as_str().to_owned()),
        ("SEALPOST_TRUST_PROXY", on(s.trust_proxy)),
        ("SEALPOST_OUTBOX_WORKER", on(s.outbox_worker)),
    ];
    Ok(rows
        .into_iter()
        .map(|(name, value)| SettingView {
            name: name.to_owned(),
            value,
        })
        .collect())
}

/// How a marking policy's file rule is set.
fn files_word(view_only: bool) -> &'static str {
    if view_only { "view" } else { "download" }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_lines_keep_quoted_commas_and_skip_the_header_and_blank_lines() {
        let text = "\u{feff}address,name,role\r\n\"a@x.gov.uk\",\"Smith, Ann\",staff\n\nb@x.gov.uk,\"Bo \"\"B\"\" Jones\",\n";
        let records = csv_records(text);
        assert_eq!(records.len(), 2);
        assert_eq!(records[0], (2, vec!["a@x.gov.uk".into(), "Smith, Ann".into(), "staff".into()]));
        assert_eq!(records[1], (4, vec!["b@x.gov.uk".into(), "Bo \"B\" Jones".into(), String::new()]));
        assert_eq!(csv_records("c@x.gov.uk,Cy").len(), 1, "no header is fine");
    }
}
