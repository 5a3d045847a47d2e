//! The hot reads on SQLite, on the calling thread (issue 22). sqlx runs each SQLite connection on
//! a thread of its own, so every query is a hand-off to that thread and back, and every return
//! to the pool one more: on 2 cores, thread switches and wake-ups were a third of an audited
//! portal open. The reads every request makes (the session, the message it opens) go instead
//! through read-only rusqlite connections of our own, straight from the task that asks.
//!
//! A read here is a lookup by key in pages the operating system already holds: microseconds,
//! less than one hand-off to another thread. It never waits: the connections have no busy
//! timeout, so if the database is locked for a moment (SQLite can, while a checkpoint resets
//! the write-ahead log), or anything else goes wrong, the read answers `None` and the caller
//! reads through the pool as before, where waiting costs a connection's thread and not the
//! runtime's. Writes, and reads inside a transaction, stay on the pool.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Mutex;

use rusqlite::{Connection, OpenFlags};

/// Idle connections kept; a read that finds none opens one, and one too many is closed when it
/// comes back.
const KEPT: usize = 16;

/// Prepared statements a connection keeps: the hot reads are a handful.
const STATEMENTS: usize = 16;

/// Read-only connections to one SQLite file.
pub(crate) struct Readers {
    path: PathBuf,
    idle: Mutex<Vec<Connection>>,
}

impl std::fmt::Debug for Readers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Readers").field("path", &self.path).finish_non_exhaustive()
    }
}

impl Readers {
    pub(crate) fn new(path: PathBuf) -> Self {
        Self {
            path,
            idle: Mutex::new(Vec::with_capacity(KEPT)),
        }
    }

    /// Runs `read` on an idle connection, inside one read transaction so that its queries see
    /// one state of the database. `None` when SQLite could not answer at once; the caller then
    /// reads through the pool.
    pub(crate) fn read<T>(&self, read: impl FnOnce(&Connection) -> rusqlite::Result<T>) -> Option<T> {
        let taken = self.idle.lock().ok().and_then(|mut idle| idle.pop());
        let conn = match taken {
            Some(conn) => conn,
            None => match self.open() {
                Ok(conn) => conn,
                Err(e) => {
                    tracing::debug!(error = %e, "a SQLite reader could not open; reading through the pool");
                    return None;
                }
            },
        };
        let answer = in_snapshot(&conn, read);
        if let Err(e) = &answer {
            tracing::debug!(error = %e, "a SQLite read did not answer at once; reading through the pool");
        }
        if let Ok(mut idle) = self.idle.lock()
            && idle.len() < KEPT
            && conn.is_autocommit()
        {
            idle.push(conn);
        }
        answer.ok()
    }

    fn open(&self) -> rusqlite::Result<Connection> {
        let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = Connection::open_with_flags(&self.path, flags)?;
        // No busy timeout: a locked database answers SQLITE_BUSY at once (see the module).
        conn.busy_timeout(std::time::Duration::ZERO)?;
        conn.pragma_update(None, "query_only", true)?;
        conn.pragma_update(None, "cache_size", format!("-{}", crate::connect::SQLITE_CACHE_KIB))?;
        conn.set_prepared_statement_cache_capacity(STATEMENTS);
        Ok(conn)
    }
}

fn in_snapshot<T>(conn: &Connection, read: impl FnOnce(&Connection) -> rusqlite::Result<T>) -> rusqlite::Result<T> {
    conn.prepare_cached("BEGIN")?.execute([])?;
    let answer = read(conn);
    // Ending a read transaction cannot lose anything; a connection it fails on is not kept.
    let _ = conn.prepare_cached("COMMIT").and_then(|mut commit| commit.execute([]));
    answer
}

/// The statement `sql`, written with sqlx's `$n` placeholders, ready to bind by position
/// (SQLite reads `$1` as a name, numbered in order of appearance, where `?1` is position 1).
pub(crate) fn prepare<'c>(conn: &'c Connection, sql: &str) -> rusqlite::Result<rusqlite::CachedStatement<'c>> {
    conn.prepare_cached(&sql.replace('$', "?"))
}

/// Where each column of a statement's rows is, by name: looked up once a query, not once a
/// field of every row (rusqlite compares the name with every column's each time).
pub(crate) struct Columns(HashMap<String, usize>);

impl Columns {
    fn of(stmt: &rusqlite::Statement<'_>) -> Self {
        Self(
            stmt.column_names()
                .into_iter()
                .enumerate()
                .map(|(i, name)| (name.to_owned(), i))
                .collect(),
        )
    }

    /// Column `name` of `row`.
    pub(crate) fn get<T: rusqlite::types::FromSql>(&self, row: &rusqlite::Row<'_>, name: &str) -> rusqlite::Result<T> {
        let at = self
            .0
            .get(name)
            .ok_or_else(|| rusqlite::Error::InvalidColumnName(name.to_owned()))?;
        row.get(*at)
    }
}

/// A row struct read from a rusqlite row by column name, as sqlx's `FromRow` reads it.
pub(crate) trait FromSqliteRow: Sized {
    fn from_sqlite_row(row: &rusqlite::Row<'_>, columns: &Columns) -> rusqlite::Result<Self>;
}

/// Implements [`FromSqliteRow`] for a struct that derives `sqlx::FromRow`: each field from the
/// column of its name, and a field marked `flatten` from the same row, as `#[sqlx(flatten)]`.
/// A field left out of the list does not compile.
macro_rules! sqlite_row {
    ($ty:ty { $($field:ident $(: $flatten:ident)?),* $(,)? }) => {
        impl $crate::sqlite_reads::FromSqliteRow for $ty {
            fn from_sqlite_row(row: &rusqlite::Row<'_>, columns: &$crate::sqlite_reads::Columns) -> rusqlite::Result<Self> {
                Ok(Self { $($field: $crate::sqlite_reads::sqlite_row!(@field row, columns, $field $(, $flatten)?)),* })
            }
        }
    };
    (@field $row:ident, $columns:ident, $field:ident) => {
        $columns.get($row, stringify!($field))?
    };
    (@field $row:ident, $columns:ident, $field:ident, flatten) => {
        $crate::sqlite_reads::FromSqliteRow::from_sqlite_row($row, $columns)?
    };
}
pub(crate) use sqlite_row;

/// Every row `stmt` gives for `params`, as `T`s.
pub(crate) fn all<T: FromSqliteRow>(stmt: &mut rusqlite::CachedStatement<'_>, params: impl rusqlite::Params) -> rusqlite::Result<Vec<T>> {
    let columns = Columns::of(stmt);
    stmt.query_map(params, |row| T::from_sqlite_row(row, &columns))?.collect()
}

/// The first row `stmt` gives for `params`, if any, as a `T`.
pub(crate) fn first<T: FromSqliteRow>(
    stmt: &mut rusqlite::CachedStatement<'_>,
    params: impl rusqlite::Params,
) -> rusqlite::Result<Option<T>> {
    let columns = Columns::of(stmt);
    let mut rows = stmt.query(params)?;
    rows.next()?.map(|row| T::from_sqlite_row(row, &columns)).transpose()
}
