//! The inventory's seam. Implementations: a SQLite file (`sqlite:PATH`) and PostgreSQL
//! (`postgres://…`), with the same schema and versioned migrations run at open.
//!
//! Every method is one transaction. Methods that change an app also append its [`Event`].
//!
//! The schema is in `migrations/NNNN_name.{sqlite,postgres}.sql`: versioned, applied at
//! open in one transaction, recorded in `schema_migrations(version, applied_at)`. A store
//! whose schema is newer than this binary is refused. The rows hold RFC 7592 registration
//! access tokens in plain text: protect the file or database like a secret store.

mod postgres;
mod sqlite;

pub use self::postgres::PostgresStore;
pub use self::sqlite::SqliteStore;

use super::model::{App, AppStatus, Event, NewApp, Registration, Timestamp};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// An app of that name exists (any status).
    #[error("an app named `{0}` already exists")]
    Duplicate(String),
    #[error("no app named `{0}`")]
    NotFound(String),
    /// The app is not in a status this change applies to.
    #[error("app `{name}` is {status}, not {expected}")]
    WrongStatus {
        name: String,
        status: &'static str,
        expected: &'static str,
    },
    /// The `--store` value is not understood.
    #[error("store `{0}`: {1}")]
    Url(String, String),
    /// The database failed or could not be reached. Never contains a secret.
    #[error("store: {0}")]
    Backend(String),
}

/// The inventory.
pub trait Store: Send + Sync {
    /// Writes a `pending` row (before the IdP is called). `Duplicate` if the name exists.
    fn insert_pending(&self, app: &NewApp) -> Result<(), StoreError>;

    /// Records the IdP's answer on a `pending` row (client id, RFC 7592 URI and token; never
    /// the client secret), still `pending`. The first write after the IdP answers: a crash
    /// after it leaves a row the sweep can reconcile with RFC 7592. `WrongStatus` if the row
    /// is not `pending` or already has a registration (overwriting it would lose the token
    /// of a client that exists).
    fn record_registration(
        &self,
        name: &str,
        registration: &Registration,
    ) -> Result<(), StoreError>;

    /// `pending` (with a recorded registration) → `active`: `registered_at`, the final
    /// dates, and a `registered` event.
    fn activate(
        &self,
        name: &str,
        at: Timestamp,
        expires_at: Timestamp,
        recertify_by: Timestamp,
        actor: &str,
    ) -> Result<(), StoreError>;

    /// Deletes a `pending` row whose registration failed (the IdP refused or is down).
    /// `WrongStatus` once a registration is recorded: that client exists at the IdP, and
    /// only the sweep's reconciliation (which deletes it there first) forgets the row.
    fn delete_pending(&self, name: &str) -> Result<(), StoreError>;

    /// One app, with its secrets (for the service only; outputs drop them).
    fn get(&self, name: &str) -> Result<Option<App>, StoreError>;

    /// Every app, ordered by name.
    fn list(&self) -> Result<Vec<App>, StoreError>;

    /// An app's history, oldest first. `NotFound` if there is no such app.
    fn events(&self, name: &str) -> Result<Vec<Event>, StoreError>;

    /// Recertified: still approved. New dates, decision, score, policy hash, verdict;
    /// status `active`; a `recertified` event. Applies to `active` and `due` apps that no
    /// sweep holds a live claim on (`WrongStatus` otherwise: the sweep is disabling it).
    #[allow(clippy::too_many_arguments)]
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
    ) -> Result<(), StoreError>;

    /// Recertification found it no longer approved: status `due`, the new verdict kept,
    /// a `due` event whose detail names the new decision.
    #[allow(clippy::too_many_arguments)]
    fn mark_due(
        &self,
        name: &str,
        decision: &str,
        score: u32,
        verdict: &str,
        at: Timestamp,
        actor: &str,
        detail: &str,
    ) -> Result<(), StoreError>;

    /// Claims the apps the sweep must act on at `at`: `active` and `due` apps with
    /// `expires_at <= at` or `recertify_by + grace_secs <= at`, and `pending` rows with
    /// `created_at < pending_older_than` (a younger pending row is a registration in
    /// flight). Returned ordered by name. A claimed app is invisible to other claimers until
    /// [`Store::finish`] or [`Store::release`] (PostgreSQL: `FOR UPDATE SKIP LOCKED` on a
    /// claim column with a lease; SQLite: a claim column written in one transaction), so two
    /// replicas sweeping at once never act on the same app twice. A claim is free again
    /// from `at + lease_secs` on, on the claimers' clock (its claimer died).
    fn claim_for_sweep(
        &self,
        at: Timestamp,
        grace_secs: i64,
        pending_older_than: Timestamp,
        claimer: &str,
        lease_secs: i64,
    ) -> Result<Vec<App>, StoreError>;

    /// Ends a claim by moving the app to `status` (`expired` or `revoked`) with an event.
    /// Also used by an admin's revoke (`claimer` `None`: no claim needed). `WrongStatus` if
    /// the app is no longer live (someone finished it first) or, with a claimer, if the
    /// claim is not (or no longer) that claimer's.
    #[allow(clippy::too_many_arguments)]
    fn finish(
        &self,
        name: &str,
        claimer: Option<&str>,
        status: AppStatus,
        event: super::model::EventKind,
        at: Timestamp,
        actor: &str,
        detail: &str,
    ) -> Result<(), StoreError>;

    /// Deletes a claimed `pending` row once reconciled (its client deleted at the IdP, or
    /// never registered); the decision log keeps the trace. Its events go with it.
    fn forget_pending(&self, name: &str, claimer: &str) -> Result<(), StoreError>;

    /// Gives a claim back without change (the IdP was unreachable; retry next sweep).
    fn release(&self, name: &str, claimer: &str) -> Result<(), StoreError>;
}

/// Opens `sqlite:PATH` (created with its schema on first use) or `postgres://…` /
/// `postgresql://…`, running pending migrations.
pub fn open(url: &str) -> Result<Box<dyn Store>, StoreError> {
    if let Some(path) = url.strip_prefix("sqlite:") {
        if path.is_empty() {
            return Err(StoreError::Url(
                url.to_owned(),
                "no file path after `sqlite:` (expected `sqlite:PATH`)".to_owned(),
            ));
        }
        if path == ":memory:" || path.starts_with("file:") {
            return Err(StoreError::Url(
                url.to_owned(),
                "give the path of a file (`sqlite:PATH`): an in-memory database or an SQLite \
                 URI is not an inventory"
                    .to_owned(),
            ));
        }
        return Ok(Box::new(SqliteStore::open(std::path::Path::new(path))?));
    }
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        return Ok(Box::new(PostgresStore::open(url)?));
    }
    Err(StoreError::Url(
        redact_url(url),
        "unknown scheme: expected `sqlite:PATH`, `postgres://…` or `postgresql://…`".to_owned(),
    ))
}

/// The schema's versions, oldest first: (version, name, SQLite text, PostgreSQL text).
/// A version, once released, never changes; a change is a new version.
pub(crate) struct Migration {
    pub version: i64,
    pub name: &'static str,
    pub sqlite: &'static str,
    pub postgres: &'static str,
}

pub(crate) const MIGRATIONS: &[Migration] = &[Migration {
    version: 1,
    name: "inventory",
    sqlite: include_str!("migrations/0001_inventory.sqlite.sql"),
    postgres: include_str!("migrations/0001_inventory.postgres.sql"),
}];

/// The newest schema version this binary knows.
pub(crate) fn latest_version() -> i64 {
    MIGRATIONS.iter().map(|m| m.version).max().unwrap_or(0)
}

/// The refusal of a store written by a newer microvet.
pub(crate) fn newer_schema(found: i64) -> StoreError {
    StoreError::Backend(format!(
        "the store's schema is version {found}, newer than this microvet knows (version {}): \
         run a microvet at least as new as the one that migrated it",
        latest_version()
    ))
}

/// The columns of [`App`], in the order [`AppRow`] reads them.
pub(crate) const APP_COLUMNS: &str = "name, owner, manifest, manifest_sha256, policy_name, \
     policy_sha256, decision, score, controls, verdict, software_id, client_id, \
     registration_client_uri, registration_access_token, registration_metadata, created_at, \
     registered_at, expires_at, recertify_by, status";

/// A row of `apps` as both backends read it, before the text columns are parsed.
pub(crate) struct AppRow {
    pub name: String,
    pub owner: String,
    pub manifest: Vec<u8>,
    pub manifest_sha256: String,
    pub policy_name: String,
    pub policy_sha256: String,
    pub decision: String,
    pub score: i64,
    pub controls: String,
    pub verdict: String,
    pub software_id: String,
    pub client_id: Option<String>,
    pub registration_client_uri: Option<String>,
    pub registration_access_token: Option<String>,
    pub registration_metadata: Option<String>,
    pub created_at: i64,
    pub registered_at: Option<i64>,
    pub expires_at: i64,
    pub recertify_by: i64,
    pub status: String,
}

impl AppRow {
    pub(crate) fn into_app(self) -> Result<App, StoreError> {
        let name = self.name;
        let corrupt =
            |what: &str| StoreError::Backend(format!("app `{name}`: {what} in the store"));
        let status = AppStatus::parse(&self.status).ok_or_else(|| corrupt("an unknown status"))?;
        let score = u32::try_from(self.score).map_err(|_| corrupt("a score out of range"))?;
        let controls = serde_json::from_str(&self.controls)
            .map_err(|_| corrupt("controls that are not JSON"))?;
        let registration_metadata = match self.registration_metadata {
            Some(text) => Some(
                serde_json::from_str(&text)
                    .map_err(|_| corrupt("registration metadata that is not JSON"))?,
            ),
            None => None,
        };
        Ok(App {
            owner: self.owner,
            manifest: self.manifest,
            manifest_sha256: self.manifest_sha256,
            policy_name: self.policy_name,
            policy_sha256: self.policy_sha256,
            decision: self.decision,
            score,
            controls,
            verdict: self.verdict,
            client_id: self.client_id,
            registration_client_uri: self.registration_client_uri,
            registration_access_token: self
                .registration_access_token
                .map(super::model::Secret::new),
            created_at: self.created_at,
            registered_at: self.registered_at,
            expires_at: self.expires_at,
            recertify_by: self.recertify_by,
            status,
            software_id: self.software_id,
            registration_metadata,
            name,
        })
    }
}

/// An event row's kind, checked.
pub(crate) fn parse_event(
    name: &str,
    kind: &str,
    actor: String,
    at: i64,
    detail: String,
) -> Result<Event, StoreError> {
    let kind = super::model::EventKind::parse(kind).ok_or_else(|| {
        StoreError::Backend(format!("app `{name}`: an unknown event kind in the store"))
    })?;
    Ok(Event {
        kind,
        actor,
        at,
        detail,
    })
}

/// The statuses [`Store::finish`] may move an app to.
pub(crate) fn check_final(status: AppStatus) -> Result<(), StoreError> {
    match status {
        AppStatus::Expired | AppStatus::Revoked => Ok(()),
        other => Err(StoreError::Backend(format!(
            "finish: an app ends `expired` or `revoked`, not `{}`",
            other.as_str()
        ))),
    }
}

/// A status read back from a row, for an error.
pub(crate) fn status_str(status: &str) -> &'static str {
    AppStatus::parse(status).map_or("unknown", AppStatus::as_str)
}

/// `controls` and registration metadata as stored (compact JSON text).
pub(crate) fn json_text(value: &serde_json::Value) -> Result<String, StoreError> {
    serde_json::to_string(value).map_err(|e| StoreError::Backend(format!("JSON: {e}")))
}

/// What the sweep's claim compares, computed without overflow: live apps whose
/// `expires_at <= at` or `recertify_by <= at - grace`, pending rows whose
/// `created_at < pending_older_than`; a claim is free when its `claim_expires_at <= at`.
pub(crate) struct ClaimWindow {
    pub at: i64,
    pub recertify_cutoff: i64,
    pub pending_older_than: i64,
    pub claim_expires_at: i64,
}

impl ClaimWindow {
    pub(crate) fn new(at: i64, grace_secs: i64, pending_older_than: i64, lease_secs: i64) -> Self {
        ClaimWindow {
            at,
            recertify_cutoff: at.saturating_sub(grace_secs.max(0)),
            pending_older_than,
            claim_expires_at: at.saturating_add(lease_secs.max(0)),
        }
    }
}

/// A database URL for an error message: a password in it is replaced by `***`.
pub(crate) fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    let mut out = format!("{scheme}://");
    match authority.rsplit_once('@') {
        Some((userinfo, host)) => {
            match userinfo.split_once(':') {
                Some((user, _password)) => out.push_str(&format!("{user}:***@")),
                None => out.push_str(&format!("{userinfo}@")),
            }
            out.push_str(host);
        }
        None => out.push_str(authority),
    }
    // A password may also be given as a query parameter.
    match tail.split_once('?') {
        Some((path, query)) => {
            out.push_str(path);
            out.push('?');
            let params: Vec<String> = query
                .split('&')
                .map(|p| match p.split_once('=') {
                    Some((k, _)) if k.eq_ignore_ascii_case("password") => format!("{k}=***"),
                    _ => p.to_owned(),
                })
                .collect();
            out.push_str(&params.join("&"));
        }
        None => out.push_str(tail),
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_passwords_in_urls() {
        assert_eq!(
            redact_url("postgres://u:hunter2@db:5432/x?sslmode=disable"),
            "postgres://u:***@db:5432/x?sslmode=disable"
        );
        assert_eq!(
            redact_url("postgresql://db/x?user=u&password=hunter2"),
            "postgresql://db/x?user=u&password=***"
        );
        assert_eq!(redact_url("postgres://u@db/x"), "postgres://u@db/x");
        assert_eq!(redact_url("mysql://a:b@c"), "mysql://a:***@c");
    }

    #[test]
    fn claim_window_does_not_overflow() {
        let w = ClaimWindow::new(i64::MAX, -5, 0, i64::MAX);
        assert_eq!(w.recertify_cutoff, i64::MAX);
        assert_eq!(w.claim_expires_at, i64::MAX);
        let w = ClaimWindow::new(i64::MIN, i64::MAX, 0, 10);
        assert_eq!(w.recertify_cutoff, i64::MIN);
    }

    #[test]
    fn migrations_are_numbered_in_order() {
        let versions: Vec<i64> = MIGRATIONS.iter().map(|m| m.version).collect();
        let expected: Vec<i64> = (1..=versions.len() as i64).collect();
        assert_eq!(versions, expected);
        assert!(MIGRATIONS.iter().all(|m| !m.name.is_empty()));
    }
}
