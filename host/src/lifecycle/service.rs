//! The lifecycle flows over a [`Store`] and an [`Idp`]: register, recertify, revoke,
//! sweep (expire, revoke past the grace period, reconcile `pending` rows left by a
//! crash), list and show. Synchronous: the server runs them on tokio's blocking pool, the
//! CLI calls them directly. See docs/LIFECYCLE.md.
//!
//! Nothing here returns, logs or writes a client secret or a registration access token,
//! except [`Registered::client_secret`] (the one-time answer to the developer).

use serde::Serialize;
use serde_json::{Value, json};

use super::idp::{Idp, IdpError};
use super::model::{App, AppStatus, Event, EventKind, NewApp, Secret, Timestamp};
use super::store::{Store, StoreError};
use crate::decision_log::{AppEvent, DecisionLog, LogError, Record};
use crate::{HostError, InputKind, PolicySource, VetError, Vetter};

/// How long a `pending` row may exist before the sweep reconciles it (a register in
/// flight takes seconds; anything older was left by a crash).
pub const PENDING_AFTER_SECS: i64 = 15 * 60;
/// How long a sweep's claim on an app lasts before another sweeper may take it over.
pub const LEASE_SECS: i64 = 5 * 60;
/// Longest app name (names are part of URLs and of the IdP's `client_name`).
pub const MAX_NAME_LEN: usize = 64;

/// Where the policies in force come from (the server's reloaded set, or one file).
pub trait PolicyLookup: Send + Sync {
    /// The vetter of the policy `name`, or `None` if no such policy is in force.
    fn policy(&self, name: &str) -> Option<Vetter>;
    /// The names in force (for error help and the sweep's grace period).
    fn names(&self) -> Vec<String>;
}

/// A fixed set of named vetters (the CLI; tests).
pub struct FixedPolicies(pub Vec<(String, Vetter)>);

impl PolicyLookup for FixedPolicies {
    fn policy(&self, name: &str) -> Option<Vetter> {
        self.0
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
    }
    fn names(&self) -> Vec<String> {
        self.0.iter().map(|(n, _)| n.clone()).collect()
    }
}

/// Where lifecycle events are appended (the hash-chained decision log).
pub trait EventLog: Send + Sync {
    /// Appends and syncs one record.
    ///
    /// # Errors
    /// When the record could not be written.
    fn append(&self, record: Record) -> Result<(), LogError>;
}

impl EventLog for DecisionLog {
    fn append(&self, record: Record) -> Result<(), LogError> {
        self.append_blocking(record).map(|_| ())
    }
}

/// Why a lifecycle call failed. [`LifecycleError::status`] is its HTTP status.
#[derive(Debug, thiserror::Error)]
pub enum LifecycleError {
    /// The server has no store, IdP or tokens configured.
    #[error(
        "the app lifecycle is not configured: no identity provider (and, on a server, no store or API tokens)"
    )]
    NotConfigured,
    #[error("{0}")]
    BadRequest(String),
    #[error("no policy named `{0}`")]
    UnknownPolicy(String),
    #[error("no app named `{0}`")]
    NotFound(String),
    /// The manifest could not be vetted at all.
    #[error("{0}")]
    Invalid(VetError),
    /// The verdict is `remediate` or `reject`: nothing was provisioned.
    #[error("the verdict is `{decision}`: nothing was registered at the identity provider")]
    NotApproved { decision: String, verdict: String },
    /// Approved, but the manifest lacks what a registration needs.
    #[error("{0}")]
    Unregistrable(String),
    #[error("an app named `{0}` already exists")]
    Duplicate(String),
    #[error("{0}")]
    Conflict(String),
    /// RFC 7591 §3.2.2 error from the IdP, passed through.
    #[error("the identity provider refused the registration: {error}{}", description.as_deref().map(|d| format!(": {d}")).unwrap_or_default())]
    IdpRefused {
        error: String,
        description: Option<String>,
    },
    #[error("{0}")]
    IdpProtocol(String),
    #[error("{0}")]
    IdpUnavailable(String),
    #[error("the identity provider did not answer within {0} ms")]
    IdpTimeout(u64),
    #[error("{0}")]
    Store(String),
    #[error("the decision log could not be written: {0}")]
    Log(String),
    #[error("{0}")]
    Host(String),
}

impl LifecycleError {
    /// The HTTP status of the error.
    pub fn status(&self) -> u16 {
        match self {
            LifecycleError::NotConfigured
            | LifecycleError::UnknownPolicy(_)
            | LifecycleError::NotFound(_) => 404,
            LifecycleError::BadRequest(_) => 400,
            LifecycleError::Invalid(_)
            | LifecycleError::NotApproved { .. }
            | LifecycleError::Unregistrable(_) => 422,
            LifecycleError::Duplicate(_) | LifecycleError::Conflict(_) => 409,
            LifecycleError::IdpRefused { .. } | LifecycleError::IdpProtocol(_) => 502,
            LifecycleError::IdpUnavailable(_) | LifecycleError::Store(_) => 503,
            LifecycleError::IdpTimeout(_) => 504,
            LifecycleError::Log(_) | LifecycleError::Host(_) => 500,
        }
    }

    /// The stable machine code of the error.
    pub fn code(&self) -> &str {
        match self {
            LifecycleError::NotConfigured => "lifecycle-not-configured",
            LifecycleError::BadRequest(_) => "bad-request",
            LifecycleError::UnknownPolicy(_) => "unknown-policy",
            LifecycleError::NotFound(_) => "unknown-app",
            LifecycleError::Invalid(e) => e.code.as_str(),
            LifecycleError::NotApproved { .. } => "not-approved",
            LifecycleError::Unregistrable(_) => "unregistrable",
            LifecycleError::Duplicate(_) => "duplicate-app",
            LifecycleError::Conflict(_) => "wrong-status",
            LifecycleError::IdpRefused { .. } => "idp-refused",
            LifecycleError::IdpProtocol(_) => "idp-protocol",
            LifecycleError::IdpUnavailable(_) => "idp-unavailable",
            LifecycleError::IdpTimeout(_) => "idp-timeout",
            LifecycleError::Store(_) => "store-unavailable",
            LifecycleError::Log(_) => "decision-log",
            LifecycleError::Host(_) => "internal",
        }
    }

    /// The JSON error body: `{"error": {code, message, …}}`, plus the verdict of a
    /// refused app and the IdP's RFC 7591 error.
    pub fn body(&self) -> Value {
        let mut error = serde_json::Map::new();
        error.insert("code".into(), json!(self.code()));
        error.insert("message".into(), json!(self.to_string()));
        match self {
            LifecycleError::Invalid(e) => {
                if let Ok(Value::Object(m)) = serde_json::to_value(e) {
                    error = m;
                }
            }
            LifecycleError::IdpRefused {
                error: e,
                description,
            } => {
                error.insert("idp_error".into(), json!(e));
                if let Some(d) = description {
                    error.insert("idp_error_description".into(), json!(d));
                }
            }
            LifecycleError::NotConfigured => {
                error.insert(
                    "help".into(),
                    json!(
                        "start `microvet serve` with --store, --idp and --api-tokens; `microvet apps` takes --idp with --store"
                    ),
                );
            }
            _ => {}
        }
        let mut body = serde_json::Map::new();
        body.insert("error".into(), Value::Object(error));
        if let LifecycleError::NotApproved { verdict, .. } = self {
            body.insert(
                "verdict".into(),
                serde_json::from_str(verdict).unwrap_or(Value::Null),
            );
        }
        Value::Object(body)
    }
}

impl From<StoreError> for LifecycleError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Duplicate(n) => LifecycleError::Duplicate(n),
            StoreError::NotFound(n) => LifecycleError::NotFound(n),
            e @ StoreError::WrongStatus { .. } => LifecycleError::Conflict(e.to_string()),
            e => LifecycleError::Store(e.to_string()),
        }
    }
}

impl From<IdpError> for LifecycleError {
    fn from(e: IdpError) -> Self {
        match e {
            IdpError::Unavailable(m) => {
                LifecycleError::IdpUnavailable(format!("identity provider unavailable: {m}"))
            }
            IdpError::Timeout(ms) => LifecycleError::IdpTimeout(ms),
            IdpError::Refused {
                error, description, ..
            } => LifecycleError::IdpRefused { error, description },
            e @ (IdpError::Protocol(_) | IdpError::Config(_)) => {
                LifecycleError::IdpProtocol(e.to_string())
            }
        }
    }
}

/// The answer to a registration (`201`). The only place a client secret appears.
#[derive(Debug, Serialize)]
pub struct Registered {
    pub name: String,
    pub status: AppStatus,
    pub client_id: String,
    /// Returned once; never stored or logged.
    #[serde(
        serialize_with = "expose_secret",
        skip_serializing_if = "Option::is_none"
    )]
    pub client_secret: Option<Secret>,
    pub expires_at: String,
    pub recertify_by: String,
    pub decision: String,
    pub score: u32,
    pub verdict: Value,
    /// The developer's environment as `.env` text.
    pub env: String,
}

fn expose_secret<S: serde::Serializer>(s: &Option<Secret>, ser: S) -> Result<S::Ok, S::Error> {
    match s {
        Some(s) => ser.serialize_str(s.expose()),
        None => ser.serialize_none(),
    }
}

/// An app as list and show return it: never a secret.
#[derive(Debug, Clone, Serialize)]
pub struct AppView {
    pub name: String,
    pub owner: String,
    pub status: AppStatus,
    pub decision: String,
    pub score: u32,
    pub policy: String,
    pub policy_sha256: String,
    pub manifest_sha256: String,
    pub client_id: Option<String>,
    pub created_at: String,
    pub registered_at: Option<String>,
    pub expires_at: String,
    pub recertify_by: String,
    pub controls: Value,
}

impl AppView {
    pub fn of(app: &App) -> AppView {
        AppView {
            name: app.name.clone(),
            owner: app.owner.clone(),
            status: app.status,
            decision: app.decision.clone(),
            score: app.score,
            policy: app.policy_name.clone(),
            policy_sha256: app.policy_sha256.clone(),
            manifest_sha256: app.manifest_sha256.clone(),
            client_id: app.client_id.clone(),
            created_at: rfc3339(app.created_at),
            registered_at: app.registered_at.map(rfc3339),
            expires_at: rfc3339(app.expires_at),
            recertify_by: rfc3339(app.recertify_by),
            controls: app.controls.clone(),
        }
    }
}

/// One app in detail: its view, its latest verdict and its history.
#[derive(Debug, Serialize)]
pub struct AppDetail {
    #[serde(flatten)]
    pub app: AppView,
    pub verdict: Value,
    pub events: Vec<EventView>,
}

#[derive(Debug, Clone, Serialize)]
pub struct EventView {
    pub event: EventKind,
    pub actor: String,
    pub at: String,
    pub detail: String,
}

impl EventView {
    fn of(e: &Event) -> EventView {
        EventView {
            event: e.kind,
            actor: e.actor.clone(),
            at: rfc3339(e.at),
            detail: e.detail.clone(),
        }
    }
}

/// What a sweep did (or, in a dry run, would do).
#[derive(Debug, Clone, Serialize)]
pub struct SweepReport {
    pub at: String,
    pub applied: bool,
    pub actions: Vec<SweepAction>,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct SweepAction {
    pub name: String,
    pub client_id: Option<String>,
    /// `expire`, `revoke` or `reconcile`.
    pub action: &'static str,
    /// Why the app is acted on.
    pub reason: String,
    /// `would` (dry run), `done`, or `retry` (the IdP failed; the claim was released).
    pub outcome: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// The flows. `idp` is `None` for read-only use (list, show, a dry-run sweep).
pub struct Lifecycle {
    pub store: Box<dyn Store>,
    pub idp: Option<Box<dyn Idp>>,
    pub policies: Box<dyn PolicyLookup>,
    pub log: Option<Box<dyn EventLog>>,
    /// This process's name in sweep claims.
    pub claimer: String,
}

/// RFC 3339 UTC, seconds precision (`2026-05-01T09:30:00Z`).
pub fn rfc3339(t: Timestamp) -> String {
    chrono::DateTime::from_timestamp(t, 0).map_or_else(
        || t.to_string(),
        |d| d.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
    )
}

/// Parses an RFC 3339 time into Unix seconds; the error names the value.
///
/// # Errors
/// A message naming the value when it is not RFC 3339.
pub fn parse_rfc3339(s: &str) -> Result<Timestamp, String> {
    chrono::DateTime::parse_from_rfc3339(s.trim())
        .map(|d| d.timestamp())
        .map_err(|e| {
            format!("`{s}` is not an RFC 3339 time ({e}); write e.g. `2026-05-01T09:30:00Z`")
        })
}

/// Whether `name` may name an app: 1..=64 of `a-z 0-9 - . _`, starting with a letter or
/// digit, not `sweep`. ASCII lowercase only, so two apps cannot differ by case or a
/// lookalike letter.
pub fn valid_name(name: &str) -> bool {
    let mut bytes = name.bytes();
    // `sweep` is a route (`POST /v1/apps/sweep`).
    name != "sweep"
        && name.len() <= MAX_NAME_LEN
        && bytes
            .next()
            .is_some_and(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        && bytes.all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"-._".contains(&b))
}

/// A fresh random hex id (RFC 7591 `software_id`, claimer names).
///
/// # Errors
/// When the OS random source fails.
pub fn random_id() -> Result<String, LifecycleError> {
    let mut b = [0u8; 16];
    getrandom::fill(&mut b)
        .map_err(|e| LifecycleError::Host(format!("the OS random source failed: {e}")))?;
    Ok(b.iter().map(|x| format!("{x:02x}")).collect())
}

/// The identity provider at `issuer` (discovered from its OpenID configuration).
///
/// # Errors
/// When the IdP cannot be discovered.
pub fn connect_idp(
    issuer: &str,
    initial_access_token_file: Option<&std::path::Path>,
) -> Result<Box<dyn Idp>, String> {
    let initial_access_token = initial_access_token_file
        .map(super::idp::read_initial_access_token)
        .transpose()
        .map_err(|e| e.to_string())?;
    let mut seed = [0u8; 8];
    let _ = getrandom::fill(&mut seed);
    let options = super::idp::HttpIdpOptions {
        initial_access_token,
        jitter_seed: u64::from_le_bytes(seed),
        ..super::idp::HttpIdpOptions::default()
    };
    super::idp::HttpIdp::discover(issuer, options)
        .map(|idp| Box::new(idp) as Box<dyn Idp>)
        .map_err(|e| format!("--idp {issuer}: {e}"))
}

const DAY: i64 = 86_400;

/// The end (UTC, in seconds) of the last day of the first waiver to expire of a verdict's
/// waived findings; `None` when nothing was waived. A waiver whose day cannot be read ends
/// now (fails closed: the component always writes `YYYY-MM-DD`).
fn waivers_end(verdict: &crate::Verdict) -> Option<Timestamp> {
    verdict
        .waived
        .iter()
        .map(|w| {
            microvet_core::Date::parse(&w.waiver.expires)
                .map_or(0, |d| d.days().saturating_add(1).saturating_mul(DAY))
        })
        .min()
}

/// A number control of the verdict (`client_ttl_days`, `recertify_every_days`).
fn control_days(controls: &Value, name: &str) -> Option<i64> {
    controls.as_array()?.iter().find_map(|c| {
        (c.get("control")?.as_str()? == name)
            .then(|| c.get("value")?.as_i64())
            .flatten()
    })
}

/// The grace period of a policy, in seconds.
fn grace_secs(vetter: &Vetter) -> i64 {
    let policy = match vetter.policy_source() {
        PolicySource::Builtin => microvet_core::Policy::builtin(),
        PolicySource::Text(t) => microvet_core::Policy::parse(t),
    };
    let days = policy.map_or(14, |p| p.doc().lifecycle.recertify_grace_days);
    days.saturating_mul(DAY)
}

/// The app's name and owner, read with the component's own parser.
struct Identity {
    name: String,
    owner: String,
}

fn identity(text: &str) -> Result<Identity, LifecycleError> {
    use microvet_core::manifest;
    let root =
        microvet_core::yaml::parse(text, microvet_core::yaml::Limits::MANIFEST).map_err(|e| {
            LifecycleError::Unregistrable(format!("cannot read the manifest: {}", e.message))
        })?;
    let m = manifest::extract(&root);
    let name =
        m.name.as_ref().map(|s| s.value.clone()).ok_or_else(|| {
            LifecycleError::Unregistrable("the manifest has no `name`".to_owned())
        })?;
    if !valid_name(&name) {
        return Err(LifecycleError::Unregistrable(format!(
            "the app name `{}` cannot name a registered app: use 1-{MAX_NAME_LEN} lowercase letters, digits, `-`, `.` or `_`, starting with a letter or digit (not `sweep`)",
            name.escape_debug()
        )));
    }
    let owner =
        m.owner.as_ref().map(|s| s.value.clone()).ok_or_else(|| {
            LifecycleError::Unregistrable("the manifest has no `owner`".to_owned())
        })?;
    Ok(Identity { name, owner })
}

/// The developer's `.env` text.
fn env_text(
    issuer: &str,
    client_id: &str,
    secret: Option<&Secret>,
    redirect_uri: &str,
    scope: Option<&str>,
) -> String {
    let q = |v: &str| serde_json::to_string(v).unwrap_or_default();
    let mut out = format!(
        "OIDC_ISSUER={}\nOIDC_CLIENT_ID={}\n",
        q(issuer),
        q(client_id)
    );
    if let Some(s) = secret {
        out.push_str(&format!("OIDC_CLIENT_SECRET={}\n", q(s.expose())));
    }
    out.push_str(&format!(
        "OIDC_REDIRECT_URI={}\nOIDC_CODE_CHALLENGE_METHOD=S256\n",
        q(redirect_uri)
    ));
    if let Some(s) = scope {
        out.push_str(&format!("OIDC_SCOPE={}\n", q(s)));
    }
    out
}

impl Lifecycle {
    fn idp(&self) -> Result<&dyn Idp, LifecycleError> {
        self.idp.as_deref().ok_or(LifecycleError::NotConfigured)
    }

    fn vetter(&self, policy: &str) -> Result<Vetter, LifecycleError> {
        self.policies
            .policy(policy)
            .ok_or_else(|| LifecycleError::UnknownPolicy(policy.to_owned()))
    }

    /// Appends an app event to the decision log, if one is configured.
    fn log_event(
        &self,
        app: &App,
        event: EventKind,
        actor: &str,
        detail: &str,
    ) -> Result<(), LifecycleError> {
        let Some(log) = &self.log else {
            return Ok(());
        };
        let record = Record {
            request_id: format!("app-{}", app.name),
            kind: "app".to_owned(),
            policy: app.policy_name.clone(),
            policy_sha256: app.policy_sha256.clone(),
            manifest_sha256: app.manifest_sha256.clone(),
            decision: app.decision.clone(),
            score: app.score,
            rules: Vec::new(),
            // The waivers the app's approval rests on, if any.
            waivers: serde_json::from_str::<crate::Verdict>(&app.verdict)
                .map(|v| Record::from_verdict("", InputKind::Manifest, "", &v).waivers)
                .unwrap_or_default(),
            engine: format!("microvet {}", env!("CARGO_PKG_VERSION")),
            app: Some(Box::new(AppEvent {
                name: app.name.clone(),
                event: event.as_str().to_owned(),
                actor: actor.to_owned(),
                client_id: app.client_id.clone(),
                detail: detail.to_owned(),
            })),
        };
        log.append(record)
            .map_err(|e| LifecycleError::Log(e.to_string()))
    }

    fn vet(&self, vetter: &Vetter, text: &str) -> Result<crate::VetOutcome, LifecycleError> {
        vetter
            .vet_kind(InputKind::Manifest, text)
            .map_err(|e| match e {
                HostError::Input(v) => LifecycleError::Invalid(v),
                other => LifecycleError::Host(other.to_string()),
            })
    }

    /// Vet `manifest` with `policy`; if approved, register its client at the IdP and
    /// keep it in the inventory. See the module docs for the order of the writes.
    ///
    /// # Errors
    /// See [`LifecycleError`]; `NotApproved` carries the verdict.
    pub fn register(
        &self,
        manifest: &[u8],
        policy: &str,
        actor: &str,
        now: Timestamp,
    ) -> Result<Registered, LifecycleError> {
        let idp = self.idp()?;
        let text = std::str::from_utf8(manifest).map_err(|e| {
            LifecycleError::BadRequest(format!(
                "the manifest is not valid UTF-8 (byte offset {})",
                e.valid_up_to()
            ))
        })?;
        let vetter = self.vetter(policy)?;
        let outcome = self.vet(&vetter, text)?;
        let decision = outcome.verdict.decision;
        if !decision.is_approved() {
            return Err(LifecycleError::NotApproved {
                decision: decision.as_str().to_owned(),
                verdict: outcome.json,
            });
        }
        let request = identity(text)?;
        let verdict: Value = serde_json::from_str(&outcome.json)
            .map_err(|e| LifecycleError::Host(format!("the verdict is not JSON: {e}")))?;
        let controls = verdict.get("controls").cloned().unwrap_or(Value::Null);
        let ttl_days = control_days(&controls, "client_ttl_days").ok_or_else(|| {
            LifecycleError::Unregistrable(
                "the verdict sets no `client_ttl_days` control: no expiry, so nothing is provisioned".to_owned(),
            )
        })?;
        let every_days = control_days(&controls, "recertify_every_days").unwrap_or(ttl_days);
        // An approval that rests on waivers lasts no longer than they do: the client expires
        // (and is due for recertification) at the end of the first waiver's last day.
        let waived_until = waivers_end(&outcome.verdict);
        let cap = |t: Timestamp| waived_until.map_or(t, |end| t.min(end));
        let software_id = random_id()?;
        let new = NewApp {
            name: request.name.clone(),
            owner: request.owner.clone(),
            manifest: manifest.to_vec(),
            manifest_sha256: outcome.verdict.manifest_sha256.clone(),
            policy_name: policy.to_owned(),
            policy_sha256: outcome.verdict.policy_sha256.clone(),
            decision: decision.as_str().to_owned(),
            score: outcome.verdict.risk.score,
            controls: controls.clone(),
            verdict: outcome.json.clone(),
            created_at: now,
            expires_at: cap(now.saturating_add(ttl_days.saturating_mul(DAY))),
            recertify_by: cap(now.saturating_add(every_days.saturating_mul(DAY))),
            software_id: software_id.clone(),
        };
        // Only what the verdict approved (a finding's item withheld, anything not
        // understood blocking), read with the component's own parser.
        let metadata = super::idp::client_metadata(text, &outcome.json, &software_id)
            .map_err(|e| LifecycleError::Unregistrable(e.to_string()))?;
        self.store.insert_pending(&new)?;
        let registration = match idp.register(&metadata.metadata) {
            Ok(r) => r,
            Err(e) => {
                // A timed-out request may have created the client: the pending row (with
                // its software_id) stays for discovery, and the sweep forgets it later.
                if !matches!(e, IdpError::Timeout(_)) {
                    let _ = self.store.delete_pending(&new.name);
                }
                return Err(e.into());
            }
        };
        if let Err(e) = self.store.record_registration(&new.name, &registration) {
            // No row knows the client: take it back at the IdP.
            if let (Some(uri), Some(token)) = (
                &registration.registration_client_uri,
                &registration.registration_access_token,
            ) {
                let _ = idp.delete(uri, token);
            }
            let _ = self.store.delete_pending(&new.name);
            return Err(e.into());
        }
        #[cfg(debug_assertions)]
        if std::env::var_os("MICROVET_TEST_ABORT_AFTER_RECORD").is_some() {
            // Fault injection for the crash test (debug builds only).
            std::process::abort();
        }
        if registration.registration_client_uri.is_none()
            || registration.registration_access_token.is_none()
        {
            return Err(LifecycleError::IdpProtocol(format!(
                "the identity provider registered client `{}` without RFC 7592 `registration_client_uri` and `registration_access_token`: it cannot be disabled later, so the app stays pending",
                registration.client_id
            )));
        }
        let mut app = self
            .store
            .get(&new.name)?
            .ok_or_else(|| LifecycleError::NotFound(new.name.clone()))?;
        app.client_id = Some(registration.client_id.clone());
        self.log_event(&app, EventKind::Registered, actor, decision.as_str())?;
        self.store
            .activate(&new.name, now, new.expires_at, new.recertify_by, actor)?;
        let sent = &metadata.metadata;
        let env = env_text(
            idp.issuer(),
            &registration.client_id,
            registration.client_secret.as_ref(),
            sent.pointer("/redirect_uris/0")
                .and_then(Value::as_str)
                .unwrap_or(""),
            sent.get("scope").and_then(Value::as_str),
        );
        Ok(Registered {
            name: new.name,
            status: AppStatus::Active,
            client_id: registration.client_id,
            client_secret: registration.client_secret,
            expires_at: rfc3339(new.expires_at),
            recertify_by: rfc3339(new.recertify_by),
            decision: new.decision,
            score: new.score,
            verdict,
            env,
        })
    }

    /// Re-vet the stored manifest against its policy as in force now: still approved →
    /// new dates (`active`); otherwise `due` with the new verdict.
    ///
    /// # Errors
    /// See [`LifecycleError`].
    pub fn recertify(
        &self,
        name: &str,
        actor: &str,
        now: Timestamp,
    ) -> Result<AppDetail, LifecycleError> {
        let app = self
            .store
            .get(name)?
            .ok_or_else(|| LifecycleError::NotFound(name.to_owned()))?;
        if !matches!(app.status, AppStatus::Active | AppStatus::Due) {
            return Err(LifecycleError::Conflict(format!(
                "app `{name}` is {}: only an active or due app can be recertified",
                app.status.as_str()
            )));
        }
        let vetter = self.policies.policy(&app.policy_name).ok_or_else(|| {
            LifecycleError::Conflict(format!(
                "app `{name}` was approved under policy `{}`, which is no longer in force",
                app.policy_name
            ))
        })?;
        let text = String::from_utf8_lossy(&app.manifest).into_owned();
        let outcome = self.vet(&vetter, &text)?;
        let decision = outcome.verdict.decision;
        let score = outcome.verdict.risk.score;
        let verdict: Value = serde_json::from_str(&outcome.json).unwrap_or(Value::Null);
        let controls = verdict.get("controls").cloned().unwrap_or(Value::Null);
        let ttl = control_days(&controls, "client_ttl_days");
        let mut logged = app.clone();
        logged.decision = decision.as_str().to_owned();
        logged.score = score;
        logged.policy_sha256 = outcome.verdict.policy_sha256.clone();
        match ttl.filter(|_| decision.is_approved()) {
            Some(ttl_days) => {
                let every = control_days(&controls, "recertify_every_days").unwrap_or(ttl_days);
                let detail = format!("still {} (score {score})", decision.as_str());
                self.log_event(&logged, EventKind::Recertified, actor, &detail)?;
                self.store.recertified(
                    name,
                    decision.as_str(),
                    score,
                    &outcome.verdict.policy_sha256,
                    &outcome.json,
                    now.saturating_add(ttl_days.saturating_mul(DAY)),
                    now.saturating_add(every.saturating_mul(DAY)),
                    now,
                    actor,
                )?;
            }
            None => {
                let detail = format!(
                    "now {} (score {score}) under policy `{}`: fix the manifest or the app is disabled after the grace period",
                    decision.as_str(),
                    app.policy_name
                );
                self.log_event(&logged, EventKind::Due, actor, &detail)?;
                self.store.mark_due(
                    name,
                    decision.as_str(),
                    score,
                    &outcome.json,
                    now,
                    actor,
                    &detail,
                )?;
            }
        }
        self.show(name)
    }

    /// Disable an app at the IdP now (RFC 7592 delete) and mark it `revoked`.
    ///
    /// # Errors
    /// See [`LifecycleError`]; the IdP's failure leaves the app as it was.
    pub fn revoke(
        &self,
        name: &str,
        actor: &str,
        now: Timestamp,
    ) -> Result<AppDetail, LifecycleError> {
        let idp = self.idp()?;
        let app = self
            .store
            .get(name)?
            .ok_or_else(|| LifecycleError::NotFound(name.to_owned()))?;
        if !app.status.is_live() {
            return Err(LifecycleError::Conflict(format!(
                "app `{name}` is already {}",
                app.status.as_str()
            )));
        }
        if let (Some(uri), Some(token)) =
            (&app.registration_client_uri, &app.registration_access_token)
        {
            idp.delete(uri, token)?;
        }
        let detail = "revoked by an administrator";
        self.log_event(&app, EventKind::Revoked, actor, detail)?;
        self.store.finish(
            name,
            None,
            AppStatus::Revoked,
            EventKind::Revoked,
            now,
            actor,
            detail,
        )?;
        self.show(name)
    }

    /// Every app (no secrets), ordered by name.
    ///
    /// # Errors
    /// When the store fails.
    pub fn list(&self) -> Result<Vec<AppView>, LifecycleError> {
        Ok(self.store.list()?.iter().map(AppView::of).collect())
    }

    /// One app with its verdict and history (no secrets).
    ///
    /// # Errors
    /// `NotFound`, or when the store fails.
    pub fn show(&self, name: &str) -> Result<AppDetail, LifecycleError> {
        let app = self
            .store
            .get(name)?
            .ok_or_else(|| LifecycleError::NotFound(name.to_owned()))?;
        let events = self.store.events(name)?;
        Ok(AppDetail {
            app: AppView::of(&app),
            verdict: serde_json::from_str(&app.verdict).unwrap_or(Value::Null),
            events: events.iter().map(EventView::of).collect(),
        })
    }

    /// The grace period of an app's policy (the longest in force if its policy is gone:
    /// never shorter than promised).
    fn app_grace(&self, app: &App) -> i64 {
        match self.policies.policy(&app.policy_name) {
            Some(v) => grace_secs(&v),
            None => self.grace_bound(i64::max),
        }
    }

    fn grace_bound(&self, pick: fn(i64, i64) -> i64) -> i64 {
        self.policies
            .names()
            .iter()
            .filter_map(|n| self.policies.policy(n))
            .map(|v| grace_secs(&v))
            .reduce(pick)
            .unwrap_or(14 * DAY)
    }

    /// What the sweep does to `app` at `at`, if anything: (action, reason).
    fn due_action(&self, app: &App, at: Timestamp) -> Option<(&'static str, String)> {
        match app.status {
            AppStatus::Pending => {
                (app.created_at <= at.saturating_sub(PENDING_AFTER_SECS)).then(|| {
                    (
                        "reconcile",
                        format!(
                            "pending since {} (a registration interrupted by a crash)",
                            rfc3339(app.created_at)
                        ),
                    )
                })
            }
            AppStatus::Active | AppStatus::Due => {
                if app.expires_at <= at {
                    Some(("expire", format!("expired at {}", rfc3339(app.expires_at))))
                } else {
                    let grace = self.app_grace(app);
                    (app.recertify_by.saturating_add(grace) <= at).then(|| {
                        (
                            "revoke",
                            format!(
                                "not recertified by {} (+{} days of grace)",
                                rfc3339(app.recertify_by),
                                grace / DAY
                            ),
                        )
                    })
                }
            }
            AppStatus::Expired | AppStatus::Revoked => None,
        }
    }

    /// The sweep at `at`: apps past `expires_at` are disabled at the IdP and marked
    /// `expired`; apps past `recertify_by` plus their policy's grace period are disabled and
    /// marked `revoked`; `pending` rows older than [`PENDING_AFTER_SECS`] are reconciled
    /// (their client, if any, deleted at the IdP; the row forgotten). A dry run (`apply`
    /// false) changes nothing and reports what it would do. An IdP failure releases the
    /// app's claim for the next sweep.
    ///
    /// # Errors
    /// When the store fails (or `apply` without an IdP).
    pub fn sweep(
        &self,
        at: Timestamp,
        apply: bool,
        actor: &str,
    ) -> Result<SweepReport, LifecycleError> {
        let mut actions = Vec::new();
        if !apply {
            for app in self.store.list()? {
                if let Some((action, reason)) = self.due_action(&app, at) {
                    actions.push(SweepAction {
                        name: app.name.clone(),
                        client_id: app.client_id.clone(),
                        action,
                        reason,
                        outcome: "would",
                        error: None,
                    });
                }
            }
            return Ok(SweepReport {
                at: rfc3339(at),
                applied: false,
                actions,
            });
        }
        let idp = self.idp()?;
        let claimed = self.store.claim_for_sweep(
            at,
            self.grace_bound(i64::min),
            at.saturating_sub(PENDING_AFTER_SECS),
            &self.claimer,
            LEASE_SECS,
        )?;
        for app in claimed {
            let Some((action, reason)) = self.due_action(&app, at) else {
                // Claimed with the shortest grace of all policies; its own is longer.
                self.store.release(&app.name, &self.claimer)?;
                continue;
            };
            let outcome = self.sweep_one(idp, &app, action, &reason, at, actor);
            let (outcome, error) = match outcome {
                Ok(()) => ("done", None),
                Err(e) => {
                    let _ = self.store.release(&app.name, &self.claimer);
                    ("retry", Some(e.to_string()))
                }
            };
            actions.push(SweepAction {
                name: app.name.clone(),
                client_id: app.client_id.clone(),
                action,
                reason,
                outcome,
                error,
            });
        }
        Ok(SweepReport {
            at: rfc3339(at),
            applied: true,
            actions,
        })
    }

    fn sweep_one(
        &self,
        idp: &dyn Idp,
        app: &App,
        action: &str,
        reason: &str,
        at: Timestamp,
        actor: &str,
    ) -> Result<(), LifecycleError> {
        let creds = app
            .registration_client_uri
            .as_deref()
            .zip(app.registration_access_token.as_ref());
        if action == "reconcile" {
            let detail = match creds {
                Some((uri, token)) => {
                    let known = idp.read(uri, token)?;
                    if known.is_some() {
                        idp.delete(uri, token)?;
                        format!(
                            "{reason}: the developer never got the answer, so client `{}` was deleted at the identity provider",
                            app.client_id.as_deref().unwrap_or("?")
                        )
                    } else {
                        format!("{reason}: the identity provider no longer knows the client")
                    }
                }
                None => format!(
                    "{reason}: no registration was recorded (software_id `{}` identifies a client the identity provider may hold)",
                    app.software_id
                ),
            };
            self.log_event(app, EventKind::Reconciled, actor, &detail)?;
            self.store.forget_pending(&app.name, &self.claimer)?;
            return Ok(());
        }
        if let Some((uri, token)) = creds {
            idp.delete(uri, token)?;
        }
        let (status, event) = if action == "expire" {
            (AppStatus::Expired, EventKind::Expired)
        } else {
            (AppStatus::Revoked, EventKind::Revoked)
        };
        self.log_event(app, event, actor, reason)?;
        self.store.finish(
            &app.name,
            Some(&self.claimer),
            status,
            event,
            at,
            actor,
            reason,
        )?;
        Ok(())
    }
}
