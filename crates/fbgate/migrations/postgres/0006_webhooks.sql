-- Webhooks: the app's endpoints, an outbox of events written in the same transaction as the
-- change they announce, one delivery per (event, endpoint) with every attempt made.

CREATE TABLE webhook_endpoints (
    id                  TEXT PRIMARY KEY NOT NULL,
    environment_id      TEXT NOT NULL REFERENCES environments (id) ON DELETE CASCADE,
    url                 TEXT NOT NULL,
    -- JSON array of event types, or ["*"].
    events              TEXT NOT NULL,
    -- The signing secret sealed by the vault (AAD: 'webhook_secret', environment, endpoint id);
    -- shown once at creation, opened by the delivery job.
    signing_secret      BYTEA NOT NULL,
    enabled             BOOLEAN NOT NULL,
    created_at          TIMESTAMPTZ NOT NULL
);

CREATE INDEX webhook_endpoints_environment ON webhook_endpoints (environment_id, created_at, id);

CREATE TABLE outbox_events (
    id                  TEXT PRIMARY KEY NOT NULL,
    environment_id      TEXT NOT NULL REFERENCES environments (id) ON DELETE CASCADE,
    type                TEXT NOT NULL,
    -- The fbgate id the event is about (a user, an identity), so that erasing a person can erase
    -- the events that describe them too.
    subject             TEXT,
    -- The whole delivery body, exactly as it is signed and sent.
    payload             TEXT NOT NULL,
    created_at          TIMESTAMPTZ NOT NULL
);

CREATE INDEX outbox_events_subject ON outbox_events (environment_id, subject);

CREATE TABLE webhook_deliveries (
    id                  TEXT PRIMARY KEY NOT NULL,
    event_id            TEXT NOT NULL REFERENCES outbox_events (id) ON DELETE CASCADE,
    endpoint_id         TEXT NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
    environment_id      TEXT NOT NULL REFERENCES environments (id) ON DELETE CASCADE,
    status              TEXT NOT NULL CHECK (status IN ('pending', 'succeeded', 'failed')),
    attempts            BIGINT NOT NULL,
    next_attempt_at     TIMESTAMPTZ,
    last_status_code    BIGINT,
    last_error          TEXT,
    created_at          TIMESTAMPTZ NOT NULL,
    -- Every attempt so far, oldest first: JSON array of
    -- {"attempted_at", "status_code", "error", "duration_ms"}. A delivery makes at most a few dozen
    -- attempts, so the history stays small and is written by the same UPDATE as the status.
    attempt_log         TEXT NOT NULL,
    delivered_at        TIMESTAMPTZ,
    -- A re-run dispatch job must not deliver an event twice to the same endpoint.
    UNIQUE (event_id, endpoint_id)
);

CREATE INDEX webhook_deliveries_endpoint ON webhook_deliveries (endpoint_id, created_at, id);
