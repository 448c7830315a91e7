//! Policy-as-code: the organisation's rules, parsed from YAML/JSON and validated.
//!
//! Unknown keys, wrong types, bad patterns, impossible ranges and dangling references are
//! errors that name the field (RFC 6901 pointer), its line and column.
//!
//! The YAML tree is read into [`PolicyDoc`] by the hand-written [`read`] module; there is no
//! serde `Deserialize` here (it was a third of the component). The `serde(...)` attributes
//! below exist only with the `schema` feature, for schemars' derive, which reads them to
//! write `schemas/policy.schema.json`: `deny_unknown_fields` and `default` must agree with
//! what the reader does (its unit tests and the schema test check the field lists).

use crate::error::{Error, ErrorCode, Result};
use crate::verdict::Severity;
use crate::yaml::{self, Limits, Node};
use std::collections::BTreeMap;

// Generated (tests/builtin_policy.rs): formatted by prettyplease, not by rustfmt.
#[rustfmt::skip]
mod builtin;
pub(crate) mod read;

/// Data sensitivity, least to most.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(
    feature = "schema",
    derive(schemars::JsonSchema),
    serde(rename_all = "kebab-case")
)]
pub enum Sensitivity {
    Public,
    Internal,
    Confidential,
    Restricted,
}

impl Sensitivity {
    /// Name as written in policies.
    pub fn as_str(self) -> &'static str {
        match self {
            Sensitivity::Public => "public",
            Sensitivity::Internal => "internal",
            Sensitivity::Confidential => "confidential",
            Sensitivity::Restricted => "restricted",
        }
    }

    /// Confidential and restricted data are "sensitive".
    pub fn is_sensitive(self) -> bool {
        self >= Sensitivity::Confidential
    }
}

/// Read or write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(
    feature = "schema",
    derive(schemars::JsonSchema),
    serde(rename_all = "kebab-case")
)]
pub enum Access {
    Read,
    Write,
}

/// The whole policy document.
#[derive(Debug, Clone)]
#[cfg_attr(
    feature = "schema",
    derive(schemars::JsonSchema),
    serde(deny_unknown_fields)
)]
pub struct PolicyDoc {
    pub policy_version: u32,
    pub name: String,
    #[cfg_attr(feature = "schema", serde(default))]
    pub description: String,
    pub organisation: Organisation,
    #[cfg_attr(feature = "schema", serde(default))]
    pub lifecycle: Lifecycle,
    #[cfg_attr(feature = "schema", serde(default))]
    pub client: ClientPolicy,
    #[cfg_attr(feature = "schema", serde(default))]
    pub data_classes: BTreeMap<String, DataClass>,
    #[cfg_attr(feature = "schema", serde(default))]
    pub data_types: BTreeMap<String, DataType>,
    #[cfg_attr(feature = "schema", serde(default))]
    pub scopes: BTreeMap<String, ScopeDef>,
    #[cfg_attr(feature = "schema", serde(default))]
    pub denied_scope_patterns: Vec<String>,
    #[cfg_attr(feature = "schema", serde(default))]
    pub sinks: Sinks,
    #[cfg_attr(feature = "schema", serde(default))]
    pub vendors: Vendors,
    #[cfg_attr(feature = "schema", serde(default))]
    pub decision: DecisionCfg,
    #[cfg_attr(feature = "schema", serde(default))]
    pub rules: BTreeMap<String, RuleOverride>,
    /// Exceptions for single findings of exact manifests (see [`crate::waiver`]).
    #[cfg_attr(feature = "schema", serde(default))]
    pub waivers: crate::waiver::Waivers,
}

#[derive(Debug, Clone)]
#[cfg_attr(
    feature = "schema",
    derive(schemars::JsonSchema),
    serde(deny_unknown_fields)
)]
pub struct Organisation {
    pub domains: Vec<String>,
    #[cfg_attr(feature = "schema", serde(default))]
    pub personal_email_domains: Vec<String>,
}

#[derive(Debug, Clone, Copy)]
#[cfg_attr(
    feature = "schema",
    derive(schemars::JsonSchema),
    serde(deny_unknown_fields)
)]
pub struct Range {
    pub min: i64,
    pub max: i64,
}

#[derive(Debug, Clone)]
#[cfg_attr(
    feature = "schema",
    derive(schemars::JsonSchema),
    serde(deny_unknown_fields)
)]
pub struct Lifecycle {
    #[cfg_attr(feature = "schema", serde(default = "Lifecycle::default_ttl"))]
    pub ttl_days: Range,
    #[cfg_attr(feature = "schema", serde(default))]
    pub retention_max_days: BTreeMap<Sensitivity, i64>,
    /// Days an app may stay past its `recertify_by` date before the sweep disables it at
    /// the identity provider (`microvet serve` app lifecycle).
    #[cfg_attr(feature = "schema", serde(default = "Lifecycle::default_grace"))]
    pub recertify_grace_days: i64,
}

impl Lifecycle {
    fn default_ttl() -> Range {
        Range { min: 30, max: 90 }
    }
    fn default_grace() -> i64 {
        14
    }
}

impl Default for Lifecycle {
    fn default() -> Self {
        Lifecycle {
            ttl_days: Lifecycle::default_ttl(),
            retention_max_days: BTreeMap::new(),
            recertify_grace_days: Lifecycle::default_grace(),
        }
    }
}

#[derive(Debug, Clone)]
#[cfg_attr(
    feature = "schema",
    derive(schemars::JsonSchema),
    serde(deny_unknown_fields)
)]
pub struct ClientPolicy {
    #[cfg_attr(feature = "schema", serde(default = "ClientPolicy::d_refresh"))]
    pub refresh_token_max_days: i64,
    #[cfg_attr(feature = "schema", serde(default = "ClientPolicy::d_access"))]
    pub access_token_max_minutes: i64,
    #[cfg_attr(feature = "schema", serde(default = "ClientPolicy::d_redirects"))]
    pub max_redirect_uris: usize,
    #[cfg_attr(feature = "schema", serde(default = "ClientPolicy::d_methods"))]
    pub auth_methods: Vec<String>,
}

impl ClientPolicy {
    fn d_refresh() -> i64 {
        30
    }
    fn d_access() -> i64 {
        60
    }
    fn d_redirects() -> usize {
        5
    }
    fn d_methods() -> Vec<String> {
        [
            "private_key_jwt",
            "tls_client_auth",
            "self_signed_tls_client_auth",
            "client_secret_jwt",
            "client_secret_basic",
        ]
        .iter()
        .map(|s| (*s).to_string())
        .collect()
    }
}

impl Default for ClientPolicy {
    fn default() -> Self {
        ClientPolicy {
            refresh_token_max_days: Self::d_refresh(),
            access_token_max_minutes: Self::d_access(),
            max_redirect_uris: Self::d_redirects(),
            auth_methods: Self::d_methods(),
        }
    }
}

#[derive(Debug, Clone, Copy)]
#[cfg_attr(
    feature = "schema",
    derive(schemars::JsonSchema),
    serde(deny_unknown_fields)
)]
pub struct DataClass {
    pub sensitivity: Sensitivity,
    #[cfg_attr(feature = "schema", serde(default))]
    pub personal: bool,
}

#[derive(Debug, Clone)]
#[cfg_attr(
    feature = "schema",
    derive(schemars::JsonSchema),
    serde(deny_unknown_fields)
)]
pub struct DataType {
    pub class: String,
    #[cfg_attr(feature = "schema", serde(default))]
    pub description: String,
}

#[derive(Debug, Clone)]
#[cfg_attr(
    feature = "schema",
    derive(schemars::JsonSchema),
    serde(deny_unknown_fields)
)]
pub struct ScopeDef {
    pub access: Access,
    #[cfg_attr(feature = "schema", serde(default))]
    pub grants: Vec<String>,
    #[cfg_attr(feature = "schema", serde(default))]
    pub review: bool,
    #[cfg_attr(feature = "schema", serde(default))]
    pub denied: bool,
    #[cfg_attr(feature = "schema", serde(default))]
    pub offline: bool,
    #[cfg_attr(feature = "schema", serde(default))]
    pub read_alternative: Option<String>,
}

/// A sink pattern: matches a parsed URL by scheme and host.
#[derive(Debug, Clone)]
#[cfg_attr(
    feature = "schema",
    derive(schemars::JsonSchema),
    serde(deny_unknown_fields)
)]
pub struct SinkPattern {
    /// URL scheme (`https`, `s3`, `mailto`...). Any scheme when absent.
    #[cfg_attr(feature = "schema", serde(default))]
    pub scheme: Option<String>,
    /// Host glob (`*` matches any run of characters other than `.`-free restriction: within the host only).
    #[cfg_attr(feature = "schema", serde(default))]
    pub host: Option<String>,
    /// The host equals this domain or is a subdomain of it.
    #[cfg_attr(feature = "schema", serde(default))]
    pub domain: Option<String>,
    #[cfg_attr(feature = "schema", serde(default))]
    pub category: Option<String>,
    #[cfg_attr(feature = "schema", serde(default))]
    pub description: String,
}

#[derive(Debug, Clone, Default)]
#[cfg_attr(
    feature = "schema",
    derive(schemars::JsonSchema),
    serde(deny_unknown_fields)
)]
pub struct Sinks {
    #[cfg_attr(feature = "schema", serde(default))]
    pub allow: Vec<SinkPattern>,
    #[cfg_attr(feature = "schema", serde(default))]
    pub deny: Vec<SinkPattern>,
}

#[derive(Debug, Clone)]
#[cfg_attr(
    feature = "schema",
    derive(schemars::JsonSchema),
    serde(deny_unknown_fields)
)]
pub struct Vendor {
    pub domain: String,
    #[cfg_attr(feature = "schema", serde(default))]
    pub dpa: bool,
}

#[derive(Debug, Clone, Default)]
#[cfg_attr(
    feature = "schema",
    derive(schemars::JsonSchema),
    serde(deny_unknown_fields)
)]
pub struct Vendors {
    #[cfg_attr(feature = "schema", serde(default))]
    pub approved: Vec<Vendor>,
}

#[derive(Debug, Clone, Copy)]
#[cfg_attr(
    feature = "schema",
    derive(schemars::JsonSchema),
    serde(deny_unknown_fields)
)]
pub struct Tiers {
    pub medium: u32,
    pub high: u32,
    pub critical: u32,
}

#[derive(Debug, Clone, Copy)]
#[cfg_attr(
    feature = "schema",
    derive(schemars::JsonSchema),
    serde(deny_unknown_fields)
)]
pub struct DecisionCfg {
    #[cfg_attr(feature = "schema", serde(default = "DecisionCfg::d_tiers"))]
    pub tiers: Tiers,
}

impl DecisionCfg {
    fn d_tiers() -> Tiers {
        Tiers {
            medium: 25,
            high: 50,
            critical: 75,
        }
    }
}

impl Default for DecisionCfg {
    fn default() -> Self {
        DecisionCfg {
            tiers: Self::d_tiers(),
        }
    }
}

#[derive(Debug, Clone, Copy, Default)]
#[cfg_attr(
    feature = "schema",
    derive(schemars::JsonSchema),
    serde(deny_unknown_fields)
)]
pub struct RuleOverride {
    #[cfg_attr(feature = "schema", serde(default))]
    pub severity: Option<Severity>,
    #[cfg_attr(feature = "schema", serde(default))]
    pub enabled: Option<bool>,
}

/// Policy limits: policies are larger than manifests but still bounded.
pub const POLICY_LIMITS: Limits = Limits {
    max_bytes: 4 * 1024 * 1024,
    max_depth: 32,
    max_nodes: 200_000,
};

/// `*` glob over a whole string (case-sensitive). `*` matches any run of characters.
/// (Implemented, without allocating, in `rules::support::matching`.)
pub fn glob_match(pattern: &str, text: &str) -> bool {
    crate::rules::support::matching::glob_match(pattern, text)
}

/// Whether `host` equals `domain` or is a subdomain of it (ASCII case-insensitive).
pub fn host_in_domain(host: &str, domain: &str) -> bool {
    crate::rules::support::matching::host_in_domain(host, domain)
}

impl SinkPattern {
    /// Whether a parsed URL matches this pattern.
    pub fn matches(&self, url: &url::Url) -> bool {
        crate::rules::support::matching::sink_matches(self, url)
    }
}

impl PolicyDoc {
    /// The data class of a data type, if known: the exact name, else the one equal to it
    /// ignoring ASCII case (`HR.Employee_Records` is as sensitive as `hr.employee_records`;
    /// MV-DATA-001 still asks for the catalogued spelling).
    pub fn class_of(&self, data_type: &str) -> Option<(&str, DataClass)> {
        let t = match self.data_types.get(data_type) {
            Some(t) => t,
            None => {
                self.data_types
                    .iter()
                    .find(|(k, _)| k.eq_ignore_ascii_case(data_type))?
                    .1
            }
        };
        let c = self.data_classes.get(&t.class)?;
        Some((t.class.as_str(), *c))
    }

    /// Whether a scope definition grants a data type (patterns allowed in `grants`).
    pub fn scope_grants(def: &ScopeDef, data_type: &str) -> bool {
        crate::rules::support::matching::scope_grants(def, data_type)
    }

    /// Whether an email/host domain is one of the organisation's (or a subdomain).
    pub fn is_org_domain(&self, domain: &str) -> bool {
        crate::rules::support::matching::is_org_domain(self, domain)
    }

    /// Whether a domain is a personal mailbox provider.
    pub fn is_personal_domain(&self, domain: &str) -> bool {
        crate::rules::support::matching::is_personal_domain(self, domain)
    }
}

/// Suggest the closest known name.
pub fn did_you_mean<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    candidates
        .into_iter()
        .map(|c| (strsim::jaro_winkler(word, c), c))
        .filter(|(score, _)| *score > 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| c)
}

pub(crate) fn error_at(root: &Node, pointer: &str, message: String) -> Error {
    let mut e = Error::new(ErrorCode::Policy, message).at_path(pointer.to_string());
    // Walk up until a node with a position is found.
    let mut p = pointer.to_string();
    loop {
        if let Some(n) = root.pointer(&p) {
            e = e.at(n.line, n.col);
            break;
        }
        match p.rfind('/') {
            Some(i) => p.truncate(i),
            None => break,
        }
    }
    e
}

/// The built-in policy (`policies/default.yaml`) as [`parse`] reads it, built from Rust
/// code generated from that file instead of parsed (a fresh instance of the component
/// would otherwise spend most of its first vet parsing it).
pub(crate) fn builtin() -> PolicyDoc {
    builtin::doc()
}

/// The sha256 of the `policies/default.yaml` that [`builtin`] was generated from.
pub(crate) const BUILTIN_SHA256: &str = builtin::SOURCE_SHA256;

/// Parse and validate a policy.
pub fn parse(text: &str) -> Result<(PolicyDoc, Node)> {
    let root = yaml::parse(text, POLICY_LIMITS).map_err(|mut e| {
        if e.code == ErrorCode::Syntax {
            e.message = format!("policy is not valid YAML/JSON: {}", e.message);
        }
        e
    })?;
    let doc = read::policy_doc(&root)?;
    validate(&doc, &root)?;
    Ok((doc, root))
}

fn validate(doc: &PolicyDoc, root: &Node) -> Result<()> {
    let fail = |ptr: &str, msg: String, help: &str| -> Result<()> {
        Err(error_at(root, ptr, msg).with_help(help.to_string()))
    };
    if doc.policy_version != 1 {
        return fail(
            "/policy_version",
            format!("unsupported policy_version `{}`", doc.policy_version),
            "this engine reads policy_version 1",
        );
    }
    if doc.name.trim().is_empty() {
        return fail(
            "/name",
            "policy name is empty".into(),
            "give the policy a short name, e.g. `default`",
        );
    }
    if doc.organisation.domains.is_empty() {
        return fail(
            "/organisation/domains",
            "the organisation has no domains".into(),
            "list at least one domain, e.g. `[example.com]`",
        );
    }
    for (i, d) in doc.organisation.domains.iter().enumerate() {
        if d.is_empty() || d.contains(['/', '@', '*', ' ']) || !d.contains('.') {
            return fail(
                &format!("/organisation/domains/{i}"),
                format!("`{d}` is not a domain name"),
                "write a bare domain such as `example.com` (no scheme, path or wildcard)",
            );
        }
    }
    let ttl = doc.lifecycle.ttl_days;
    if ttl.min < 1 || ttl.min > ttl.max {
        return fail(
            "/lifecycle/ttl_days",
            format!("impossible ttl_days range {}..{}", ttl.min, ttl.max),
            "use 1 <= min <= max, e.g. `{ min: 30, max: 90 }`",
        );
    }
    let grace = doc.lifecycle.recertify_grace_days;
    if !(0..=3650).contains(&grace) {
        return fail(
            "/lifecycle/recertify_grace_days",
            format!("recertify_grace_days {grace} is outside 0..=3650"),
            "use a number of days such as `14` (0: disabled as soon as recertify-by passes)",
        );
    }
    for (s, days) in &doc.lifecycle.retention_max_days {
        if *days < 0 {
            return fail(
                &format!("/lifecycle/retention_max_days/{}", s.as_str()),
                format!("negative retention limit `{days}`"),
                "use a number of days >= 0",
            );
        }
    }
    let c = &doc.client;
    if c.refresh_token_max_days < 0 || c.access_token_max_minutes < 1 || c.max_redirect_uris < 1 {
        return fail(
            "/client",
            "client limits must be positive".into(),
            "refresh_token_max_days >= 0, access_token_max_minutes >= 1, max_redirect_uris >= 1",
        );
    }
    for (name, t) in &doc.data_types {
        if !doc.data_classes.contains_key(&t.class) {
            let hint = did_you_mean(&t.class, doc.data_classes.keys().map(String::as_str))
                .map_or_else(
                    || "declare the class under `data_classes`".to_string(),
                    |s| format!("did you mean `{s}`?"),
                );
            return Err(error_at(
                root,
                &format!("/data_types/{}/class", yaml::escape_token(name)),
                format!("data type `{name}` uses unknown class `{}`", t.class),
            )
            .with_help(hint));
        }
    }
    for (name, s) in &doc.scopes {
        let base = format!("/scopes/{}", yaml::escape_token(name));
        for (i, g) in s.grants.iter().enumerate() {
            let known = if g.contains('*') {
                doc.data_types.keys().any(|t| glob_match(g, t))
            } else {
                doc.data_types.contains_key(g)
            };
            if !known {
                return fail(
                    &format!("{base}/grants/{i}"),
                    format!("scope `{name}` grants unknown data type `{g}`"),
                    "declare the data type under `data_types` or fix the name",
                );
            }
        }
        if let Some(alt) = &s.read_alternative {
            match doc.scopes.get(alt) {
                Some(a) if a.access == Access::Read => {}
                _ => {
                    return fail(
                        &format!("{base}/read_alternative"),
                        format!(
                            "read_alternative `{alt}` of `{name}` is not a read scope in the catalogue"
                        ),
                        "name a scope of this catalogue whose access is `read`",
                    );
                }
            }
        }
    }
    for (i, p) in doc.denied_scope_patterns.iter().enumerate() {
        if p.is_empty() || p.contains(' ') {
            return fail(
                &format!("/denied_scope_patterns/{i}"),
                format!("bad scope pattern `{p}`"),
                "a scope pattern is a scope name where `*` matches any characters",
            );
        }
    }
    for (list, pats) in [("allow", &doc.sinks.allow), ("deny", &doc.sinks.deny)] {
        for (i, p) in pats.iter().enumerate() {
            let ptr = format!("/sinks/{list}/{i}");
            if p.scheme.is_none() && p.host.is_none() && p.domain.is_none() {
                return fail(
                    &ptr,
                    "sink pattern matches everything".into(),
                    "give a `scheme`, `host` or `domain`",
                );
            }
            for h in [&p.host, &p.domain].into_iter().flatten() {
                if h.is_empty() || h.contains(['/', ':', '@', ' ']) {
                    return fail(
                        &ptr,
                        format!("bad host pattern `{h}`"),
                        "write a host such as `corp-*` or a domain such as `example.com` (no scheme or path)",
                    );
                }
            }
            if let Some(s) = &p.scheme
                && (s.is_empty()
                    || !s
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.')))
            {
                return fail(
                    &ptr,
                    format!("bad scheme `{s}`"),
                    "write a URL scheme such as `https` or `s3`",
                );
            }
        }
    }
    for (i, v) in doc.vendors.approved.iter().enumerate() {
        if v.domain.is_empty() || v.domain.contains(['/', '@', ' ']) {
            return fail(
                &format!("/vendors/approved/{i}/domain"),
                format!("`{}` is not a vendor domain", v.domain),
                "write the vendor's domain, e.g. `slack.com`",
            );
        }
    }
    let t = doc.decision.tiers;
    if !(0 < t.medium && t.medium < t.high && t.high < t.critical && t.critical <= 100) {
        return fail(
            "/decision/tiers",
            format!(
                "impossible tier thresholds medium {} < high {} < critical {}",
                t.medium, t.high, t.critical
            ),
            "use 0 < medium < high < critical <= 100, e.g. 25, 50, 75",
        );
    }
    if !(1..=3650).contains(&doc.waivers.max_days) {
        return fail(
            "/waivers/max_days",
            format!(
                "`max_days` must be from 1 to 3650, found {}",
                doc.waivers.max_days
            ),
            "waivers are short-lived exceptions: 30-90 days is usual",
        );
    }
    for (i, id) in doc.waivers.never.iter().enumerate() {
        if crate::rules::find(id).is_none_or(|r| r.id != id) {
            return fail(
                &format!("/waivers/never/{i}"),
                format!("unknown rule `{id}`"),
                "run `microvet rules` to list rule IDs (exactly as written there)",
            );
        }
    }
    crate::waiver::validate(
        doc,
        &[],
        &doc.waivers.list,
        "/waivers/list",
        &|ptr, message| error_at(root, ptr, format!("invalid policy at `{ptr}`: {message}")),
    )?;
    for id in doc.rules.keys() {
        if crate::rules::find(id).is_none() {
            let hint = did_you_mean(id, crate::rules::RULES.iter().map(|r| r.id)).map_or_else(
                || "run `microvet rules` to list rule IDs".to_string(),
                |s| format!("did you mean `{s}`?"),
            );
            return Err(error_at(
                root,
                &format!("/rules/{}", yaml::escape_token(id)),
                format!("unknown rule `{id}`"),
            )
            .with_help(hint));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::indexing_slicing,
        clippy::panic
    )]
    use super::*;

    /// The built-in policy built by `builtin.rs` is the one `parse` reads from
    /// `policies/default.yaml` (`tests/builtin_policy.rs` regenerates the file).
    #[test]
    fn builtin_is_the_parsed_default_policy() {
        let (parsed, _) = parse(crate::DEFAULT_POLICY).unwrap();
        assert_eq!(format!("{:#?}", builtin()), format!("{parsed:#?}"));
    }

    #[test]
    fn glob() {
        assert!(glob_match("corp-*", "corp-hr-temp"));
        assert!(!glob_match("corp-*", "xcorp-hr"));
        assert!(glob_match("*", ""));
        assert!(glob_match("*.admin", "hr.admin"));
        assert!(!glob_match("*.admin", "hr.administrator"));
        assert!(glob_match("a*b*c", "aXXbYYc"));
    }

    #[test]
    fn domains() {
        assert!(host_in_domain("apps.example.com", "example.com"));
        assert!(host_in_domain("example.com.", "example.com"));
        assert!(!host_in_domain("apps.example.com.evil.io", "example.com"));
        assert!(!host_in_domain("notexample.com", "example.com"));
    }

    #[test]
    fn data_classes_ignore_case() {
        let (doc, _) = parse(crate::DEFAULT_POLICY).unwrap();
        assert_eq!(doc.class_of("HR.Employee_Records").unwrap().0, "hr");
        assert!(doc.class_of("hr.employee").is_none());
    }

    #[test]
    fn default_policy_parses() {
        let (doc, _) = parse(crate::DEFAULT_POLICY).unwrap();
        assert_eq!(doc.name, "default");
        assert!(doc.is_org_domain("example.com"));
    }

    #[test]
    fn unknown_key_points_at_it_with_suggestion() {
        let text = crate::DEFAULT_POLICY.replace("lifecycle:", "lifecycel:");
        let e = parse(&text).unwrap_err();
        assert_eq!(e.code, ErrorCode::Policy);
        assert!(e.message.contains("lifecycel"), "{e:?}");
        assert_eq!(e.help.as_deref(), Some("did you mean `lifecycle`?"));
        // The key itself, not its value on the next line.
        assert_eq!(e.path.as_deref(), Some("/lifecycel"));
        let line = text.lines().position(|l| l == "lifecycel:").unwrap() + 1;
        assert_eq!((e.line, e.column), (Some(line as u32), Some(1)));
    }

    #[test]
    fn recertify_grace_days_defaults_and_is_bounded() {
        let (doc, _) = parse(crate::DEFAULT_POLICY).unwrap();
        assert_eq!(doc.lifecycle.recertify_grace_days, 14);
        let text = crate::DEFAULT_POLICY.replace(
            "  ttl_days: { min: 30, max: 90 }",
            "  ttl_days: { min: 30, max: 90 }\n  recertify_grace_days: -1",
        );
        let e = parse(&text).unwrap_err();
        assert_eq!(e.path.as_deref(), Some("/lifecycle/recertify_grace_days"));
    }

    #[test]
    fn impossible_range_is_refused() {
        let text = crate::DEFAULT_POLICY.replace("{ min: 30, max: 90 }", "{ min: 90, max: 30 }");
        let e = parse(&text).unwrap_err();
        assert_eq!(e.path.as_deref(), Some("/lifecycle/ttl_days"));
        assert!(e.line.is_some());
    }

    #[test]
    fn dangling_class_and_bad_pattern() {
        let text = crate::DEFAULT_POLICY.replace(
            "{ class: hr, description: \"employee",
            "{ class: hrr, description: \"employee",
        );
        let e = parse(&text).unwrap_err();
        assert_eq!(e.help.as_deref(), Some("did you mean `hr`?"));
        let text = crate::DEFAULT_POLICY.replace("host: \"corp-*\"", "host: \"s3://corp-*\"");
        assert!(
            parse(&text)
                .unwrap_err()
                .message
                .contains("bad host pattern")
        );
    }

    #[test]
    fn unknown_rule_override() {
        let text = crate::DEFAULT_POLICY
            .replace("rules: {}", "rules: { MV-NOPE-999: { enabled: false } }");
        let e = parse(&text).unwrap_err();
        assert!(e.message.contains("unknown rule `MV-NOPE-999`"));
    }
}
