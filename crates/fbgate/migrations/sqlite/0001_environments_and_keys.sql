-- Environments, their API keys, and the data keys of the vault.
-- Times are RFC 3339 text in UTC; binary values are BLOBs.

CREATE TABLE environments (
    id              TEXT PRIMARY KEY NOT NULL,
    slug            TEXT NOT NULL UNIQUE,
    name            TEXT NOT NULL,
    mode            TEXT NOT NULL CHECK (mode IN ('live', 'test')),
    -- The environment key, sealed by the master key named in master_key_id.
    key_id          TEXT NOT NULL UNIQUE,
    wrapped_key     BLOB NOT NULL,
    master_key_id   TEXT NOT NULL,
    created_at      TEXT NOT NULL
);

CREATE TABLE api_keys (
    id              TEXT PRIMARY KEY NOT NULL,
    environment_id  TEXT NOT NULL REFERENCES environments (id) ON DELETE CASCADE,
    kind            TEXT NOT NULL CHECK (kind IN ('secret', 'publishable')),
    -- The first characters of the key, shown in listings so people can tell keys apart.
    prefix          TEXT NOT NULL,
    -- SHA-256 of the whole key; the key itself is never stored.
    key_hash        BLOB NOT NULL UNIQUE,
    created_at      TEXT NOT NULL,
    revoked_at      TEXT
);

CREATE INDEX api_keys_environment ON api_keys (environment_id, created_at);

CREATE TABLE data_keys (
    id              TEXT PRIMARY KEY NOT NULL,
    environment_id  TEXT NOT NULL REFERENCES environments (id) ON DELETE CASCADE,
    -- 'environment' for the environment-wide key, 'tenant:<tenant_id>' for a tenant's own key.
    scope           TEXT NOT NULL,
    -- The data key, sealed by the environment key named in wrapping_key_id.
    wrapped_key     BLOB NOT NULL,
    wrapping_key_id TEXT NOT NULL,
    active          BOOLEAN NOT NULL,
    created_at      TEXT NOT NULL
);

CREATE UNIQUE INDEX data_keys_one_active_per_scope
    ON data_keys (environment_id, scope) WHERE active;
