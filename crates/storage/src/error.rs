//! Storage errors. The server maps them to HTTP once; none carries row content.

/// What can go wrong talking to the database.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    /// The database cannot be reached right now (the server answers 503 and retries later).
    #[error("database unavailable: {0}")]
    Unavailable(#[source] sqlx::Error),
    /// A uniqueness rule was broken (for example, an email address already has an account).
    #[error("already exists")]
    Duplicate,
    /// A row could not be turned back into domain types.
    #[error("corrupt row: {0}")]
    Corrupt(&'static str),
    /// The database URL is not `sqlite://…` or `postgres://…`.
    #[error("unsupported database URL: expected sqlite://… or postgres://…")]
    UnsupportedUrl,
    /// SQLite did not accept the durability and safety settings Sealpost requires (G1).
    #[error("unsafe SQLite settings: {0}")]
    UnsafeSqlite(String),
    /// The blob store failed.
    #[error("blob store: {0}")]
    Blob(String),
    /// Any other database error.
    #[error("database error: {0}")]
    Database(#[source] sqlx::Error),
}

impl From<sqlx::Error> for StorageError {
    fn from(e: sqlx::Error) -> Self {
        match &e {
            sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_) => StorageError::Unavailable(e),
            sqlx::Error::Database(db) if db.is_unique_violation() => StorageError::Duplicate,
            _ => StorageError::Database(e),
        }
    }
}
