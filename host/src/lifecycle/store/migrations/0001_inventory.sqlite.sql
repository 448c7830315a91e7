-- The app inventory: one row per app, its event history, and the sweep's claim columns.
-- Times are Unix seconds (UTC). `registration_access_token` is an RFC 7592 bearer token:
-- protect this file like a secret store.
CREATE TABLE apps (
    name                      TEXT    NOT NULL PRIMARY KEY,
    owner                     TEXT    NOT NULL,
    manifest                  BLOB    NOT NULL,
    manifest_sha256           TEXT    NOT NULL,
    policy_name               TEXT    NOT NULL,
    policy_sha256             TEXT    NOT NULL,
    decision                  TEXT    NOT NULL,
    score                     INTEGER NOT NULL CHECK (score >= 0),
    controls                  TEXT    NOT NULL,
    verdict                   TEXT    NOT NULL,
    software_id               TEXT    NOT NULL,
    client_id                 TEXT,
    registration_client_uri   TEXT,
    registration_access_token TEXT,
    registration_metadata     TEXT,
    created_at                INTEGER NOT NULL,
    registered_at             INTEGER,
    expires_at                INTEGER NOT NULL,
    recertify_by              INTEGER NOT NULL,
    status                    TEXT    NOT NULL
        CHECK (status IN ('pending', 'active', 'due', 'expired', 'revoked')),
    claimed_by                TEXT,
    claim_expires_at          INTEGER,
    CHECK ((claimed_by IS NULL) = (claim_expires_at IS NULL))
) STRICT;

CREATE INDEX apps_status ON apps (status);

CREATE TABLE events (
    id       INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    app_name TEXT    NOT NULL REFERENCES apps (name) ON DELETE CASCADE,
    kind     TEXT    NOT NULL
        CHECK (kind IN ('registered', 'recertified', 'due', 'revoked', 'expired', 'reconciled')),
    actor    TEXT    NOT NULL,
    at       INTEGER NOT NULL,
    detail   TEXT    NOT NULL
) STRICT;

CREATE INDEX events_app ON events (app_name, id);
