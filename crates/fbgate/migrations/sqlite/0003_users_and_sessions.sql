-- Users, their Facebook identities, sessions, and the keys that sign session JWTs.

CREATE TABLE users (
    id                  TEXT PRIMARY KEY NOT NULL,
    environment_id      TEXT NOT NULL REFERENCES environments (id) ON DELETE CASCADE,
    email               TEXT,
    first_name          TEXT,
    last_name           TEXT,
    name                TEXT,
    profile_image_url   TEXT,
    -- 'facebook' (created by a sign-in) or 'api' (created by POST /v1/users).
    created_via         TEXT NOT NULL CHECK (created_via IN ('facebook', 'api')),
    created_at          TEXT NOT NULL,
    updated_at          TEXT NOT NULL,
    last_sign_in_at     TEXT
);

CREATE INDEX users_environment ON users (environment_id, created_at, id);
CREATE INDEX users_email ON users (environment_id, email);

CREATE TABLE identities (
    id                  TEXT PRIMARY KEY NOT NULL,
    environment_id      TEXT NOT NULL REFERENCES environments (id) ON DELETE CASCADE,
    user_id             TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    provider_id         TEXT NOT NULL REFERENCES oauth_providers (id) ON DELETE CASCADE,
    -- Facebook's app-scoped user id.
    provider_user_id    TEXT NOT NULL,
    -- The raw /me answer, as JSON text.
    raw_profile         TEXT NOT NULL,
    granted_scopes      TEXT NOT NULL,
    declined_scopes     TEXT NOT NULL,
    linked_at           TEXT NOT NULL,
    synced_at           TEXT NOT NULL,
    UNIQUE (provider_id, provider_user_id),
    UNIQUE (user_id, provider_id)
);

CREATE TABLE sessions (
    id                  TEXT PRIMARY KEY NOT NULL,
    environment_id      TEXT NOT NULL REFERENCES environments (id) ON DELETE CASCADE,
    user_id             TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    -- SHA-256 of the session token; the token itself is never stored.
    token_hash          BLOB NOT NULL UNIQUE,
    created_at          TEXT NOT NULL,
    expires_at          TEXT NOT NULL,
    revoked_at          TEXT
);

CREATE INDEX sessions_user ON sessions (user_id);

CREATE TABLE signing_keys (
    -- The JWS `kid`.
    id                  TEXT PRIMARY KEY NOT NULL,
    environment_id      TEXT NOT NULL REFERENCES environments (id) ON DELETE CASCADE,
    algorithm           TEXT NOT NULL,
    -- PKCS#8 private key sealed by the vault.
    private_key         BLOB NOT NULL,
    -- The public key as a JWK (JSON text).
    public_jwk          TEXT NOT NULL,
    active              BOOLEAN NOT NULL,
    created_at          TEXT NOT NULL
);

CREATE UNIQUE INDEX signing_keys_one_active ON signing_keys (environment_id) WHERE active;
