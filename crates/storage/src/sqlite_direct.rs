//! SQLite's hot paths on rusqlite connections of our own (issue 22). sqlx runs each SQLite
//! connection on a thread of its own, so every statement is a hand-off to that thread and
//! back, and every return to the pool one more: on 2 cores, thread switches and wake-ups were a
//! third of an audited portal open, and under load each hand-off waited for its turn on a core.
//!
//! - **Hot reads** (the session every request starts with, the message a partner opens, the
//!   mailbox lists) run on read-only connections straight from the task that asks. A read here
//!   is a lookup by key in pages the operating system already holds: microseconds, less than
//!   one hand-off to another thread. It never waits: the connections have no busy timeout, so
//!   if SQLite cannot answer at once, or anything else goes wrong, the read answers `None` and
//!   the caller reads through the pool as before, where waiting costs a connection's thread and
//!   not the runtime's.
//! - **The audit log's group commits** run on one read-write connection of their own, on the
//!   blocking pool: a commit is one hand-off, where through sqlx it was five (begin, head,
//!   insert, commit, the ping on release). SQLite's write lock still serialises them with every
//!   other writer, and the durability settings are those of the pool (`synchronous = FULL`).
//!
//! Every other write, and every read inside a transaction, stays on the pool.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags, TransactionBehavior};
use sealpost_audit::AuditEvent;

use crate::StorageError;

/// Idle read connections kept; a read that finds none opens one, and one too many is closed
/// when it comes back.
const KEPT: usize = 16;

/// Prepared statements a connection keeps: the hot reads are a handful, and a group commit's
/// INSERT has one form for each number of events.
const STATEMENTS: usize = 64;

/// rusqlite connections to one SQLite file.
pub(crate) struct Direct {
    path: PathBuf,
    idle: Mutex<Vec<Connection>>,
    /// The audit appender's connection, opened when first needed and dropped after a failure.
    writer: Arc<Mutex<Option<Connection>>>,
}

impl std::fmt::Debug for Direct {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Direct").field("path", &self.path).finish_non_exhaustive()
    }
}

impl Direct {
    pub(crate) fn new(path: PathBuf) -> Self {
        Self {
            path,
            idle: Mutex::new(Vec::with_capacity(KEPT)),
            writer: Arc::new(Mutex::new(None)),
        }
    }

    /// Runs `read` on an idle connection, inside one read transaction so that its queries see
    /// one state of the database. `None` when SQLite could not answer at once; the caller then
    /// reads through the pool.
    pub(crate) fn read<T>(&self, read: impl FnOnce(&Connection) -> rusqlite::Result<T>) -> Option<T> {
        let taken = self.idle.lock().ok().and_then(|mut idle| idle.pop());
        let conn = match taken {
            Some(conn) => conn,
            None => match self.open_reader() {
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

    fn open_reader(&self) -> rusqlite::Result<Connection> {
        let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = Connection::open_with_flags(&self.path, flags)?;
        // No busy timeout: a locked database answers SQLITE_BUSY at once (see the module).
        conn.busy_timeout(Duration::ZERO)?;
        conn.pragma_update(None, "query_only", true)?;
        conn.pragma_update(None, "cache_size", format!("-{}", crate::connect::SQLITE_CACHE_KIB))?;
        conn.set_prepared_statement_cache_capacity(STATEMENTS);
        Ok(conn)
    }

    /// Appends `events` to the audit chain in one transaction on the appender's connection,
    /// on the blocking pool; their sequence numbers once committed.
    pub(crate) async fn append_audit(&self, events: &[AuditEvent]) -> Result<Vec<i64>, StorageError> {
        let (writer, path, events) = (Arc::clone(&self.writer), self.path.clone(), events.to_vec());
        tokio::task::spawn_blocking(move || {
            let mut slot = writer
                .lock()
                .map_err(|_| StorageError::Corrupt("the audit appender's connection"))?;
            let conn = match slot.take() {
                Some(conn) => conn,
                None => open_writer(&path)?,
            };
            let mut conn = conn;
            let seqs = append_on(&mut conn, &events);
            // A connection left inside a transaction (a failed rollback) is not used again.
            if conn.is_autocommit() {
                *slot = Some(conn);
            }
            seqs
        })
        .await
        .map_err(|_| StorageError::Corrupt("the audit appender stopped"))?
    }

    /// Closes every connection held (the pool closes its own), so that SQLite can fold the
    /// write-ahead log into the database when the last one goes.
    pub(crate) fn close(&self) {
        if let Ok(mut idle) = self.idle.lock() {
            idle.clear();
        }
        if let Ok(mut writer) = self.writer.lock() {
            writer.take();
        }
    }
}

/// The appender's connection, with the pool's durability and safety settings (SECURITY G1).
fn open_writer(path: &std::path::Path) -> Result<Connection, StorageError> {
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = Connection::open_with_flags(path, flags)?;
    conn.busy_timeout(Duration::from_secs(5))?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.pragma_update(None, "foreign_keys", true)?;
    conn.pragma_update(None, "secure_delete", true)?;
    conn.pragma_update(None, "cache_size", format!("-{}", crate::connect::SQLITE_CACHE_KIB))?;
    conn.set_prepared_statement_cache_capacity(STATEMENTS);
    let journal: String = conn.query_row("PRAGMA journal_mode", [], |r| r.get(0))?;
    if !journal.eq_ignore_ascii_case("wal") {
        return Err(StorageError::UnsafeSqlite(format!("journal_mode is {journal} (want wal)")));
    }
    Ok(conn)
}

/// What [`crate::audit::chain_audit`] does, on a rusqlite connection: under the write lock,
/// the head, the events linked after it, one INSERT for up to 500 of them, the commit.
fn append_on(conn: &mut Connection, events: &[AuditEvent]) -> Result<Vec<i64>, StorageError> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let head = {
        let mut stmt = tx.prepare_cached("SELECT seq, hash FROM audit_events ORDER BY seq DESC LIMIT 1")?;
        let mut rows = stmt.query([])?;
        rows.next()?.map(|r| Ok::<_, rusqlite::Error>((r.get(0)?, r.get(1)?))).transpose()?
    };
    let chained = crate::audit::link_after(head, events)?;
    for rows in chained.chunks(crate::audit::ROWS_PER_INSERT) {
        let mut insert = tx.prepare_cached(&crate::audit::insert_sql(rows.len(), true))?;
        let mut values: Vec<&dyn rusqlite::ToSql> = Vec::with_capacity(rows.len() * 11);
        for c in rows {
            let e = &c.event;
            values.extend([
                &c.seq as &dyn rusqlite::ToSql,
                &e.at_ms,
                &e.actor,
                &e.action,
                &e.object,
                &e.outcome,
                &e.origin.ip,
                &e.origin.user_agent,
                &e.origin.request_id,
                &c.prev_hash,
                &c.hash,
            ]);
        }
        insert.execute(rusqlite::params_from_iter(values))?;
    }
    tx.commit()?;
    Ok(chained.iter().map(|c| c.seq).collect())
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
        impl $crate::sqlite_direct::FromSqliteRow for $ty {
            fn from_sqlite_row(row: &rusqlite::Row<'_>, columns: &$crate::sqlite_direct::Columns) -> rusqlite::Result<Self> {
                Ok(Self { $($field: $crate::sqlite_direct::sqlite_row!(@field row, columns, $field $(, $flatten)?)),* })
            }
        }
    };
    (@field $row:ident, $columns:ident, $field:ident) => {
        $columns.get($row, stringify!($field))?
    };
    (@field $row:ident, $columns:ident, $field:ident, flatten) => {
        $crate::sqlite_direct::FromSqliteRow::from_sqlite_row($row, $columns)?
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
