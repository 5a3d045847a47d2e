//! The JSON shapes of `/api/v1/admin/*`, the admin console: council IT manages accounts and
//! sees the effective settings, never mail or secrets.

use serde::{Deserialize, Serialize};

use crate::{DisplayName, EmailAddress, Role, UserId};

/// Where an account stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AccountStatus {
    /// It can sign in.
    Active,
    /// Invited: it has not chosen a password yet.
    Invited,
    /// Disabled by an administrator: it cannot sign in and has no sessions.
    Disabled,
}

/// One account in `GET /api/v1/admin/users`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StaffAccount {
    /// The account id.
    pub id: UserId,
    /// Its address (the sign-in name).
    pub email: EmailAddress,
    /// The holder's name.
    pub display_name: DisplayName,
    /// What it may do.
    pub role: Role,
    /// Where it stands.
    pub status: AccountStatus,
    /// It has a second factor set up.
    pub second_factor: bool,
    /// When it last signed in (Unix ms).
    pub last_sign_in: Option<i64>,
    /// Its newest invitation could not be delivered (the address bounced or the relay refused).
    pub invite_failed: bool,
}

/// `POST /api/v1/admin/users`: invite someone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InviteRequest {
    /// Their address, as typed.
    pub email: String,
    /// Their name, as typed.
    pub display_name: String,
    /// What the account may do.
    pub role: Role,
}

/// `PUT /api/v1/admin/users/{id}/role`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoleRequest {
    /// The new role.
    pub role: Role,
}

/// `POST /api/v1/admin/import/preview` and `/admin/import`: a CSV of `address,name,role`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImportRequest {
    /// The file's text.
    pub csv: String,
}

/// One line of an import, as it would be created, or why it cannot be.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportRow {
    /// The line in the file (1 is the first).
    pub line: u32,
    /// The address, as given.
    pub email: String,
    /// The name, as given.
    pub display_name: String,
    /// The role, as given (`staff` when left empty).
    pub role: String,
    /// What is wrong with it; `None` when it is ready.
    pub problem: Option<String>,
}

/// The preview of an import: nothing is created while any row has a problem.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportPreview {
    /// Every account line, in file order.
    pub rows: Vec<ImportRow>,
    /// How many lines are ready.
    pub ready: usize,
    /// How many lines have a problem.
    pub problems: usize,
}

/// `POST /api/v1/admin/import`: what was created.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportDone {
    /// Accounts created and invited.
    pub created: usize,
}

/// One effective setting in `GET /api/v1/admin/settings`; secrets are shown as set or not set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SettingView {
    /// The environment variable.
    pub name: String,
    /// Its effective value, in words.
    pub value: String,
}
