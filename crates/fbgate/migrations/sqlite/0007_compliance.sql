-- Facebook's compliance callbacks: data-deletion requests with their public status, and an audit
-- log of changes made on someone's behalf (a user removing the app, a deletion carried out).

CREATE TABLE deletion_requests (
    -- At least 16 random letters and digits: the capability of the public status page.
    confirmation_code   TEXT PRIMARY KEY NOT NULL,
    environment_id      TEXT NOT NULL REFERENCES environments (id) ON DELETE CASCADE,
    -- No foreign key: the record of a request outlives the provider it came through.
    provider_id         TEXT NOT NULL,
    -- Facebook's app-scoped user id while the deletion is pending; erased when it completes, so
    -- the record keeps nothing of the person.
    provider_user_id    TEXT,
    status              TEXT NOT NULL CHECK (status IN ('pending', 'completed')),
    requested_at        TEXT NOT NULL,
    completed_at        TEXT
);

CREATE INDEX deletion_requests_status ON deletion_requests (environment_id, status, requested_at);

CREATE TABLE audit_log (
    id                  TEXT PRIMARY KEY NOT NULL,
    environment_id      TEXT NOT NULL REFERENCES environments (id) ON DELETE CASCADE,
    -- Who acted: 'facebook' for its callbacks, 'system' for background jobs.
    actor               TEXT NOT NULL,
    -- What happened, e.g. 'identity.deauthorized'.
    action              TEXT NOT NULL,
    -- The object acted on, by fbgate id (never a Facebook id or a secret).
    subject             TEXT NOT NULL,
    -- Details as JSON text.
    detail              TEXT NOT NULL,
    created_at          TEXT NOT NULL
);

CREATE INDEX audit_log_environment ON audit_log (environment_id, created_at, id);

-- Whether a data-deletion request also deletes a user who was created by a Facebook sign-in and
-- has no other identity (otherwise the user stays, stripped of what Facebook sent).
ALTER TABLE oauth_providers ADD COLUMN delete_user_on_data_deletion BOOLEAN NOT NULL DEFAULT TRUE;
