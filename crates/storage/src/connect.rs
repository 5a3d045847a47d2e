//! Opening the database: SQLite with the settings SECURITY G1 and E4 require (checked, not just
//! requested), or PostgreSQL.

use std::str::FromStr;
use std::time::Duration;

use sqlx::Connection;
use sqlx::postgres::PgPoolOptions;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};

use crate::{Pool, StorageError, Store, sqlite_direct};

/// The SQLite settings as read back from a live connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SqliteSettings {
    /// `PRAGMA journal_mode`, expected `wal`.
    pub journal_mode: String,
    /// `PRAGMA synchronous`, expected 2 (FULL).
    pub synchronous: i64,
    /// `PRAGMA busy_timeout` in ms, expected ≥ 5000.
    pub busy_timeout_ms: i64,
    /// `PRAGMA foreign_keys`, expected 1.
    pub foreign_keys: i64,
    /// `PRAGMA secure_delete`, expected 1.
    pub secure_delete: i64,
}

impl SqliteSettings {
    fn problems(&self) -> Vec<String> {
        let mut p = vec![];
        if self.journal_mode != "wal" {
            p.push(format!("journal_mode is {} (want wal)", self.journal_mode));
        }
        if self.synchronous != 2 {
            p.push(format!("synchronous is {} (want 2 = FULL)", self.synchronous));
        }
        if self.busy_timeout_ms < 5000 {
            p.push(format!("busy_timeout is {} ms (want ≥ 5000)", self.busy_timeout_ms));
        }
        if self.foreign_keys != 1 {
            p.push("foreign_keys is off".into());
        }
        if self.secure_delete != 1 {
            p.push("secure_delete is off".into());
        }
        p
    }
}

/// Each SQLite connection has a thread of its own in sqlx, and keeps its own page cache and
/// prepared statements. Two a core: on 2 cores, 4 connections opened the portal 4,231 times a
/// second and used 54.6 MiB after the load, where 8 managed 2,914 and used 77.4 (issue 22,
/// README Benchmarks); more threads than that only switch between each other. At least 4, so a
/// small machine's slow write never holds every reader up, and at most 16.
fn sqlite_connections() -> u32 {
    let cores = std::thread::available_parallelism().map_or(2, usize::from);
    u32::try_from(cores * 2).unwrap_or(16).clamp(4, 16)
}

/// A connection's page cache, in KiB (SQLite's default is 2,000). The operating system caches
/// the file as well, so a smaller cache costs a read call, not a disk read.
pub(crate) const SQLITE_CACHE_KIB: u32 = 512;

/// Prepared statements a connection keeps (sqlx's default is 100): the hot paths use far fewer,
/// and each kept statement holds memory on every connection.
const SQLITE_STATEMENTS: usize = 32;

impl Store {
    /// Connects to `url` (`sqlite://path` or `postgres://…`). For SQLite the file is created if
    /// missing and its settings are verified before the store is returned.
    pub async fn connect(url: &str) -> Result<Store, StorageError> {
        if url.starts_with("sqlite:") {
            let options = SqliteConnectOptions::from_str(url)
                .map_err(|_| StorageError::UnsupportedUrl)?
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Full)
                .busy_timeout(Duration::from_secs(5))
                .foreign_keys(true)
                .pragma("secure_delete", "ON");
            let options = options
                .pragma("cache_size", format!("-{SQLITE_CACHE_KIB}"))
                .statement_cache_capacity(SQLITE_STATEMENTS);
            let path = options.get_filename().to_owned();
            let pool = SqlitePoolOptions::new()
                .max_connections(sqlite_connections())
                .acquire_timeout(Duration::from_secs(10))
                // An embedded database has no connection to lose, and sqlx pings every
                // connection when it is released anyway: a second ping on acquire would only
                // add a round trip to the connection's thread to every query.
                .test_before_acquire(false)
                // When a write fails with a full disk, SQLite may roll the transaction back by
                // itself; sqlx's ROLLBACK then fails and the connection believes it is still in
                // a transaction, refusing every later BEGIN. Such a connection is closed instead
                // of being handed out again (SECURITY G6). The ping on release runs after any
                // queued rollback, so the count read here is settled.
                .before_acquire(|conn, _| Box::pin(async move { Ok(!conn.is_in_transaction()) }))
                .connect_with(options)
                .await?;
            let direct = sqlite_direct::Direct::new(path);
            let store = Store {
                pool: Pool::Sqlite(pool),
                direct: Some(std::sync::Arc::new(direct)),
            };
            let problems = store.sqlite_settings().await?.map(|s| s.problems()).unwrap_or_default();
            if !problems.is_empty() {
                return Err(StorageError::UnsafeSqlite(problems.join("; ")));
            }
            Ok(store)
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            let pool = PgPoolOptions::new()
                .max_connections(16)
                .acquire_timeout(Duration::from_secs(5))
                .connect(url)
                .await?;
            Ok(Store {
                pool: Pool::Postgres(pool),
                direct: None,
            })
        } else {
            Err(StorageError::UnsupportedUrl)
        }
    }

    /// Reads the live SQLite settings (`None` on PostgreSQL).
    pub async fn sqlite_settings(&self) -> Result<Option<SqliteSettings>, StorageError> {
        let Pool::Sqlite(pool) = &self.pool else { return Ok(None) };
        let mut conn = pool.acquire().await?;
        let journal_mode: (String,) = sqlx::query_as("PRAGMA journal_mode").fetch_one(&mut *conn).await?;
        let synchronous: (i64,) = sqlx::query_as("PRAGMA synchronous").fetch_one(&mut *conn).await?;
        let busy: (i64,) = sqlx::query_as("PRAGMA busy_timeout").fetch_one(&mut *conn).await?;
        let fk: (i64,) = sqlx::query_as("PRAGMA foreign_keys").fetch_one(&mut *conn).await?;
        let sd: (i64,) = sqlx::query_as("PRAGMA secure_delete").fetch_one(&mut *conn).await?;
        Ok(Some(SqliteSettings {
            journal_mode: journal_mode.0.to_lowercase(),
            synchronous: synchronous.0,
            busy_timeout_ms: busy.0,
            foreign_keys: fk.0,
            secure_delete: sd.0,
        }))
    }
}

impl Store {
    /// What SQLite's `integrity_check` and `foreign_key_check` find wrong, after a crash for
    /// instance (SECURITY G2); empty when all is well. PostgreSQL keeps its own integrity
    /// through its WAL and constraints, so there it checks nothing and answers empty.
    pub async fn integrity_problems(&self) -> Result<Vec<String>, StorageError> {
        let Pool::Sqlite(pool) = &self.pool else { return Ok(vec![]) };
        let mut conn = pool.acquire().await?;
        let integrity: Vec<(String,)> = sqlx::query_as("PRAGMA integrity_check").fetch_all(&mut *conn).await?;
        let mut problems: Vec<String> = integrity.into_iter().map(|r| r.0).filter(|r| r != "ok").collect();
        let orphans: Vec<(String, Option<i64>)> = sqlx::query_as("SELECT \"table\", rowid FROM pragma_foreign_key_check")
            .fetch_all(&mut *conn)
            .await?;
        problems.extend(
            orphans
                .into_iter()
                .map(|(table, row)| format!("{table} row {} breaks a foreign key", row.unwrap_or_default())),
        );
        Ok(problems)
    }
}
