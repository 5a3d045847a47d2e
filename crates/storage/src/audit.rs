//! The audit log's storage (events are `sealpost_audit::AuditEvent`): an append-only hash chain
//! (SECURITY F3, F5). Every append takes the chain's single writer slot: on SQLite the write
//! lock (`BEGIN IMMEDIATE`), on PostgreSQL an advisory lock held until commit, so any number of
//! server instances share one chain. It reads the head, links the events after it and inserts
//! them with their hashes. An event that records a change is appended in that change's own
//! transaction, so the two stand or fall together. Triggers refuse UPDATE and DELETE.

use sealpost_audit::chain::{ChainedEvent, GENESIS, Hash, Head};
use sealpost_audit::{AuditEvent, Origin};

use crate::{StorageError, Store, with_pool};

/// The PostgreSQL advisory lock that serialises appends.
pub(crate) const AUDIT_LOCK: i64 = 7_242_002;

/// Begins a transaction that may append to the chain (SQLite takes the write lock at once, so
/// the head it reads cannot move before it commits).
macro_rules! begin_write {
    ($store:expr, $pool:ident) => {
        $pool.begin_with(match $store.pool {
            $crate::Pool::Sqlite(_) => "BEGIN IMMEDIATE",
            $crate::Pool::Postgres(_) => "BEGIN",
        })
    };
}
pub(crate) use begin_write;

/// Runs the conditional insert `$sql` with `$binds` in a write transaction that also holds the
/// PostgreSQL advisory lock named by `$lock` (SQLite's write lock already serialises writers),
/// and commits; evaluates to the rows inserted. How an attempt takes its place under a limit in
/// one atomic step, so N parallel attempts are never N evaluations (SECURITY A10).
macro_rules! insert_under_limit {
    ($store:expr, $lock:expr, $sql:expr, [$($bind:expr),* $(,)?]) => {
        $crate::with_pool!($store, |pool| {
            let mut tx = $crate::audit::begin_write!($store, pool).await?;
            if matches!($store.pool, $crate::Pool::Postgres(_)) {
                sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))")
                    .bind($lock)
                    .execute(&mut *tx)
                    .await?;
            }
            let done = sqlx::query($sql)$(.bind($bind))*.execute(&mut *tx).await?.rows_affected();
            tx.commit().await?;
            Ok::<_, sqlx::Error>(done)
        })
    };
}
pub(crate) use insert_under_limit;

/// Appends `$events` (`&AuditEvent`s) to the chain inside `$tx`, a transaction from
/// [`begin_write!`] that the caller commits. Evaluates to their sequence numbers.
macro_rules! chain_audit {
    ($store:expr, $tx:ident, $events:expr) => {
        async {
            if matches!($store.pool, $crate::Pool::Postgres(_)) {
                sqlx::query("SELECT pg_advisory_xact_lock($1)")
                    .bind($crate::audit::AUDIT_LOCK)
                    .execute(&mut *$tx)
                    .await?;
            }
            let head: Option<(i64, Option<Vec<u8>>)> = sqlx::query_as("SELECT seq, hash FROM audit_events ORDER BY seq DESC LIMIT 1")
                .fetch_optional(&mut *$tx)
                .await?;
            let chained = $crate::audit::link_after(head, $events)?;
            // One statement for many rows: on SQLite each statement is a trip to the
            // connection's thread, and a group commit may carry hundreds of events.
            for rows in chained.chunks($crate::audit::ROWS_PER_INSERT) {
                let sql = $crate::audit::insert_sql(rows.len(), matches!($store.pool, $crate::Pool::Sqlite(_)));
                let mut insert = sqlx::query(&sql);
                for c in rows {
                    let e = &c.event;
                    insert = insert
                        .bind(c.seq)
                        .bind(e.at_ms)
                        .bind(&e.actor)
                        .bind(&e.action)
                        .bind(&e.object)
                        .bind(&e.outcome)
                        .bind(&e.origin.ip)
                        .bind(&e.origin.user_agent)
                        .bind(&e.origin.request_id)
                        .bind(c.prev_hash.as_slice())
                        .bind(c.hash.as_slice());
                }
                insert.execute(&mut *$tx).await?;
            }
            let seqs: Vec<i64> = chained.iter().map(|c| c.seq).collect();
            Ok::<Vec<i64>, $crate::StorageError>(seqs)
        }
        .await
    };
}
pub(crate) use chain_audit;

/// Rows in one `INSERT` (11 parameters each: within SQLite's and PostgreSQL's limits).
pub(crate) const ROWS_PER_INSERT: usize = 500;

/// `INSERT INTO audit_events … VALUES (…), (…)` for `rows` rows. On SQLite the parameters are
/// plain `?`s, bound in order: SQLite looks each `$n` up by name in a list, when it prepares the
/// statement and again when sqlx binds it, so a group commit's hundreds of `$n`s cost time
/// that grew with their square (issue 22).
pub(crate) fn insert_sql(rows: usize, sqlite: bool) -> String {
    let values: Vec<String> = (0..rows)
        .map(|r| {
            let marks: Vec<String> = (1..=11)
                .map(|c| if sqlite { "?".to_owned() } else { format!("${}", r * 11 + c) })
                .collect();
            format!("({})", marks.join(", "))
        })
        .collect();
    format!("INSERT INTO audit_events ({EVENT_COLUMNS}) VALUES {}", values.join(", "))
}

/// `events` linked after the chain's newest row `head` (none: the genesis).
pub(crate) fn link_after<'a>(
    head: Option<(i64, Option<Vec<u8>>)>,
    events: impl IntoIterator<Item = &'a AuditEvent>,
) -> Result<Vec<ChainedEvent>, StorageError> {
    let (mut seq, mut hash) = head_of(head)?;
    let mut chained = Vec::new();
    for e in events {
        let c = ChainedEvent::link(e.clone(), seq, hash);
        (seq, hash) = (c.seq, c.hash);
        chained.push(c);
    }
    Ok(chained)
}

/// The chain's head from the newest row, if any.
pub(crate) fn head_of(row: Option<(i64, Option<Vec<u8>>)>) -> Result<(i64, Hash), StorageError> {
    match row {
        None => Ok((0, GENESIS)),
        Some((seq, Some(h))) => Ok((seq, hash_of(h)?)),
        Some((_, None)) => Err(StorageError::Corrupt("audit_events.hash")),
    }
}

fn hash_of(bytes: Vec<u8>) -> Result<Hash, StorageError> {
    bytes.try_into().map_err(|_| StorageError::Corrupt("audit_events.hash"))
}

pub(crate) const EVENT_COLUMNS: &str = "seq, at, actor, action, object, outcome, ip, user_agent, request_id, prev_hash, hash";

pub(crate) type Row = (
    i64,
    i64,
    String,
    String,
    Option<String>,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<Vec<u8>>,
    Option<Vec<u8>>,
);

fn event_of(row: &Row) -> AuditEvent {
    let (_, at_ms, actor, action, object, outcome, ip, user_agent, request_id, _, _) = row.clone();
    AuditEvent {
        at_ms,
        actor,
        action,
        object,
        outcome,
        origin: Origin {
            ip,
            user_agent,
            request_id,
        },
    }
}

/// A stored row as a chained event. A missing hash reads as all zeros, which never verifies.
pub(crate) fn chained_of(row: Row) -> Result<ChainedEvent, StorageError> {
    let event = event_of(&row);
    let (seq, .., prev_hash, hash) = row;
    let zeros_if_missing = |h: Option<Vec<u8>>| h.map_or(Ok(GENESIS), hash_of);
    Ok(ChainedEvent {
        seq,
        event,
        prev_hash: zeros_if_missing(prev_hash)?,
        hash: zeros_if_missing(hash)?,
    })
}

impl Store {
    /// Appends one event; returns its sequence number once committed.
    pub async fn append_audit(&self, e: &AuditEvent) -> Result<i64, StorageError> {
        let seqs = self.append_audit_batch(std::slice::from_ref(e)).await?;
        seqs.first().copied().ok_or(StorageError::Corrupt("audit_events.seq"))
    }

    /// Appends `events` in one transaction (a group commit); returns their sequence numbers.
    pub async fn append_audit_batch(&self, events: &[AuditEvent]) -> Result<Vec<i64>, StorageError> {
        if let Some(direct) = &self.direct {
            return direct.append_audit(events).await;
        }
        with_pool!(self, |pool| {
            let mut tx = begin_write!(self, pool).await?;
            let seqs = chain_audit!(self, tx, events)?;
            tx.commit().await?;
            Ok(seqs)
        })
    }

    /// Up to `limit` events after `after_seq`, in order, for the verifier and exports.
    pub async fn audit_chain_page(&self, after_seq: i64, limit: i64) -> Result<Vec<ChainedEvent>, StorageError> {
        let sql = format!("SELECT {EVENT_COLUMNS} FROM audit_events WHERE seq > $1 ORDER BY seq LIMIT $2");
        let rows: Vec<Row> = with_pool!(self, |pool| sqlx::query_as(&sql).bind(after_seq).bind(limit).fetch_all(pool).await)?;
        rows.into_iter().map(chained_of).collect()
    }

    /// The newest event's position and hash.
    pub async fn audit_head(&self) -> Result<Head, StorageError> {
        let row: Option<(i64, Option<Vec<u8>>)> = with_pool!(self, |pool| sqlx::query_as(
            "SELECT seq, hash FROM audit_events ORDER BY seq DESC LIMIT 1"
        )
        .fetch_optional(pool)
        .await)?;
        let (seq, hash) = head_of(row)?;
        Ok(Head { seq, hash })
    }

    /// The events about `object`, oldest first.
    pub async fn audit_events_for(&self, object: &str) -> Result<Vec<AuditEvent>, StorageError> {
        let sql = format!("SELECT {EVENT_COLUMNS} FROM audit_events WHERE object = $1 ORDER BY seq");
        let rows: Vec<Row> = with_pool!(self, |pool| sqlx::query_as(&sql).bind(object).fetch_all(pool).await)?;
        Ok(rows.iter().map(event_of).collect())
    }

    /// Chains the events written before the log was a chain (migration 5), once: numbered
    /// 1, 2, 3, … in their order and hashed. Returns how many there were.
    pub(crate) async fn chain_legacy_audit(&self) -> Result<usize, StorageError> {
        let sql = format!("SELECT {EVENT_COLUMNS} FROM audit_events WHERE hash IS NULL ORDER BY seq");
        with_pool!(self, |pool| {
            let mut tx = begin_write!(self, pool).await?;
            if matches!(self.pool, crate::Pool::Postgres(_)) {
                sqlx::query("SELECT pg_advisory_xact_lock($1)")
                    .bind(AUDIT_LOCK)
                    .execute(&mut *tx)
                    .await?;
            }
            let rows: Vec<Row> = sqlx::query_as(&sql).fetch_all(&mut *tx).await?;
            let (mut seq, mut hash) = (0, GENESIS);
            for row in &rows {
                let c = ChainedEvent::link(event_of(row), seq, hash);
                sqlx::query("UPDATE audit_events SET seq = $1, prev_hash = $2, hash = $3 WHERE seq = $4")
                    .bind(c.seq)
                    .bind(c.prev_hash.as_slice())
                    .bind(c.hash.as_slice())
                    .bind(row.0)
                    .execute(&mut *tx)
                    .await?;
                (seq, hash) = (c.seq, c.hash);
            }
            tx.commit().await?;
            Ok::<usize, StorageError>(rows.len())
        })
    }
}
