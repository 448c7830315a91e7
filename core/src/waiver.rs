//! Waivers: exceptions the organisation grants for one finding of one exact manifest, for a
//! while, with a reason and an approver.
//!
//! A waiver is bound to the bytes of the manifest it was granted for (`manifest_sha256`):
//! a later change of the app does not inherit it. It applies while `approved_on <= today <=
//! expires`, and the engine has no clock, so the day comes from the host with the vet
//! call. A waived finding is not dropped: the verdict lists it under `waived` with its
//! waiver, and it counts neither toward the decision nor toward the exposure part of the
//! risk score. Waivers that do not apply say why, with a finding of their own
//! (`MV-WAIVER-001` not in force, `-002` stale, `-003` unused).
//!
//! Waivers live in a policy's `waivers:` section or in a separate waivers file
//! ([`crate::Policy::with_waivers`]); both are validated as strictly as the rest of the
//! policy, and every error names the waiver.

use crate::date::Date;
use crate::error::{Error, ErrorCode, Result};
use crate::policy::PolicyDoc;
use crate::rules::{Ctx, Out, RULES, Rule};
use crate::verdict::{Finding, Waived, WaiverRef};
use crate::yaml;

/// The `waivers:` section of a policy.
#[derive(Debug, Clone)]
#[cfg_attr(
    feature = "schema",
    derive(schemars::JsonSchema),
    serde(deny_unknown_fields)
)]
pub struct Waivers {
    /// The longest a waiver may last, from `approved_on` to `expires`, in days.
    #[cfg_attr(feature = "schema", serde(default = "Waivers::d_max_days"))]
    pub max_days: i64,
    /// Rules no waiver may waive, besides [`NEVER`] (which no policy can allow).
    #[cfg_attr(feature = "schema", serde(default))]
    pub never: Vec<String>,
    /// The waivers granted.
    #[cfg_attr(feature = "schema", serde(default))]
    pub list: Vec<Waiver>,
}

impl Waivers {
    pub(crate) fn d_max_days() -> i64 {
        90
    }
}

/// Rules no waiver may waive, whatever the policy says: a literal secret (MV-SECRET-001)
/// and a private key in a client's JWKS (MV-OAUTH-033) are exposed once written down, and
/// accepting that changes nothing; the only fix is to rotate and remove them.
pub const NEVER: &[&str] = &["MV-SECRET-001", "MV-OAUTH-033"];

impl Default for Waivers {
    fn default() -> Self {
        Waivers {
            max_days: Self::d_max_days(),
            never: Vec::new(),
            list: Vec::new(),
        }
    }
}

/// One waiver.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(
    feature = "schema",
    derive(schemars::JsonSchema),
    serde(deny_unknown_fields)
)]
pub struct Waiver {
    /// Unique among the policy's and the waivers file's waivers, e.g. a ticket number.
    pub id: String,
    /// The rule ID waived, e.g. `MV-SINK-003`.
    pub rule: String,
    /// RFC 6901 pointer: the waiver covers findings at this path or under it (a whole
    /// segment: `/oauth_scopes` covers `/oauth_scopes/2`, not `/oauth_scopes_extra`).
    /// Absent: every finding of the rule.
    #[cfg_attr(feature = "schema", serde(default))]
    pub path: Option<String>,
    /// The app's `name`.
    pub app: String,
    /// Lowercase hex sha256 of the exact manifest bytes the waiver was granted for.
    pub manifest_sha256: String,
    /// Why the organisation accepts the finding.
    pub reason: String,
    /// Who approved it.
    pub approved_by: String,
    /// The day it was approved (`YYYY-MM-DD`): it applies from this day.
    #[cfg_attr(feature = "schema", schemars(with = "String"))]
    pub approved_on: Date,
    /// The last day it applies (`YYYY-MM-DD`), at most `max_days` after `approved_on`.
    #[cfg_attr(feature = "schema", schemars(with = "String"))]
    pub expires: Date,
}

impl Waiver {
    /// How errors and messages name it.
    fn label(&self) -> String {
        format!("waiver `{}` ({} for `{}`)", self.id, self.rule, self.app)
    }

    /// Whether it covers a finding's path.
    fn covers(&self, path: &str) -> bool {
        match self.path.as_deref() {
            None | Some("") => true,
            Some(p) => {
                path == p || (path.starts_with(p) && path.as_bytes().get(p.len()) == Some(&b'/'))
            }
        }
    }
}

/// The longest text field of a waiver, in characters (ids, reasons, approvers, apps).
pub const MAX_TEXT: usize = 1000;

/// Validate `list` (the waivers at pointer `ptr`, e.g. `/waivers/list`) against the policy
/// (`doc`'s rules and `waivers` settings), with `earlier` the waivers already accepted (for
/// unique IDs). `at` turns a pointer and a message into the error, so the error names the
/// file the waiver is in. Every error names the waiver.
pub(crate) fn validate(
    doc: &PolicyDoc,
    earlier: &[&[Waiver]],
    list: &[Waiver],
    ptr: &str,
    at: &dyn Fn(&str, String) -> Error,
) -> Result<()> {
    let cfg = &doc.waivers;
    let repeated = first_repeated_id(earlier, list);
    for (i, w) in list.iter().enumerate() {
        let here = format!("{ptr}/{i}");
        let field = |name: &str| format!("{here}/{name}");
        let err = |name: &str, what: String, help: &str| {
            Err(at(&field(name), format!("{}: {what}", w.label())).with_help(help.to_string()))
        };
        for (name, value) in [
            ("id", &w.id),
            ("app", &w.app),
            ("reason", &w.reason),
            ("approved_by", &w.approved_by),
        ] {
            if value.trim().is_empty() {
                return err(
                    name,
                    format!("`{name}` is empty"),
                    "every waiver says who it is for, why, and who approved it",
                );
            }
            if let Some(c) = value.chars().find(|c| hidden(*c)) {
                return err(
                    name,
                    format!(
                        "`{name}` holds the control or direction character U+{:04X}",
                        u32::from(c)
                    ),
                    "waiver texts are shown in terminals, logs and code-scanning tools: plain text only",
                );
            }
            if value.chars().count() > MAX_TEXT {
                return err(
                    name,
                    format!("`{name}` is longer than {MAX_TEXT} characters"),
                    "keep it short; link to the ticket",
                );
            }
        }
        let Some(rule) = crate::rules::find(&w.rule).filter(|r| r.id == w.rule) else {
            let hint = crate::policy::did_you_mean(&w.rule, RULES.iter().map(|r| r.id))
                .map_or_else(
                    || "run `microvet rules` to list rule IDs".to_string(),
                    |s| format!("did you mean `{s}`?"),
                );
            return err("rule", format!("unknown rule `{}`", w.rule), &hint);
        };
        if is_waiver_rule(rule) {
            return err(
                "rule",
                format!("{} reports on waivers and cannot be waived", rule.id),
                "fix the waiver instead",
            );
        }
        if NEVER.contains(&rule.id) {
            return err(
                "rule",
                format!(
                    "{} cannot be waived: what it finds is exposed once written down",
                    rule.id
                ),
                "rotate the secret or key and remove it from the manifest",
            );
        }
        if cfg.never.iter().any(|r| r == rule.id) {
            return err(
                "rule",
                format!("{} cannot be waived (policy `waivers.never`)", rule.id),
                "fix the finding; this rule is never waived",
            );
        }
        if let Some(p) = &w.path
            && !is_pointer(p)
        {
            return err(
                "path",
                format!("`path` is not an RFC 6901 pointer: `{p}`"),
                "a pointer is empty or starts with `/`, e.g. `/external_sinks/0`",
            );
        }
        let hex = |c: u8| c.is_ascii_digit() || (b'a'..=b'f').contains(&c);
        if w.manifest_sha256.len() != 64 || !w.manifest_sha256.bytes().all(hex) {
            return err(
                "manifest_sha256",
                "`manifest_sha256` is not 64 lowercase hex digits".to_string(),
                "use the verdict's `manifest_sha256` of the manifest the waiver is granted for",
            );
        }
        let days = w.expires.days() - w.approved_on.days();
        if days < 0 {
            return err(
                "expires",
                format!(
                    "expires {} before it was approved on {}",
                    w.expires, w.approved_on
                ),
                "`expires` is the last day the waiver applies, on or after `approved_on`",
            );
        }
        if days > cfg.max_days {
            return err(
                "expires",
                format!(
                    "expires {}, {days} days after it was approved on {}; the policy allows at most {} (`waivers.max_days`)",
                    w.expires, w.approved_on, cfg.max_days
                ),
                "grant a shorter waiver and renew it when it expires",
            );
        }
        if repeated == Some(i) {
            return err(
                "id",
                format!("the id `{}` is used by an earlier waiver", w.id),
                "give each waiver its own id",
            );
        }
    }
    Ok(())
}

/// The index in `list` of the first waiver whose id an earlier waiver (of `earlier`, or of
/// `list` before it) has. Sorted, not compared pairwise: a policy may hold thousands.
fn first_repeated_id(earlier: &[&[Waiver]], list: &[Waiver]) -> Option<usize> {
    let before: usize = earlier.iter().map(|l| l.len()).sum();
    let ids: Vec<&str> = earlier
        .iter()
        .copied()
        .flatten()
        .chain(list)
        .map(|w| w.id.as_str())
        .collect();
    let mut order: Vec<usize> = (0..ids.len()).collect();
    // The engine's one stable sort: equal ids stay in file order.
    crate::engine::stable_sort_by(&mut order, |a, b| ids.get(*a).cmp(&ids.get(*b)));
    order
        .windows(2)
        .filter(|w| w.first().map(|a| ids.get(*a)) == w.get(1).map(|b| ids.get(*b)))
        .filter_map(|w| w.get(1).copied())
        .filter_map(|i| i.checked_sub(before))
        .min()
}

/// A character a waiver's text may not hold: a control character (a terminal escape, a
/// line break that forges an output line) or a bidirectional override or isolate (text that
/// reads differently than it is).
fn hidden(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// Whether `rule` is one of the rules that report on waivers themselves.
fn is_waiver_rule(rule: &Rule) -> bool {
    rule.category == crate::rules::Category::Waivers
}

/// What the waiver pass did to a vet's findings.
pub(crate) struct Outcome {
    /// The findings still in force (with the waiver rules' own findings added).
    pub findings: Vec<Finding>,
    /// The findings waived, each with its waiver, in the order of `findings` before.
    pub waived: Vec<Waived>,
}

/// Apply the policy's waivers to `findings` of the manifest `cx` describes, whose sha256 is
/// `sha256`, on day `today` (`None`: the host gave no date, so no waiver can be checked
/// against its expiry and none applies).
pub(crate) fn apply(
    cx: &Ctx<'_>,
    lists: &[&[Waiver]],
    sha256: &str,
    today: Option<Date>,
    findings: Vec<Finding>,
) -> Outcome {
    let name = cx.manifest.name.as_ref().map(|n| n.value.as_str());
    // The waiver (index in `list`) that covers each finding, if any.
    let mut cover: Vec<Option<usize>> = vec![None; findings.len()];
    let mut notes: Vec<(&'static Rule, String)> = Vec::new();
    let list: Vec<&Waiver> = lists.iter().copied().flatten().collect();
    for (wi, w) in list.iter().copied().enumerate() {
        let same_app = name == Some(w.app.as_str());
        let same_bytes = w.manifest_sha256 == sha256;
        if !same_app && !same_bytes {
            continue;
        }
        if !(same_app && same_bytes) {
            let what = if same_bytes {
                format!(
                    "names the app `{}`, but this manifest is `{}`",
                    w.app,
                    name.unwrap_or("")
                )
            } else {
                "was granted for another version of this manifest; the manifest changed since"
                    .to_string()
            };
            notes.push((
                &STALE,
                format!("{} {what}, so it does not apply", w.label()),
            ));
            continue;
        }
        let Some(today) = today else {
            notes.push((
                &NOT_IN_FORCE,
                format!(
                    "{} was not checked: the vet was given no date, so it does not apply",
                    w.label()
                ),
            ));
            continue;
        };
        if today > w.expires {
            notes.push((
                &NOT_IN_FORCE,
                format!(
                    "{} expired on {}, so it no longer applies",
                    w.label(),
                    w.expires
                ),
            ));
            continue;
        }
        if today < w.approved_on {
            notes.push((
                &NOT_IN_FORCE,
                format!(
                    "{} applies from {}, so it does not apply yet",
                    w.label(),
                    w.approved_on
                ),
            ));
            continue;
        }
        let mut used = false;
        for (f, c) in findings.iter().zip(cover.iter_mut()) {
            if c.is_none() && f.rule == w.rule && w.covers(&f.path) {
                *c = Some(wi);
                used = true;
            }
        }
        if !used {
            let at = w
                .path
                .as_deref()
                .map_or_else(String::new, |p| format!(" at `{p}`"));
            notes.push((
                &UNUSED,
                format!(
                    "{} waives nothing: {} reports no finding{at} in this manifest",
                    w.label(),
                    w.rule
                ),
            ));
        }
    }
    let mut kept = Vec::with_capacity(findings.len());
    let mut waived = Vec::new();
    for (finding, c) in findings.into_iter().zip(cover) {
        match c.and_then(|wi| list.get(wi).copied()) {
            Some(w) => waived.push(Waived {
                finding,
                waiver: WaiverRef {
                    id: w.id.clone(),
                    reason: w.reason.clone(),
                    approved_by: w.approved_by.clone(),
                    expires: w.expires.to_string(),
                },
            }),
            None => kept.push(finding),
        }
    }
    let mut findings = kept;
    for (rule, message) in notes {
        let over = cx.policy.rules.get(rule.id);
        if over.and_then(|o| o.enabled) == Some(false) {
            continue;
        }
        let mut out = Out {
            rule,
            severity: over.and_then(|o| o.severity).unwrap_or(rule.severity),
            findings: &mut findings,
        };
        out.report("", None, message);
    }
    Outcome { findings, waived }
}

use crate::rules::{
    WAIVER_NOT_IN_FORCE as NOT_IN_FORCE, WAIVER_STALE as STALE, WAIVER_UNUSED as UNUSED,
};

/// Whether `p` is an RFC 6901 JSON Pointer: empty, or `/`-separated tokens in which `~`
/// only starts `~0` or `~1` (§3).
fn is_pointer(p: &str) -> bool {
    (p.is_empty() || p.starts_with('/'))
        && p.split('~')
            .skip(1)
            .all(|rest| rest.starts_with(['0', '1']))
}

/// Parse a waivers file (`waivers: [...]`, YAML or JSON) and validate its waivers against
/// `doc`, after the policy's own.
pub(crate) fn parse_file(doc: &PolicyDoc, filed: &[Waiver], text: &str) -> Result<Vec<Waiver>> {
    let root = yaml::parse(text, crate::policy::POLICY_LIMITS).map_err(|mut e| {
        if e.code == ErrorCode::Syntax {
            e.message = format!("waivers file is not valid YAML/JSON: {}", e.message);
        }
        e
    })?;
    let rename = |mut e: Error| {
        if let Some(rest) = e.message.strip_prefix("invalid policy") {
            e.message = format!("invalid waivers file{rest}");
        }
        e
    };
    let list = crate::policy::read::waivers_file(&root).map_err(rename)?;
    let at = |ptr: &str, message: String| {
        rename(crate::policy::error_at(
            &root,
            ptr,
            format!("invalid policy at `{ptr}`: {message}"),
        ))
    };
    validate(doc, &[&doc.waivers.list, filed], &list, "/waivers", &at)?;
    Ok(list)
}
