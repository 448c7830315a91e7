//! The inventory's seam. Implementations: a SQLite file (`sqlite:PATH`) and PostgreSQL
//! (`postgres://…`), with the same schema and versioned migrations run at open.
//!
//! Every method is one transaction. Methods that change an app also append its [`Event`].

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
    /// after it leaves a row the sweep can reconcile with RFC 7592.
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
    fn delete_pending(&self, name: &str) -> Result<(), StoreError>;

    /// One app, with its secrets (for the service only; outputs drop them).
    fn get(&self, name: &str) -> Result<Option<App>, StoreError>;

    /// Every app, ordered by name.
    fn list(&self) -> Result<Vec<App>, StoreError>;

    /// An app's history, oldest first.
    fn events(&self, name: &str) -> Result<Vec<Event>, StoreError>;

    /// Recertified: still approved. New dates, decision, score, policy hash, verdict;
    /// status `active`; a `recertified` event.
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

    /// Claims the apps the sweep must act on at `at`: live apps past `expires_at`, live
    /// apps past `recertify_by + grace_secs`, and `pending` rows older than
    /// `pending_older_than`. A claimed app is invisible to other claimers until
    /// [`Store::finish`] or [`Store::release`] (PostgreSQL: `FOR UPDATE SKIP LOCKED` on a
    /// claim column with a lease; SQLite: a claim column written in one transaction), so two
    /// replicas sweeping at once never act on the same app twice. A claim older than
    /// `lease_secs` is free again (its claimer died).
    fn claim_for_sweep(
        &self,
        at: Timestamp,
        grace_secs: i64,
        pending_older_than: Timestamp,
        claimer: &str,
        lease_secs: i64,
    ) -> Result<Vec<App>, StoreError>;

    /// Ends a claim by moving the app to `status` (`expired` or `revoked`) with an event.
    /// Also used by an admin's revoke (`claimer` `None`: no claim needed).
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
    /// never registered); the decision log keeps the trace.
    fn forget_pending(&self, name: &str, claimer: &str) -> Result<(), StoreError>;

    /// Gives a claim back without change (the IdP was unreachable; retry next sweep).
    fn release(&self, name: &str, claimer: &str) -> Result<(), StoreError>;
}

/// Opens `sqlite:PATH` (created with its schema on first use) or `postgres://…`, running
/// pending migrations.
pub fn open(url: &str) -> Result<Box<dyn Store>, StoreError> {
    Err(StoreError::Url(
        url.to_owned(),
        "no store backend is built yet".to_owned(),
    ))
}
