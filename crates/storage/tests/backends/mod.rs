//! Runs each storage contract case on both backends: SQLite always, PostgreSQL when
//! `SEALPOST_TEST_POSTGRES_URL` names a server (required under CI).

/// Declares `mod $name { fn sqlite(); fn postgres(); }`, each running `$body(store)`.
macro_rules! contract {
    ($name:ident, $body:expr) => {
        mod $name {
            use super::*;
            use sealpost_storage::testing::TestDatabase;
            #[tokio::test]
            async fn sqlite() {
                let db = TestDatabase::sqlite().await.unwrap();
                ($body)(db.store.clone()).await;
            }
            #[tokio::test]
            async fn postgres() {
                let Some(db) = TestDatabase::postgres().await.unwrap() else {
                    assert!(std::env::var_os("CI").is_none(), "CI must set SEALPOST_TEST_POSTGRES_URL");
                    eprintln!("SEALPOST_TEST_POSTGRES_URL unset: PostgreSQL case not run");
                    return;
                };
                ($body)(db.store.clone()).await;
            }
        }
    };
}
