//! The identity provider's seam: RFC 7591 registration and RFC 7592 management, found
//! from `ISSUER/.well-known/openid-configuration`.

use super::model::{Registration, Secret};

#[derive(Debug, thiserror::Error)]
pub enum IdpError {
    /// The IdP could not be reached or did not answer in time (HTTP 503 / 504 upstream).
    #[error("identity provider unavailable: {0}")]
    Unavailable(String),
    #[error("identity provider timed out after {0} ms")]
    Timeout(u64),
    /// RFC 7591 §3.2.2: the IdP refused the metadata; passed through as 502.
    #[error("identity provider refused the registration: {error}{}", description.as_deref().map(|d| format!(": {d}")).unwrap_or_default())]
    Refused {
        status: u16,
        error: String,
        description: Option<String>,
    },
    /// Any other unexpected answer (bad JSON, a missing `client_id`, a 5xx).
    #[error("identity provider answered unexpectedly: {0}")]
    Protocol(String),
}

/// The identity provider.
pub trait Idp: Send + Sync {
    /// The issuer (for the developer's `.env`).
    fn issuer(&self) -> &str;

    /// RFC 7591 §3.1: registers `metadata` (only what the verdict approved).
    fn register(&self, metadata: &serde_json::Value) -> Result<Registration, IdpError>;

    /// RFC 7592 §2.1: the client's current metadata, `None` when the IdP no longer knows it
    /// (401/403/404 per RFC 7592 §2.1 for a deleted client).
    fn read(
        &self,
        registration_client_uri: &str,
        token: &Secret,
    ) -> Result<Option<serde_json::Value>, IdpError>;

    /// RFC 7592 §2.3: deletes the client. Already gone counts as done.
    fn delete(&self, registration_client_uri: &str, token: &Secret) -> Result<(), IdpError>;
}
