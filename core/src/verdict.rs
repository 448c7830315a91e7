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
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, serde::Deserialize,
)]
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
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, serde::Deserialize,
)]
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

/// The waiver that covers a waived finding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct WaiverRef {
    pub id: String,
    pub reason: String,
    pub approved_by: String,
    /// The last day it applies, `YYYY-MM-DD`.
    pub expires: String,
}

/// A finding a waiver in force covers: listed, not counted toward the decision, the
/// controls or the exposure part of the risk score.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Waived {
    #[serde(flatten)]
    pub finding: Finding,
    pub waiver: WaiverRef,
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
    /// The findings waivers cover (absent when there are none).
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub waived: Vec<Waived>,
    pub controls: Vec<Control>,
    pub manifest_sha256: String,
    pub policy_sha256: String,
    pub engine: String,
}

impl Verdict {
    /// Canonical JSON: compact, fixed key order, no timestamps. Identical bytes in every runtime.
    ///
    /// Written by hand (it is on every request): the same bytes as `serde_json::to_string`
    /// of the derived `Serialize` (field order, skipped `None`s, serde_json's string
    /// escapes), which a test checks; the nested `serde_json::Value`s go through serde_json.
    pub fn to_json(&self) -> String {
        let mut out = String::with_capacity(
            384 + 192 * (self.findings.len() + self.controls.len() + self.risk.factors.len()),
        );
        out.push_str("{\"decision\":");
        json_str(&mut out, self.decision.as_str());
        out.push_str(",\"risk\":{\"score\":");
        json_u32(&mut out, self.risk.score);
        out.push_str(",\"tier\":");
        json_str(&mut out, self.risk.tier.as_str());
        out.push_str(",\"factors\":[");
        for (i, f) in self.risk.factors.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            out.push_str("{\"factor\":");
            json_str(&mut out, &f.factor);
            out.push_str(",\"points\":");
            json_u32(&mut out, f.points);
            out.push_str(",\"reason\":");
            json_str(&mut out, &f.reason);
            out.push('}');
        }
        out.push_str("]},\"findings\":[");
        for (i, f) in self.findings.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            out.push('{');
            finding_members(&mut out, f);
            out.push('}');
        }
        if !self.waived.is_empty() {
            out.push_str("],\"waived\":[");
            for (i, w) in self.waived.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push('{');
                finding_members(&mut out, &w.finding);
                out.push_str(",\"waiver\":{\"id\":");
                json_str(&mut out, &w.waiver.id);
                out.push_str(",\"reason\":");
                json_str(&mut out, &w.waiver.reason);
                out.push_str(",\"approved_by\":");
                json_str(&mut out, &w.waiver.approved_by);
                out.push_str(",\"expires\":");
                json_str(&mut out, &w.waiver.expires);
                out.push_str("}}");
            }
        }
        out.push_str("],\"controls\":[");
        for (i, c) in self.controls.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            out.push_str("{\"control\":");
            json_str(&mut out, c.control);
            out.push_str(",\"value\":");
            json_value(&mut out, &c.value);
            out.push_str(",\"reason\":");
            json_str(&mut out, &c.reason);
            out.push('}');
        }
        out.push_str("],\"manifest_sha256\":");
        json_str(&mut out, &self.manifest_sha256);
        out.push_str(",\"policy_sha256\":");
        json_str(&mut out, &self.policy_sha256);
        out.push_str(",\"engine\":");
        json_str(&mut out, &self.engine);
        out.push('}');
        out
    }

    /// Pretty JSON (same content as [`Verdict::to_json`], indented), for people.
    pub fn to_json_pretty(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_else(|_| String::from("{}"))
    }

    /// Rule IDs of the findings, in order.
    pub fn rule_ids(&self) -> Vec<&'static str> {
        self.findings.iter().map(|f| f.rule).collect()
    }

    /// The rule IDs of the findings, each once, in verdict order (a vet summary's and a
    /// decision-log line's `rules`).
    pub fn distinct_rules(&self) -> Vec<String> {
        distinct(self.findings.iter().map(|f| f.rule))
    }

    /// The IDs of the waivers that covered findings, each once, in order (a vet summary's
    /// and a decision-log line's `waivers`).
    pub fn distinct_waivers(&self) -> Vec<String> {
        distinct(self.waived.iter().map(|w| w.waiver.id.as_str()))
    }
}

/// Each value once, in the order first seen.
pub fn distinct<'a>(values: impl IntoIterator<Item = &'a str>) -> Vec<String> {
    let mut seen = std::collections::HashSet::new();
    values
        .into_iter()
        .filter(|v| seen.insert(*v))
        .map(str::to_owned)
        .collect()
}

/// The members of a finding's JSON object, without the braces (shared by `findings` and
/// `waived`).
fn finding_members(out: &mut String, f: &Finding) {
    out.push_str("\"rule\":");
    json_str(out, f.rule);
    out.push_str(",\"severity\":");
    json_str(out, f.severity.as_str());
    out.push_str(",\"path\":");
    json_str(out, &f.path);
    if let Some(line) = f.line {
        out.push_str(",\"line\":");
        json_u32(out, line);
    }
    out.push_str(",\"message\":");
    json_str(out, &f.message);
    if let Some(fix) = &f.fix {
        out.push_str(",\"fix\":{\"op\":");
        json_str(out, fix.op);
        out.push_str(",\"path\":");
        json_str(out, &fix.path);
        if let Some(value) = &fix.value {
            out.push_str(",\"value\":");
            json_value(out, value);
        }
        out.push_str(",\"description\":");
        json_str(out, &fix.description);
        out.push('}');
    }
}

/// A JSON value as compact text, the same bytes as its `Display` (`serde_json::to_string`)
/// without serde_json's serializer in the component.
pub fn value_json(v: &serde_json::Value) -> String {
    let mut out = String::new();
    json_value(&mut out, v);
    out
}

/// A JSON string as serde_json writes it: `"` and backslash escaped, control characters
/// as `\b \t \n \f \r` or `\u00XX`, everything else (`/`, DEL, non-ASCII) as is.
pub(crate) fn json_str(out: &mut String, s: &str) {
    out.push('"');
    let clean = clean_prefix(s.as_bytes());
    if clean == s.len() {
        out.push_str(s);
        out.push('"');
        return;
    }
    let mut start = 0;
    for (i, b) in s.bytes().enumerate().skip(clean) {
        let esc: &str = match b {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            b'\x08' => "\\b",
            b'\t' => "\\t",
            b'\n' => "\\n",
            b'\x0c' => "\\f",
            b'\r' => "\\r",
            0..=0x1f => "",
            _ => continue,
        };
        out.push_str(s.get(start..i).unwrap_or_default());
        if esc.is_empty() {
            const HEX: &[u8; 16] = b"0123456789abcdef";
            out.push_str("\\u00");
            out.push(char::from(
                HEX.get(usize::from(b >> 4)).copied().unwrap_or(b'0'),
            ));
            out.push(char::from(
                HEX.get(usize::from(b & 0xf)).copied().unwrap_or(b'0'),
            ));
        } else {
            out.push_str(esc);
        }
        start = i + 1;
    }
    out.push_str(s.get(start..).unwrap_or_default());
    out.push('"');
}

/// The length of the longest prefix needing no escape, eight bytes at a time: a word is
/// clean unless it has a byte below 0x20, a `"` or a backslash (exact SWAR tests).
fn clean_prefix(bytes: &[u8]) -> usize {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let has_zero = |v: u64| v.wrapping_sub(ONES) & !v & HIGH != 0;
    let mut n = 0;
    for chunk in bytes.chunks_exact(8) {
        let mut w = [0u8; 8];
        w.copy_from_slice(chunk);
        let x = u64::from_le_bytes(w);
        let below_space = x.wrapping_sub(ONES * 0x20) & !x & HIGH != 0;
        if below_space
            || has_zero(x ^ (ONES * u64::from(b'"')))
            || has_zero(x ^ (ONES * u64::from(b'\\')))
        {
            break;
        }
        n += 8;
    }
    n + bytes
        .get(n..)
        .unwrap_or_default()
        .iter()
        .take_while(|&&b| b >= 0x20 && b != b'"' && b != b'\\')
        .count()
}

fn json_u32(out: &mut String, n: u32) {
    use std::fmt::Write;
    let _ = write!(out, "{n}");
}

/// A nested value (a fix or control value), compact, as serde_json writes it (numbers by
/// serde_json's own `Display`, which is its serializer's formatting).
fn json_value(out: &mut String, v: &serde_json::Value) {
    use serde_json::Value as J;
    match v {
        J::Null => out.push_str("null"),
        J::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        J::Number(n) => {
            use std::fmt::Write;
            let _ = write!(out, "{n}");
        }
        J::String(s) => json_str(out, s),
        J::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                json_value(out, item);
            }
            out.push(']');
        }
        J::Object(map) => {
            out.push('{');
            for (i, (k, item)) in map.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                json_str(out, k);
                out.push(':');
                json_value(out, item);
            }
            out.push('}');
        }
    }
}

/// The engine name and version, `microvet x.y.z`.
pub const ENGINE: &str = concat!("microvet ", env!("CARGO_PKG_VERSION"));

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
    use super::*;

    fn serde(v: &Verdict) -> String {
        serde_json::to_string(v).unwrap()
    }

    #[test]
    fn distinct_keeps_the_first_of_each_in_order() {
        let ids = ["MV-B-001", "MV-A-001", "MV-B-001", "MV-C-001", "MV-A-001"];
        assert_eq!(distinct(ids), ["MV-B-001", "MV-A-001", "MV-C-001"]);
        assert!(distinct([]).is_empty());
    }

    #[test]
    fn value_json_is_display_byte_for_byte() {
        let nasty = "q\"b\\s/ctl\u{0}\u{1}\u{8}\t\n\u{b}\u{c}\r\u{1f}\u{7f} é € 😀 </script>";
        for v in [
            serde_json::json!(null),
            serde_json::json!(true),
            serde_json::json!(-7),
            serde_json::json!(u64::MAX),
            serde_json::json!(i64::MIN),
            serde_json::json!(2.5),
            serde_json::json!(1e300),
            serde_json::json!(-1.5e-7),
            serde_json::json!(nasty),
            serde_json::json!([]),
            serde_json::json!({}),
            serde_json::json!({"z": [1, -2, 2.5, null, true, nasty], "a": {"b": [[]]}, nasty: 0.1}),
        ] {
            assert_eq!(value_json(&v), v.to_string());
        }
    }

    #[test]
    fn hand_written_json_is_serde_json_byte_for_byte() {
        let nasty = "q\"b\\s/ctl\u{0}\u{1}\u{8}\t\n\u{b}\u{c}\r\u{1f}\u{7f} é € 😀 </script>";
        let mut v = Verdict {
            decision: Decision::ApproveWithControls,
            risk: Risk {
                score: 4_000_000_000,
                tier: Tier::Critical,
                factors: vec![
                    RiskFactor {
                        factor: nasty.into(),
                        points: 0,
                        reason: String::new(),
                    },
                    RiskFactor {
                        factor: "a".into(),
                        points: 7,
                        reason: nasty.into(),
                    },
                ],
            },
            findings: vec![
                Finding {
                    rule: "MV-X-001",
                    severity: Severity::Info,
                    path: "/a~1b/0".into(),
                    line: None,
                    message: nasty.into(),
                    fix: None,
                },
                Finding {
                    rule: "MV-X-002",
                    severity: Severity::Critical,
                    path: String::new(),
                    line: Some(0),
                    message: String::new(),
                    fix: Some(Fix {
                        op: "remove",
                        path: nasty.into(),
                        value: None,
                        description: nasty.into(),
                    }),
                },
                Finding {
                    rule: "MV-X-003",
                    severity: Severity::Low,
                    path: "/p".into(),
                    line: Some(u32::MAX),
                    message: "m".into(),
                    fix: Some(Fix {
                        op: "replace",
                        path: "/p".into(),
                        value: Some(
                            serde_json::json!({"z": [1, -2, 2.5, null, true, nasty], "a": {}}),
                        ),
                        description: "d".into(),
                    }),
                },
            ],
            waived: Vec::new(),
            controls: vec![
                Control {
                    control: "c1",
                    value: serde_json::json!(60),
                    reason: nasty.into(),
                },
                Control {
                    control: "c2",
                    value: serde_json::json!(nasty),
                    reason: String::new(),
                },
                Control {
                    control: "c3",
                    value: serde_json::json!(false),
                    reason: "r".into(),
                },
                Control {
                    control: "c4",
                    value: serde_json::Value::Null,
                    reason: "r".into(),
                },
                Control {
                    control: "c5",
                    value: serde_json::json!([]),
                    reason: "r".into(),
                },
            ],
            manifest_sha256: "ab".into(),
            policy_sha256: nasty.into(),
            engine: ENGINE.into(),
        };
        assert_eq!(v.to_json(), serde(&v));
        // Waived findings: the finding's members flattened, then its waiver.
        v.waived = v
            .findings
            .iter()
            .map(|f| Waived {
                finding: f.clone(),
                waiver: WaiverRef {
                    id: nasty.into(),
                    reason: "r".into(),
                    approved_by: nasty.into(),
                    expires: "2026-12-31".into(),
                },
            })
            .collect();
        assert_eq!(v.to_json(), serde(&v));
        for c in 0u8..=0x7f {
            v.engine = format!("x{}y", char::from(c));
            assert_eq!(v.to_json(), serde(&v), "byte {c:#x}");
        }
        // Every position relative to the 8-byte words of the fast scan.
        for c in ['\u{0}', '\u{1f}', '"', '\\', ' ', '\u{7f}', 'é', '\n'] {
            for pos in 0..26 {
                v.engine = format!("{}{c}{}", "a".repeat(pos), "b".repeat(26 - pos));
                assert_eq!(v.to_json(), serde(&v), "{c:?} at {pos}");
            }
        }
        v.risk.factors.clear();
        v.findings.clear();
        v.waived.clear();
        v.controls.clear();
        for d in [
            Decision::Approve,
            Decision::ApproveWithControls,
            Decision::Remediate,
            Decision::Reject,
        ] {
            v.decision = d;
            for t in [Tier::Low, Tier::Medium, Tier::High, Tier::Critical] {
                v.risk.tier = t;
                assert_eq!(v.to_json(), serde(&v));
            }
        }
    }

    #[test]
    fn corpus_verdicts_render_as_serde_json_does() {
        let policy = crate::Policy::builtin().unwrap();
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/corpus");
        let mut n = 0;
        for entry in std::fs::read_dir(dir).unwrap() {
            let case = entry.unwrap().path();
            for name in ["input.yaml", "input.json", "dcr.json"] {
                let Ok(text) = std::fs::read_to_string(case.join(name)) else {
                    continue;
                };
                for kind in [crate::InputKind::Manifest, crate::InputKind::Dcr] {
                    if let Ok(v) = policy.vet_kind(kind, &text) {
                        assert_eq!(v.to_json(), serde(&v), "{}", case.display());
                        n += 1;
                    }
                }
            }
        }
        assert!(n > 20, "{n} verdicts");
    }
}
