//! Sealpost's storage: the only crate that names sqlx (and rusqlite, for SQLite's hot reads).
//!
//! One [`Store`] serves SQLite (the single-box default) and PostgreSQL (scale-out), chosen by
//! the URL scheme. Every method takes and returns domain types; the SQL is written once with
//! `$n` placeholders, which both dialects accept. Timestamps are Unix milliseconds passed in by
//! the caller, so the clock stays injectable. This crate never logs content or secrets.

mod accounts;
mod audit;
mod audit_search;
mod blobs;
mod break_glass;
mod checkpoints;
mod connect;
mod decode;
mod devices;
mod drafts;
mod error;
mod login_failures;
mod mailbox;
mod messages;
mod migrate;
mod outbox;
mod partner_write;
mod portal;
mod portal_sessions;
mod replies;
mod retention;
mod rotation;
mod search;
mod second_factor;
mod sessions;
mod setup_tokens;
mod sqlite_direct;
mod sso;
mod tenants;
#[cfg(feature = "testing")]
pub mod testing;
mod users;

pub use accounts::{AccountEmailOutcome, AccountListing, DueAccountEmail};
pub use audit_search::{AuditQuery, MessageFacts};
pub use blobs::{BlobFile, BlobReader, BlobStore, BlobWriter, DirectoryLock, S3Options, free_bytes, is_disk_full, is_unavailable};
pub use break_glass::BreakGlassGrant;
pub use connect::SqliteSettings;
pub use decode::Ciphertext;
pub use drafts::{DraftWrite, FileLimits, NewDraft, SentDraft, StoredDraft};
pub use error::StorageError;
pub use login_failures::LoginAttempt;
pub use mailbox::{PartnerOpen, Regrant};
pub use messages::{
    Bodies, MessageHeader, NewAttachment, NewMessage, NewRecipient, Shredded, StoredAttachment, StoredMessage, StoredRecipient,
    ThreadEntry, ThreadLink,
};
pub use outbox::{Bounced, Delivery, DueNotification};
pub use partner_write::{OUTSIDE_SENDER, WriteSessionRecord};
pub use portal::LinkRecord;
pub use portal_sessions::{AttemptKind, PortalAttempt, PortalCode, PortalSessionRecord};
pub use replies::{NewReply, StoredReply, ThreadActivity};
pub use retention::{LegalHold, Recall, ShredReason};
pub use rotation::{SealedColumn, SealedValue, Wrapped};
pub use search::{Listed, SealedText};
pub use sessions::{SessionRecord, SessionStage};
pub use sso::PendingSso;
pub use tenants::TenantRecord;
pub use users::{NewUser, UserRecord};

/// A connection pool to one of the two supported databases. Opaque: callers use its methods,
/// and tests the probes in `testing` (feature `testing`), never the pool.
#[derive(Clone, Debug)]
pub struct Store {
    pool: Pool,
    /// SQLite's own connections for the hot paths (`None` on PostgreSQL).
    direct: Option<std::sync::Arc<sqlite_direct::Direct>>,
}

#[derive(Clone, Debug)]
pub(crate) enum Pool {
    /// The embedded default.
    Sqlite(sqlx::SqlitePool),
    /// The scale-out database.
    Postgres(sqlx::PgPool),
}

/// Runs the same expression against whichever pool the store holds. The expression is
/// type-checked once per backend, so one SQL string serves both.
macro_rules! with_pool {
    ($store:expr, |$pool:ident| $body:expr) => {
        match &$store.pool {
            $crate::Pool::Sqlite($pool) => $body,
            $crate::Pool::Postgres($pool) => $body,
        }
    };
}
pub(crate) use with_pool;

impl Store {
    /// Which backend this is, for logs and health output.
    pub fn backend(&self) -> &'static str {
        match self.pool {
            Pool::Sqlite(_) => "sqlite",
            Pool::Postgres(_) => "postgres",
        }
    }

    /// Answers whether the database is reachable (for `/readyz`).
    pub async fn ping(&self) -> Result<(), StorageError> {
        with_pool!(self, |pool| sqlx::query("SELECT 1")
            .execute(pool)
            .await
            .map(|_| ())
            .map_err(StorageError::from))
    }

    /// Runs `read` on one of SQLite's read-only connections, on this thread; `None` on
    /// PostgreSQL, or where SQLite could not answer at once, and the caller reads through the
    /// pool (see `sqlite_direct`).
    pub(crate) fn hot_read<T>(
        &self,
        read: impl FnOnce(&rusqlite::Connection) -> Result<T, StorageError>,
    ) -> Option<Result<T, StorageError>> {
        self.direct.as_ref()?.read(read)
    }

    /// Closes the pool, waiting for connections to be returned.
    pub async fn close(&self) {
        if let Some(direct) = &self.direct {
            direct.close();
        }
        with_pool!(self, |pool| pool.close().await)
    }
}
