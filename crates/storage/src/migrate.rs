//! Schema migrations, embedded in the binary: one folder per backend with the same file names.
//! Each runs once, in its own transaction, recorded in `schema_migrations`. Landed migrations
//! are never edited; a change is a new file in both folders.

use crate::{Pool, StorageError, Store, with_pool};

/// (version, name, SQLite SQL, PostgreSQL SQL)
const MIGRATIONS: &[(i64, &str, &str, &str)] = &[
    (
        1,
        "accounts",
        include_str!("../../../migrations/sqlite/0001_accounts.sql"),
        include_str!("../../../migrations/postgres/0001_accounts.sql"),
    ),
    (
        2,
        "messages",
        include_str!("../../../migrations/sqlite/0002_messages.sql"),
        include_str!("../../../migrations/postgres/0002_messages.sql"),
    ),
    (
        3,
        "portal",
        include_str!("../../../migrations/sqlite/0003_portal.sql"),
        include_str!("../../../migrations/postgres/0003_portal.sql"),
    ),
    (
        4,
        "replies",
        include_str!("../../../migrations/sqlite/0004_replies.sql"),
        include_str!("../../../migrations/postgres/0004_replies.sql"),
    ),
    (
        5,
        "audit_chain",
        include_str!("../../../migrations/sqlite/0005_audit_chain.sql"),
        include_str!("../../../migrations/postgres/0005_audit_chain.sql"),
    ),
    (
        6,
        "audit_governance",
        include_str!("../../../migrations/sqlite/0006_audit_governance.sql"),
        include_str!("../../../migrations/postgres/0006_audit_governance.sql"),
    ),
    (
        7,
        "break_glass",
        include_str!("../../../migrations/sqlite/0007_break_glass.sql"),
        include_str!("../../../migrations/postgres/0007_break_glass.sql"),
    ),
    (
        8,
        "audit_concerns",
        include_str!("../../../migrations/sqlite/0008_audit_concerns.sql"),
        include_str!("../../../migrations/postgres/0008_audit_concerns.sql"),
    ),
    (
        9,
        "blob_index",
        include_str!("../../../migrations/sqlite/0009_blob_index.sql"),
        include_str!("../../../migrations/postgres/0009_blob_index.sql"),
    ),
    (
        10,
        "portal_attempt_ids",
        include_str!("../../../migrations/sqlite/0010_portal_attempt_ids.sql"),
        include_str!("../../../migrations/postgres/0010_portal_attempt_ids.sql"),
    ),
    (
        11,
        "known_devices",
        include_str!("../../../migrations/sqlite/0011_known_devices.sql"),
        include_str!("../../../migrations/postgres/0011_known_devices.sql"),
    ),
    (
        12,
        "colleague_notices",
        include_str!("../../../migrations/sqlite/0012_colleague_notices.sql"),
        include_str!("../../../migrations/postgres/0012_colleague_notices.sql"),
    ),
    (
        13,
        "staff_phone",
        include_str!("../../../migrations/sqlite/0013_staff_phone.sql"),
        include_str!("../../../migrations/postgres/0013_staff_phone.sql"),
    ),
    (
        14,
        "threads",
        include_str!("../../../migrations/sqlite/0014_threads.sql"),
        include_str!("../../../migrations/postgres/0014_threads.sql"),
    ),
    (
        15,
        "copies",
        include_str!("../../../migrations/sqlite/0015_copies.sql"),
        include_str!("../../../migrations/postgres/0015_copies.sql"),
    ),
    (
        16,
        "drafts",
        include_str!("../../../migrations/sqlite/0016_drafts.sql"),
        include_str!("../../../migrations/postgres/0016_drafts.sql"),
    ),
    (
        17,
        "partner_write",
        include_str!("../../../migrations/sqlite/0017_partner_write.sql"),
        include_str!("../../../migrations/postgres/0017_partner_write.sql"),
    ),
    (
        18,
        "folders",
        include_str!("../../../migrations/sqlite/0018_folders.sql"),
        include_str!("../../../migrations/postgres/0018_folders.sql"),
    ),
    (
        19,
        "admin",
        include_str!("../../../migrations/sqlite/0019_admin.sql"),
        include_str!("../../../migrations/postgres/0019_admin.sql"),
    ),
    (
        20,
        "second_factor",
        include_str!("../../../migrations/sqlite/0020_second_factor.sql"),
        include_str!("../../../migrations/postgres/0020_second_factor.sql"),
    ),
    (
        21,
        "single_sign_on",
        include_str!("../../../migrations/sqlite/0021_single_sign_on.sql"),
        include_str!("../../../migrations/postgres/0021_single_sign_on.sql"),
    ),
    (
        22,
        "held_intake",
        include_str!("../../../migrations/sqlite/0022_held_intake.sql"),
        include_str!("../../../migrations/postgres/0022_held_intake.sql"),
    ),
    (
        23,
        "html_body",
        include_str!("../../../migrations/sqlite/0023_html_body.sql"),
        include_str!("../../../migrations/postgres/0023_html_body.sql"),
    ),
    (
        24,
        "retention",
        include_str!("../../../migrations/sqlite/0024_retention.sql"),
        include_str!("../../../migrations/postgres/0024_retention.sql"),
    ),
    (
        25,
        "audit_restores",
        include_str!("../../../migrations/sqlite/0025_audit_restores.sql"),
        include_str!("../../../migrations/postgres/0025_audit_restores.sql"),
    ),
    (
        26,
        "send_hold",
        include_str!("../../../migrations/sqlite/0026_send_hold.sql"),
        include_str!("../../../migrations/postgres/0026_send_hold.sql"),
    ),
    (
        27,
        "tenants",
        include_str!("../../../migrations/sqlite/0027_tenants.sql"),
        include_str!("../../../migrations/postgres/0027_tenants.sql"),
    ),
    (
        28,
        "recipients_by_message_address",
        include_str!("../../../migrations/sqlite/0028_recipients_by_message_address.sql"),
        include_str!("../../../migrations/postgres/0028_recipients_by_message_address.sql"),
    ),
];

const CREATE_LEDGER: &str =
    "CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)";

impl Store {
    /// Applies every migration not yet applied. Safe to run from several instances at once on
    /// PostgreSQL (an advisory lock serialises them).
    pub async fn migrate(&self, now_ms: i64) -> Result<u32, StorageError> {
        let mut applied = 0;
        for &(version, name, sqlite_sql, postgres_sql) in MIGRATIONS {
            let sql = match self.pool {
                Pool::Sqlite(_) => sqlite_sql,
                Pool::Postgres(_) => postgres_sql,
            };
            let ran = with_pool!(self, |pool| {
                let mut tx = pool.begin().await?;
                if matches!(self.pool, Pool::Postgres(_)) {
                    sqlx::query("SELECT pg_advisory_xact_lock(7242001)").execute(&mut *tx).await?;
                }
                sqlx::raw_sql(CREATE_LEDGER).execute(&mut *tx).await?;
                let done: Option<(i64,)> = sqlx::query_as("SELECT version FROM schema_migrations WHERE version = $1")
                    .bind(version)
                    .fetch_optional(&mut *tx)
                    .await?;
                if done.is_none() {
                    sqlx::raw_sql(sql).execute(&mut *tx).await?;
                    sqlx::query("INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)")
                        .bind(version)
                        .bind(name)
                        .bind(now_ms)
                        .execute(&mut *tx)
                        .await?;
                }
                tx.commit().await?;
                Ok::<bool, StorageError>(done.is_none())
            })?;
            applied += u32::from(ran);
        }
        self.chain_legacy_audit().await?;
        Ok(applied)
    }
}
