//! Storage errors. The server maps them to HTTP once; none carries row content.

/// What can go wrong talking to the database.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    /// The database cannot be reached right now (the server answers 503 and retries later).
    #[error("database unavailable: {0}")]
    Unavailable(#[source] sqlx::Error),
    /// The disk (or the database's tablespace) is full: nothing was written (SECURITY G6).
    #[error("no space left to store this")]
    Full,
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
    /// A remote blob store (a bucket) cannot be reached right now (the server answers 503).
    #[error("blob store unavailable: {0}")]
    BlobUnavailable(String),
    /// What was asked is not possible on this backend.
    #[error("{0}")]
    Unsupported(&'static str),
    /// Any other database error.
    #[error("database error: {0}")]
    Database(#[source] sqlx::Error),
    /// An error on one of SQLite's own connections (`sqlite_direct`).
    #[error("database error: {0}")]
    Sqlite(#[source] rusqlite::Error),
}

impl From<rusqlite::Error> for StorageError {
    fn from(e: rusqlite::Error) -> Self {
        match e.sqlite_error_code() {
            Some(rusqlite::ErrorCode::DiskFull) => StorageError::Full,
            _ => StorageError::Sqlite(e),
        }
    }
}

impl From<sqlx::Error> for StorageError {
    fn from(e: sqlx::Error) -> Self {
        match &e {
            sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_) => StorageError::Unavailable(e),
            sqlx::Error::Database(db) if db.is_unique_violation() => StorageError::Duplicate,
            sqlx::Error::Database(db) if db.code().as_deref().is_some_and(is_disk_full_code) => StorageError::Full,
            _ => StorageError::Database(e),
        }
    }
}

/// SQLite's `SQLITE_FULL` (13, or an extended code built on it) and PostgreSQL's `disk_full`
/// (53100).
fn is_disk_full_code(code: &str) -> bool {
    code == "53100" || code.parse::<i64>().is_ok_and(|c| c & 0xff == 13)
}

#[cfg(test)]
mod tests {
    #[test]
    fn disk_full_codes_are_recognised_on_both_backends() {
        assert!(super::is_disk_full_code("13"));
        assert!(super::is_disk_full_code("53100"));
        assert!(!super::is_disk_full_code("19"), "a constraint failure is not a full disk");
        assert!(!super::is_disk_full_code("23505"));
    }
}
