-- Single-use tickets that let a signed-in user's browser start linking a Facebook identity.

CREATE TABLE link_tickets (
    -- SHA-256 of the ticket carried by the authorization URL.
    ticket_hash         BYTEA PRIMARY KEY NOT NULL,
    environment_id      TEXT NOT NULL REFERENCES environments (id) ON DELETE CASCADE,
    user_id             TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    provider_id         TEXT NOT NULL REFERENCES oauth_providers (id) ON DELETE CASCADE,
    redirect_to         TEXT NOT NULL,
    created_at          TIMESTAMPTZ NOT NULL,
    expires_at          TIMESTAMPTZ NOT NULL,
    used_at             TIMESTAMPTZ
);
