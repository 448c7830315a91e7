//! microvet-core: the pure vetting engine.
//!
//! parse → normalise → rules → score → decide, plus PKCE (RFC 7636).
//! No I/O, no clocks, no global state, no panics: randomness arrives through
//! [`pkce::Entropy`]. The guest component and the native tests call the same code.

pub mod date;
pub mod engine;
pub mod error;
pub mod fix;
pub(crate) mod idn;
pub mod manifest;
pub mod normalise;
pub mod pkce;
pub mod policy;
pub mod rules;
pub mod score;
pub mod verdict;
pub mod waiver;
pub mod yaml;

pub use date::Date;
pub use engine::{InputKind, Policy};
pub use error::{Error, ErrorCode, Result};
pub use verdict::{
    Control, Decision, ENGINE, Finding, Fix, Risk, RiskFactor, Severity, Tier, Verdict, Waived,
    WaiverRef,
};

/// The built-in default policy text (`policies/default.yaml`).
pub const DEFAULT_POLICY: &str = include_str!("../../policies/default.yaml");

/// Lowercase hex sha256 of [`DEFAULT_POLICY`], written with the code that builds it
/// (`policy/builtin.rs`; the build checks it against the file, `build.rs`).
pub const DEFAULT_POLICY_SHA256: &str = policy::BUILTIN_SHA256;

/// Lowercase hex sha256 of bytes.
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    let digest = sha2::Sha256::digest(bytes);
    let mut out = String::with_capacity(64);
    for b in digest.iter() {
        out.push(char::from(
            HEX.get(usize::from(b >> 4)).copied().unwrap_or(b'0'),
        ));
        out.push(char::from(
            HEX.get(usize::from(b & 0xf)).copied().unwrap_or(b'0'),
        ));
    }
    out
}

const HEX: &[u8; 16] = b"0123456789abcdef";

/// Remove every literal secret from a JSON value, with the detection of rule
/// `MV-SECRET-001` (for a host that reads documents with secrets in them, such as an
/// identity provider's export of its clients): each secret becomes `[REDACTED]`
/// wherever it appears, and entries whose key names a secret (`secret`, `clientSecret`,
/// `registrationAccessToken`...) are removed. Returns how many secrets were found.
///
/// # Errors
/// When the value is over the manifest limits and so cannot be scanned: the caller must
/// not output it.
pub fn scrub_secrets(doc: &mut serde_json::Value) -> Result<usize> {
    rules::scrub_json(doc)
}

/// The rule catalogue as JSON (id, name, category, severity, summary, docs, references).
pub fn rules_json() -> String {
    rules::catalogue_json()
}
