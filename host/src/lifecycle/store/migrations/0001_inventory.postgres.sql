-- The app inventory: one row per app, its event history, and the sweep's claim columns.
-- Times are Unix seconds (UTC). `registration_access_token` is an RFC 7592 bearer token:
-- protect this database like a secret store.
CREATE TABLE apps (
    name                      TEXT    NOT NULL PRIMARY KEY,
    owner                     TEXT    NOT NULL,
    manifest                  BYTEA   NOT NULL,
    manifest_sha256           TEXT    NOT NULL,
    policy_name               TEXT    NOT NULL,
    policy_sha256             TEXT    NOT NULL,
    decision                  TEXT    NOT NULL,
    score                     BIGINT  NOT NULL CHECK (score >= 0),
    controls                  TEXT    NOT NULL,
    verdict                   TEXT    NOT NULL,
    software_id               TEXT    NOT NULL,
    client_id                 TEXT,
    registration_client_uri   TEXT,
    registration_access_token TEXT,
    registration_metadata     TEXT,
    created_at                BIGINT  NOT NULL,
    registered_at             BIGINT,
    expires_at                BIGINT  NOT NULL,
    recertify_by              BIGINT  NOT NULL,
    status                    TEXT    NOT NULL
        CHECK (status IN ('pending', 'active', 'due', 'expired', 'revoked')),
    claimed_by                TEXT,
    claim_expires_at          BIGINT,
    CHECK ((claimed_by IS NULL) = (claim_expires_at IS NULL))
);

CREATE INDEX apps_status ON apps (status);

CREATE TABLE events (
    id       BIGSERIAL NOT NULL PRIMARY KEY,
    app_name TEXT      NOT NULL REFERENCES apps (name) ON DELETE CASCADE,
    kind     TEXT      NOT NULL
        CHECK (kind IN ('registered', 'recertified', 'due', 'revoked', 'expired', 'reconciled')),
    actor    TEXT      NOT NULL,
    at       BIGINT    NOT NULL,
    detail   TEXT      NOT NULL
);

CREATE INDEX events_app ON events (app_name, id);
