-- Councils sharing one deployment (issue 21). Read from the default tenant's schema only:
-- each other tenant has a PostgreSQL schema of its own, `sealpost_tenant_<slug>`, holding the
-- same tables as the default's, owned by a login role of its own (`db_role`).
CREATE TABLE tenants (
    slug TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    db_role TEXT NOT NULL UNIQUE,
    created_at BIGINT NOT NULL
);

CREATE TABLE tenant_hosts (
    host TEXT PRIMARY KEY,
    slug TEXT NOT NULL REFERENCES tenants (slug),
    -- The order given: the first is the tenant's public address.
    position INTEGER NOT NULL
);
