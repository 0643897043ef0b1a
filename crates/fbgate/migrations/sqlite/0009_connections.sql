-- Connections for the app's own tenants and users, page tokens, and the health checks of every
-- credential.

-- Single-use tokens that let a browser start a connect flow for one (tenant, user).
CREATE TABLE connect_sessions (
    id                  TEXT PRIMARY KEY NOT NULL,
    environment_id      TEXT NOT NULL REFERENCES environments (id) ON DELETE CASCADE,
    provider_id         TEXT NOT NULL REFERENCES oauth_providers (id) ON DELETE CASCADE,
    -- SHA-256 of the token carried by the authorization URL.
    token_hash          BLOB NOT NULL UNIQUE,
    tenant_id           TEXT NOT NULL,
    -- The app's own id of its user (not an fbgate user).
    external_user_id    TEXT NOT NULL,
    -- 'user' (later also 'installation').
    flow                TEXT NOT NULL,
    redirect_to         TEXT NOT NULL,
    -- JSON array, or NULL for the provider's scopes.
    scopes              TEXT,
    created_at          TEXT NOT NULL,
    expires_at          TEXT NOT NULL,
    used_at             TEXT
);

-- One row per (provider, tenant, user): a reconnect replaces its token and keeps its id.
CREATE TABLE connections (
    id                  TEXT PRIMARY KEY NOT NULL,
    environment_id      TEXT NOT NULL REFERENCES environments (id) ON DELETE CASCADE,
    provider_id         TEXT NOT NULL REFERENCES oauth_providers (id) ON DELETE CASCADE,
    tenant_id           TEXT NOT NULL,
    external_user_id    TEXT NOT NULL,
    facebook_user_id    TEXT NOT NULL,
    created_at          TEXT NOT NULL,
    updated_at          TEXT NOT NULL
);

CREATE UNIQUE INDEX connections_one_per_user
    ON connections (environment_id, provider_id, tenant_id, external_user_id);

ALTER TABLE auth_attempts ADD COLUMN connect_session_id TEXT REFERENCES connect_sessions (id) ON DELETE CASCADE;

-- The credential's address as credentials/get names it, one string: see store/credentials.rs.
ALTER TABLE credentials ADD COLUMN owner_key TEXT;
ALTER TABLE credentials ADD COLUMN tenant_id TEXT;
-- The app's own id of the user, for tenant users and their pages.
ALTER TABLE credentials ADD COLUMN external_user_id TEXT;
ALTER TABLE credentials ADD COLUMN connection_id TEXT REFERENCES connections (id) ON DELETE CASCADE;
ALTER TABLE credentials ADD COLUMN page_id TEXT;
-- A page credential's user credential: deleting the user's removes its pages'.
ALTER TABLE credentials ADD COLUMN parent_id TEXT REFERENCES credentials (id) ON DELETE CASCADE;
-- The health job: when the next check is due, and who holds it now.
ALTER TABLE credentials ADD COLUMN next_check_at TEXT;
ALTER TABLE credentials ADD COLUMN check_lease_owner TEXT;
ALTER TABLE credentials ADD COLUMN check_lease_expires_at TEXT;

UPDATE credentials SET owner_key = 'u' || char(31) || user_id WHERE owner_kind = 'user';

CREATE UNIQUE INDEX credentials_address ON credentials (environment_id, provider_id, owner_key);
CREATE INDEX credentials_tenant ON credentials (environment_id, tenant_id) WHERE tenant_id IS NOT NULL;
CREATE INDEX credentials_connection ON credentials (connection_id) WHERE connection_id IS NOT NULL;
CREATE INDEX credentials_parent ON credentials (parent_id) WHERE parent_id IS NOT NULL;
CREATE INDEX credentials_check_due ON credentials (next_check_at);
