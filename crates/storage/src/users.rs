//! Accounts. Disabling an account or changing its password ends its sessions (SECURITY A8).

use sealpost_crypto::PasswordHash;
use sealpost_domain::{DisplayName, EmailAddress, PhoneNumber, Role, UserId};
use uuid::Uuid;

use crate::decode;
use crate::{StorageError, Store, with_pool};

/// An account as stored.
#[derive(Debug, Clone)]
pub struct UserRecord {
    /// The account id.
    pub id: UserId,
    /// Its unique address.
    pub email: EmailAddress,
    /// The holder's name.
    pub display_name: DisplayName,
    /// What it may do.
    pub role: Role,
    /// `None` until the holder has chosen a password through a set-up link.
    pub password_hash: Option<PasswordHash>,
    /// A disabled account cannot sign in and has no sessions.
    pub disabled: bool,
    /// Emailed a notice (no content) when secure mail arrives for them.
    pub notify_by_email: bool,
    /// A telephone number partners may call about a message, if IT has set one.
    pub phone: Option<PhoneNumber>,
    /// A TOTP second factor is set up.
    pub has_second_factor: bool,
}

/// What it takes to create an account.
#[derive(Debug, Clone)]
pub struct NewUser {
    /// Its unique address.
    pub email: EmailAddress,
    /// The holder's name.
    pub display_name: DisplayName,
    /// What it may do.
    pub role: Role,
    /// A password hash, or `None` to have the holder set one through a link.
    pub password_hash: Option<PasswordHash>,
}

/// An account's columns, as [`USER_COLUMNS`] names them.
#[derive(sqlx::FromRow)]
pub(crate) struct UserRow {
    id: String,
    email: String,
    display_name: String,
    role: String,
    password_hash: Option<String>,
    disabled: bool,
    notify_by_email: bool,
    phone: Option<String>,
    has_second_factor: bool,
}
crate::sqlite_direct::sqlite_row!(UserRow {
    id,
    email,
    display_name,
    role,
    password_hash,
    disabled,
    notify_by_email,
    phone,
    has_second_factor,
});
pub(crate) const USER_COLUMNS: &str = "u.id, u.email, u.display_name, u.role, u.password_hash, u.disabled, u.notify_by_email, u.phone, (u.totp_secret IS NOT NULL) AS has_second_factor";

impl TryFrom<UserRow> for UserRecord {
    type Error = StorageError;

    fn try_from(r: UserRow) -> Result<Self, StorageError> {
        Ok(UserRecord {
            id: UserId(decode::id(&r.id, "users.id")?),
            email: decode::address(&r.email, "users.email")?,
            display_name: DisplayName::parse(&r.display_name).map_err(|_| StorageError::Corrupt("users.display_name"))?,
            role: r.role.parse().map_err(|_| StorageError::Corrupt("users.role"))?,
            password_hash: r.password_hash.map(PasswordHash::from_phc),
            disabled: r.disabled,
            notify_by_email: r.notify_by_email,
            phone: r
                .phone
                .map(|p| PhoneNumber::parse(&p).map_err(|_| StorageError::Corrupt("users.phone")))
                .transpose()?,
            has_second_factor: r.has_second_factor,
        })
    }
}

impl Store {
    /// Creates an account; [`StorageError::Duplicate`] if the address is taken.
    pub async fn create_user(&self, user: &NewUser, now_ms: i64) -> Result<UserId, StorageError> {
        let id = UserId(Uuid::new_v4());
        with_pool!(self, |pool| {
            sqlx::query("INSERT INTO users (id, email, display_name, role, password_hash, disabled, created_at) VALUES ($1, $2, $3, $4, $5, FALSE, $6)")
                .bind(id.0.to_string())
                .bind(user.email.as_str())
                .bind(user.display_name.as_str())
                .bind(user.role.as_str())
                .bind(user.password_hash.as_ref().map(|h| h.as_phc().to_owned()))
                .bind(now_ms)
                .execute(pool)
                .await.map(|r| r.rows_affected())
        })?;
        Ok(id)
    }

    /// Finds an account by address.
    pub async fn user_by_email(&self, email: &EmailAddress) -> Result<Option<UserRecord>, StorageError> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users u WHERE u.email = $1");
        let row: Option<UserRow> = with_pool!(self, |pool| sqlx::query_as(&sql).bind(email.as_str()).fetch_optional(pool).await)?;
        row.map(UserRecord::try_from).transpose()
    }

    /// Finds an account by id.
    pub async fn user_by_id(&self, id: UserId) -> Result<Option<UserRecord>, StorageError> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users u WHERE u.id = $1");
        let row: Option<UserRow> = with_pool!(self, |pool| sqlx::query_as(&sql).bind(id.0.to_string()).fetch_optional(pool).await)?;
        row.map(UserRecord::try_from).transpose()
    }

    /// How many accounts exist (the first-run hint uses it).
    pub async fn count_users(&self) -> Result<i64, StorageError> {
        let (n,): (i64,) = with_pool!(self, |pool| sqlx::query_as("SELECT COUNT(*) FROM users WHERE id <> $1")
            .bind(crate::OUTSIDE_SENDER.to_string())
            .fetch_one(pool)
            .await)?;
        Ok(n)
    }

    /// Replaces the password hash and ends every session of the account. Returns false if no
    /// such account.
    pub async fn set_password(&self, id: UserId, hash: &PasswordHash) -> Result<bool, StorageError> {
        self.update_user_and_end_sessions(id, "UPDATE users SET password_hash = $1 WHERE id = $2", Some(hash.as_phc()))
            .await
    }

    /// Stores an upgraded hash of the same password (SECURITY A1) without ending sessions.
    pub async fn upgrade_password_hash(&self, id: UserId, hash: &PasswordHash) -> Result<(), StorageError> {
        with_pool!(self, |pool| sqlx::query("UPDATE users SET password_hash = $1 WHERE id = $2")
            .bind(hash.as_phc())
            .bind(id.0.to_string())
            .execute(pool)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// Disables the account and ends its sessions. Returns false if no such account.
    pub async fn disable_user(&self, id: UserId) -> Result<bool, StorageError> {
        self.update_user_and_end_sessions(id, "UPDATE users SET disabled = TRUE WHERE id = $2 AND $1 IS NULL", None)
            .await
    }

    /// Enables a disabled account. Returns false if no such account.
    pub async fn enable_user(&self, id: UserId) -> Result<bool, StorageError> {
        self.update_user_and_end_sessions(id, "UPDATE users SET disabled = FALSE WHERE id = $2 AND $1 IS NULL", None)
            .await
    }

    /// Changes the account's role and ends its sessions, so the new role takes effect at the
    /// next sign-in (SECURITY A8). Returns false if no such account.
    pub async fn set_user_role(&self, id: UserId, role: Role) -> Result<bool, StorageError> {
        self.update_user_and_end_sessions(id, "UPDATE users SET role = $1 WHERE id = $2", Some(role.as_str()))
            .await
    }

    /// Removes the account's password and ends its sessions: it can sign in again only through
    /// a new set-up link. Returns false if no such account.
    pub async fn clear_password(&self, id: UserId) -> Result<bool, StorageError> {
        self.update_user_and_end_sessions(id, "UPDATE users SET password_hash = $1 WHERE id = $2", None)
            .await
    }

    /// Whether the account is emailed a notice when secure mail arrives.
    pub async fn set_notify_by_email(&self, id: UserId, notify: bool) -> Result<(), StorageError> {
        with_pool!(self, |pool| sqlx::query("UPDATE users SET notify_by_email = $1 WHERE id = $2")
            .bind(notify)
            .bind(id.0.to_string())
            .execute(pool)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// Sets (or with `None` clears) the telephone number partners may call.
    pub async fn set_phone(&self, id: UserId, phone: Option<&PhoneNumber>) -> Result<bool, StorageError> {
        let done = with_pool!(self, |pool| sqlx::query("UPDATE users SET phone = $1 WHERE id = $2")
            .bind(phone.map(PhoneNumber::as_str))
            .bind(id.0.to_string())
            .execute(pool)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(done == 1)
    }

    /// Every account, by address.
    pub async fn list_users(&self) -> Result<Vec<UserRecord>, StorageError> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users u WHERE u.id <> $1 ORDER BY u.email");
        let rows: Vec<UserRow> = with_pool!(self, |pool| sqlx::query_as(&sql)
            .bind(crate::OUTSIDE_SENDER.to_string())
            .fetch_all(pool)
            .await)?;
        rows.into_iter().map(UserRecord::try_from).collect()
    }

    async fn update_user_and_end_sessions(&self, id: UserId, sql: &'static str, value: Option<&str>) -> Result<bool, StorageError> {
        let id = id.0.to_string();
        with_pool!(self, |pool| {
            let mut tx = pool.begin().await?;
            let changed = sqlx::query(sql).bind(value).bind(&id).execute(&mut *tx).await?.rows_affected();
            sqlx::query("DELETE FROM sessions WHERE user_id = $1")
                .bind(&id)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            Ok(changed == 1)
        })
    }
}
