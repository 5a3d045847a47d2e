//! Tenants (issue 21): on PostgreSQL each council's store keeps to its own schema and role, and
//! the database refuses anything else; SQLite holds one council and says so.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use sealpost_domain::{DisplayName, EmailAddress, HostName, Role, TenantSlug};
use sealpost_storage::testing::TestDatabase;
use sealpost_storage::{NewUser, StorageError, Store};

fn user(email: &str) -> NewUser {
    NewUser {
        email: EmailAddress::parse(email).unwrap(),
        display_name: DisplayName::parse("Ann Example").unwrap(),
        role: Role::Staff,
        password_hash: None,
    }
}

fn slug(s: &str) -> TenantSlug {
    TenantSlug::parse(s).unwrap()
}

fn hosts(names: &[&str]) -> Vec<HostName> {
    names.iter().map(|h| HostName::parse(h).unwrap()).collect()
}

#[tokio::test]
async fn each_tenant_store_sees_only_its_own_schema() {
    let Some(db) = TestDatabase::postgres().await.unwrap() else {
        assert!(std::env::var_os("CI").is_none(), "CI must set SEALPOST_TEST_POSTGRES_URL");
        return;
    };
    let (north_record, north_password) = db
        .store
        .add_tenant(&slug("north"), "North Council", &hosts(&["north.test", "www.north.test"]), 5)
        .await
        .unwrap();
    let (south_record, south_password) = db
        .store
        .add_tenant(&slug("south"), "South Council", &hosts(&["south.test"]), 6)
        .await
        .unwrap();
    assert!(north_record.db_role.starts_with("sealpost_tenant_north_") && north_record.db_role != south_record.db_role);
    let listed = db.store.tenants().await.unwrap();
    assert_eq!(listed, [north_record.clone(), south_record.clone()]);
    let summary: Vec<(&str, &str, Vec<&str>)> = listed
        .iter()
        .map(|t| (t.slug.as_str(), t.name.as_str(), t.hosts.iter().map(HostName::as_str).collect()))
        .collect();
    assert_eq!(
        summary,
        [
            ("north", "North Council", vec!["north.test", "www.north.test"]),
            ("south", "South Council", vec!["south.test"])
        ]
    );
    let dup_slug = db.store.add_tenant(&slug("north"), "Again", &hosts(&["other.test"]), 7).await;
    assert!(matches!(dup_slug, Err(StorageError::Duplicate)), "{dup_slug:?}");
    let dup_host = db.store.add_tenant(&slug("east"), "East", &hosts(&["south.test"]), 7).await;
    assert!(matches!(dup_host, Err(StorageError::Duplicate)), "{dup_host:?}");
    assert_eq!(db.store.tenants().await.unwrap().len(), 2, "a refused tenant leaves nothing");

    let north = Store::connect_tenant(&db.url, &north_record, &north_password).await.unwrap();
    let south = Store::connect_tenant(&db.url, &south_record, &south_password).await.unwrap();
    assert!(north.migrate(0).await.unwrap() > 0 && south.migrate(0).await.unwrap() > 0);
    north.create_user(&user("ann@north.gov.uk"), 0).await.unwrap();
    south.create_user(&user("ann@north.gov.uk"), 0).await.unwrap(); // the same address, another person
    db.store.create_user(&user("dee@default.gov.uk"), 0).await.unwrap();
    assert_eq!(north.count_users().await.unwrap(), 1);
    assert_eq!(south.count_users().await.unwrap(), 1);
    assert_eq!(db.store.count_users().await.unwrap(), 1);
    for (store, table) in [
        (&south, "sealpost_tenant_north.users"),
        (&north, "public.users"),
        (&north, "sealpost_tenant_south.users"),
    ] {
        let err = store.fetch_texts(&format!("SELECT email FROM {table}")).await.unwrap_err();
        assert!(err.to_string().contains("permission denied"), "{table}: {err}");
    }
    // Nor can a tenant's connection take another role: it logs in as its own, a member of none.
    let err = south.execute_raw(&format!("SET ROLE {}", north_record.db_role)).await.unwrap_err();
    assert!(err.to_string().contains("permission denied"), "{err}");
    assert!(north.tenants().await.unwrap().is_empty(), "a tenant's own registry is empty");
}

#[tokio::test]
async fn sqlite_holds_one_council() {
    let db = TestDatabase::sqlite().await.unwrap();
    let added = db.store.add_tenant(&slug("north"), "North", &hosts(&["north.test"]), 0).await;
    assert!(matches!(added, Err(StorageError::Unsupported(_))));
    assert!(db.store.tenants().await.unwrap().is_empty());
    let record = sealpost_storage::TenantRecord {
        slug: slug("north"),
        name: "North".into(),
        hosts: hosts(&["north.test"]),
        db_role: "sealpost_tenant_north".into(),
    };
    let password = sealpost_crypto::SecretString::from("x".to_owned());
    assert!(matches!(
        Store::connect_tenant(&db.url, &record, &password).await,
        Err(StorageError::Unsupported(_))
    ));
}
