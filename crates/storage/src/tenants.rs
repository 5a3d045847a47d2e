//! Councils sharing one deployment (issue 21), on PostgreSQL. The default tenant lives in the
//! database's own schema, as a single council always has. Every other tenant has a schema,
//! `sealpost_tenant_<slug>`, owned by a login role of its own, and its connections log in as
//! that role with `search_path` set to that schema. The role owns its schema and nothing else
//! and is a member of no other role, so isolation holds in the database as well as in the
//! code: a tenant's connection cannot read another tenant's schema or the default's tables,
//! cannot take another role, and a query that names no schema finds only its own tables.
//!
//! The registry (`tenants`, `tenant_hosts`) is read from the default tenant's schema. SQLite
//! stays single-tenant.

use std::str::FromStr;
use std::time::Duration;

use sealpost_crypto::{ExposeSecret, SecretString, Token};
use sealpost_domain::{HostName, TenantSlug};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};

use crate::{Pool, StorageError, Store};

/// A tenant as registered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TenantRecord {
    /// Its short name.
    pub slug: TenantSlug,
    /// The council's name, shown on its pages.
    pub name: String,
    /// The host names it answers on; the first is its public address.
    pub hosts: Vec<HostName>,
    /// The PostgreSQL role its connections log in as.
    pub db_role: String,
}

const ONE_COUNCIL: &str = "tenants need PostgreSQL; SQLite holds one council";

/// The schema of a tenant.
fn schema(slug: &TenantSlug) -> String {
    format!("sealpost_tenant_{slug}")
}

impl Store {
    /// Every registered tenant, by slug, with its host names in the order given (empty on
    /// SQLite).
    pub async fn tenants(&self) -> Result<Vec<TenantRecord>, StorageError> {
        let Pool::Postgres(pool) = &self.pool else { return Ok(vec![]) };
        let rows: Vec<(String, String, String, Option<String>)> = sqlx::query_as(
            "SELECT t.slug, t.name, t.db_role, h.host FROM tenants t LEFT JOIN tenant_hosts h ON h.slug = t.slug \
             ORDER BY t.slug, h.position",
        )
        .fetch_all(pool)
        .await?;
        let mut tenants: Vec<TenantRecord> = vec![];
        for (slug, name, db_role, host) in rows {
            let slug = TenantSlug::parse(&slug).map_err(|_| StorageError::Corrupt("a tenant slug"))?;
            if tenants.last().is_none_or(|t| t.slug != slug) {
                tenants.push(TenantRecord {
                    slug,
                    name,
                    hosts: vec![],
                    db_role,
                });
            }
            if let (Some(host), Some(tenant)) = (host, tenants.last_mut()) {
                tenant
                    .hosts
                    .push(HostName::parse(&host).map_err(|_| StorageError::Corrupt("a tenant host"))?);
            }
        }
        Ok(tenants)
    }

    /// Registers a tenant and makes its login role (with a new random password, returned)
    /// and its schema, all in one transaction (PostgreSQL only). The role's name is the
    /// schema's with a tag of this database, since roles belong to the whole server. The caller
    /// keeps the password (with the tenant's keys) and migrates [`Store::connect_tenant`]'s
    /// store. `Duplicate` when the slug, a host name or the role is taken. The connecting role
    /// needs `CREATEROLE`; it is not left a member of the new role.
    pub async fn add_tenant(
        &self,
        slug: &TenantSlug,
        name: &str,
        hosts: &[HostName],
        now_ms: i64,
    ) -> Result<(TenantRecord, SecretString), StorageError> {
        let Pool::Postgres(pool) = &self.pool else {
            return Err(StorageError::Unsupported(ONE_COUNCIL));
        };
        let schema = schema(slug);
        let password = Token::generate()
            .map_err(|_| StorageError::Corrupt("the system's random source"))?
            .expose_hex();
        let mut tx = pool.begin().await?;
        let (db_role,): (String,) = sqlx::query_as("SELECT $1 || '_' || substr(md5(current_database()), 1, 8)")
            .bind(&schema)
            .fetch_one(&mut *tx)
            .await?;
        sqlx::query("INSERT INTO tenants (slug, name, db_role, created_at) VALUES ($1, $2, $3, $4)")
            .bind(slug.as_str())
            .bind(name)
            .bind(&db_role)
            .bind(now_ms)
            .execute(&mut *tx)
            .await?;
        for (position, host) in (0i32..).zip(hosts) {
            sqlx::query("INSERT INTO tenant_hosts (host, slug, position) VALUES ($1, $2, $3)")
                .bind(host.as_str())
                .bind(slug.as_str())
                .bind(position)
                .execute(&mut *tx)
                .await?;
        }
        // The names are made of a checked slug and hex digits, and the password of hex digits:
        // nothing here can break out of an identifier or a literal.
        let ddl = format!(
            "CREATE ROLE {db_role} LOGIN PASSWORD '{password}'; \
             GRANT {db_role} TO CURRENT_USER; \
             CREATE SCHEMA {schema} AUTHORIZATION {db_role}; \
             REVOKE {db_role} FROM CURRENT_USER"
        );
        sqlx::raw_sql(&ddl)
            .execute(&mut *tx)
            .await
            .map_err(|e| match StorageError::from(e) {
                StorageError::Database(e) if e.as_database_error().and_then(|d| d.code()).as_deref() == Some("42710") => {
                    StorageError::Duplicate
                }
                other => other,
            })?;
        tx.commit().await?;
        let record = TenantRecord {
            slug: slug.clone(),
            name: name.to_owned(),
            hosts: hosts.to_vec(),
            db_role,
        };
        Ok((record, SecretString::from(password)))
    }

    /// A store for `tenant` on the PostgreSQL server at `url`: its connections log in as the
    /// tenant's role with `password`, and find only the tenant's schema.
    pub async fn connect_tenant(url: &str, tenant: &TenantRecord, password: &SecretString) -> Result<Store, StorageError> {
        if !(url.starts_with("postgres:") || url.starts_with("postgresql:")) {
            return Err(StorageError::Unsupported(ONE_COUNCIL));
        }
        let options = PgConnectOptions::from_str(url)
            .map_err(|_| StorageError::UnsupportedUrl)?
            .username(&tenant.db_role)
            .password(password.expose_secret())
            .options([("search_path", schema(&tenant.slug))]);
        let pool = PgPoolOptions::new()
            .max_connections(8)
            .acquire_timeout(Duration::from_secs(5))
            .connect_with(options)
            .await?;
        Ok(Store {
            pool: Pool::Postgres(pool),
            direct: None,
        })
    }
}
