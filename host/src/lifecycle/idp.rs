//! The identity provider's seam: RFC 7591 registration and RFC 7592 management, found
//! from `ISSUER/.well-known/openid-configuration`.
//!
//! [`HttpIdp`] is the implementation over HTTP; [`client_metadata`] builds the RFC 7591
//! request from a manifest and its verdict (only what the verdict approved). The mapping,
//! the limits and the status codes are in docs/LIFECYCLE.md.

mod http;
mod metadata;

pub use http::{HttpIdp, HttpIdpOptions, read_initial_access_token};
pub use metadata::{ClientMetadata, MetadataError, Withheld, client_metadata};

use super::model::{Registration, Secret};

#[derive(Debug, thiserror::Error)]
pub enum IdpError {
    /// The IdP could not be reached or did not answer in time (HTTP 503 / 504 upstream).
    #[error("identity provider unavailable: {0}")]
    Unavailable(String),
    #[error("identity provider timed out after {0} ms")]
    Timeout(u64),
    /// RFC 7591 §3.2.2: the IdP refused the metadata (or, RFC 6750 §3.1, the initial access
    /// token; RFC 7592 §2: a 403 on read or delete); passed through as 502. `error` and
    /// `description` are the IdP's, cleaned: control characters dropped, at most 300
    /// characters, and any token microvet sent replaced by `[redacted]`.
    #[error("identity provider refused the request (HTTP {status}): {error}{}", description.as_deref().map(|d| format!(": {d}")).unwrap_or_default())]
    Refused {
        status: u16,
        error: String,
        description: Option<String>,
    },
    /// Any other unexpected answer (bad JSON, a missing `client_id`, a 5xx).
    #[error("identity provider answered unexpectedly: {0}")]
    Protocol(String),
    /// The IdP's address or an option is not usable (a non-loopback `http://` issuer, a
    /// URL with credentials, an unreadable initial access token file): nothing was sent.
    #[error("identity provider configuration: {0}")]
    Config(String),
}

/// The identity provider.
pub trait Idp: Send + Sync {
    /// The issuer (for the developer's `.env`).
    fn issuer(&self) -> &str;

    /// RFC 7591 §3.1: registers `metadata` (only what the verdict approved).
    fn register(&self, metadata: &serde_json::Value) -> Result<Registration, IdpError>;

    /// RFC 7592 §2.1: the client's current metadata (without its secrets), `None` when the
    /// IdP no longer knows it (401, which RFC 7592 §2.1 prescribes for a deleted client, or
    /// 404/410). 403 means the client exists but may not be read (RFC 7592 §2.1): that is
    /// [`IdpError::Refused`], never `None`, so a reconciler does not forget a live client.
    fn read(
        &self,
        registration_client_uri: &str,
        token: &Secret,
    ) -> Result<Option<serde_json::Value>, IdpError>;

    /// RFC 7592 §2.3: deletes the client. Already gone (401, 404, 410) counts as done; 403
    /// (not permitted: the client still exists) is [`IdpError::Refused`].
    fn delete(&self, registration_client_uri: &str, token: &Secret) -> Result<(), IdpError>;
}
