//! The rule catalogue. One rule, one file (modelled on ruff and clippy): each file holds
//! its ID, name, default severity, documentation and check. [`RULES`] is the one
//! registry table; IDs are never reused, retired IDs stay listed in [`RETIRED`].
//!
//! Adding a rule = one file here + one line in [`RULES`] + a fixture in `tests/corpus/`.

use crate::manifest::{Access, Manifest, Sp};
use crate::policy::{DataClass, PolicyDoc, ScopeDef, Sensitivity};
use crate::verdict::{Finding, Fix, Severity};
use crate::yaml::Node;
use serde::Serialize;
use std::cell::OnceCell;

pub(crate) mod support;

mod app_name;
mod app_purpose;
mod data_missing;
mod data_sensitive;
mod data_unknown;
mod instr_audit_log;
mod instr_contact;
mod life_expiry_missing;
mod life_expiry_range;
mod life_retention_expiry;
mod life_retention_missing;
mod life_retention_policy;
mod oauth_access_lifetime;
mod oauth_auth_method;
mod oauth_cc_public;
mod oauth_client_uri;
mod oauth_grant_mismatch;
mod oauth_implicit;
mod oauth_jose_alg;
mod oauth_jwks_private;
mod oauth_jwks_uri_https;
mod oauth_native_secret;
mod oauth_password;
mod oauth_pkce_confidential;
mod oauth_pkce_method;
mod oauth_pkce_missing;
mod oauth_public_credentials;
mod oauth_redirect_canonical;
mod oauth_redirect_count;
mod oauth_redirect_duplicate;
mod oauth_redirect_host;
mod oauth_redirect_https;
mod oauth_redirect_ip;
mod oauth_redirect_localhost;
mod oauth_redirect_malformed;
mod oauth_redirect_missing;
mod oauth_redirect_oob;
mod oauth_redirect_open;
mod oauth_redirect_private_scheme;
mod oauth_redirect_private_scheme_authority;
mod oauth_redirect_scheme;
mod oauth_redirect_scheme_owner;
mod oauth_redirect_wildcard;
mod oauth_refresh_lifetime;
mod oauth_refresh_need;
mod oauth_refresh_rotation;
mod oauth_response_mode;
mod oauth_shared_secret;
mod oauth_unknown_value;
mod owner_missing;
mod owner_not_email;
mod owner_outside_org;
mod owner_personal;
mod schema_access_shape;
mod schema_access_uninterpretable;
mod schema_not_normal;
mod schema_unknown_field;
mod schema_wrong_type;
mod scope_broad;
mod scope_denied;
mod scope_noncanonical;
mod scope_offline;
mod scope_review;
mod scope_undeclared_data;
mod scope_unknown;
mod scope_write_for_read;
mod secret_literal;
pub(crate) use secret_literal::scrub_json;
pub(crate) use vendor_unapproved::RULE as VENDOR_UNAPPROVED;
mod sink_denied;
mod sink_http;
mod sink_not_allowed;
mod sink_personal_email;
mod sink_sensitive;
mod sink_unparseable;
mod vendor_data_undeclared;
mod vendor_dpa;
mod vendor_missing;
mod vendor_unapproved;
mod waiver_not_in_force;
mod waiver_stale;
mod waiver_unused;
pub(crate) use waiver_not_in_force::RULE as WAIVER_NOT_IN_FORCE;
pub(crate) use waiver_stale::RULE as WAIVER_STALE;
pub(crate) use waiver_unused::RULE as WAIVER_UNUSED;

/// Rule category (the part of the manifest it looks at).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Category {
    Schema,
    Identity,
    Lifecycle,
    Scopes,
    Data,
    Sinks,
    Vendors,
    Secrets,
    Instrumentation,
    Oauth,
    Waivers,
}

/// One rule: metadata, documentation and its check.
#[derive(Serialize)]
pub struct Rule {
    /// Stable ID, e.g. `MV-SCOPE-006`. Never reused.
    pub id: &'static str,
    /// Kebab-case name, e.g. `write-scope-for-read-access`.
    pub name: &'static str,
    pub category: Category,
    /// Default severity (a policy may override it).
    pub severity: Severity,
    /// One line: what a finding of this rule means.
    pub summary: &'static str,
    /// What it checks.
    pub what: &'static str,
    /// Why it matters (the rationale, citing its source).
    pub why: &'static str,
    /// A manifest snippet that triggers it.
    pub example: &'static str,
    /// How to fix it.
    pub fix: &'static str,
    /// RFC sections, Micro Apps, Macro Risk, or the policy key it enforces.
    pub references: &'static [&'static str],
    /// Its findings can disappear when an item is added (satisfied by declaring the data,
    /// adding a grant, a redirect URI or the offline scope): they drive the decision but
    /// not the score, which only grows as items are added (see `score.rs`).
    #[serde(skip)]
    pub relational: bool,
    #[serde(skip)]
    pub(crate) check: fn(&Ctx<'_>, &mut Out<'_>),
}

impl Rule {
    /// The rule's documentation as Markdown (`microvet explain ID`).
    pub fn doc_markdown(&self) -> String {
        let mut refs = String::new();
        for r in self.references {
            refs.push_str(&format!("- {r}\n"));
        }
        format!(
            "# {} {}\n\nSeverity: {} · Category: {:?}\n\n{}\n\n## What it checks\n{}\n\n## Why it matters\n{}\n\n## Example\n```yaml\n{}\n```\n\n## Fix\n{}\n\n## References\n{}",
            self.id,
            self.name,
            self.severity.as_str(),
            self.category,
            self.summary,
            self.what,
            self.why,
            self.example.trim_end(),
            self.fix,
            refs
        )
    }
}

/// Every rule, in ID order within categories. IDs are never reused.
pub static RULES: &[&Rule] = &[
    &schema_unknown_field::RULE,
    &schema_wrong_type::RULE,
    &schema_access_shape::RULE,
    &schema_access_uninterpretable::RULE,
    &schema_not_normal::RULE,
    &owner_missing::RULE,
    &owner_not_email::RULE,
    &owner_outside_org::RULE,
    &owner_personal::RULE,
    &app_purpose::RULE,
    &app_name::RULE,
    &life_expiry_missing::RULE,
    &life_expiry_range::RULE,
    &life_retention_policy::RULE,
    &life_retention_expiry::RULE,
    &life_retention_missing::RULE,
    &scope_denied::RULE,
    &scope_review::RULE,
    &scope_broad::RULE,
    &scope_unknown::RULE,
    &scope_undeclared_data::RULE,
    &scope_write_for_read::RULE,
    &scope_offline::RULE,
    &scope_noncanonical::RULE,
    &data_unknown::RULE,
    &data_sensitive::RULE,
    &data_missing::RULE,
    &sink_unparseable::RULE,
    &sink_denied::RULE,
    &sink_personal_email::RULE,
    &sink_http::RULE,
    &sink_not_allowed::RULE,
    &sink_sensitive::RULE,
    &vendor_unapproved::RULE,
    &vendor_dpa::RULE,
    &vendor_missing::RULE,
    &vendor_data_undeclared::RULE,
    &secret_literal::RULE,
    &instr_audit_log::RULE,
    &instr_contact::RULE,
    &oauth_implicit::RULE,
    &oauth_password::RULE,
    &oauth_grant_mismatch::RULE,
    &oauth_cc_public::RULE,
    &oauth_unknown_value::RULE,
    &oauth_pkce_missing::RULE,
    &oauth_pkce_method::RULE,
    &oauth_pkce_confidential::RULE,
    &oauth_public_credentials::RULE,
    &oauth_native_secret::RULE,
    &oauth_auth_method::RULE,
    &oauth_shared_secret::RULE,
    &oauth_refresh_rotation::RULE,
    &oauth_refresh_lifetime::RULE,
    &oauth_refresh_need::RULE,
    &oauth_access_lifetime::RULE,
    &oauth_redirect_scheme::RULE,
    &oauth_redirect_wildcard::RULE,
    &oauth_redirect_malformed::RULE,
    &oauth_redirect_https::RULE,
    &oauth_redirect_host::RULE,
    &oauth_redirect_ip::RULE,
    &oauth_redirect_open::RULE,
    &oauth_redirect_localhost::RULE,
    &oauth_redirect_private_scheme::RULE,
    &oauth_redirect_scheme_owner::RULE,
    &oauth_redirect_canonical::RULE,
    &oauth_redirect_duplicate::RULE,
    &oauth_redirect_count::RULE,
    &oauth_redirect_missing::RULE,
    &oauth_redirect_oob::RULE,
    &oauth_jwks_uri_https::RULE,
    &oauth_jwks_private::RULE,
    &oauth_response_mode::RULE,
    &oauth_jose_alg::RULE,
    &oauth_client_uri::RULE,
    &oauth_redirect_private_scheme_authority::RULE,
    &waiver_not_in_force::RULE,
    &waiver_stale::RULE,
    &waiver_unused::RULE,
];

/// Retired rule IDs: never reused.
pub static RETIRED: &[&str] = &[];

/// Look up a rule by ID (case-insensitive).
pub fn find(id: &str) -> Option<&'static Rule> {
    RULES
        .iter()
        .copied()
        .find(|r| r.id.eq_ignore_ascii_case(id))
}

impl Category {
    /// The kebab-case name (as serialized).
    pub fn as_str(self) -> &'static str {
        match self {
            Category::Schema => "schema",
            Category::Identity => "identity",
            Category::Lifecycle => "lifecycle",
            Category::Scopes => "scopes",
            Category::Data => "data",
            Category::Sinks => "sinks",
            Category::Vendors => "vendors",
            Category::Secrets => "secrets",
            Category::Instrumentation => "instrumentation",
            Category::Oauth => "oauth",
            Category::Waivers => "waivers",
        }
    }
}

/// The catalogue as JSON: the bytes of `serde_json::to_string(RULES)` (a test checks),
/// written by hand so the component needs no serde_json serializer.
pub fn catalogue_json() -> String {
    use crate::verdict::json_str;
    let mut out = String::with_capacity(32 * 1024);
    out.push('[');
    for (i, r) in RULES.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        for (j, (key, value)) in [
            ("id", r.id),
            ("name", r.name),
            ("category", r.category.as_str()),
            ("severity", r.severity.as_str()),
            ("summary", r.summary),
            ("what", r.what),
            ("why", r.why),
            ("example", r.example),
            ("fix", r.fix),
        ]
        .into_iter()
        .enumerate()
        {
            out.push_str(if j == 0 { "{\"" } else { ",\"" });
            out.push_str(key);
            out.push_str("\":");
            json_str(&mut out, value);
        }
        out.push_str(",\"references\":[");
        for (j, reference) in r.references.iter().enumerate() {
            if j > 0 {
                out.push(',');
            }
            json_str(&mut out, reference);
        }
        out.push_str("]}");
    }
    out.push(']');
    out
}

/// A declared data type, resolved against the policy.
pub struct DataItem<'a> {
    pub name: &'a Sp<String>,
    pub access: Access,
    pub class: Option<(&'a str, DataClass)>,
}

/// A sink, parsed once.
pub struct SinkItem<'a> {
    pub raw: &'a Sp<String>,
    /// The sink parsed as a browser would (IDN hosts mapped by [`crate::idn`]); the error
    /// is a sentence.
    pub url: Result<url::Url, String>,
    /// Whether the parsed sink is on the policy's enterprise allowlist, decided once.
    pub(crate) allowed: bool,
    /// The first deny pattern the parsed sink matches, decided once.
    pub(crate) denied: Option<&'a crate::policy::SinkPattern>,
}

/// Everything a rule may look at, computed once per vet.
pub struct Ctx<'a> {
    pub manifest: &'a Manifest,
    pub root: &'a Node,
    pub policy: &'a PolicyDoc,
    pub data: Vec<DataItem<'a>>,
    pub sinks: Vec<SinkItem<'a>>,
    pub scopes: Vec<(&'a Sp<String>, Option<&'a ScopeDef>)>,
    /// The most sensitive class touched.
    pub max_sensitivity: Option<Sensitivity>,
    /// Whether any declared data is personal.
    pub personal: bool,
    /// Whether this is an RFC 7591 registration request rather than a manifest.
    pub dcr: bool,
    /// What several rules read, worked out on first use by the module that owns it.
    pub(crate) shared: Shared<'a>,
}

/// The analyses that several rules share, each computed at most once per vet. A cell is
/// filled only by its owner's accessor on [`Ctx`], written beside the owner's check:
/// [`Ctx::redirects`] (`support/oauth_client.rs`), [`Ctx::secrets`] (`secret_literal.rs`),
/// [`Ctx::scope_denied`] (`scope_denied.rs`) and [`Ctx::approved_vendors`]
/// (`vendor_unapproved.rs`).
#[derive(Default)]
pub(crate) struct Shared<'a> {
    pub(crate) redirects: OnceCell<Vec<support::oauth_client::Redirect<'a>>>,
    pub(crate) secrets: OnceCell<Vec<secret_literal::SecretHit>>,
    pub(crate) scope_denied: OnceCell<Vec<bool>>,
    pub(crate) approved_vendors: OnceCell<Vec<Option<&'a crate::policy::Vendor>>>,
}

impl<'a> Ctx<'a> {
    pub fn new(
        manifest: &'a Manifest,
        root: &'a Node,
        policy: &'a PolicyDoc,
        dcr: bool,
    ) -> Ctx<'a> {
        let data: Vec<DataItem<'a>> = manifest
            .data_access
            .iter()
            .flat_map(|d| d.value.iter())
            .map(|d| DataItem {
                name: &d.data_type,
                access: d.access,
                class: policy.class_of(&d.data_type.value),
            })
            .collect();
        let max_sensitivity = data
            .iter()
            .filter_map(|d| d.class.map(|c| c.1.sensitivity))
            .max();
        let personal = data.iter().any(|d| d.class.is_some_and(|c| c.1.personal));
        let sinks = manifest
            .external_sinks
            .iter()
            .flat_map(|s| s.value.iter())
            .map(|raw| {
                let text = raw.value.trim();
                // A bare address (`jane@gmail.com`) is mail to it: read as its `mailto:` URL.
                let url = crate::idn::parse_url(text).or_else(|e| {
                    bare_address(text)
                        .and_then(|m| crate::idn::parse_url(&m).ok())
                        .ok_or(e)
                });
                let (allowed, denied) = match &url {
                    Ok(u) => (
                        policy
                            .sinks
                            .allow
                            .iter()
                            .any(|p| support::matching::sink_matches(p, u)),
                        policy
                            .sinks
                            .deny
                            .iter()
                            .find(|p| support::matching::sink_matches(p, u)),
                    ),
                    Err(_) => (false, None),
                };
                SinkItem {
                    raw,
                    url,
                    allowed,
                    denied,
                }
            })
            .collect();
        let scopes: Vec<(&'a Sp<String>, Option<&'a ScopeDef>)> = manifest
            .oauth_scopes
            .iter()
            .flat_map(|s| s.value.iter())
            .map(|s| {
                (
                    s,
                    support::matching::catalogued(policy, &s.value).map(|(_, d)| d),
                )
            })
            .collect();
        Ctx {
            manifest,
            root,
            policy,
            data,
            sinks,
            scopes,
            max_sensitivity,
            personal,
            dcr,
            shared: Shared::default(),
        }
    }

    /// Whether any declared data is sensitive (confidential or restricted).
    pub fn sensitive(&self) -> bool {
        self.max_sensitivity.is_some_and(Sensitivity::is_sensitive)
    }

    /// Names of the sensitive data types declared.
    pub fn sensitive_types(&self) -> Vec<&str> {
        self.data
            .iter()
            .filter(|d| d.class.is_some_and(|c| c.1.sensitivity.is_sensitive()))
            .map(|d| d.name.value.as_str())
            .collect()
    }
}

/// Collects findings, applying the policy's severity overrides.
pub struct Out<'a> {
    pub(crate) rule: &'static Rule,
    pub(crate) severity: Severity,
    pub(crate) findings: &'a mut Vec<Finding>,
}

impl Out<'_> {
    /// Report a finding of the current rule at `path`/`line`.
    pub fn report(
        &mut self,
        path: &str,
        line: Option<u32>,
        message: impl Into<String>,
    ) -> Reported<'_> {
        self.findings.push(Finding {
            rule: self.rule.id,
            severity: self.severity,
            path: path.to_string(),
            line,
            message: message.into(),
            fix: None,
        });
        let idx = self.findings.len().saturating_sub(1);
        Reported {
            findings: self.findings,
            idx,
        }
    }

    /// Report at a spanned value.
    pub fn at<T>(&mut self, sp: &Sp<T>, message: impl Into<String>) -> Reported<'_> {
        self.report(&sp.path, Some(sp.line), message)
    }
}

/// A finding just reported, to which a fix may be attached.
pub struct Reported<'o> {
    findings: &'o mut Vec<Finding>,
    idx: usize,
}

impl Reported<'_> {
    /// Attach a machine-applicable fix (JSON Patch `add`/`replace`/`remove`).
    pub fn fix(
        self,
        op: &'static str,
        path: &str,
        value: Option<serde_json::Value>,
        description: impl Into<String>,
    ) {
        if let Some(f) = self.findings.get_mut(self.idx) {
            f.fix = Some(Fix {
                op,
                path: path.to_string(),
                value,
                description: description.into(),
            });
        }
    }
}

impl Reported<'_> {
    /// Attach the fix that removes scope `s` (`with: None`) or replaces it by `with`. In a
    /// manifest each scope is an item of `oauth_scopes`; in a DCR request every scope shares
    /// the one space-separated `scope` string (RFC 7591 §2), so the fix replaces that string
    /// (removing the whole member would drop every other scope).
    pub(crate) fn scope_fix(self, cx: &Ctx<'_>, s: &Sp<String>, with: Option<&str>) {
        let description = match with {
            Some(w) => format!("replace `{}` with `{w}`", s.value),
            None => format!("remove scope `{}`", s.value),
        };
        if !cx.dcr {
            match with {
                Some(w) => self.fix("replace", &s.path, Some(json!(w)), description),
                None => self.fix("remove", &s.path, None, description),
            }
            return;
        }
        let mut rest: Vec<&str> = Vec::new();
        for (item, _) in &cx.scopes {
            if std::ptr::eq(*item, s) {
                rest.extend(with);
            } else {
                rest.push(&item.value);
            }
        }
        self.fix("replace", &s.path, Some(json!(rest.join(" "))), description);
    }
}

/// `mailto:` + `text` when `text` is an email address written without a scheme (and
/// without anything a URL would read as a path, query or fragment).
fn bare_address(text: &str) -> Option<String> {
    (owner_not_email::email_domain(text).is_some()
        && !text.contains(['?', '#', '/', ':', '%', ',']))
    .then(|| ["mailto:", text].concat())
}

/// The check of the rules that report on waivers (`MV-WAIVER-*`): they look at the other
/// rules' findings, so [`crate::waiver::apply`] reports them once every other rule has run.
fn waiver_pass(_: &Ctx<'_>, _: &mut Out<'_>) {}

/// Run every enabled rule.
pub fn run(cx: &Ctx<'_>) -> Vec<Finding> {
    let mut findings = Vec::with_capacity(16);
    for rule in RULES {
        let over = cx.policy.rules.get(rule.id);
        if over.and_then(|o| o.enabled) == Some(false) {
            continue;
        }
        let severity = over.and_then(|o| o.severity).unwrap_or(rule.severity);
        let mut out = Out {
            rule,
            severity,
            findings: &mut findings,
        };
        (rule.check)(cx, &mut out);
    }
    findings
}

/// Shared helpers for rule files.
pub(crate) mod prelude {
    pub(crate) use super::json;
    pub use super::{Category, Ctx, Out, Rule};
    pub use crate::manifest::Access;
    pub use crate::verdict::Severity;
}

/// `serde_json::json!` for the values of fixes and controls, built with `From` from a clone
/// of the argument (which `json!` borrows): the same values, without `json!`'s
/// `to_value(..).unwrap()` (a serializer and a panic path per call site).
macro_rules! json {
    ({ $($key:literal : $value:expr),* $(,)? }) => {{
        let mut map = serde_json::Map::new();
        $(map.insert(String::from($key), serde_json::Value::from(($value).clone()));)*
        serde_json::Value::Object(map)
    }};
    ([ $($item:expr),* $(,)? ]) => {
        serde_json::Value::Array(vec![$(serde_json::Value::from(($item).clone())),*])
    };
    ($value:expr) => {
        serde_json::Value::from(($value).clone())
    };
}
pub(crate) use json;

pub(crate) use secret_literal::{REDACTED_KEY, key_is_secret, scrub_document};

/// The literal secrets of a document (for `microvet fix`, which removes them).
pub(crate) fn secret_hits(root: &Node) -> Vec<secret_literal::SecretHit> {
    secret_literal::find(root)
}

/// Every form of the secrets of `hits` that an output could quote (see [`secret_strings`]).
pub(crate) fn secret_forms(hits: &[secret_literal::SecretHit]) -> Vec<String> {
    secret_strings_of(hits)
}

/// The literal secrets in a document (for redaction of every output).
pub fn secret_strings(root: &Node) -> Vec<String> {
    secret_strings_of(&secret_literal::find(root))
}

/// [`secret_strings`] of the secrets already found (see [`Ctx::secrets`]).
pub(crate) fn secret_strings_of(hits: &[secret_literal::SecretHit]) -> Vec<String> {
    let mut out = secret_literal::redaction_forms(hits);
    // Rules quote values in normal form (MV-SCHEMA-005): that form is redacted too.
    let normal: Vec<String> = out
        .iter()
        .filter_map(|s| {
            let n = crate::normalise::normalise(s);
            (n != s.as_str() && n.chars().count() >= 4).then(|| n.to_ascii_lowercase())
        })
        .collect();
    if !normal.is_empty() {
        out.extend(normal);
        crate::engine::stable_sort_by(&mut out, |a, b| {
            b.len().cmp(&a.len()).then_with(|| a.cmp(b))
        });
        out.dedup();
    }
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn hand_written_catalogue_is_serde_json_byte_for_byte() {
        assert_eq!(catalogue_json(), serde_json::to_string(RULES).unwrap());
    }
}
