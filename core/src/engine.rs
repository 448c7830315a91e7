//! The public entry point: a parsed [`Policy`] vets manifests.

use crate::date::Date;
use crate::error::{Error, ErrorCode, Result};
use crate::manifest;
use crate::policy::{self, PolicyDoc};
use crate::rules::{self, Ctx};
use crate::score;
use crate::verdict::{ENGINE, Finding, Verdict};
use crate::waiver;
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
    doc: std::sync::Arc<PolicyDoc>,
    /// Waivers of waivers files ([`Policy::with_waivers`]), after the policy's own.
    filed: Vec<crate::waiver::Waiver>,
    sha256: String,
}

impl Policy {
    /// Parse and validate a policy document (YAML or JSON).
    pub fn parse(text: &str) -> Result<Policy> {
        let (doc, _) = policy::parse(text)?;
        Ok(Policy::of(doc, crate::sha256_hex(text.as_bytes())))
    }

    /// The built-in default policy (`policies/default.yaml`): built by the code generated
    /// from it (`policy/builtin.rs`, which also holds the file's sha256; the build refuses
    /// one generated from another version of the file).
    pub fn builtin() -> Result<Policy> {
        Ok(Policy::of(
            policy::builtin(),
            crate::DEFAULT_POLICY_SHA256.to_owned(),
        ))
    }

    fn of(doc: PolicyDoc, sha256: String) -> Policy {
        Policy {
            doc: std::sync::Arc::new(doc),
            filed: Vec::new(),
            sha256,
        }
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

    /// Vet a document of the given kind, on no particular day (no waiver applies).
    pub fn vet_kind(&self, kind: InputKind, text: &str) -> Result<Verdict> {
        self.vet_on(kind, text, None)
    }

    /// This policy with the waivers of a waivers file (`waivers: [...]`, YAML or JSON)
    /// added after its own, validated against it (see [`crate::waiver`]).
    pub fn with_waivers(&self, text: &str) -> Result<Policy> {
        let list = waiver::parse_file(&self.doc, &self.filed, text)?;
        let mut filed = self.filed.clone();
        filed.extend(list);
        Ok(Policy {
            doc: std::sync::Arc::clone(&self.doc),
            filed,
            sha256: self.sha256.clone(),
        })
    }

    /// Vet a document of the given kind on day `today` (the day waivers are checked
    /// against; `None`: no waiver applies). The engine has no clock: the host says the day.
    pub fn vet_on(&self, kind: InputKind, text: &str, today: Option<Date>) -> Result<Verdict> {
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
        // Redaction compares every form of every secret with every string of the verdict:
        // quadratic in the number of secrets, so that number is bounded (a manifest has a
        // handful; more than the limit is refused, which fails closed).
        let secrets: usize = cx.secrets().iter().map(|h| h.tokens.max(1)).sum();
        if secrets > MAX_SECRETS {
            return Err(Error::new(
                ErrorCode::Limit,
                format!(
                    "the document holds more than {MAX_SECRETS} literal secrets (limit: {MAX_SECRETS})"
                ),
            )
            .with_help("move the secrets to the vault and reference them (`vault://...`)"));
        }
        let mut findings = rules::run(&cx);
        sort(&mut findings);
        let manifest_sha256 = crate::sha256_hex(text.as_bytes());
        let mut waived = Vec::new();
        // Waivers are granted for manifests: a registration request is never waived (the
        // same bytes read as the other kind would give other findings).
        let lists = [self.doc.waivers.list.as_slice(), self.filed.as_slice()];
        if !dcr && lists.iter().any(|l| !l.is_empty()) {
            let outcome = waiver::apply(&cx, &lists, &manifest_sha256, today, findings);
            findings = outcome.findings;
            waived = outcome.waived;
            sort(&mut findings);
        }
        let risk = score::risk(&cx, &findings);
        let decision = score::decide(&findings, risk.tier);
        let controls = score::controls(&cx, &risk, &findings);
        let mut verdict = Verdict {
            decision,
            risk,
            findings,
            waived,
            controls,
            manifest_sha256,
            policy_sha256: self.sha256.clone(),
            engine: ENGINE.to_string(),
        };
        redact(&mut verdict, &rules::secret_strings_of(cx.secrets()));
        Ok(verdict)
    }
}

/// The most literal secrets (MV-SECRET-001 findings) a document may hold (docs/LIMITS.md).
pub const MAX_SECRETS: usize = 256;

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

/// Remove every secret from everything the verdict says: `forms` are the secrets in every
/// form an output could quote them ([`rules::secret_strings_of`]), matched ASCII
/// case-insensitively in messages, fixes, paths, factors and controls.
fn redact(v: &mut Verdict, forms: &[String]) {
    if forms.is_empty() {
        return;
    }
    let scrub = |s: &mut String| {
        for form in forms {
            if let Some(clean) = replace_ci(s, form) {
                *s = clean;
            }
        }
    };
    fn scrub_json(v: &mut serde_json::Value, scrub: &dyn Fn(&mut String)) {
        match v {
            serde_json::Value::String(s) => scrub(s),
            serde_json::Value::Array(a) => a.iter_mut().for_each(|x| scrub_json(x, scrub)),
            serde_json::Value::Object(o) => {
                let keys: Vec<String> = o.keys().cloned().collect();
                for k in keys {
                    let mut clean = k.clone();
                    scrub(&mut clean);
                    if clean != k
                        && let Some(x) = o.shift_remove(&k)
                    {
                        o.insert(clean, x);
                    }
                }
                o.values_mut().for_each(|x| scrub_json(x, scrub));
            }
            _ => {}
        }
    }
    for f in v
        .findings
        .iter_mut()
        .chain(v.waived.iter_mut().map(|w| &mut w.finding))
    {
        scrub(&mut f.message);
        scrub(&mut f.path);
        if let Some(fix) = &mut f.fix {
            scrub(&mut fix.description);
            scrub(&mut fix.path);
            if let Some(val) = &mut fix.value {
                scrub_json(val, &scrub);
            }
        }
    }
    for f in &mut v.risk.factors {
        scrub(&mut f.factor);
        scrub(&mut f.reason);
    }
    for c in &mut v.controls {
        scrub(&mut c.reason);
        scrub_json(&mut c.value, &scrub);
    }
}

/// `s` with every ASCII case-insensitive occurrence of `needle` replaced by `[REDACTED]`,
/// or `None` when there is none.
pub(crate) fn replace_ci(s: &str, needle: &str) -> Option<String> {
    let (h, n) = (s.as_bytes(), needle.as_bytes());
    let first = n.first()?;
    let matches_at = |i: usize| {
        h.get(i..i + n.len())
            .is_some_and(|w| w.eq_ignore_ascii_case(n))
    };
    let mut i = 0;
    let mut out: Option<String> = None;
    let mut copied = 0;
    while i + n.len() <= h.len() {
        let c = h.get(i).copied().unwrap_or(0);
        if c.eq_ignore_ascii_case(first) && matches_at(i) && s.is_char_boundary(i) {
            let o = out.get_or_insert_with(|| String::with_capacity(s.len()));
            o.push_str(s.get(copied..i).unwrap_or(""));
            o.push_str("[REDACTED]");
            i += n.len();
            copied = i;
        } else {
            i += 1;
        }
    }
    let mut o = out?;
    o.push_str(s.get(copied..).unwrap_or(""));
    Some(o)
}
