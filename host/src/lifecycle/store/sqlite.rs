//! The embedded inventory: one SQLite file (SQLite compiled in by `rusqlite`'s `bundled`
//! feature), in WAL mode with a busy timeout, created with its schema on first use.
//!
//! One connection behind a mutex per [`SqliteStore`]: SQLite allows one writer at a time
//! anyway, and every method is one short transaction. Several processes (or several
//! `open()` of one file) share the file through SQLite's own locking; writes begin with
//! `BEGIN IMMEDIATE` so that a read-then-write transaction (a claim) holds the write lock
//! from its first statement and never interleaves with another writer.

use std::path::Path;
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use rusqlite::{
    Connection, ErrorCode, OpenFlags, OptionalExtension, Transaction, TransactionBehavior, params,
};

use super::{
    APP_COLUMNS, AppRow, ClaimWindow, MIGRATIONS, Store, StoreError, check_final, json_text,
    latest_version, newer_schema, parse_event, status_str,
};
use crate::lifecycle::model::{App, AppStatus, Event, EventKind, NewApp, Registration, Timestamp};

/// How long a statement waits for another connection's write lock before failing with
/// "database is locked" (docs/LIMITS.md).
pub const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// The inventory in a SQLite file.
pub struct SqliteStore {
    conn: Mutex<Connection>,
}

fn backend(e: rusqlite::Error) -> StoreError {
    StoreError::Backend(format!("SQLite: {e}"))
}

fn is_unique_violation(e: &rusqlite::Error) -> bool {
    matches!(
        e,
        rusqlite::Error::SqliteFailure(f, _)
            if f.code == ErrorCode::ConstraintViolation
                && (f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_PRIMARYKEY
                    || f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE)
    )
}

fn read_app(row: &rusqlite::Row<'_>) -> rusqlite::Result<AppRow> {
    Ok(AppRow {
        name: row.get(0)?,
        owner: row.get(1)?,
        manifest: row.get(2)?,
        manifest_sha256: row.get(3)?,
        policy_name: row.get(4)?,
        policy_sha256: row.get(5)?,
        decision: row.get(6)?,
        score: row.get(7)?,
        controls: row.get(8)?,
        verdict: row.get(9)?,
        software_id: row.get(10)?,
        client_id: row.get(11)?,
        registration_client_uri: row.get(12)?,
        registration_access_token: row.get(13)?,
        registration_metadata: row.get(14)?,
        created_at: row.get(15)?,
        registered_at: row.get(16)?,
        expires_at: row.get(17)?,
        recertify_by: row.get(18)?,
        status: row.get(19)?,
    })
}

/// What the change methods check before writing: the row's status, whether a
/// registration is recorded, and its claim.
struct RowState {
    status: String,
    registered: bool,
    claimed_by: Option<String>,
    claim_expires_at: Option<i64>,
}

fn row_state(tx: &Transaction<'_>, name: &str) -> Result<RowState, StoreError> {
    tx.query_row(
        "SELECT status, client_id IS NOT NULL, claimed_by, claim_expires_at FROM apps WHERE name = ?1",
        params![name],
        |r| {
            Ok(RowState {
                status: r.get(0)?,
                registered: r.get(1)?,
                claimed_by: r.get(2)?,
                claim_expires_at: r.get(3)?,
            })
        },
    )
    .optional()
    .map_err(backend)?
    .ok_or_else(|| StoreError::NotFound(name.to_owned()))
}

fn wrong(name: &str, status: &str, expected: &'static str) -> StoreError {
    StoreError::WrongStatus {
        name: name.to_owned(),
        status: status_str(status),
        expected,
    }
}

fn add_event(
    tx: &Transaction<'_>,
    name: &str,
    kind: EventKind,
    actor: &str,
    at: Timestamp,
    detail: &str,
) -> Result<(), StoreError> {
    tx.execute(
        "INSERT INTO events (app_name, kind, actor, at, detail) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![name, kind.as_str(), actor, at, detail],
    )
    .map_err(backend)?;
    Ok(())
}

/// Creates the file readable and writable by its owner only (it holds registration access
/// tokens); SQLite gives its `-wal` and `-shm` files the same permissions.
fn create_private(path: &Path) -> Result<(), StoreError> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    match options.open(path) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(StoreError::Backend(format!(
            "cannot create the SQLite file {}: {e}",
            path.display()
        ))),
    }
}

impl SqliteStore {
    /// Opens (or creates) the file and brings its schema up to date.
    pub fn open(path: &Path) -> Result<SqliteStore, StoreError> {
        if !path.exists() {
            create_private(path)?;
        }
        let mut conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE
                | OpenFlags::SQLITE_OPEN_CREATE
                | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(|e| {
            StoreError::Backend(format!(
                "cannot open the SQLite file {}: {e}",
                path.display()
            ))
        })?;
        // Every failure from here on names the file (a file that is not SQLite fails at the
        // first statement: "file is not a database").
        let in_file = |e: StoreError| match e {
            StoreError::Backend(msg) => StoreError::Backend(format!("{}: {msg}", path.display())),
            other => other,
        };
        conn.busy_timeout(BUSY_TIMEOUT)
            .map_err(backend)
            .map_err(in_file)?;
        // WAL: readers do not block the writer; `synchronous=NORMAL` is durable across a
        // process crash in WAL mode (a power loss may drop the last commits).
        let mode: String = conn
            .query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))
            .map_err(backend)
            .map_err(in_file)?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(StoreError::Backend(format!(
                "SQLite refused WAL mode for {} (journal mode `{mode}`)",
                path.display()
            )));
        }
        conn.pragma_update(None, "synchronous", "NORMAL")
            .and_then(|()| conn.pragma_update(None, "foreign_keys", "ON"))
            .map_err(backend)
            .map_err(in_file)?;
        migrate(&mut conn).map_err(in_file)?;
        Ok(SqliteStore {
            conn: Mutex::new(conn),
        })
    }

    fn conn(&self) -> MutexGuard<'_, Connection> {
        // A panic while the lock was held rolled its transaction back (Transaction's drop).
        self.conn.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Runs `f` in one `BEGIN IMMEDIATE` transaction, committed when it returns `Ok`.
    fn write<T>(
        &self,
        f: impl FnOnce(&Transaction<'_>) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let mut conn = self.conn();
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(backend)?;
        let out = f(&tx)?;
        tx.commit().map_err(backend)?;
        Ok(out)
    }

    /// Runs `f` in one read transaction (a consistent snapshot).
    fn read<T>(
        &self,
        f: impl FnOnce(&Transaction<'_>) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let mut conn = self.conn();
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Deferred)
            .map_err(backend)?;
        let out = f(&tx)?;
        tx.commit().map_err(backend)?;
        Ok(out)
    }
}

/// Applies the missing migrations in one `BEGIN IMMEDIATE` transaction (two processes
/// opening a new file at once: the second waits, then finds the schema current).
fn migrate(conn: &mut Connection) -> Result<(), StoreError> {
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(backend)?;
    tx.execute_batch(
        "CREATE TABLE IF NOT EXISTS schema_migrations (
             version    INTEGER NOT NULL PRIMARY KEY,
             applied_at INTEGER NOT NULL
         ) STRICT;",
    )
    .map_err(backend)?;
    let current: i64 = tx
        .query_row(
            "SELECT COALESCE(MAX(version), 0) FROM schema_migrations",
            [],
            |r| r.get(0),
        )
        .map_err(backend)?;
    if current > latest_version() {
        return Err(newer_schema(current));
    }
    for m in MIGRATIONS.iter().filter(|m| m.version > current) {
        tx.execute_batch(m.sqlite).map_err(|e| {
            StoreError::Backend(format!("SQLite: migration {} ({}): {e}", m.version, m.name))
        })?;
        tx.execute(
            "INSERT INTO schema_migrations (version, applied_at) VALUES (?1, unixepoch())",
            params![m.version],
        )
        .map_err(backend)?;
    }
    tx.commit().map_err(backend)
}

impl Store for SqliteStore {
    fn insert_pending(&self, app: &NewApp) -> Result<(), StoreError> {
        let controls = json_text(&app.controls)?;
        self.write(|tx| {
            tx.execute(
                "INSERT INTO apps (name, owner, manifest, manifest_sha256, policy_name, \
                 policy_sha256, decision, score, controls, verdict, software_id, created_at, \
                 expires_at, recertify_by, status) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, 'pending')",
                params![
                    app.name,
                    app.owner,
                    app.manifest,
                    app.manifest_sha256,
                    app.policy_name,
                    app.policy_sha256,
                    app.decision,
                    i64::from(app.score),
                    controls,
                    app.verdict,
                    app.software_id,
                    app.created_at,
                    app.expires_at,
                    app.recertify_by,
                ],
            )
            .map_err(|e| {
                if is_unique_violation(&e) {
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
        self.write(|tx| {
            let state = row_state(tx, name)?;
            if state.status != "pending" || state.registered {
                return Err(wrong(
                    name,
                    &state.status,
                    "pending without a recorded registration",
                ));
            }
            tx.execute(
                "UPDATE apps SET client_id = ?2, registration_client_uri = ?3, \
                 registration_access_token = ?4, registration_metadata = ?5 WHERE name = ?1",
                params![
                    name,
                    registration.client_id,
                    registration.registration_client_uri,
                    registration
                        .registration_access_token
                        .as_ref()
                        .map(|t| t.expose()),
                    metadata,
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
        self.write(|tx| {
            let state = row_state(tx, name)?;
            if state.status != "pending" || !state.registered {
                return Err(wrong(
                    name,
                    &state.status,
                    "pending with a recorded registration",
                ));
            }
            tx.execute(
                "UPDATE apps SET status = 'active', registered_at = ?2, expires_at = ?3, \
                 recertify_by = ?4 WHERE name = ?1",
                params![name, at, expires_at, recertify_by],
            )
            .map_err(backend)?;
            let decision: String = tx
                .query_row(
                    "SELECT decision FROM apps WHERE name = ?1",
                    params![name],
                    |r| r.get(0),
                )
                .map_err(backend)?;
            add_event(tx, name, EventKind::Registered, actor, at, &decision)
        })
    }

    fn delete_pending(&self, name: &str) -> Result<(), StoreError> {
        self.write(|tx| {
            let state = row_state(tx, name)?;
            if state.status != "pending" || state.registered {
                return Err(wrong(
                    name,
                    &state.status,
                    "pending without a recorded registration",
                ));
            }
            tx.execute("DELETE FROM apps WHERE name = ?1", params![name])
                .map_err(backend)?;
            Ok(())
        })
    }

    fn get(&self, name: &str) -> Result<Option<App>, StoreError> {
        self.read(|tx| {
            let row = tx
                .query_row(
                    &format!("SELECT {APP_COLUMNS} FROM apps WHERE name = ?1"),
                    params![name],
                    read_app,
                )
                .optional()
                .map_err(backend)?;
            row.map(AppRow::into_app).transpose()
        })
    }

    fn list(&self) -> Result<Vec<App>, StoreError> {
        self.read(|tx| {
            let mut stmt = tx
                .prepare(&format!("SELECT {APP_COLUMNS} FROM apps ORDER BY name"))
                .map_err(backend)?;
            let rows = stmt
                .query_map([], read_app)
                .map_err(backend)?
                .collect::<Result<Vec<_>, _>>()
                .map_err(backend)?;
            let mut apps = rows
                .into_iter()
                .map(AppRow::into_app)
                .collect::<Result<Vec<_>, _>>()?;
            apps.sort_by(|a, b| a.name.cmp(&b.name));
            Ok(apps)
        })
    }

    fn events(&self, name: &str) -> Result<Vec<Event>, StoreError> {
        self.read(|tx| {
            row_state(tx, name)?;
            let mut stmt = tx
                .prepare(
                    "SELECT kind, actor, at, detail FROM events WHERE app_name = ?1 ORDER BY id",
                )
                .map_err(backend)?;
            let rows = stmt
                .query_map(params![name], |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, i64>(2)?,
                        r.get::<_, String>(3)?,
                    ))
                })
                .map_err(backend)?
                .collect::<Result<Vec<_>, _>>()
                .map_err(backend)?;
            rows.into_iter()
                .map(|(kind, actor, at, detail)| parse_event(name, &kind, actor, at, detail))
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
        self.write(|tx| {
            let state = row_state(tx, name)?;
            if state.status != "active" && state.status != "due" {
                return Err(wrong(name, &state.status, "active or due"));
            }
            if state.claimed_by.is_some() && state.claim_expires_at.is_some_and(|e| e > at) {
                return Err(wrong(name, &state.status, "free of a sweep's claim"));
            }
            tx.execute(
                "UPDATE apps SET status = 'active', decision = ?2, score = ?3, \
                 policy_sha256 = ?4, verdict = ?5, expires_at = ?6, recertify_by = ?7 \
                 WHERE name = ?1",
                params![
                    name,
                    decision,
                    i64::from(score),
                    policy_sha256,
                    verdict,
                    expires_at,
                    recertify_by
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
        self.write(|tx| {
            let state = row_state(tx, name)?;
            if state.status != "active" && state.status != "due" {
                return Err(wrong(name, &state.status, "active or due"));
            }
            tx.execute(
                "UPDATE apps SET status = 'due', decision = ?2, score = ?3, verdict = ?4 \
                 WHERE name = ?1",
                params![name, decision, i64::from(score), verdict],
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
        self.write(|tx| {
            let mut stmt = tx
                .prepare(&format!(
                    "UPDATE apps SET claimed_by = ?1, claim_expires_at = ?2 \
                     WHERE (claimed_by IS NULL OR claim_expires_at <= ?3) \
                       AND ((status IN ('active', 'due') \
                             AND (expires_at <= ?3 OR recertify_by <= ?4)) \
                            OR (status = 'pending' AND created_at < ?5)) \
                     RETURNING {APP_COLUMNS}"
                ))
                .map_err(backend)?;
            let rows = stmt
                .query_map(
                    params![
                        claimer,
                        w.claim_expires_at,
                        w.at,
                        w.recertify_cutoff,
                        w.pending_older_than
                    ],
                    read_app,
                )
                .map_err(backend)?
                .collect::<Result<Vec<_>, _>>()
                .map_err(backend)?;
            let mut apps = rows
                .into_iter()
                .map(AppRow::into_app)
                .collect::<Result<Vec<_>, _>>()?;
            apps.sort_by(|a, b| a.name.cmp(&b.name));
            Ok(apps)
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
        self.write(|tx| {
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
                "UPDATE apps SET status = ?2, claimed_by = NULL, claim_expires_at = NULL \
                 WHERE name = ?1",
                params![name, status.as_str()],
            )
            .map_err(backend)?;
            add_event(tx, name, event, actor, at, detail)
        })
    }

    fn forget_pending(&self, name: &str, claimer: &str) -> Result<(), StoreError> {
        self.write(|tx| {
            let state = row_state(tx, name)?;
            if state.status != "pending" {
                return Err(wrong(name, &state.status, "pending"));
            }
            if state.claimed_by.as_deref() != Some(claimer) {
                return Err(wrong(name, &state.status, "claimed by this sweep"));
            }
            tx.execute("DELETE FROM apps WHERE name = ?1", params![name])
                .map_err(backend)?;
            Ok(())
        })
    }

    fn release(&self, name: &str, claimer: &str) -> Result<(), StoreError> {
        self.write(|tx| {
            let state = row_state(tx, name)?;
            if state.claimed_by.as_deref() != Some(claimer) {
                return Err(wrong(name, &state.status, "claimed by this sweep"));
            }
            tx.execute(
                "UPDATE apps SET claimed_by = NULL, claim_expires_at = NULL WHERE name = ?1",
                params![name],
            )
            .map_err(backend)?;
            Ok(())
        })
    }
}
