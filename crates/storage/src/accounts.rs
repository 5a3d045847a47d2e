//! The admin console's side of accounts: creating invited accounts together with their
//! invitation email (one transaction, so a CSV import is all or nothing), the list with each
//! account's last sign-in, and the account-email outbox. Like the notification outbox, a
//! worker claims due rows under a lease (PostgreSQL: `FOR UPDATE SKIP LOCKED`), and every
//! later update checks the claim. No secret is stored: the set-up link is made when the email
//! goes.

use sealpost_domain::UserId;
use uuid::Uuid;

use crate::users::{USER_COLUMNS, UserRow};
use crate::{NewUser, StorageError, Store, UserRecord, with_pool};

/// An account as the admin console lists it.
#[derive(Debug, Clone)]
pub struct AccountListing {
    /// The account.
    pub user: UserRecord,
    /// When it last signed in (ms).
    pub last_sign_in_ms: Option<i64>,
    /// Its newest invitation could not be delivered.
    pub invite_failed: bool,
}

/// An account email to send now.
#[derive(Debug, Clone)]
pub struct DueAccountEmail {
    /// This claim's id.
    pub claim: String,
    /// The row.
    pub id: Uuid,
    /// Whose.
    pub user: UserRecord,
    /// Attempts before this one.
    pub attempts: i64,
    /// When first queued.
    pub first_queued_at_ms: i64,
}

/// How sending one went.
#[derive(Debug, Clone)]
pub enum AccountEmailOutcome {
    /// The relay took it.
    Sent,
    /// Try again at this time, for this reason.
    Retry(i64, String),
    /// Given up, for this reason.
    Failed(String),
}

#[derive(sqlx::FromRow)]
struct ListingRow {
    #[sqlx(flatten)]
    user: UserRow,
    last_sign_in_at: Option<i64>,
    invite_failed: bool,
}

#[derive(sqlx::FromRow)]
struct DueRow {
    #[sqlx(flatten)]
    user: UserRow,
    email_id: String,
    attempts: i64,
    first_queued_at: i64,
}

impl Store {
    /// Creates every account of `users`, each without a password and with an invitation queued,
    /// in one transaction: [`StorageError::Duplicate`] and nothing created if any address is
    /// taken.
    pub async fn create_invited_users(&self, users: &[NewUser], now_ms: i64) -> Result<Vec<UserId>, StorageError> {
        let ids: Vec<UserId> = users.iter().map(|_| UserId(Uuid::new_v4())).collect();
        with_pool!(self, |pool| {
            let mut tx = pool.begin().await?;
            for (user, id) in users.iter().zip(&ids) {
                sqlx::query("INSERT INTO users (id, email, display_name, role, password_hash, disabled, created_at) VALUES ($1, $2, $3, $4, NULL, FALSE, $5)")
                    .bind(id.0.to_string())
                    .bind(user.email.as_str())
                    .bind(user.display_name.as_str())
                    .bind(user.role.as_str())
                    .bind(now_ms)
                    .execute(&mut *tx)
                    .await?;
                sqlx::query(QUEUE_INVITE)
                    .bind(Uuid::new_v4().to_string())
                    .bind(id.0.to_string())
                    .bind(now_ms)
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await
        })?;
        Ok(ids)
    }

    /// Queues another invitation for `user`, forgetting how earlier ones went (so the list
    /// shows how the newest goes).
    pub async fn queue_invite(&self, user: UserId, now_ms: i64) -> Result<(), StorageError> {
        with_pool!(self, |pool| {
            let mut tx = pool.begin().await?;
            sqlx::query("DELETE FROM account_emails WHERE user_id = $1 AND state <> 'pending'")
                .bind(user.0.to_string())
                .execute(&mut *tx)
                .await?;
            sqlx::query(QUEUE_INVITE)
                .bind(Uuid::new_v4().to_string())
                .bind(user.0.to_string())
                .bind(now_ms)
                .execute(&mut *tx)
                .await?;
            tx.commit().await
        })?;
        Ok(())
    }

    /// Notes a successful sign-in.
    pub async fn record_sign_in(&self, user: UserId, now_ms: i64) -> Result<(), StorageError> {
        with_pool!(self, |pool| sqlx::query("UPDATE users SET last_sign_in_at = $1 WHERE id = $2")
            .bind(now_ms)
            .bind(user.0.to_string())
            .execute(pool)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// Every account, by address, with its last sign-in and whether its newest invitation
    /// could not be delivered.
    pub async fn list_accounts(&self) -> Result<Vec<AccountListing>, StorageError> {
        let sql = format!(
            "SELECT {USER_COLUMNS}, u.last_sign_in_at, \
             EXISTS (SELECT 1 FROM account_emails e WHERE e.user_id = u.id AND e.state = 'failed') AS invite_failed \
             FROM users u WHERE u.id <> $1 ORDER BY u.email"
        );
        let rows: Vec<ListingRow> = with_pool!(self, |pool| sqlx::query_as(&sql)
            .bind(crate::OUTSIDE_SENDER.to_string())
            .fetch_all(pool)
            .await)?;
        rows.into_iter()
            .map(|r| {
                Ok(AccountListing {
                    user: UserRecord::try_from(r.user)?,
                    last_sign_in_ms: r.last_sign_in_at,
                    invite_failed: r.invite_failed,
                })
            })
            .collect()
    }

    /// Claims up to `limit` due account emails for `lease_ms` (see the notification outbox).
    pub async fn claim_due_account_emails(&self, now_ms: i64, lease_ms: i64, limit: i64) -> Result<Vec<DueAccountEmail>, StorageError> {
        let claim = self.claim_due("account_emails", "TRUE", now_ms, lease_ms, limit).await?;
        let select = format!(
            "SELECT {USER_COLUMNS}, e.id AS email_id, e.attempts, e.first_queued_at \
             FROM account_emails e JOIN users u ON u.id = e.user_id WHERE e.claim = $1 AND e.state = 'pending'"
        );
        let rows: Vec<DueRow> = with_pool!(self, |pool| sqlx::query_as(&select).bind(&claim).fetch_all(pool).await)?;
        rows.into_iter()
            .map(|r| {
                Ok(DueAccountEmail {
                    claim: claim.clone(),
                    id: crate::decode::id(&r.email_id, "account_emails.id")?,
                    user: UserRecord::try_from(r.user)?,
                    attempts: r.attempts,
                    first_queued_at_ms: r.first_queued_at,
                })
            })
            .collect()
    }

    /// Records how sending `email` went, if it is still this claim's.
    pub async fn settle_account_email(&self, email: &DueAccountEmail, outcome: &AccountEmailOutcome) -> Result<(), StorageError> {
        let (state, next, reason) = match outcome {
            AccountEmailOutcome::Sent => ("sent", None, None),
            AccountEmailOutcome::Retry(at, reason) => ("pending", Some(*at), Some(reason.as_str())),
            AccountEmailOutcome::Failed(reason) => ("failed", None, Some(reason.as_str())),
        };
        with_pool!(self, |pool| sqlx::query(
            "UPDATE account_emails SET state = $1, next_attempt_at = COALESCE($2, next_attempt_at), last_error = $3, \
             attempts = attempts + 1 WHERE id = $4 AND claim = $5 AND state = 'pending'"
        )
        .bind(state)
        .bind(next)
        .bind(reason)
        .bind(email.id.to_string())
        .bind(&email.claim)
        .execute(pool)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// When the next pending account email is due, if any.
    pub async fn next_account_email_due(&self) -> Result<Option<i64>, StorageError> {
        let (next,): (Option<i64>,) = with_pool!(self, |pool| sqlx::query_as(
            "SELECT MIN(next_attempt_at) FROM account_emails WHERE state = 'pending'"
        )
        .fetch_one(pool)
        .await)?;
        Ok(next)
    }
}

const QUEUE_INVITE: &str = "INSERT INTO account_emails (id, user_id, kind, state, attempts, next_attempt_at, first_queued_at) \
     VALUES ($1, $2, 'invite', 'pending', 0, $3, $3)";
