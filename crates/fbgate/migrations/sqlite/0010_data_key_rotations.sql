-- Data-key rotations (`fbgate keys rotate-data`). A rotation makes a new active data key for
-- every scope of an environment in the same transaction that inserts its row here, then
-- re-encrypts every value sealed by an older key. A row without finished_at is a rotation in
-- progress: running the command again resumes it instead of making yet more keys.

CREATE TABLE data_key_rotations (
    id              TEXT PRIMARY KEY NOT NULL,
    environment_id  TEXT NOT NULL REFERENCES environments (id) ON DELETE CASCADE,
    started_at      TEXT NOT NULL,
    finished_at     TEXT,
    -- Values re-encrypted so far, over every run of this rotation.
    rows_done       INTEGER NOT NULL DEFAULT 0
);

-- At most one rotation in progress per environment: two commands started together share it.
CREATE UNIQUE INDEX data_key_rotations_one_in_progress
    ON data_key_rotations (environment_id) WHERE finished_at IS NULL;
