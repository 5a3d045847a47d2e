//! Test support (feature `testing`): a fresh, empty, migrated database per test, on SQLite
//! always and on PostgreSQL when `SEALPOST_TEST_POSTGRES_URL` names a server.

use std::collections::HashMap;
use std::sync::Mutex;

use sealpost_crypto::{Binding, EscrowRecipient, Keyring, MessageKey, ObjectKind, Sealed, WrappedKey, generate_key_pair};
use sqlx::Connection;

use crate::{Pool, StorageError, Store};

/// A throw-away database. The SQLite file lives in a temp dir removed on drop; PostgreSQL
/// databases are named `sealpost_test_…` (the test command drops leftovers before a run).
pub struct TestDatabase {
    /// The migrated store.
    pub store: Store,
    /// The URL it was opened with.
    pub url: String,
    /// Keeps the SQLite directory alive.
    pub dir: Option<tempfile_dir::Dir>,
}

/// The directory guard type, re-exported so callers need not name the temp-file crate.
pub mod tempfile_dir {
    pub use tempfile::TempDir as Dir;
}

impl TestDatabase {
    /// A fresh SQLite database in a new temp directory.
    pub async fn sqlite() -> Result<Self, StorageError> {
        let dir = tempfile::tempdir().map_err(|e| StorageError::Database(sqlx::Error::Io(e)))?;
        let url = format!("sqlite://{}", dir.path().join("test.db").display());
        let store = Store::connect(&url).await?;
        store.migrate(0).await?;
        Ok(Self {
            store,
            url,
            dir: Some(dir),
        })
    }

    /// A fresh PostgreSQL database, or `None` when `SEALPOST_TEST_POSTGRES_URL` is unset.
    pub async fn postgres() -> Result<Option<Self>, StorageError> {
        let Ok(admin_url) = std::env::var("SEALPOST_TEST_POSTGRES_URL") else {
            return Ok(None);
        };
        let name = format!("sealpost_test_{}", uuid::Uuid::new_v4().simple());
        let mut admin = sqlx::PgConnection::connect(&admin_url).await?;
        sqlx::query(&format!("CREATE DATABASE {name}")).execute(&mut admin).await?;
        admin.close().await?;
        let url = with_database(&admin_url, &name);
        let store = Store::connect(&url).await?;
        store.migrate(0).await?;
        Ok(Some(Self { store, url, dir: None }))
    }
}

impl Store {
    /// How many of SQLite's hot reads went through the pool because SQLite could not answer
    /// at once (0 on PostgreSQL).
    pub fn hot_read_fallbacks(&self) -> u64 {
        self.direct.as_ref().map_or(0, |d| d.fallbacks())
    }

    /// This store with SQLite's own connections pointed at a file that is not there, so that
    /// each hot read fails to open and is read through the pool instead, as when SQLite cannot
    /// answer at once (`sqlite_direct`); an audit append fails. The same store on PostgreSQL,
    /// which has no such connections.
    pub fn with_failing_hot_reads(&self) -> Store {
        Store {
            pool: self.pool.clone(),
            direct: self
                .direct
                .as_ref()
                .map(|_| std::sync::Arc::new(crate::sqlite_direct::Direct::new("/nonexistent/sealpost.db".into()))),
        }
    }
}

/// `text`, really sealed (with a throw-away message key), for contract tests that store
/// content. The same text gives the same value throughout a run, so what is read back can be
/// compared with it.
#[expect(clippy::expect_used, reason = "test support: sealing with a fresh key cannot fail")]
pub fn sealed(text: &str) -> Sealed {
    static SEALED: Mutex<Option<HashMap<String, Sealed>>> = Mutex::new(None);
    let mut cache = SEALED.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    cache
        .get_or_insert_with(HashMap::new)
        .entry(text.to_owned())
        .or_insert_with(|| {
            let key = MessageKey::generate();
            key.seal(Binding::new(ObjectKind::Body, uuid::Uuid::nil()), text.as_bytes())
                .expect("sealing with a fresh key")
        })
        .clone()
}

/// A message key really wrapped to a throw-away master key, for contract tests.
#[expect(clippy::expect_used, reason = "test support: fresh keys always parse and wrap")]
pub fn wrapped_key() -> WrappedKey {
    let (master, escrow) = (generate_key_pair(), generate_key_pair());
    let escrow = EscrowRecipient::parse(&escrow.recipient).expect("a fresh recipient parses");
    let keyring = Keyring::from_identity_file(&master.identity, escrow).expect("a fresh identity parses");
    keyring
        .wrap(&MessageKey::generate(), uuid::Uuid::nil())
        .expect("wrapping with a fresh key")
}

/// Replaces the database name in a PostgreSQL URL, keeping any `?query`.
fn with_database(url: &str, name: &str) -> String {
    let (base, query) = url.split_once('?').map_or((url, None), |(b, q)| (b, Some(q)));
    let authority_end = base.find("://").map_or(0, |i| i + 3);
    let root = match base[authority_end..].find('/') {
        Some(slash) => &base[..authority_end + slash],
        None => base,
    };
    match query {
        Some(q) => format!("{root}/{name}?{q}"),
        None => format!("{root}/{name}"),
    }
}

/// Probes for tests: what someone with direct database access would do, so a test can damage,
/// age or read back what is stored without naming the database driver.
impl Store {
    /// Runs `sql` (one or more statements, as one script on one connection).
    pub async fn execute_raw(&self, sql: &str) -> Result<(), StorageError> {
        crate::with_pool!(self, |pool| sqlx::raw_sql(sql).execute(pool).await.map(|_| ()))?;
        Ok(())
    }

    /// SQLite's plan (`EXPLAIN QUERY PLAN`'s lines, joined) for each read that finds a partner's
    /// message by message and address: the conversation of a partner's open, and a message
    /// opened from another message's session. `None` on PostgreSQL.
    pub async fn partner_address_plans(&self) -> Result<Option<Vec<String>>, StorageError> {
        let Pool::Sqlite(pool) = &self.pool else { return Ok(None) };
        let plan = |rows: Vec<(i64, i64, i64, String)>| rows.into_iter().map(|r| r.3).collect::<Vec<_>>().join("; ");
        let thread = sqlx::query_as(&format!("EXPLAIN QUERY PLAN {}", crate::messages::THREAD_FOR_ADDRESS))
            .bind("thread")
            .bind("partner@police.example.uk")
            .bind(0_i64)
            .fetch_all(pool)
            .await?;
        let link = sqlx::query_as(&format!("EXPLAIN QUERY PLAN {}", crate::portal::link_for_address_sql()))
            .bind("partner@police.example.uk")
            .bind("message")
            .fetch_all(pool)
            .await?;
        Ok(Some(vec![plan(thread), plan(link)]))
    }

    /// The first column, as text, of every row `sql` selects.
    pub async fn fetch_texts(&self, sql: &str) -> Result<Vec<String>, StorageError> {
        Ok(crate::with_pool!(self, |pool| sqlx::query_scalar(sql).fetch_all(pool).await)?)
    }

    /// The first column, as bytes, of every row `sql` selects (`NULL` left out).
    pub async fn fetch_bytes(&self, sql: &str) -> Result<Vec<Vec<u8>>, StorageError> {
        let rows: Vec<Option<Vec<u8>>> = crate::with_pool!(self, |pool| sqlx::query_scalar(sql).fetch_all(pool).await)?;
        Ok(rows.into_iter().flatten().collect())
    }
}

/// The audit log's secondary indexes as dropped by [`Store::drop_audit_indexes`]: the statements
/// that build them again.
#[must_use = "the indexes are gone until these are run with Store::restore_audit_indexes"]
pub struct DroppedIndexes(Vec<String>);

impl Store {
    /// Drops the audit log's secondary indexes, so a bulk load appends to the table alone: a
    /// benchmark filling ten million events would otherwise spend hours on random index
    /// inserts. Run [`Store::restore_audit_indexes`] after the load.
    pub async fn drop_audit_indexes(&self) -> Result<DroppedIndexes, StorageError> {
        let catalog = match self.pool {
            Pool::Sqlite(_) => "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'audit_events' AND sql IS NOT NULL",
            Pool::Postgres(_) => {
                "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'audit_events' AND indexdef NOT LIKE 'CREATE UNIQUE%'"
            }
        };
        crate::with_pool!(self, |pool| {
            let indexes: Vec<(String, String)> = sqlx::query_as(catalog).fetch_all(pool).await?;
            for (name, _) in &indexes {
                sqlx::query(&format!("DROP INDEX {name}")).execute(pool).await?;
            }
            Ok(DroppedIndexes(indexes.into_iter().map(|(_, ddl)| ddl).collect()))
        })
    }

    /// Builds again the indexes [`Store::drop_audit_indexes`] dropped (each in one sort), and
    /// on PostgreSQL gathers the table's statistics.
    pub async fn restore_audit_indexes(&self, dropped: DroppedIndexes) -> Result<(), StorageError> {
        crate::with_pool!(self, |pool| {
            let mut conn = pool.acquire().await?;
            if matches!(self.pool, Pool::Sqlite(_)) {
                // Room for each index's sort in memory.
                sqlx::query("PRAGMA cache_size = -1048576").execute(&mut *conn).await?;
            }
            for ddl in &dropped.0 {
                sqlx::query(ddl).execute(&mut *conn).await?;
            }
            if matches!(self.pool, Pool::Postgres(_)) {
                // What autovacuum would have done by now: without statistics, PostgreSQL
                // guesses a person has 100,000 events and plans a parallel scan (70 ms
                // instead of under 1 ms at ten million events).
                sqlx::query("ANALYZE audit_events").execute(&mut *conn).await?;
            }
            Ok(())
        })
    }
}

/// A real S3-compatible server for tests: `s3s-fs` (it speaks S3 over HTTP and keeps each
/// bucket as a directory of plain files, so a test can look at what was stored), started on a
/// free port of 127.0.0.1 with one bucket, `sealpost`. The binary is named by
/// `SEALPOST_TEST_S3S_FS`; the test command installs it and sets that. Stopped on drop.
pub struct TestS3 {
    binary: std::path::PathBuf,
    /// The server's root: `<root>/sealpost/…` holds the bucket's objects.
    pub root: tempfile::TempDir,
    port: u16,
    child: Option<std::process::Child>,
}

/// The keys `TestS3` requires of every request.
const TEST_S3_KEYS: (&str, &str) = ("sealpost-test", "sealpost-test-secret");

impl TestS3 {
    /// Starts a server, or `None` when `SEALPOST_TEST_S3S_FS` is unset (never under CI, where
    /// the test command sets it).
    pub async fn start() -> Option<Self> {
        let Some(binary) = std::env::var_os("SEALPOST_TEST_S3S_FS") else {
            assert!(std::env::var_os("CI").is_none(), "CI must set SEALPOST_TEST_S3S_FS");
            return None;
        };
        let binary = std::path::PathBuf::from(binary);
        let root = tempfile::tempdir().ok()?;
        std::fs::create_dir(root.path().join("sealpost")).ok()?;
        let port = std::net::TcpListener::bind("127.0.0.1:0").ok()?.local_addr().ok()?.port();
        let mut s3 = Self {
            binary,
            root,
            port,
            child: None,
        };
        s3.resume().await;
        Some(s3)
    }

    /// The blob store URL of the bucket, under `prefix`.
    pub fn url(&self, prefix: &str) -> String {
        format!("s3://sealpost/{prefix}")
    }

    /// The endpoint and keys a client needs.
    pub fn options(&self) -> crate::S3Options {
        crate::S3Options {
            endpoint: Some(self.endpoint()),
            keys: Some((TEST_S3_KEYS.0.to_owned(), TEST_S3_KEYS.1.to_owned())),
        }
    }

    /// `http://127.0.0.1:<port>`.
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// A blob store on the bucket, under `prefix`.
    #[expect(clippy::expect_used, reason = "test support: the URL is well formed")]
    pub fn blob_store(&self, prefix: &str) -> crate::BlobStore {
        crate::BlobStore::from_url(&self.url(prefix), &self.options()).expect("an S3 blob store")
    }

    /// Kills the server (as an outage would).
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts the server again on the same port and directory, and waits until it answers.
    #[expect(clippy::expect_used, reason = "test support: a server that cannot start fails the test")]
    pub async fn resume(&mut self) {
        self.stop();
        let child = std::process::Command::new(&self.binary)
            .args(["--host", "127.0.0.1", "--port", &self.port.to_string()])
            .args(["--access-key", TEST_S3_KEYS.0, "--secret-key", TEST_S3_KEYS.1])
            .arg(self.root.path())
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("starting s3s-fs (SEALPOST_TEST_S3S_FS)");
        self.child = Some(child);
        let address = std::net::SocketAddr::from(([127, 0, 0, 1], self.port));
        for _ in 0..200 {
            if tokio::net::TcpStream::connect(address).await.is_ok() {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(25)).await;
        }
        panic!("s3s-fs did not answer on {address} within 5 s");
    }
}

impl Drop for TestS3 {
    fn drop(&mut self) {
        self.stop();
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_database_name_is_swapped_in_any_url_form() {
        assert_eq!(super::with_database("postgres://u@h:5432/postgres", "x"), "postgres://u@h:5432/x");
        assert_eq!(super::with_database("postgres://u@h:5432", "x"), "postgres://u@h:5432/x");
        assert_eq!(
            super::with_database("postgres://u@h/db?sslmode=disable", "x"),
            "postgres://u@h/x?sslmode=disable"
        );
    }
}
