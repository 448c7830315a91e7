//! The verdict: decision, explained risk, findings, controls, hashes. Serialized as
//! canonical JSON (snake_case keys, kebab-case enum values, fixed field order), so the
//! same input gives the same bytes in every runtime.

use serde::Serialize;

/// How bad a finding is, least to most severe.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, serde::Deserialize,
)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
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

/// What to do with the app.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
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

/// Risk tier.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
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

/// A machine-applicable change (JSON Patch, RFC 6902 terms).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Fix {
    /// `add`, `replace` or `remove`.
    pub op: &'static str,
    /// RFC 6901 pointer into the manifest.
    pub path: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<serde_json::Value>,
    pub description: String,
}

/// One finding.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Finding {
    pub rule: &'static str,
    pub severity: Severity,
    pub path: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<u32>,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fix: Option<Fix>,
}

/// One contribution to the risk score.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct RiskFactor {
    pub factor: String,
    pub points: u32,
    pub reason: String,
}

/// The explained risk score.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Risk {
    pub score: u32,
    pub tier: Tier,
    pub factors: Vec<RiskFactor>,
}

/// A control attached to an approval.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Control {
    pub control: &'static str,
    pub value: serde_json::Value,
    pub reason: String,
}

/// The result of a vet.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Verdict {
    pub decision: Decision,
    pub risk: Risk,
    pub findings: Vec<Finding>,
    pub controls: Vec<Control>,
    pub manifest_sha256: String,
    pub policy_sha256: String,
    pub engine: String,
}

impl Verdict {
    /// Canonical JSON: compact, fixed key order, no timestamps. Identical bytes in every runtime.
    pub fn to_json(&self) -> String {
        // Serializing these plain structs cannot fail (no maps with non-string keys, no
        // non-finite floats); fall back to an empty object rather than panicking.
        serde_json::to_string(self).unwrap_or_else(|_| String::from("{}"))
    }

    /// Pretty JSON (same content as [`Verdict::to_json`], indented), for people.
    pub fn to_json_pretty(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_else(|_| String::from("{}"))
    }

    /// Rule IDs of the findings, in order.
    pub fn rule_ids(&self) -> Vec<&'static str> {
        self.findings.iter().map(|f| f.rule).collect()
    }
}

/// The engine name and version, `microvet x.y.z`.
pub const ENGINE: &str = concat!("microvet ", env!("CARGO_PKG_VERSION"));
