//! The shared inventory: PostgreSQL through the synchronous `postgres` client, for several
//! `microvet serve` replicas on one database.
//!
//! One connection behind a mutex per [`PostgresStore`] (reconnected when the server closed
//! it): each method is one short transaction, the lifecycle's writes are rare next to the
//! vets (which never touch the store), and the guarantees between replicas come from the
//! database (row locks, `FOR UPDATE SKIP LOCKED`), not from a pool. A pool would add
//! concurrency inside one process without changing any of them.
//!
//! Connections are made without TLS: reach the database over a Unix socket or a network
//! you trust (docs/LIMITS.md).

use std::str::FromStr;
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use ::postgres::error::SqlState;
use ::postgres::{Client, Config, NoTls, Transaction};

use super::{
    APP_COLUMNS, AppRow, ClaimWindow, MIGRATIONS, Store, StoreError, check_final, json_text,
    latest_version, newer_schema, parse_event, redact_url, status_str,
};
use crate::lifecycle::model::{App, AppStatus, Event, EventKind, NewApp, Registration, Timestamp};

/// How long connecting may take when the URL sets no `connect_timeout` (docs/LIMITS.md).
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// The longest one statement (or a wait for a row lock) may take before the server cancels
/// it (docs/LIMITS.md).
pub const STATEMENT_TIMEOUT: Duration = Duration::from_secs(30);

/// A key for `pg_advisory_xact_lock`: replicas starting at once migrate one at a time.
const MIGRATION_LOCK: i64 = 0x6d69_6372_6f76_6574; // "microvet"

/// The inventory in a PostgreSQL database.
pub struct PostgresStore {
    config: Config,
    client: Mutex<Option<Client>>,
}

/// A database error without its `DETAIL` (PostgreSQL's detail of a constraint violation
/// quotes the row, which may hold a registration access token).
fn backend(e: ::postgres::Error) -> StoreError {
    match e.as_db_error() {
        Some(db) => StoreError::Backend(format!(
            "PostgreSQL: {} (SQLSTATE {})",
            db.message(),
            db.code().code()
        )),
        None => StoreError::Backend(format!("PostgreSQL: {e}")),
    }
}

fn read_app(row: &::postgres::Row) -> Result<AppRow, StoreError> {
    fn get<'a, T: ::postgres::types::FromSql<'a>>(
        row: &'a ::postgres::Row,
        i: usize,
    ) -> Result<T, StoreError> {
        row.try_get(i).map_err(backend)
    }
    Ok(AppRow {
        name: get(row, 0)?,
        owner: get(row, 1)?,
        manifest: get(row, 2)?,
        manifest_sha256: get(row, 3)?,
        policy_name: get(row, 4)?,
        policy_sha256: get(row, 5)?,
        decision: get(row, 6)?,
        score: get(row, 7)?,
        controls: get(row, 8)?,
        verdict: get(row, 9)?,
        software_id: get(row, 10)?,
        client_id: get(row, 11)?,
        registration_client_uri: get(row, 12)?,
        registration_access_token: get(row, 13)?,
        registration_metadata: get(row, 14)?,
        created_at: get(row, 15)?,
        registered_at: get(row, 16)?,
        expires_at: get(row, 17)?,
        recertify_by: get(row, 18)?,
        status: get(row, 19)?,
    })
}

fn into_apps(rows: Vec<::postgres::Row>) -> Result<Vec<App>, StoreError> {
    let mut apps = rows
        .iter()
        .map(|r| read_app(r).and_then(AppRow::into_app))
        .collect::<Result<Vec<_>, _>>()?;
    apps.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(apps)
}

struct RowState {
    status: String,
    registered: bool,
    claimed_by: Option<String>,
    claim_expires_at: Option<i64>,
}

/// The row's state, locked (`FOR UPDATE`) until the transaction ends.
fn row_state(tx: &mut Transaction<'_>, name: &str) -> Result<RowState, StoreError> {
    let row = tx
        .query_opt(
            "SELECT status, client_id IS NOT NULL, claimed_by, claim_expires_at \
             FROM apps WHERE name = $1 FOR UPDATE",
            &[&name],
        )
        .map_err(backend)?
        .ok_or_else(|| StoreError::NotFound(name.to_owned()))?;
    Ok(RowState {
        status: row.try_get(0).map_err(backend)?,
        registered: row.try_get(1).map_err(backend)?,
        claimed_by: row.try_get(2).map_err(backend)?,
        claim_expires_at: row.try_get(3).map_err(backend)?,
    })
}

fn wrong(name: &str, status: &str, expected: &'static str) -> StoreError {
    StoreError::WrongStatus {
        name: name.to_owned(),
        status: status_str(status),
        expected,
    }
}

fn add_event(
    tx: &mut Transaction<'_>,
    name: &str,
    kind: EventKind,
    actor: &str,
    at: Timestamp,
    detail: &str,
) -> Result<(), StoreError> {
    tx.execute(
        "INSERT INTO events (app_name, kind, actor, at, detail) VALUES ($1, $2, $3, $4, $5)",
        &[&name, &kind.as_str(), &actor, &at, &detail],
    )
    .map_err(backend)?;
    Ok(())
}

impl PostgresStore {
    /// Connects and brings the schema up to date.
    pub fn open(url: &str) -> Result<PostgresStore, StoreError> {
        let mut config = Config::from_str(url).map_err(|e| {
            // The parser's message never repeats a password; the URL is shown redacted.
            StoreError::Url(redact_url(url), format!("not a PostgreSQL URL: {e}"))
        })?;
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(CONNECT_TIMEOUT);
        }
        let store = PostgresStore {
            config,
            client: Mutex::new(None),
        };
        {
            let mut guard = store.client()?;
            let client = guard
                .as_mut()
                .ok_or_else(|| StoreError::Backend("PostgreSQL: not connected".to_owned()))?;
            migrate(client)?;
        }
        Ok(store)
    }

    fn connect(&self) -> Result<Client, StoreError> {
        let mut client = self
            .config
            .connect(NoTls)
            .map_err(|e| StoreError::Backend(format!("cannot connect to PostgreSQL: {e}")))?;
        client
            .batch_execute(&format!(
                "SET statement_timeout = {}; SET lock_timeout = {}; SET TIME ZONE 'UTC'",
                STATEMENT_TIMEOUT.as_millis(),
                STATEMENT_TIMEOUT.as_millis()
            ))
            .map_err(backend)?;
        Ok(client)
    }

    /// The connection, made (again) when there is none or the server closed it.
    fn client(&self) -> Result<MutexGuard<'_, Option<Client>>, StoreError> {
        let mut guard = self.client.lock().unwrap_or_else(|p| p.into_inner());
        if guard.as_ref().is_none_or(Client::is_closed) {
            *guard = Some(self.connect()?);
        }
        Ok(guard)
    }

    /// Runs `f` in one transaction, committed when it returns `Ok`.
    fn with_tx<T>(
        &self,
        f: impl FnOnce(&mut Transaction<'_>) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let mut guard = self.client()?;
        let client = guard
            .as_mut()
            .ok_or_else(|| StoreError::Backend("PostgreSQL: not connected".to_owned()))?;
        let mut tx = client.transaction().map_err(backend)?;
        let out = f(&mut tx)?;
        tx.commit().map_err(backend)?;
        Ok(out)
    }
}

impl Drop for PostgresStore {
    fn drop(&mut self) {
        // The synchronous client owns a small tokio runtime, which must not be dropped
        // inside an async context (a server shutting down): drop it on a plain thread.
        let client = self
            .client
            .get_mut()
            .unwrap_or_else(|p| p.into_inner())
            .take();
        if let Some(client) = client {
            let _ = std::thread::spawn(move || drop(client)).join();
        }
    }
}

/// Applies the missing migrations in one transaction, under an advisory lock so that
/// replicas starting at once migrate one after the other.
fn migrate(client: &mut Client) -> Result<(), StoreError> {
    let mut tx = client.transaction().map_err(backend)?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])
        .map_err(backend)?;
    tx.batch_execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations (
             version    BIGINT NOT NULL PRIMARY KEY,
             applied_at BIGINT NOT NULL
         )",
    )
    .map_err(backend)?;
    let current: i64 = tx
        .query_one(
            "SELECT COALESCE(MAX(version), 0) FROM schema_migrations",
            &[],
        )
        .and_then(|r| r.try_get(0))
        .map_err(backend)?;
    if current > latest_version() {
        return Err(newer_schema(current));
    }
    for m in MIGRATIONS.iter().filter(|m| m.version > current) {
        tx.batch_execute(m.postgres).map_err(|e| match backend(e) {
            StoreError::Backend(msg) => {
                StoreError::Backend(format!("migration {} ({}): {msg}", m.version, m.name))
            }
            other => other,
        })?;
        tx.execute(
            "INSERT INTO schema_migrations (version, applied_at) \
             VALUES ($1, EXTRACT(EPOCH FROM now())::BIGINT)",
            &[&m.version],
        )
        .map_err(backend)?;
    }
    tx.commit().map_err(backend)
}

impl Store for PostgresStore {
    fn insert_pending(&self, app: &NewApp) -> Result<(), StoreError> {
        let controls = json_text(&app.controls)?;
        let score = i64::from(app.score);
        self.with_tx(|tx| {
            tx.execute(
                "INSERT INTO apps (name, owner, manifest, manifest_sha256, policy_name, \
                 policy_sha256, decision, score, controls, verdict, software_id, created_at, \
                 expires_at, recertify_by, status) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, 'pending')",
                &[
                    &app.name,
                    &app.owner,
                    &app.manifest,
                    &app.manifest_sha256,
                    &app.policy_name,
                    &app.policy_sha256,
                    &app.decision,
                    &score,
                    &controls,
                    &app.verdict,
                    &app.software_id,
                    &app.created_at,
                    &app.expires_at,
                    &app.recertify_by,
                ],
            )
            .map_err(|e| {
                if e.code() == Some(&SqlState::UNIQUE_VIOLATION) {
                    StoreError::Duplicate(app.name.clone())
                } else {
                    backend(e)
                }
            })?;
            Ok(())
        })
    }

    fn record_registration(
        &self,
        name: &str,
        registration: &Registration,
    ) -> Result<(), StoreError> {
        let metadata = json_text(&registration.metadata)?;
        let token = registration
            .registration_access_token
            .as_ref()
            .map(|t| t.expose());
        self.with_tx(|tx| {
            let state = row_state(tx, name)?;
            if state.status != "pending" || state.registered {
                return Err(wrong(
                    name,
                    &state.status,
                    "pending without a recorded registration",
                ));
            }
            tx.execute(
                "UPDATE apps SET client_id = $2, registration_client_uri = $3, \
                 registration_access_token = $4, registration_metadata = $5 WHERE name = $1",
                &[
                    &name,
                    &registration.client_id,
                    &registration.registration_client_uri,
                    &token,
                    &metadata,
                ],
            )
            .map_err(backend)?;
            Ok(())
        })
    }

    fn activate(
        &self,
        name: &str,
        at: Timestamp,
        expires_at: Timestamp,
        recertify_by: Timestamp,
        actor: &str,
    ) -> Result<(), StoreError> {
        self.with_tx(|tx| {
            let state = row_state(tx, name)?;
            if state.status != "pending" || !state.registered {
                return Err(wrong(
                    name,
                    &state.status,
                    "pending with a recorded registration",
                ));
            }
            let row = tx
                .query_one(
                    "UPDATE apps SET status = 'active', registered_at = $2, expires_at = $3, \
                     recertify_by = $4 WHERE name = $1 RETURNING decision",
                    &[&name, &at, &expires_at, &recertify_by],
                )
                .map_err(backend)?;
            let decision: String = row.try_get(0).map_err(backend)?;
            add_event(tx, name, EventKind::Registered, actor, at, &decision)
        })
    }

    fn delete_pending(&self, name: &str) -> Result<(), StoreError> {
        self.with_tx(|tx| {
            let state = row_state(tx, name)?;
            if state.status != "pending" || state.registered {
                return Err(wrong(
                    name,
                    &state.status,
                    "pending without a recorded registration",
                ));
            }
            tx.execute("DELETE FROM apps WHERE name = $1", &[&name])
                .map_err(backend)?;
            Ok(())
        })
    }

    fn get(&self, name: &str) -> Result<Option<App>, StoreError> {
        self.with_tx(|tx| {
            let row = tx
                .query_opt(
                    &format!("SELECT {APP_COLUMNS} FROM apps WHERE name = $1"),
                    &[&name],
                )
                .map_err(backend)?;
            row.map(|r| read_app(&r).and_then(AppRow::into_app))
                .transpose()
        })
    }

    fn list(&self) -> Result<Vec<App>, StoreError> {
        self.with_tx(|tx| {
            let rows = tx
                .query(
                    &format!("SELECT {APP_COLUMNS} FROM apps ORDER BY name COLLATE \"C\""),
                    &[],
                )
                .map_err(backend)?;
            into_apps(rows)
        })
    }

    fn events(&self, name: &str) -> Result<Vec<Event>, StoreError> {
        self.with_tx(|tx| {
            if tx
                .query_opt("SELECT 1 FROM apps WHERE name = $1", &[&name])
                .map_err(backend)?
                .is_none()
            {
                return Err(StoreError::NotFound(name.to_owned()));
            }
            let rows = tx
                .query(
                    "SELECT kind, actor, at, detail FROM events WHERE app_name = $1 ORDER BY id",
                    &[&name],
                )
                .map_err(backend)?;
            rows.iter()
                .map(|r| {
                    let kind: String = r.try_get(0).map_err(backend)?;
                    parse_event(
                        name,
                        &kind,
                        r.try_get(1).map_err(backend)?,
                        r.try_get(2).map_err(backend)?,
                        r.try_get(3).map_err(backend)?,
                    )
                })
                .collect()
        })
    }

    fn recertified(
        &self,
        name: &str,
        decision: &str,
        score: u32,
        policy_sha256: &str,
        verdict: &str,
        expires_at: Timestamp,
        recertify_by: Timestamp,
        at: Timestamp,
        actor: &str,
    ) -> Result<(), StoreError> {
        let score = i64::from(score);
        self.with_tx(|tx| {
            let state = row_state(tx, name)?;
            if state.status != "active" && state.status != "due" {
                return Err(wrong(name, &state.status, "active or due"));
            }
            if state.claimed_by.is_some() && state.claim_expires_at.is_some_and(|e| e > at) {
                return Err(wrong(name, &state.status, "free of a sweep's claim"));
            }
            tx.execute(
                "UPDATE apps SET status = 'active', decision = $2, score = $3, \
                 policy_sha256 = $4, verdict = $5, expires_at = $6, recertify_by = $7 \
                 WHERE name = $1",
                &[
                    &name,
                    &decision,
                    &score,
                    &policy_sha256,
                    &verdict,
                    &expires_at,
                    &recertify_by,
                ],
            )
            .map_err(backend)?;
            add_event(tx, name, EventKind::Recertified, actor, at, decision)
        })
    }

    fn mark_due(
        &self,
        name: &str,
        decision: &str,
        score: u32,
        verdict: &str,
        at: Timestamp,
        actor: &str,
        detail: &str,
    ) -> Result<(), StoreError> {
        let score = i64::from(score);
        self.with_tx(|tx| {
            let state = row_state(tx, name)?;
            if state.status != "active" && state.status != "due" {
                return Err(wrong(name, &state.status, "active or due"));
            }
            tx.execute(
                "UPDATE apps SET status = 'due', decision = $2, score = $3, verdict = $4 \
                 WHERE name = $1",
                &[&name, &decision, &score, &verdict],
            )
            .map_err(backend)?;
            add_event(tx, name, EventKind::Due, actor, at, detail)
        })
    }

    fn claim_for_sweep(
        &self,
        at: Timestamp,
        grace_secs: i64,
        pending_older_than: Timestamp,
        claimer: &str,
        lease_secs: i64,
    ) -> Result<Vec<App>, StoreError> {
        let w = ClaimWindow::new(at, grace_secs, pending_older_than, lease_secs);
        self.with_tx(|tx| {
            // Rows another replica is claiming right now are skipped, not waited for; a
            // row it claimed and committed no longer matches (PostgreSQL re-checks the
            // condition on the row's newest version before locking it).
            let rows = tx
                .query(
                    &format!(
                        "WITH due AS ( \
                             SELECT name FROM apps \
                             WHERE (claimed_by IS NULL OR claim_expires_at <= $3) \
                               AND ((status IN ('active', 'due') \
                                     AND (expires_at <= $3 OR recertify_by <= $4)) \
                                    OR (status = 'pending' AND created_at < $5)) \
                             FOR UPDATE SKIP LOCKED) \
                         UPDATE apps SET claimed_by = $1, claim_expires_at = $2 \
                         FROM due WHERE apps.name = due.name \
                         RETURNING {}",
                        APP_COLUMNS
                            .split(", ")
                            .map(|c| format!("apps.{}", c.trim()))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                    &[
                        &claimer,
                        &w.claim_expires_at,
                        &w.at,
                        &w.recertify_cutoff,
                        &w.pending_older_than,
                    ],
                )
                .map_err(backend)?;
            into_apps(rows)
        })
    }

    fn finish(
        &self,
        name: &str,
        claimer: Option<&str>,
        status: AppStatus,
        event: EventKind,
        at: Timestamp,
        actor: &str,
        detail: &str,
    ) -> Result<(), StoreError> {
        check_final(status)?;
        self.with_tx(|tx| {
            let state = row_state(tx, name)?;
            if !AppStatus::parse(&state.status).is_some_and(AppStatus::is_live) {
                return Err(wrong(name, &state.status, "pending, active or due"));
            }
            if let Some(claimer) = claimer
                && state.claimed_by.as_deref() != Some(claimer)
            {
                return Err(wrong(name, &state.status, "claimed by this sweep"));
            }
            tx.execute(
                "UPDATE apps SET status = $2, claimed_by = NULL, claim_expires_at = NULL \
                 WHERE name = $1",
                &[&name, &status.as_str()],
            )
            .map_err(backend)?;
            add_event(tx, name, event, actor, at, detail)
        })
    }

    fn forget_pending(&self, name: &str, claimer: &str) -> Result<(), StoreError> {
        self.with_tx(|tx| {
            let state = row_state(tx, name)?;
            if state.status != "pending" {
                return Err(wrong(name, &state.status, "pending"));
            }
            if state.claimed_by.as_deref() != Some(claimer) {
                return Err(wrong(name, &state.status, "claimed by this sweep"));
            }
            tx.execute("DELETE FROM apps WHERE name = $1", &[&name])
                .map_err(backend)?;
            Ok(())
        })
    }

    fn release(&self, name: &str, claimer: &str) -> Result<(), StoreError> {
        self.with_tx(|tx| {
            let state = row_state(tx, name)?;
            if state.claimed_by.as_deref() != Some(claimer) {
                return Err(wrong(name, &state.status, "claimed by this sweep"));
            }
            tx.execute(
                "UPDATE apps SET claimed_by = NULL, claim_expires_at = NULL WHERE name = $1",
                &[&name],
            )
            .map_err(backend)?;
            Ok(())
        })
    }
}
