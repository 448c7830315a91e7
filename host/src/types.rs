//! Host-side types mirroring the WIT records and the canonical verdict JSON.
//!
//! Serializing a [`Verdict`] with `serde_json` gives the same bytes as the component's
//! canonical `json` (same field order, same omissions); the host never computes a verdict
//! itself, it only converts what the component returned.

use serde::{Deserialize, Serialize};

use crate::HostError;
use crate::bindings::exports::microvet::vetting::pkce as wit_pkce;
use crate::bindings::exports::microvet::vetting::types as wit;
use crate::bindings::exports::microvet::vetting::vetting as wit_vetting;

/// The verdict's enums are the core's own: one definition of each name and its order.
pub use microvet_core::{Decision, Severity, Tier};

impl From<wit::Severity> for Severity {
    fn from(s: wit::Severity) -> Severity {
        match s {
            wit::Severity::Info => Severity::Info,
            wit::Severity::Low => Severity::Low,
            wit::Severity::Medium => Severity::Medium,
            wit::Severity::High => Severity::High,
            wit::Severity::Critical => Severity::Critical,
        }
    }
}

impl From<wit::Decision> for Decision {
    fn from(d: wit::Decision) -> Decision {
        match d {
            wit::Decision::Approve => Decision::Approve,
            wit::Decision::ApproveWithControls => Decision::ApproveWithControls,
            wit::Decision::Remediate => Decision::Remediate,
            wit::Decision::Reject => Decision::Reject,
        }
    }
}

impl From<wit::Tier> for Tier {
    fn from(t: wit::Tier) -> Tier {
        match t {
            wit::Tier::Low => Tier::Low,
            wit::Tier::Medium => Tier::Medium,
            wit::Tier::High => Tier::High,
            wit::Tier::Critical => Tier::Critical,
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

impl From<InputKind> for wit::InputKind {
    fn from(kind: InputKind) -> wit::InputKind {
        match kind {
            InputKind::Manifest => wit::InputKind::Manifest,
            InputKind::Dcr => wit::InputKind::Dcr,
        }
    }
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

/// JSON text from the component (a fix or control value) as a JSON value.
fn json_value(text: &str, what: &str) -> Result<serde_json::Value, HostError> {
    serde_json::from_str(text).map_err(|e| {
        HostError::Trap(format!(
            "the component returned invalid JSON for {what}: {e}"
        ))
    })
}

impl TryFrom<wit::Fix> for Fix {
    type Error = HostError;

    /// Fails when the component returned a value that is not JSON.
    fn try_from(f: wit::Fix) -> Result<Fix, HostError> {
        Ok(Fix {
            op: f.op,
            path: f.path,
            value: f
                .value
                .as_deref()
                .map(|t| json_value(t, "a fix value"))
                .transpose()?,
            description: f.description,
        })
    }
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

impl TryFrom<wit::Finding> for Finding {
    type Error = HostError;

    /// Fails when the component returned a fix value that is not JSON.
    fn try_from(f: wit::Finding) -> Result<Finding, HostError> {
        Ok(Finding {
            rule: f.rule,
            severity: f.severity.into(),
            path: f.path,
            line: f.line,
            message: f.message,
            fix: f.fix.map(Fix::try_from).transpose()?,
        })
    }
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

impl From<wit::WaiverRef> for WaiverRef {
    fn from(w: wit::WaiverRef) -> WaiverRef {
        WaiverRef {
            id: w.id,
            reason: w.reason,
            approved_by: w.approved_by,
            expires: w.expires,
        }
    }
}

/// A finding a waiver in force covers: listed, but not counted toward the decision, the
/// controls or the exposure part of the risk score.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Waived {
    #[serde(flatten)]
    pub finding: Finding,
    pub waiver: WaiverRef,
}

impl TryFrom<wit::Waived> for Waived {
    type Error = HostError;

    /// Fails as [`Finding`]'s conversion does.
    fn try_from(w: wit::Waived) -> Result<Waived, HostError> {
        Ok(Waived {
            finding: w.finding.try_into()?,
            waiver: w.waiver.into(),
        })
    }
}

/// One contribution to the risk score.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RiskFactor {
    pub factor: String,
    pub points: u32,
    pub reason: String,
}

impl From<wit::RiskFactor> for RiskFactor {
    fn from(f: wit::RiskFactor) -> RiskFactor {
        RiskFactor {
            factor: f.factor,
            points: f.points,
            reason: f.reason,
        }
    }
}

/// The explained risk score.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Risk {
    /// 0..=100
    pub score: u32,
    pub tier: Tier,
    pub factors: Vec<RiskFactor>,
}

impl From<wit::Risk> for Risk {
    fn from(r: wit::Risk) -> Risk {
        Risk {
            score: r.score,
            tier: r.tier.into(),
            factors: r.factors.into_iter().map(RiskFactor::from).collect(),
        }
    }
}

/// A concrete, machine-readable control attached to an approval.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Control {
    /// e.g. `client_ttl_days`.
    pub control: String,
    pub value: serde_json::Value,
    pub reason: String,
}

impl TryFrom<wit::Control> for Control {
    type Error = HostError;

    /// Fails when the component returned a value that is not JSON.
    fn try_from(c: wit::Control) -> Result<Control, HostError> {
        Ok(Control {
            value: json_value(&c.value, "a control value")?,
            control: c.control,
            reason: c.reason,
        })
    }
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

impl TryFrom<wit::Verdict> for VetOutcome {
    type Error = HostError;

    /// Fails when the component returned a fix or control value that is not JSON.
    fn try_from(v: wit::Verdict) -> Result<VetOutcome, HostError> {
        let controls = v
            .controls
            .into_iter()
            .map(Control::try_from)
            .collect::<Result<_, _>>()?;
        let verdict = Verdict {
            decision: v.decision.into(),
            risk: v.risk.into(),
            findings: v
                .findings
                .into_iter()
                .map(Finding::try_from)
                .collect::<Result<_, _>>()?,
            waived: v
                .waived
                .into_iter()
                .map(Waived::try_from)
                .collect::<Result<_, _>>()?,
            controls,
            manifest_sha256: v.manifest_sha256,
            policy_sha256: v.policy_sha256,
            engine: v.engine,
        };
        Ok(VetOutcome {
            verdict,
            json: v.json,
        })
    }
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

impl From<wit_pkce::PkcePair> for PkcePair {
    fn from(p: wit_pkce::PkcePair) -> PkcePair {
        PkcePair {
            verifier: p.verifier,
            challenge: p.challenge,
            method: p.method,
        }
    }
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

impl From<wit_pkce::AuthorizeRequest> for AuthorizeRequest {
    fn from(r: wit_pkce::AuthorizeRequest) -> AuthorizeRequest {
        AuthorizeRequest {
            url: r.url,
            verifier: r.verifier,
            challenge: r.challenge,
            state: r.state,
            nonce: r.nonce,
        }
    }
}

/// Why an input (or a policy) could not be vetted at all: the WIT `error` record, as the
/// core's own error type (one type, one renderer: [`VetError::render`]).
pub use microvet_core::{Error as VetError, ErrorCode};

impl From<wit::ErrorCode> for ErrorCode {
    fn from(code: wit::ErrorCode) -> ErrorCode {
        match code {
            wit::ErrorCode::Syntax => ErrorCode::Syntax,
            wit::ErrorCode::Limit => ErrorCode::Limit,
            wit::ErrorCode::Structure => ErrorCode::Structure,
            wit::ErrorCode::Policy => ErrorCode::Policy,
            wit::ErrorCode::PkceLength => ErrorCode::PkceLength,
            wit::ErrorCode::PkceCharset => ErrorCode::PkceCharset,
            wit::ErrorCode::PkceChallenge => ErrorCode::PkceChallenge,
            wit::ErrorCode::InvalidArgument => ErrorCode::InvalidArgument,
        }
    }
}

impl From<wit::Error> for VetError {
    fn from(e: wit::Error) -> VetError {
        VetError {
            code: e.code.into(),
            message: e.message,
            help: e.help,
            path: e.path,
            line: e.line,
            column: e.column,
        }
    }
}

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

impl From<wit_vetting::Fixed> for FixOutcome {
    fn from(f: wit_vetting::Fixed) -> FixOutcome {
        FixOutcome {
            manifest: f.manifest,
            applied: f.applied.into_iter().map(AppliedFix::from).collect(),
            rewritten: f.rewritten,
        }
    }
}

/// One applied fix (JSON Patch terms; `value` is JSON text).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct AppliedFix {
    pub op: String,
    pub path: String,
    pub value: Option<String>,
    pub description: String,
}

impl From<wit::Fix> for AppliedFix {
    fn from(f: wit::Fix) -> AppliedFix {
        AppliedFix {
            op: f.op,
            path: f.path,
            value: f.value,
            description: f.description,
        }
    }
}

impl From<&AppliedFix> for wit::Fix {
    fn from(f: &AppliedFix) -> wit::Fix {
        wit::Fix {
            op: f.op.clone(),
            path: f.path.clone(),
            value: f.value.clone(),
            description: f.description.clone(),
        }
    }
}
