//! SQLite's hot paths on rusqlite connections of our own (issue 22). sqlx runs each SQLite
//! connection on a thread of its own, so every statement is a hand-off to that thread and
//! back, and every return to the pool one more: on 2 cores, thread switches and wake-ups were a
//! third of an audited portal open, and under load each hand-off waited for its turn on a core.
//!
//! - **Hot reads** (the session every request starts with, the message a partner opens, the
//!   mailbox lists) run on read-only connections straight from the task that asks. A read here
//!   is a lookup by key in pages the operating system already holds: microseconds, less than
//!   one hand-off to another thread. It does not wait for a lock: the connections have no busy
//!   handler, so if the file will not open or the database is locked, the read answers `None`
//!   and the caller reads through the pool as before, where waiting costs a connection's thread
//!   and not the runtime's. (A page the operating system does not hold is still read from disk
//!   on the task's thread, and a list of 50 rows is more work there than a lookup by key.)
//! - **The audit log's group commits** run on one read-write connection of their own, on the
//!   blocking pool: a commit is one hand-off, where through sqlx it was five (begin, head,
//!   insert, commit, the ping on release). SQLite's write lock still serialises them with every
//!   other writer, and the durability settings are those of the pool (`synchronous = FULL`).
//!
//! Every other write, and every read inside a transaction, stays on the pool.

use std::cell::RefCell;
use std::collections::HashMap;
use std::path::PathBuf;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
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
    /// Set by [`Direct::close`]: nothing opens again, as nothing does on a closed pool.
    closed: Arc<AtomicBool>,
    /// Reads that went through the pool instead, for the tests.
    fallbacks: AtomicU64,
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
            closed: Arc::new(AtomicBool::new(false)),
            fallbacks: AtomicU64::new(0),
        }
    }

    /// Runs `read` on an idle connection, inside one read transaction so that its queries see
    /// one state of the database. `None` when SQLite could not answer at once (it cannot
    /// open the file, or the database is locked) or the store is closed: the caller then reads
    /// through the pool. Any other error is the answer, as it would be through the pool.
    pub(crate) fn read<T>(&self, read: impl FnOnce(&Connection) -> Result<T, StorageError>) -> Option<Result<T, StorageError>> {
        if self.closed.load(Ordering::Acquire) {
            return None;
        }
        let taken = lock(&self.idle).pop();
        let conn = match taken {
            Some(conn) => conn,
            None => match self.open_reader() {
                Ok(conn) => conn,
                Err(e) => return self.fall_back(&e.into()),
            },
        };
        let answer = in_snapshot(&conn, read);
        let mut idle = lock(&self.idle);
        if idle.len() < KEPT && conn.is_autocommit() && !self.closed.load(Ordering::Acquire) {
            idle.push(conn);
        }
        drop(idle);
        match answer {
            Err(e) if not_at_once(&e) => self.fall_back(&e),
            answer => Some(answer),
        }
    }

    fn fall_back<T>(&self, e: &StorageError) -> Option<T> {
        self.fallbacks.fetch_add(1, Ordering::Relaxed);
        tracing::debug!(error = %e, "SQLite could not answer a read at once: reading through the pool");
        None
    }

    /// Reads that went through the pool because SQLite could not answer at once.
    #[cfg(feature = "testing")]
    pub(crate) fn fallbacks(&self) -> u64 {
        self.fallbacks.load(Ordering::Relaxed)
    }

    fn open_reader(&self) -> rusqlite::Result<Connection> {
        let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = Connection::open_with_flags(&self.path, flags)?;
        // No busy handler: a locked database answers SQLITE_BUSY at once (see the module).
        conn.busy_timeout(Duration::ZERO)?;
        conn.pragma_update(None, "query_only", true)?;
        conn.pragma_update(None, "cache_size", format!("-{}", crate::connect::SQLITE_CACHE_KIB))?;
        conn.set_prepared_statement_cache_capacity(STATEMENTS);
        Ok(conn)
    }

    /// Appends `events` to the audit chain in one transaction on the appender's connection,
    /// on the blocking pool; their sequence numbers once committed.
    pub(crate) async fn append_audit(&self, events: &[AuditEvent]) -> Result<Vec<i64>, StorageError> {
        let (writer, closed, path, events) = (
            Arc::clone(&self.writer),
            Arc::clone(&self.closed),
            self.path.clone(),
            events.to_vec(),
        );
        tokio::task::spawn_blocking(move || {
            // A panic while appending dropped the connection as it unwound: the slot is empty.
            let mut slot = lock(&writer);
            if closed.load(Ordering::Acquire) {
                return Err(StorageError::Unavailable(sqlx::Error::PoolClosed));
            }
            let mut conn = match slot.take() {
                Some(conn) => conn,
                None => open_writer(&path)?,
            };
            let seqs = append_on(&mut conn, &events);
            // A connection left inside a transaction (a failed rollback) is not used again.
            if conn.is_autocommit() && !closed.load(Ordering::Acquire) {
                *slot = Some(conn);
            }
            seqs
        })
        .await
        .map_err(|_| StorageError::Unavailable(sqlx::Error::WorkerCrashed))?
    }

    /// Closes the connections held (the pool closes its own), so that SQLite can fold the
    /// write-ahead log into the database when the last one goes, and opens none again. The
    /// appender's connection goes when an append in flight ends, if one is.
    pub(crate) fn close(&self) {
        self.closed.store(true, Ordering::Release);
        lock(&self.idle).clear();
        if let Ok(mut writer) = self.writer.try_lock() {
            writer.take();
        }
    }
}

/// A mutex's contents, also after a panic while it was held: what it guards (idle
/// connections, the appender's slot) is whole between statements.
fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// SQLite could not answer at once: the file would not open, or the database is locked.
fn not_at_once(e: &StorageError) -> bool {
    matches!(e, StorageError::Sqlite(e) if matches!(
        e.sqlite_error_code(),
        Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked | rusqlite::ErrorCode::CannotOpen)
    ))
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
    // Checked, not just requested, as the pool's are (`Store::connect`).
    let journal: String = conn.query_row("PRAGMA journal_mode", [], |r| r.get(0))?;
    let synchronous: i64 = conn.query_row("PRAGMA synchronous", [], |r| r.get(0))?;
    if !journal.eq_ignore_ascii_case("wal") || synchronous != 2 {
        return Err(StorageError::UnsafeSqlite(format!(
            "the audit appender's connection has journal_mode {journal} and synchronous {synchronous} (want wal and 2 = FULL)"
        )));
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

fn in_snapshot<T>(conn: &Connection, read: impl FnOnce(&Connection) -> Result<T, StorageError>) -> Result<T, StorageError> {
    conn.prepare_cached("BEGIN")?.execute([])?;
    let answer = read(conn);
    // Ending a read transaction cannot lose anything; a connection it fails on is not kept.
    let _ = conn.prepare_cached("COMMIT").and_then(|mut commit| commit.execute([]));
    answer
}

/// A hot statement as SQLite takes it, and where its columns are.
struct Shape {
    /// The text with sqlx's `$n` placeholders written `?n`: SQLite reads `$1` as a name,
    /// numbered in order of appearance, where `?1` is position 1. Every `$` becomes `?`: none
    /// of the hot reads has a `$` of its own (in a string, say).
    sql: String,
    columns: Rc<Columns>,
}

/// The most statement shapes a thread remembers; past it, it starts again empty.
const SHAPES: usize = 64;

thread_local! {
    /// Each thread's shapes of the hot statements it has run, by their sqlx text: the same on
    /// every connection (the schema is migrated before any read, and every hot read names its
    /// columns, never `*`), so neither the placeholders nor the column names are worked out
    /// again on every query.
    static KNOWN: RefCell<HashMap<String, Rc<Shape>>> = RefCell::new(HashMap::new());
}

/// The statement `sql` (written with sqlx's `$n` placeholders) on `conn`, and where its
/// columns are.
fn prepare<'c>(conn: &'c Connection, sql: &str) -> rusqlite::Result<(rusqlite::CachedStatement<'c>, Rc<Columns>)> {
    if let Some(shape) = KNOWN.with_borrow(|known| known.get(sql).cloned()) {
        let stmt = conn.prepare_cached(&shape.sql)?;
        debug_assert_eq!(stmt.column_count(), shape.columns.0.len(), "a hot read names its columns");
        return Ok((stmt, shape.columns.clone()));
    }
    let sqlite_sql = sql.replace('$', "?");
    let stmt = conn.prepare_cached(&sqlite_sql)?;
    let columns = Rc::new(Columns::of(&stmt));
    KNOWN.with_borrow_mut(|known| {
        if known.len() >= SHAPES {
            known.clear();
        }
        let shape = Shape {
            sql: sqlite_sql,
            columns: columns.clone(),
        };
        known.insert(sql.to_owned(), Rc::new(shape));
    });
    Ok((stmt, columns))
}

/// Where each column of a statement's rows is, by name (rusqlite would compare the name with
/// every column's for each field of every row).
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

/// Every row `sql` gives for `params`, as `T`s.
pub(crate) fn all<T: FromSqliteRow>(conn: &Connection, sql: &str, params: impl rusqlite::Params) -> Result<Vec<T>, StorageError> {
    let (mut stmt, columns) = prepare(conn, sql)?;
    Ok(stmt
        .query_map(params, |row| T::from_sqlite_row(row, &columns))?
        .collect::<rusqlite::Result<_>>()?)
}

/// The first row `sql` gives for `params`, if any, as a `T`.
pub(crate) fn first<T: FromSqliteRow>(conn: &Connection, sql: &str, params: impl rusqlite::Params) -> Result<Option<T>, StorageError> {
    let (mut stmt, columns) = prepare(conn, sql)?;
    let mut rows = stmt.query(params)?;
    Ok(rows.next()?.map(|row| T::from_sqlite_row(row, &columns)).transpose()?)
}
