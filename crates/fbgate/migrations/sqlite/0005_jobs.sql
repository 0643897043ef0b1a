-- Background work as leased rows: any number of fbgate processes share one table, a job is run
-- by one of them at a time, and a crashed process's job is taken over when its lease expires.

CREATE TABLE jobs (
    id                  TEXT PRIMARY KEY NOT NULL,
    environment_id      TEXT REFERENCES environments (id) ON DELETE CASCADE,
    kind                TEXT NOT NULL,
    payload             TEXT NOT NULL,
    due_at              TEXT NOT NULL,
    attempts            INTEGER NOT NULL,
    lease_owner         TEXT,
    lease_expires_at    TEXT,
    last_error          TEXT,
    -- 'succeeded' or 'gave_up' once done.
    outcome             TEXT,
    created_at          TEXT NOT NULL,
    done_at             TEXT
);

CREATE INDEX jobs_due ON jobs (due_at) WHERE done_at IS NULL;
