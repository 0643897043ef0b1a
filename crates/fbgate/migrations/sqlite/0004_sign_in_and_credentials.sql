-- Browser flows in progress, one-time sign-in codes, and the encrypted Facebook credentials.

CREATE TABLE auth_attempts (
    id                  TEXT PRIMARY KEY NOT NULL,
    environment_id      TEXT NOT NULL REFERENCES environments (id) ON DELETE CASCADE,
    provider_id         TEXT NOT NULL REFERENCES oauth_providers (id) ON DELETE CASCADE,
    -- SHA-256 of the `state` sent to Facebook; the state itself is never stored.
    state_hash          BLOB NOT NULL UNIQUE,
    -- SHA-256 of the value of the browser-binding cookie.
    browser_hash        BLOB NOT NULL,
    -- 'sign_in', 'link' or 'connect'.
    flow                TEXT NOT NULL,
    -- The PKCE verifier, sealed by the vault.
    pkce_verifier       BLOB NOT NULL,
    redirect_to         TEXT NOT NULL,
    -- For flow 'link': the user the identity joins.
    user_id             TEXT,
    scopes              TEXT NOT NULL,
    created_at          TEXT NOT NULL,
    expires_at          TEXT NOT NULL,
    used_at             TEXT
);

CREATE TABLE sign_in_codes (
    -- SHA-256 of the one-time code handed to the app's redirect_to.
    code_hash           BLOB PRIMARY KEY NOT NULL,
    environment_id      TEXT NOT NULL REFERENCES environments (id) ON DELETE CASCADE,
    user_id             TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    identity_id         TEXT NOT NULL REFERENCES identities (id) ON DELETE CASCADE,
    is_new_user         BOOLEAN NOT NULL,
    created_at          TEXT NOT NULL,
    expires_at          TEXT NOT NULL,
    used_at             TEXT
);

CREATE TABLE credentials (
    id                      TEXT PRIMARY KEY NOT NULL,
    environment_id          TEXT NOT NULL REFERENCES environments (id) ON DELETE CASCADE,
    provider_id             TEXT NOT NULL REFERENCES oauth_providers (id) ON DELETE CASCADE,
    -- 'user' (an fbgate user's identity), later also tenant users, installations and pages.
    owner_kind              TEXT NOT NULL,
    user_id                 TEXT REFERENCES users (id) ON DELETE CASCADE,
    identity_id             TEXT REFERENCES identities (id) ON DELETE CASCADE,
    -- The Facebook user (or page, or system user) the token acts as.
    facebook_id             TEXT NOT NULL,
    -- The token, sealed by the vault; its AAD names this row and version.
    token_ciphertext        BLOB NOT NULL,
    -- 'environment' or 'tenant:<id>': which data key sealed the token.
    key_scope               TEXT NOT NULL,
    token_type              TEXT NOT NULL,
    issued_at               TEXT NOT NULL,
    expires_at              TEXT,
    data_access_expires_at  TEXT,
    scopes                  TEXT NOT NULL,
    status                  TEXT NOT NULL,
    status_reason           TEXT,
    last_checked_at         TEXT,
    version                 INTEGER NOT NULL,
    created_at              TEXT NOT NULL,
    updated_at              TEXT NOT NULL
);

CREATE UNIQUE INDEX credentials_one_per_identity ON credentials (identity_id) WHERE owner_kind = 'user';
CREATE INDEX credentials_user ON credentials (environment_id, user_id);

CREATE TABLE avatars (
    id                  TEXT PRIMARY KEY NOT NULL,
    environment_id      TEXT NOT NULL REFERENCES environments (id) ON DELETE CASCADE,
    user_id             TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    content_type        TEXT NOT NULL,
    -- SHA-256 of the image, hex: also its file name in the avatar store.
    sha256              TEXT NOT NULL,
    size_bytes          INTEGER NOT NULL,
    created_at          TEXT NOT NULL
);

CREATE INDEX avatars_user ON avatars (user_id);
