//! What the inventory holds. Times are Unix seconds (UTC) in the store and RFC 3339 in
//! every output.

use serde::Serialize;

/// Seconds since the Unix epoch, UTC.
pub type Timestamp = i64;

/// A value that must never be printed, logged or returned by a list endpoint: a
/// registration access token or a client secret. `Debug` and `Display` print
/// `[redacted]`; the value is reachable only through [`Secret::expose`].
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Secret {
        Secret(value.into())
    }
    /// The secret itself: only for the IdP call or the one-time registration answer.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("[redacted]")
    }
}

impl std::fmt::Display for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("[redacted]")
    }
}

/// Status of an app in the inventory.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum AppStatus {
    /// Row written, IdP call not yet confirmed (a crash here is reconciled by the sweep).
    Pending,
    /// Registered at the IdP and within its dates.
    Active,
    /// Recertification found it no longer approved, or `recertify_by` has passed: the owner
    /// must act before the grace period ends.
    Due,
    /// Past `expires_at`: disabled at the IdP by the sweep.
    Expired,
    /// Disabled at the IdP by an admin or by the sweep after the grace period.
    Revoked,
}

impl AppStatus {
    pub const ALL: [AppStatus; 5] = [
        AppStatus::Pending,
        AppStatus::Active,
        AppStatus::Due,
        AppStatus::Expired,
        AppStatus::Revoked,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            AppStatus::Pending => "pending",
            AppStatus::Active => "active",
            AppStatus::Due => "due",
            AppStatus::Expired => "expired",
            AppStatus::Revoked => "revoked",
        }
    }

    pub fn parse(s: &str) -> Option<AppStatus> {
        AppStatus::ALL.into_iter().find(|v| v.as_str() == s)
    }

    /// Whether the client still exists at the IdP (or may: `pending`).
    pub fn is_live(self) -> bool {
        matches!(
            self,
            AppStatus::Pending | AppStatus::Active | AppStatus::Due
        )
    }
}

/// What happened to an app.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum EventKind {
    Registered,
    Recertified,
    /// Recertification found the app no longer approved (status `due`).
    Due,
    Revoked,
    Expired,
    /// The sweep resolved a `pending` row left by a crash (detail says how).
    Reconciled,
}

impl EventKind {
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::Registered => "registered",
            EventKind::Recertified => "recertified",
            EventKind::Due => "due",
            EventKind::Revoked => "revoked",
            EventKind::Expired => "expired",
            EventKind::Reconciled => "reconciled",
        }
    }

    pub fn parse(s: &str) -> Option<EventKind> {
        [
            EventKind::Registered,
            EventKind::Recertified,
            EventKind::Due,
            EventKind::Revoked,
            EventKind::Expired,
            EventKind::Reconciled,
        ]
        .into_iter()
        .find(|v| v.as_str() == s)
    }
}

/// One entry of an app's history.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Event {
    pub kind: EventKind,
    /// The API token's name, `cli` for the local CLI, `sweep` for the sweep.
    pub actor: String,
    pub at: Timestamp,
    /// A short human-readable detail (the new decision, the reason); never a secret.
    pub detail: String,
}

/// What the IdP answered to an RFC 7591 registration.
#[derive(Clone, Debug)]
pub struct Registration {
    pub client_id: String,
    /// Returned once to the developer; never stored.
    pub client_secret: Option<Secret>,
    /// RFC 7592 §3: where the client is read and deleted later.
    pub registration_client_uri: Option<String>,
    /// RFC 7592 §3: the bearer token for `registration_client_uri`. Stored, never shown.
    pub registration_access_token: Option<Secret>,
    /// The full response without `client_secret` and `registration_access_token`.
    pub metadata: serde_json::Value,
}

/// A vetted app about to be registered (the `pending` row).
#[derive(Clone, Debug)]
pub struct NewApp {
    pub name: String,
    pub owner: String,
    pub manifest: Vec<u8>,
    pub manifest_sha256: String,
    pub policy_name: String,
    pub policy_sha256: String,
    /// `approve` or `approve-with-controls`.
    pub decision: String,
    pub score: u32,
    /// The verdict's `controls` array, as JSON.
    pub controls: serde_json::Value,
    /// The full verdict JSON, as the component produced it.
    pub verdict: String,
    /// When the pending row is written.
    pub created_at: Timestamp,
    /// Planned dates (from the verdict's controls), confirmed by `activate`.
    pub expires_at: Timestamp,
    pub recertify_by: Timestamp,
    /// A random id sent as RFC 7591 `software_id` in the registration request, so that a
    /// client registered before a crash (IdP answered, row not yet updated) can be matched
    /// by discovery.
    pub software_id: String,
}

/// An app in the inventory.
#[derive(Clone, Debug)]
pub struct App {
    pub name: String,
    pub owner: String,
    pub manifest: Vec<u8>,
    pub manifest_sha256: String,
    pub policy_name: String,
    pub policy_sha256: String,
    pub decision: String,
    pub score: u32,
    pub controls: serde_json::Value,
    pub verdict: String,
    pub client_id: Option<String>,
    pub registration_client_uri: Option<String>,
    pub registration_access_token: Option<Secret>,
    pub created_at: Timestamp,
    pub registered_at: Option<Timestamp>,
    pub expires_at: Timestamp,
    pub recertify_by: Timestamp,
    pub status: AppStatus,
    /// The RFC 7591 `software_id` sent at registration (see [`NewApp::software_id`]).
    pub software_id: String,
    /// The IdP's registration response without its secrets ([`Registration::metadata`]),
    /// once recorded.
    pub registration_metadata: Option<serde_json::Value>,
}
