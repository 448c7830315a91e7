//! The public entry point: a parsed [`Policy`] vets manifests.

use crate::error::{Error, ErrorCode, Result};
use crate::manifest;
use crate::policy::{self, PolicyDoc};
use crate::rules::{self, Ctx};
use crate::score;
use crate::verdict::{ENGINE, Finding, Verdict};
use crate::yaml::{self, Limits, Value};
use std::cmp::Ordering;

/// What kind of document is being vetted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputKind {
    /// A microvet manifest (YAML or JSON).
    Manifest,
    /// A raw RFC 7591 dynamic client registration request (JSON).
    Dcr,
}

/// A parsed, validated policy: parse once, vet many.
#[derive(Debug, Clone)]
pub struct Policy {
    doc: PolicyDoc,
    sha256: String,
}

impl Policy {
    /// Parse and validate a policy document (YAML or JSON).
    pub fn parse(text: &str) -> Result<Policy> {
        let (doc, _) = policy::parse(text)?;
        Ok(Policy {
            doc,
            sha256: crate::sha256_hex(text.as_bytes()),
        })
    }

    /// The built-in default policy (`policies/default.yaml`).
    pub fn builtin() -> Result<Policy> {
        Policy::parse(crate::DEFAULT_POLICY)
    }

    /// Lowercase hex sha256 of the policy text.
    pub fn sha256(&self) -> &str {
        &self.sha256
    }

    /// The policy's name.
    pub fn name(&self) -> &str {
        &self.doc.name
    }

    /// The validated policy document.
    pub fn doc(&self) -> &PolicyDoc {
        &self.doc
    }

    /// Vet a manifest (YAML or JSON text).
    pub fn vet(&self, text: &str) -> Result<Verdict> {
        self.vet_kind(InputKind::Manifest, text)
    }

    /// Vet a document of the given kind.
    pub fn vet_kind(&self, kind: InputKind, text: &str) -> Result<Verdict> {
        let root = yaml::parse(text, Limits::MANIFEST)?;
        match &root.value {
            Value::Map(_) | Value::Null => {}
            _ => {
                let what = if kind == InputKind::Dcr {
                    "a registration request"
                } else {
                    "a manifest"
                };
                return Err(Error::new(
                    ErrorCode::Structure,
                    format!("{what} must be a mapping of fields, found {}", root.kind()),
                )
                .at(root.line, root.col)
                .with_help("start with `name: my-app` on the first line (YAML) or `{` (JSON)"));
            }
        }
        let dcr = kind == InputKind::Dcr;
        let m = if dcr {
            manifest::extract_dcr(&root)
        } else {
            manifest::extract(&root)
        };
        let cx = Ctx::new(&m, &root, &self.doc, dcr);
        let mut findings = rules::run(&cx);
        sort(&mut findings);
        let risk = score::risk(&cx, &findings);
        let decision = score::decide(&findings, risk.tier);
        let controls = score::controls(&cx, &risk, &findings);
        let mut verdict = Verdict {
            decision,
            risk,
            findings,
            controls,
            manifest_sha256: crate::sha256_hex(text.as_bytes()),
            policy_sha256: self.sha256.clone(),
            engine: ENGINE.to_string(),
        };
        redact(&mut verdict, &rules::secret_strings_of(&cx.secrets));
        Ok(verdict)
    }
}

/// Most severe first, then by line (unknown last), path, rule and message.
fn sort(findings: &mut Vec<Finding>) {
    stable_sort_by(findings, |a, b| {
        b.severity
            .cmp(&a.severity)
            .then_with(|| a.line.unwrap_or(u32::MAX).cmp(&b.line.unwrap_or(u32::MAX)))
            .then_with(|| a.path.cmp(&b.path))
            .then_with(|| a.rule.cmp(b.rule))
            .then_with(|| a.message.cmp(&b.message))
    });
}

/// A stable sort of `v` by `cmp`, the same order as `v.sort_by(cmp)`.
///
/// Every sort of the engine goes through here so the component carries one instance of the
/// standard library's stable sort (over indices) instead of one per element type.
pub(crate) fn stable_sort_by<T>(v: &mut Vec<T>, cmp: impl Fn(&T, &T) -> Ordering) {
    let order = {
        let items: &[T] = v;
        sorted_indices(items.len(), &|a, b| match (items.get(a), items.get(b)) {
            (Some(x), Some(y)) => cmp(x, y),
            _ => Ordering::Equal,
        })
    };
    let mut slots: Vec<Option<T>> = std::mem::take(v).into_iter().map(Some).collect();
    *v = order
        .into_iter()
        .filter_map(|i| slots.get_mut(i).and_then(Option::take))
        .collect();
}

/// `0..len` stably sorted by `cmp` (the one instance of the stable sort).
#[inline(never)]
fn sorted_indices(len: usize, cmp: &dyn Fn(usize, usize) -> Ordering) -> Vec<usize> {
    let mut order: Vec<usize> = (0..len).collect();
    order.sort_by(|a, b| cmp(*a, *b));
    order
}

/// Push the index of every string of `sorted` (sorted by text, none empty) that `text`
/// starts with. Any such string lies between the greatest string `<= text` and `text`, so
/// it shares that string's common prefix with `text`: each step searches below a shorter
/// prefix, O(log n) comparisons a step.
fn prefixes_at(sorted: &[(&str, usize)], text: &[u8], out: &mut Vec<usize>) {
    let mut probe = text;
    loop {
        let j = sorted.partition_point(|(x, _)| x.as_bytes() <= probe);
        let Some(&(x, i)) = j.checked_sub(1).and_then(|j| sorted.get(j)) else {
            return;
        };
        let x = x.as_bytes();
        let common = x.iter().zip(probe).take_while(|(a, b)| a == b).count();
        let shorter = if common == x.len() {
            out.push(i);
            common.saturating_sub(1)
        } else {
            common
        };
        if shorter == 0 {
            return;
        }
        probe = probe.get(..shorter).unwrap_or_default();
    }
}

/// Remove every secret string from everything the verdict says.
fn redact(v: &mut Verdict, secrets: &[String]) {
    if secrets.is_empty() {
        return;
    }
    // The secrets by text (with their place in `secrets`), so each string is searched once
    // for all of them: one substring search per secret and string was O(secrets x strings),
    // and both grow with the input.
    let mut by_text: Vec<(&str, usize)> = secrets
        .iter()
        .enumerate()
        .filter(|(_, s)| !s.is_empty())
        .map(|(i, s)| (s.as_str(), i))
        .collect();
    stable_sort_by(&mut by_text, |a, b| a.0.cmp(b.0));
    let scrub = |s: &mut String| {
        let mut found = Vec::new();
        for i in 0..s.len() {
            if let Some(rest) = s.as_bytes().get(i..) {
                prefixes_at(&by_text, rest, &mut found);
            }
        }
        if found.is_empty() {
            return;
        }
        // In the order of `secrets` (longest first), as one search per secret would.
        stable_sort_by(&mut found, Ord::cmp);
        found.dedup();
        for secret in found.iter().filter_map(|&i| secrets.get(i)) {
            if s.contains(secret.as_str()) {
                *s = s.replace(secret.as_str(), "[REDACTED]");
            }
        }
    };
    fn scrub_json(v: &mut serde_json::Value, scrub: &dyn Fn(&mut String)) {
        match v {
            serde_json::Value::String(s) => scrub(s),
            serde_json::Value::Array(a) => a.iter_mut().for_each(|x| scrub_json(x, scrub)),
            serde_json::Value::Object(o) => o.values_mut().for_each(|x| scrub_json(x, scrub)),
            _ => {}
        }
    }
    for f in &mut v.findings {
        scrub(&mut f.message);
        if let Some(fix) = &mut f.fix {
            scrub(&mut fix.description);
            if let Some(val) = &mut fix.value {
                scrub_json(val, &scrub);
            }
        }
    }
    for f in &mut v.risk.factors {
        scrub(&mut f.reason);
    }
    for c in &mut v.controls {
        scrub(&mut c.reason);
        scrub_json(&mut c.value, &scrub);
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;
    use crate::verdict::{Decision, Risk, Severity, Tier};
    use proptest::prelude::*;

    /// 20,000 secrets, each in one finding's message: every one redacted, in linear time
    /// (one substring search per secret and message: 4e8 searches, minutes in a debug build).
    #[test]
    fn redaction_of_many_secrets_is_linear() {
        let n = 20_000;
        // Longest first, as `rules::secret_strings_of` orders them.
        let secrets: Vec<String> = (0..n).map(|i| format!("tok_{i:0>30}")).rev().collect();
        let mut v = Verdict {
            decision: Decision::Reject,
            risk: Risk {
                score: 0,
                tier: Tier::Low,
                factors: Vec::new(),
            },
            findings: (0..n)
                .map(|i| Finding {
                    rule: "MV-SECRET-001",
                    severity: Severity::Critical,
                    path: String::new(),
                    line: None,
                    message: format!("value `tok_{i:0>30}` and `tok_{:0>30}x`", n - 1 - i),
                    fix: None,
                })
                .collect(),
            controls: Vec::new(),
            manifest_sha256: String::new(),
            policy_sha256: String::new(),
            engine: String::new(),
        };
        let t = std::time::Instant::now();
        redact(&mut v, &secrets);
        let elapsed = t.elapsed();
        for f in &v.findings {
            assert_eq!(f.message, "value `[REDACTED]` and `[REDACTED]x`");
        }
        assert!(elapsed.as_secs() < 10, "{elapsed:?}");
    }

    proptest! {
        /// `prefixes_at` finds exactly the strings the text starts with (against a scan).
        #[test]
        fn prefixes_at_is_a_scan(
            set in proptest::collection::btree_set("[ab]{1,5}", 0..12),
            text in "[ab]{0,8}",
        ) {
            let sorted: Vec<(&str, usize)> =
                set.iter().enumerate().map(|(i, s)| (s.as_str(), i)).collect();
            let mut got = Vec::new();
            prefixes_at(&sorted, text.as_bytes(), &mut got);
            got.sort_unstable();
            let want: Vec<usize> = sorted
                .iter()
                .filter(|(s, _)| text.starts_with(s))
                .map(|(_, i)| *i)
                .collect();
            prop_assert_eq!(got, want);
        }
    }
}
