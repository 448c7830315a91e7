//! Host-side types mirroring the WIT records and the canonical verdict JSON.
//!
//! Serializing a [`Verdict`] with `serde_json` gives the same bytes as the component's
//! canonical `json` (same field order, same omissions); the host never computes a verdict
//! itself, it only converts what the component returned.

use serde::{Deserialize, Serialize};

/// How bad a finding is, least to most severe.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Severity {
    Info,
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    /// The kebab-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }
}

/// What the organisation should do with the app.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Decision {
    Approve,
    ApproveWithControls,
    Remediate,
    Reject,
}

impl Decision {
    /// The kebab-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Decision::Approve => "approve",
            Decision::ApproveWithControls => "approve-with-controls",
            Decision::Remediate => "remediate",
            Decision::Reject => "reject",
        }
    }

    /// Whether the app may go ahead (with or without controls).
    pub fn is_approved(self) -> bool {
        matches!(self, Decision::Approve | Decision::ApproveWithControls)
    }
}

/// Risk tier derived from the score.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Tier {
    Low,
    Medium,
    High,
    Critical,
}

impl Tier {
    /// The kebab-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Tier::Low => "low",
            Tier::Medium => "medium",
            Tier::High => "high",
            Tier::Critical => "critical",
        }
    }
}

/// What kind of document is vetted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum InputKind {
    /// A microvet manifest (YAML or JSON).
    Manifest,
    /// A raw RFC 7591 dynamic client registration request (JSON).
    Dcr,
}

/// A machine-applicable change (JSON Patch, RFC 6902 terms).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Fix {
    /// `add`, `replace` or `remove`.
    pub op: String,
    /// RFC 6901 pointer into the manifest.
    pub path: String,
    /// The new value (absent for `remove`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<serde_json::Value>,
    /// What the fix does, for people.
    pub description: String,
}

/// One problem (or advice) found in the manifest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    /// Stable rule ID, e.g. `MV-SCOPE-002`.
    pub rule: String,
    pub severity: Severity,
    /// RFC 6901 pointer to the offending value (`""` for the whole document).
    pub path: String,
    /// 1-based line in the submitted text, where known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line: Option<u32>,
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fix: Option<Fix>,
}

/// The waiver that covers a waived finding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WaiverRef {
    pub id: String,
    pub reason: String,
    pub approved_by: String,
    /// The last day the waiver applies, `YYYY-MM-DD`.
    pub expires: String,
}

/// A finding a waiver in force covers: listed, but not counted toward the decision, the
/// controls or the exposure part of the risk score.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Waived {
    #[serde(flatten)]
    pub finding: Finding,
    pub waiver: WaiverRef,
}

/// One contribution to the risk score.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RiskFactor {
    pub factor: String,
    pub points: u32,
    pub reason: String,
}

/// The explained risk score.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Risk {
    /// 0..=100
    pub score: u32,
    pub tier: Tier,
    pub factors: Vec<RiskFactor>,
}

/// A concrete, machine-readable control attached to an approval.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Control {
    /// e.g. `client_ttl_days`.
    pub control: String,
    pub value: serde_json::Value,
    pub reason: String,
}

/// The verdict, field for field as in the canonical JSON.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Verdict {
    pub decision: Decision,
    pub risk: Risk,
    pub findings: Vec<Finding>,
    /// The findings waivers cover (absent from the JSON when there are none).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub waived: Vec<Waived>,
    pub controls: Vec<Control>,
    /// Lowercase hex sha256 of the exact manifest bytes.
    pub manifest_sha256: String,
    /// Lowercase hex sha256 of the exact policy bytes.
    pub policy_sha256: String,
    /// `microvet x.y.z`.
    pub engine: String,
}

/// The result of one vet: the typed verdict and the component's canonical JSON.
#[derive(Debug, Clone, PartialEq)]
pub struct VetOutcome {
    pub verdict: Verdict,
    /// The canonical verdict JSON produced by the component: identical bytes in every
    /// runtime. Prefer it over re-serializing `verdict` when storing or comparing.
    pub json: String,
}

/// The result of one vet as its canonical JSON plus what a host needs to route, count and
/// log it ([`crate::Vetter::vet_summary`]): cheaper than [`VetOutcome`] when the JSON is
/// passed on as it is (no typed verdict is built on either side of the boundary).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VetSummary {
    pub decision: Decision,
    /// The risk score, 0..=100.
    pub score: u32,
    /// The rule IDs of the findings, each once, in the verdict's order.
    pub rules: Vec<String>,
    /// The IDs of the waivers that covered findings, each once, in the verdict's order.
    pub waivers: Vec<String>,
    /// Lowercase hex sha256 of the exact input bytes.
    pub manifest_sha256: String,
    /// Lowercase hex sha256 of the policy (the vetter's).
    pub policy_sha256: String,
    /// `microvet x.y.z`.
    pub engine: String,
    /// The canonical verdict JSON: the same bytes as [`VetOutcome::json`].
    pub json: String,
}

/// A code verifier with its S256 challenge.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PkcePair {
    /// The secret code verifier.
    pub verifier: String,
    /// `BASE64URL-NOPAD(SHA256(verifier))`.
    pub challenge: String,
    /// Always `S256`.
    pub method: String,
}

/// An authorization request URL plus the secrets the app must keep.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthorizeRequest {
    pub url: String,
    pub verifier: String,
    pub challenge: String,
    pub state: String,
    /// Present when the `openid` scope is requested.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nonce: Option<String>,
}

/// Why an input (or a policy) could not be vetted at all: the WIT `error` record, as the
/// core's own error type (one type, one renderer: [`VetError::render`]).
pub use microvet_core::{Error as VetError, ErrorCode};

/// The outcome of [`crate::Vetter::fix`] and [`crate::Vetter::apply_fixes`].
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct FixOutcome {
    /// The fixed manifest: the input's text edited at the fixed nodes' spans (comments,
    /// layout and untouched lines kept; JSON stays JSON).
    pub manifest: String,
    /// The fixes applied, in order.
    pub applied: Vec<AppliedFix>,
    /// The document had to be written out again (comments and layout lost): an edit at a
    /// span was not possible.
    pub rewritten: bool,
}

/// One applied fix (JSON Patch terms; `value` is JSON text).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct AppliedFix {
    pub op: String,
    pub path: String,
    pub value: Option<String>,
    pub description: String,
}
