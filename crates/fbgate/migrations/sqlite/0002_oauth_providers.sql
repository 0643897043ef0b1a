-- OAuth providers: the Facebook apps an environment signs users in with.
-- The client secret is a vault envelope (BLOB); list-valued settings are JSON text, so both
-- engines store them the same way. Times are RFC 3339 text in UTC.

CREATE TABLE oauth_providers (
    id                          TEXT PRIMARY KEY NOT NULL,
    environment_id              TEXT NOT NULL REFERENCES environments (id) ON DELETE CASCADE,
    -- Names the provider in URLs (`/v1/oauth-callback/{slug}`); unique per environment.
    slug                        TEXT NOT NULL,
    provider_kind               TEXT NOT NULL,
    provider_key                TEXT NOT NULL,
    name                        TEXT NOT NULL,
    client_id                   TEXT NOT NULL,
    -- Sealed by the environment's data key, bound to (environment, provider id).
    client_secret_ciphertext    BLOB NOT NULL,
    -- JSON arrays / object.
    scopes                      TEXT NOT NULL,
    attribute_mapping           TEXT NOT NULL,
    enabled_for                 TEXT NOT NULL,
    allowed_redirect_urls       TEXT NOT NULL,
    login_product               TEXT NOT NULL,
    config_id                   TEXT,
    token_type                  TEXT NOT NULL,
    allow_sign_up               BOOLEAN NOT NULL,
    sync_profile                TEXT NOT NULL,
    email_required              BOOLEAN NOT NULL DEFAULT TRUE,
    revoke_on_unlink            BOOLEAN NOT NULL DEFAULT FALSE,
    graph_api_version           TEXT NOT NULL,
    -- NULL means the real Facebook.
    facebook_base_url           TEXT,
    graph_base_url              TEXT,
    created_at                  TEXT NOT NULL,
    updated_at                  TEXT NOT NULL
);

CREATE UNIQUE INDEX oauth_providers_slug ON oauth_providers (environment_id, slug);
CREATE INDEX oauth_providers_listing ON oauth_providers (environment_id, created_at, id);
