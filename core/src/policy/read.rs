//! The policy reader: builds a [`PolicyDoc`] from the positioned YAML tree.
//!
//! Written by hand rather than derived with serde: the derived deserializers (and the path
//! tracking that made their errors name a field) were a third of the component's code, and a
//! reader that walks the tree knows every node's pointer, line and column anyway.
//!
//! Each struct reader visits its mapping's entries in document order — so the first problem
//! in the file is the one reported — fills in what it finds and applies the defaults of the
//! types (`Default` impls and the `d_*` functions the JSON Schema also reads) for the rest.
//! Errors say where (RFC 6901 pointer, line, column), what was expected and what was found.

use super::{
    Access, ClientPolicy, DataClass, DataType, DecisionCfg, Lifecycle, Organisation, PolicyDoc,
    Range, RuleOverride, ScopeDef, Sensitivity, SinkPattern, Sinks, Tiers, Vendor, Vendors,
    did_you_mean,
};
use crate::date::Date;
use crate::error::{Error, ErrorCode, Result};
use crate::verdict::Severity;
use crate::waiver::{Waiver, Waivers};
use crate::yaml::{self, Node, Value};
use std::collections::BTreeMap;

// The fields of each struct, as the reader accepts them (and lists them in errors).
const POLICY: &[&str] = &[
    "policy_version",
    "name",
    "description",
    "organisation",
    "lifecycle",
    "client",
    "data_classes",
    "data_types",
    "scopes",
    "denied_scope_patterns",
    "sinks",
    "vendors",
    "decision",
    "rules",
    "waivers",
];
const ORGANISATION: &[&str] = &["domains", "personal_email_domains"];
const RANGE: &[&str] = &["min", "max"];
const LIFECYCLE: &[&str] = &["ttl_days", "retention_max_days", "recertify_grace_days"];
const CLIENT_POLICY: &[&str] = &[
    "refresh_token_max_days",
    "access_token_max_minutes",
    "max_redirect_uris",
    "auth_methods",
];
const DATA_CLASS: &[&str] = &["sensitivity", "personal"];
const DATA_TYPE: &[&str] = &["class", "description"];
const SCOPE_DEF: &[&str] = &[
    "access",
    "grants",
    "review",
    "denied",
    "offline",
    "read_alternative",
];
const SINK_PATTERN: &[&str] = &["scheme", "host", "domain", "category", "description"];
const SINKS: &[&str] = &["allow", "deny"];
const VENDOR: &[&str] = &["domain", "dpa"];
const VENDORS: &[&str] = &["approved"];
const TIERS: &[&str] = &["medium", "high", "critical"];
const DECISION_CFG: &[&str] = &["tiers"];
const RULE_OVERRIDE: &[&str] = &["severity", "enabled"];
const WAIVERS: &[&str] = &["max_days", "never", "list"];
const WAIVER: &[&str] = &[
    "id",
    "rule",
    "path",
    "app",
    "manifest_sha256",
    "reason",
    "approved_by",
    "approved_on",
    "expires",
];
const WAIVERS_FILE: &[&str] = &["waivers"];

/// Each struct with its fields, for the test against the JSON Schema.
#[cfg(all(test, feature = "schema"))]
const STRUCTS: &[(&str, &[&str])] = &[
    ("PolicyDoc", POLICY),
    ("Organisation", ORGANISATION),
    ("Range", RANGE),
    ("Lifecycle", LIFECYCLE),
    ("ClientPolicy", CLIENT_POLICY),
    ("DataClass", DATA_CLASS),
    ("DataType", DATA_TYPE),
    ("ScopeDef", SCOPE_DEF),
    ("SinkPattern", SINK_PATTERN),
    ("Sinks", SINKS),
    ("Vendor", VENDOR),
    ("Vendors", VENDORS),
    ("Tiers", TIERS),
    ("DecisionCfg", DECISION_CFG),
    ("RuleOverride", RULE_OVERRIDE),
    ("Waivers", WAIVERS),
    ("Waiver", WAIVER),
];

/// Read a whole policy document.
pub(super) fn policy_doc(n: &Node) -> Result<PolicyDoc> {
    if !matches!(n.value, Value::Map(_)) {
        return Err(mismatch(n, "", "a mapping")
            .with_help("a policy is a mapping that starts with `policy_version: 1`"));
    }
    let (mut policy_version, mut name, mut organisation) = (None, None, None);
    let mut description = String::new();
    let mut lifecycle = Lifecycle::default();
    let mut client = ClientPolicy::default();
    let mut data_classes = BTreeMap::new();
    let mut data_types = BTreeMap::new();
    let mut scopes = BTreeMap::new();
    let mut denied_scope_patterns = Vec::new();
    let mut sinks = Sinks::default();
    let mut vendors = Vendors::default();
    let mut decision = DecisionCfg::default();
    let mut rules = BTreeMap::new();
    let mut waivers = Waivers::default();
    fields(n, "", POLICY, &mut |key, v, p| {
        match key {
            "policy_version" => policy_version = Some(uint32(v, p)?),
            "name" => name = Some(string(v, p)?),
            "description" => description = string(v, p)?,
            "organisation" => organisation = Some(read_organisation(v, p)?),
            "lifecycle" => lifecycle = read_lifecycle(v, p)?,
            "client" => client = read_client(v, p)?,
            "data_classes" => data_classes = named(v, p, read_data_class)?,
            "data_types" => data_types = named(v, p, read_data_type)?,
            "scopes" => scopes = named(v, p, read_scope)?,
            "denied_scope_patterns" => denied_scope_patterns = strings(v, p)?,
            "sinks" => sinks = read_sinks(v, p)?,
            "vendors" => vendors = read_vendors(v, p)?,
            "decision" => decision = read_decision(v, p)?,
            "rules" => rules = named(v, p, read_rule_override)?,
            "waivers" => waivers = read_waivers(v, p)?,
            _ => return Ok(false),
        }
        Ok(true)
    })?;
    Ok(PolicyDoc {
        policy_version: required(policy_version, n, "", "policy_version")?,
        name: required(name, n, "", "name")?,
        description,
        organisation: required(organisation, n, "", "organisation")?,
        lifecycle,
        client,
        data_classes,
        data_types,
        scopes,
        denied_scope_patterns,
        sinks,
        vendors,
        decision,
        rules,
        waivers,
    })
}

fn read_organisation(n: &Node, ptr: &str) -> Result<Organisation> {
    let mut domains = None;
    let mut personal_email_domains = Vec::new();
    fields(n, ptr, ORGANISATION, &mut |key, v, p| {
        match key {
            "domains" => domains = Some(strings(v, p)?),
            "personal_email_domains" => personal_email_domains = strings(v, p)?,
            _ => return Ok(false),
        }
        Ok(true)
    })?;
    Ok(Organisation {
        domains: required(domains, n, ptr, "domains")?,
        personal_email_domains,
    })
}

fn read_range(n: &Node, ptr: &str) -> Result<Range> {
    let (mut min, mut max) = (None, None);
    fields(n, ptr, RANGE, &mut |key, v, p| {
        match key {
            "min" => min = Some(int(v, p)?),
            "max" => max = Some(int(v, p)?),
            _ => return Ok(false),
        }
        Ok(true)
    })?;
    Ok(Range {
        min: required(min, n, ptr, "min")?,
        max: required(max, n, ptr, "max")?,
    })
}

fn read_lifecycle(n: &Node, ptr: &str) -> Result<Lifecycle> {
    let mut out = Lifecycle::default();
    fields(n, ptr, LIFECYCLE, &mut |key, v, p| {
        match key {
            "ttl_days" => out.ttl_days = read_range(v, p)?,
            "recertify_grace_days" => out.recertify_grace_days = int(v, p)?,
            "retention_max_days" => {
                let mut days = BTreeMap::new();
                each_entry(v, p, &mut |k, v, p| {
                    let s = choose(&k.name, k.line, k.col, p, SENSITIVITIES)?;
                    days.insert(s, int(v, p)?);
                    Ok(())
                })?;
                out.retention_max_days = days;
            }
            _ => return Ok(false),
        }
        Ok(true)
    })?;
    Ok(out)
}

fn read_client(n: &Node, ptr: &str) -> Result<ClientPolicy> {
    let mut out = ClientPolicy::default();
    fields(n, ptr, CLIENT_POLICY, &mut |key, v, p| {
        match key {
            "refresh_token_max_days" => out.refresh_token_max_days = int(v, p)?,
            "access_token_max_minutes" => out.access_token_max_minutes = int(v, p)?,
            // Capped at u32 like the other counts, so every runtime (64-bit native, wasm32)
            // accepts the same policies.
            "max_redirect_uris" => {
                let i = uint32(v, p)?;
                out.max_redirect_uris =
                    usize::try_from(i).map_err(|_| mismatch(v, p, "a whole number"))?;
            }
            "auth_methods" => out.auth_methods = strings(v, p)?,
            _ => return Ok(false),
        }
        Ok(true)
    })?;
    Ok(out)
}

fn read_data_class(n: &Node, ptr: &str) -> Result<DataClass> {
    let mut sensitivity = None;
    let mut personal = false;
    fields(n, ptr, DATA_CLASS, &mut |key, v, p| {
        match key {
            "sensitivity" => sensitivity = Some(choice(v, p, SENSITIVITIES)?),
            "personal" => personal = boolean(v, p)?,
            _ => return Ok(false),
        }
        Ok(true)
    })?;
    Ok(DataClass {
        sensitivity: required(sensitivity, n, ptr, "sensitivity")?,
        personal,
    })
}

fn read_data_type(n: &Node, ptr: &str) -> Result<DataType> {
    let mut class = None;
    let mut description = String::new();
    fields(n, ptr, DATA_TYPE, &mut |key, v, p| {
        match key {
            "class" => class = Some(string(v, p)?),
            "description" => description = string(v, p)?,
            _ => return Ok(false),
        }
        Ok(true)
    })?;
    Ok(DataType {
        class: required(class, n, ptr, "class")?,
        description,
    })
}

fn read_scope(n: &Node, ptr: &str) -> Result<ScopeDef> {
    let mut access = None;
    let mut grants = Vec::new();
    let (mut review, mut denied, mut offline) = (false, false, false);
    let mut read_alternative = None;
    fields(n, ptr, SCOPE_DEF, &mut |key, v, p| {
        match key {
            "access" => access = Some(choice(v, p, ACCESSES)?),
            "grants" => grants = strings(v, p)?,
            "review" => review = boolean(v, p)?,
            "denied" => denied = boolean(v, p)?,
            "offline" => offline = boolean(v, p)?,
            "read_alternative" => read_alternative = optional(v, p, string)?,
            _ => return Ok(false),
        }
        Ok(true)
    })?;
    Ok(ScopeDef {
        access: required(access, n, ptr, "access")?,
        grants,
        review,
        denied,
        offline,
        read_alternative,
    })
}

fn read_sink(n: &Node, ptr: &str) -> Result<SinkPattern> {
    let mut out = SinkPattern {
        scheme: None,
        host: None,
        domain: None,
        category: None,
        description: String::new(),
    };
    fields(n, ptr, SINK_PATTERN, &mut |key, v, p| {
        match key {
            "scheme" => out.scheme = optional(v, p, string)?,
            "host" => out.host = optional(v, p, string)?,
            "domain" => out.domain = optional(v, p, string)?,
            "category" => out.category = optional(v, p, string)?,
            "description" => out.description = string(v, p)?,
            _ => return Ok(false),
        }
        Ok(true)
    })?;
    Ok(out)
}

fn read_sinks(n: &Node, ptr: &str) -> Result<Sinks> {
    let mut out = Sinks::default();
    fields(n, ptr, SINKS, &mut |key, v, p| {
        match key {
            "allow" => out.allow = list(v, p, read_sink)?,
            "deny" => out.deny = list(v, p, read_sink)?,
            _ => return Ok(false),
        }
        Ok(true)
    })?;
    Ok(out)
}

fn read_vendor(n: &Node, ptr: &str) -> Result<Vendor> {
    let mut domain = None;
    let mut dpa = false;
    fields(n, ptr, VENDOR, &mut |key, v, p| {
        match key {
            "domain" => domain = Some(string(v, p)?),
            "dpa" => dpa = boolean(v, p)?,
            _ => return Ok(false),
        }
        Ok(true)
    })?;
    Ok(Vendor {
        domain: required(domain, n, ptr, "domain")?,
        dpa,
    })
}

fn read_vendors(n: &Node, ptr: &str) -> Result<Vendors> {
    let mut out = Vendors::default();
    fields(n, ptr, VENDORS, &mut |key, v, p| {
        match key {
            "approved" => out.approved = list(v, p, read_vendor)?,
            _ => return Ok(false),
        }
        Ok(true)
    })?;
    Ok(out)
}

fn read_tiers(n: &Node, ptr: &str) -> Result<Tiers> {
    let (mut medium, mut high, mut critical) = (None, None, None);
    fields(n, ptr, TIERS, &mut |key, v, p| {
        match key {
            "medium" => medium = Some(uint32(v, p)?),
            "high" => high = Some(uint32(v, p)?),
            "critical" => critical = Some(uint32(v, p)?),
            _ => return Ok(false),
        }
        Ok(true)
    })?;
    Ok(Tiers {
        medium: required(medium, n, ptr, "medium")?,
        high: required(high, n, ptr, "high")?,
        critical: required(critical, n, ptr, "critical")?,
    })
}

fn read_decision(n: &Node, ptr: &str) -> Result<DecisionCfg> {
    let mut out = DecisionCfg::default();
    fields(n, ptr, DECISION_CFG, &mut |key, v, p| {
        match key {
            "tiers" => out.tiers = read_tiers(v, p)?,
            _ => return Ok(false),
        }
        Ok(true)
    })?;
    Ok(out)
}

fn read_rule_override(n: &Node, ptr: &str) -> Result<RuleOverride> {
    let mut out = RuleOverride::default();
    fields(n, ptr, RULE_OVERRIDE, &mut |key, v, p| {
        match key {
            "severity" => out.severity = optional(v, p, |v, p| choice(v, p, SEVERITIES))?,
            "enabled" => out.enabled = optional(v, p, boolean)?,
            _ => return Ok(false),
        }
        Ok(true)
    })?;
    Ok(out)
}

const SENSITIVITIES: &[(&str, Sensitivity)] = &[
    ("public", Sensitivity::Public),
    ("internal", Sensitivity::Internal),
    ("confidential", Sensitivity::Confidential),
    ("restricted", Sensitivity::Restricted),
];

const ACCESSES: &[(&str, Access)] = &[("read", Access::Read), ("write", Access::Write)];

const SEVERITIES: &[(&str, Severity)] = &[
    ("info", Severity::Info),
    ("low", Severity::Low),
    ("medium", Severity::Medium),
    ("high", Severity::High),
    ("critical", Severity::Critical),
];

fn read_waivers(n: &Node, ptr: &str) -> Result<Waivers> {
    let mut out = Waivers::default();
    fields(n, ptr, WAIVERS, &mut |key, v, p| {
        match key {
            "max_days" => out.max_days = int(v, p)?,
            "never" => out.never = strings(v, p)?,
            "list" => out.list = list(v, p, read_waiver)?,
            _ => return Ok(false),
        }
        Ok(true)
    })?;
    Ok(out)
}

fn read_waiver(n: &Node, ptr: &str) -> Result<Waiver> {
    let (mut id, mut rule, mut path, mut app, mut sha) = (None, None, None, None, None);
    let (mut reason, mut approved_by, mut approved_on, mut expires) = (None, None, None, None);
    fields(n, ptr, WAIVER, &mut |key, v, p| {
        match key {
            "id" => id = Some(string(v, p)?),
            "rule" => rule = Some(string(v, p)?),
            "path" => path = optional(v, p, string)?,
            "app" => app = Some(string(v, p)?),
            "manifest_sha256" => sha = Some(string(v, p)?),
            "reason" => reason = Some(string(v, p)?),
            "approved_by" => approved_by = Some(string(v, p)?),
            "approved_on" => approved_on = Some(date(v, p)?),
            "expires" => expires = Some(date(v, p)?),
            _ => return Ok(false),
        }
        Ok(true)
    })?;
    Ok(Waiver {
        id: required(id, n, ptr, "id")?,
        rule: required(rule, n, ptr, "rule")?,
        path,
        app: required(app, n, ptr, "app")?,
        manifest_sha256: required(sha, n, ptr, "manifest_sha256")?,
        reason: required(reason, n, ptr, "reason")?,
        approved_by: required(approved_by, n, ptr, "approved_by")?,
        approved_on: required(approved_on, n, ptr, "approved_on")?,
        expires: required(expires, n, ptr, "expires")?,
    })
}

/// A waivers file: a mapping with one field, `waivers`, a list of waivers.
pub(crate) fn waivers_file(n: &Node) -> Result<Vec<Waiver>> {
    if !matches!(n.value, Value::Map(_)) {
        return Err(mismatch(n, "", "a mapping")
            .with_help("a waivers file is a mapping with one field, `waivers:`, a list"));
    }
    let mut waivers = None;
    fields(n, "", WAIVERS_FILE, &mut |key, v, p| {
        match key {
            "waivers" => waivers = Some(list(v, p, read_waiver)?),
            _ => return Ok(false),
        }
        Ok(true)
    })?;
    required(waivers, n, "", "waivers")
}

/// A calendar date, `YYYY-MM-DD` (a string in YAML and JSON alike: the YAML reader has no
/// timestamp type).
fn date(n: &Node, ptr: &str) -> Result<Date> {
    match &n.value {
        Value::Str(s) => Date::parse(s).ok_or_else(|| {
            fail(
                ptr,
                n.line,
                n.col,
                format!("expected a date `YYYY-MM-DD`, found {}", found(n)),
            )
            .with_help("write the day as `2026-12-31`")
        }),
        _ => Err(mismatch(n, ptr, "a date `YYYY-MM-DD`")),
    }
}

// ---- building blocks ----

/// An error about the node at `ptr` (line `line`, column `col`).
#[inline(never)]
fn fail(ptr: &str, line: u32, col: u32, message: String) -> Error {
    let head = if ptr.is_empty() {
        "invalid policy".to_string()
    } else {
        format!("invalid policy at `{ptr}`")
    };
    Error::new(ErrorCode::Policy, format!("{head}: {message}"))
        .at_path(ptr)
        .at(line, col)
}

/// "expected X, found Y" at a node.
#[inline(never)]
fn mismatch(n: &Node, ptr: &str, expected: &str) -> Error {
    fail(
        ptr,
        n.line,
        n.col,
        format!("expected {expected}, found {}", found(n)),
    )
}

/// What a node is, for "found ...": its kind, and the value when it is a scalar.
fn found(n: &Node) -> String {
    match &n.value {
        Value::Null => "null".to_string(),
        Value::Bool(b) => format!("a boolean `{b}`"),
        Value::Int(i) => format!("an integer `{i}`"),
        Value::Float(f) => format!("a decimal number `{f:?}`"),
        Value::Str(s) if s.chars().count() > 40 => {
            format!("a string `{}…`", s.chars().take(40).collect::<String>())
        }
        Value::Str(s) => format!("a string `{s}`"),
        Value::Seq(_) => "a list".to_string(),
        Value::Map(_) => "a mapping".to_string(),
    }
}

/// "`a`" or "one of `a`, `b`, `c`".
fn one_of<'a>(names: impl ExactSizeIterator<Item = &'a str>) -> String {
    let one = names.len() == 1;
    let list: Vec<String> = names.map(|n| format!("`{n}`")).collect();
    if one {
        list.concat()
    } else {
        format!("one of {}", list.join(", "))
    }
}

/// The child pointer of a mapping entry.
fn child(ptr: &str, key: &str) -> String {
    format!("{ptr}/{}", yaml::escape_token(key))
}

/// Visit the entries of the mapping `n` (a struct with `names` as its fields) in document
/// order. `visit` reads a field and returns `false` for a key that is not one; that key is
/// an error pointing at the key itself, with a "did you mean" among `names`.
fn fields(
    n: &Node,
    ptr: &str,
    names: &[&str],
    visit: &mut dyn FnMut(&str, &Node, &str) -> Result<bool>,
) -> Result<()> {
    let Value::Map(entries) = &n.value else {
        return Err(mismatch(n, ptr, "a mapping"));
    };
    for (key, value) in entries {
        let p = child(ptr, &key.name);
        if !visit(&key.name, value, &p)? {
            let e = fail(
                &p,
                key.line,
                key.col,
                format!(
                    "unknown field `{}`, expected {}",
                    key.name,
                    one_of(names.iter().copied())
                ),
            );
            return Err(match did_you_mean(&key.name, names.iter().copied()) {
                Some(s) => e.with_help(format!("did you mean `{s}`?")),
                None => e,
            });
        }
    }
    Ok(())
}

/// A required field's value, or "missing required field" at its mapping.
fn required<T>(value: Option<T>, n: &Node, ptr: &str, name: &str) -> Result<T> {
    value.ok_or_else(|| missing(n, ptr, name))
}

/// "missing required field" at a mapping (one copy for every type of [`required`]).
#[inline(never)]
fn missing(n: &Node, ptr: &str, name: &str) -> Error {
    fail(
        ptr,
        n.line,
        n.col,
        format!("missing required field `{name}`"),
    )
    .with_help(format!("add `{name}:` here"))
}

/// Visit the entries of a mapping with their pointers, in document order. Not generic: the
/// typed readers below share this one walk and keep only their insert.
#[inline(never)]
fn each_entry(
    n: &Node,
    ptr: &str,
    visit: &mut dyn FnMut(&yaml::Key, &Node, &str) -> Result<()>,
) -> Result<()> {
    let Value::Map(entries) = &n.value else {
        return Err(mismatch(n, ptr, "a mapping"));
    };
    for (k, v) in entries {
        visit(k, v, &child(ptr, &k.name))?;
    }
    Ok(())
}

/// Visit the items of a list with their pointers, in order (the non-generic walk of [`list`]).
#[inline(never)]
fn each_item(n: &Node, ptr: &str, visit: &mut dyn FnMut(&Node, &str) -> Result<()>) -> Result<()> {
    let Value::Seq(items) = &n.value else {
        return Err(mismatch(n, ptr, "a list"));
    };
    for (i, v) in items.iter().enumerate() {
        visit(v, &format!("{ptr}/{i}"))?;
    }
    Ok(())
}

/// A mapping of names to values read by `item`.
fn named<T>(
    n: &Node,
    ptr: &str,
    item: fn(&Node, &str) -> Result<T>,
) -> Result<BTreeMap<String, T>> {
    let mut out = BTreeMap::new();
    each_entry(n, ptr, &mut |k, v, p| {
        out.insert(k.name.clone(), item(v, p)?);
        Ok(())
    })?;
    Ok(out)
}

/// A list of values read by `item`.
fn list<T>(n: &Node, ptr: &str, item: fn(&Node, &str) -> Result<T>) -> Result<Vec<T>> {
    let mut out = Vec::new();
    each_item(n, ptr, &mut |v, p| {
        out.push(item(v, p)?);
        Ok(())
    })?;
    Ok(out)
}

/// A list of strings.
fn strings(n: &Node, ptr: &str) -> Result<Vec<String>> {
    list(n, ptr, string)
}

/// An optional value: `null` is `None`.
fn optional<T>(
    n: &Node,
    ptr: &str,
    item: impl FnOnce(&Node, &str) -> Result<T>,
) -> Result<Option<T>> {
    match n.value {
        Value::Null => Ok(None),
        _ => item(n, ptr).map(Some),
    }
}

fn string(n: &Node, ptr: &str) -> Result<String> {
    match &n.value {
        Value::Str(s) => Ok(s.clone()),
        _ => Err(mismatch(n, ptr, "a string")),
    }
}

fn boolean(n: &Node, ptr: &str) -> Result<bool> {
    match n.value {
        Value::Bool(b) => Ok(b),
        _ => Err(mismatch(n, ptr, "`true` or `false`")),
    }
}

fn int(n: &Node, ptr: &str) -> Result<i64> {
    whole(n, ptr, i64::MIN, i64::MAX)
}

fn uint32(n: &Node, ptr: &str) -> Result<u32> {
    let i = whole(n, ptr, 0, i64::from(u32::MAX))?;
    u32::try_from(i).map_err(|_| mismatch(n, ptr, "a whole number"))
}

/// A whole number in `min..=max`. Negative numbers where none are allowed, and numbers too
/// large for the field (YAML reads integers past 64 bits as decimals), say so.
fn whole(n: &Node, ptr: &str, min: i64, max: i64) -> Result<i64> {
    let range = |what: String| {
        let bounds = if min == 0 {
            format!("a whole number from 0 to {max}")
        } else {
            format!("a whole number from {min} to {max}")
        };
        fail(
            ptr,
            n.line,
            n.col,
            format!("expected {bounds}, found {what}"),
        )
    };
    match n.value {
        Value::Int(i) if (min..=max).contains(&i) => Ok(i),
        Value::Int(i) if i < 0 && min == 0 => Err(range(format!("the negative number `{i}`"))),
        Value::Int(i) => Err(range(format!("`{i}`, which is out of range"))),
        Value::Float(f) if f.is_finite() && f.fract() == 0.0 && f.abs() >= 9.2e18 => {
            Err(range(format!("`{f:?}`, which is out of range")))
        }
        _ => Err(mismatch(n, ptr, "a whole number")),
    }
}

/// One value of an enumeration, written as a string.
fn choice<T: Copy>(n: &Node, ptr: &str, choices: &[(&str, T)]) -> Result<T> {
    match &n.value {
        Value::Str(s) => choose(s, n.line, n.col, ptr, choices),
        _ => Err(not_a_choice(n, ptr, &names_of(choices))),
    }
}

/// Look `word` up among `choices`; an unknown word lists them and suggests the closest.
fn choose<T: Copy>(word: &str, line: u32, col: u32, ptr: &str, choices: &[(&str, T)]) -> Result<T> {
    match choices.iter().find(|(name, _)| *name == word) {
        Some((_, v)) => Ok(*v),
        None => Err(unknown_choice(word, line, col, ptr, &names_of(choices))),
    }
}

/// The names of an enumeration's values. The errors below take them, so the error code is
/// one copy for every enumeration.
fn names_of<'a, T>(choices: &[(&'a str, T)]) -> Vec<&'a str> {
    choices.iter().map(|(name, _)| *name).collect()
}

/// "expected one of ..." at a node that is not a string.
#[inline(never)]
fn not_a_choice(n: &Node, ptr: &str, names: &[&str]) -> Error {
    mismatch(n, ptr, &one_of(names.iter().copied()))
}

/// "expected one of ..., found `word`", with the closest name as help.
#[inline(never)]
fn unknown_choice(word: &str, line: u32, col: u32, ptr: &str, names: &[&str]) -> Error {
    let e = fail(
        ptr,
        line,
        col,
        format!("expected {}, found `{word}`", one_of(names.iter().copied())),
    );
    match did_you_mean(word, names.iter().copied()) {
        Some(s) => e.with_help(format!("did you mean `{s}`?")),
        None => e,
    }
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
    use crate::yaml::Limits;

    fn read(text: &str) -> Result<PolicyDoc> {
        policy_doc(&yaml::parse(text, Limits::MANIFEST).unwrap())
    }

    /// The reader's field lists are the types' fields as the JSON Schema (schemars, from the
    /// same types) sees them, and no struct of the schema is missing.
    #[cfg(feature = "schema")]
    #[test]
    fn field_lists_match_the_schema() {
        let schema = serde_json::to_value(schemars::schema_for!(PolicyDoc)).unwrap();
        let keys = |v: &serde_json::Value| -> Vec<String> {
            v["properties"]
                .as_object()
                .unwrap()
                .keys()
                .cloned()
                .collect()
        };
        let mut structs: Vec<&str> = vec!["PolicyDoc"];
        for (name, def) in schema["$defs"].as_object().unwrap() {
            if def.get("properties").is_some() {
                structs.push(name);
            }
        }
        assert_eq!(structs.len(), STRUCTS.len(), "{structs:?}");
        for (name, fields) in STRUCTS {
            let def = if *name == "PolicyDoc" {
                &schema
            } else {
                &schema["$defs"][*name]
            };
            assert_eq!(keys(def), *fields, "{name}");
            assert_eq!(def["additionalProperties"], false, "{name}");
        }
    }

    /// Every field of every struct is read (none is refused as unknown or dropped).
    #[test]
    fn every_field_is_read() {
        let doc = read(
            "policy_version: 7\nname: n\ndescription: d\n\
             organisation: { domains: [a.com], personal_email_domains: [m.com] }\n\
             lifecycle: { ttl_days: { min: 2, max: 3 }, retention_max_days: { internal: 9 }, \
                          recertify_grace_days: 4 }\n\
             client: { refresh_token_max_days: 1, access_token_max_minutes: 2, \
                       max_redirect_uris: 3, auth_methods: [x] }\n\
             data_classes: { c: { sensitivity: restricted, personal: true } }\n\
             data_types: { t: { class: c, description: td } }\n\
             scopes: { s: { access: write, grants: [t], review: true, denied: true, \
                            offline: true, read_alternative: r } }\n\
             denied_scope_patterns: [p]\n\
             sinks: { allow: [{ scheme: s3, host: h, domain: d.com, category: k, description: sd }], \
                      deny: [{ scheme: ftp }] }\n\
             vendors: { approved: [{ domain: v.com, dpa: true }] }\n\
             decision: { tiers: { medium: 1, high: 2, critical: 3 } }\n\
             rules: { R: { severity: low, enabled: false } }\n",
        )
        .unwrap();
        assert_eq!((doc.policy_version, &*doc.name), (7, "n"));
        assert_eq!(doc.description, "d");
        assert_eq!(doc.organisation.domains, ["a.com"]);
        assert_eq!(doc.organisation.personal_email_domains, ["m.com"]);
        assert_eq!(
            (doc.lifecycle.ttl_days.min, doc.lifecycle.ttl_days.max),
            (2, 3)
        );
        assert_eq!(
            doc.lifecycle.retention_max_days.get(&Sensitivity::Internal),
            Some(&9)
        );
        assert_eq!(doc.lifecycle.recertify_grace_days, 4);
        let c = &doc.client;
        assert_eq!(
            (
                c.refresh_token_max_days,
                c.access_token_max_minutes,
                c.max_redirect_uris
            ),
            (1, 2, 3)
        );
        assert_eq!(c.auth_methods, ["x"]);
        let class = doc.data_classes["c"];
        assert_eq!(class.sensitivity, Sensitivity::Restricted);
        assert!(class.personal);
        assert_eq!(
            (
                &*doc.data_types["t"].class,
                &*doc.data_types["t"].description
            ),
            ("c", "td")
        );
        let s = &doc.scopes["s"];
        assert_eq!(s.access, Access::Write);
        assert_eq!(s.grants, ["t"]);
        assert!(s.review && s.denied && s.offline);
        assert_eq!(s.read_alternative.as_deref(), Some("r"));
        assert_eq!(doc.denied_scope_patterns, ["p"]);
        let a = &doc.sinks.allow[0];
        assert_eq!(
            (
                a.scheme.as_deref(),
                a.host.as_deref(),
                a.domain.as_deref(),
                a.category.as_deref(),
                &*a.description
            ),
            (Some("s3"), Some("h"), Some("d.com"), Some("k"), "sd")
        );
        assert_eq!(doc.sinks.deny[0].scheme.as_deref(), Some("ftp"));
        assert_eq!(&*doc.vendors.approved[0].domain, "v.com");
        assert!(doc.vendors.approved[0].dpa);
        let t = doc.decision.tiers;
        assert_eq!((t.medium, t.high, t.critical), (1, 2, 3));
        let r = doc.rules["R"];
        assert_eq!((r.severity, r.enabled), (Some(Severity::Low), Some(false)));
    }

    /// Absent fields take the types' defaults; `null` is `None` for optional fields.
    #[test]
    fn defaults() {
        let doc = read(
            "policy_version: 1\nname: n\norganisation: { domains: [a.com] }\n\
             lifecycle: {}\nclient: {}\ndecision: {}\n\
             sinks: { deny: [{ scheme: ftp, host: null }] }\n\
             scopes: { s: { access: read, read_alternative: null } }\n\
             rules: { R: { severity: null } }\n",
        )
        .unwrap();
        assert_eq!(doc.description, "");
        assert!(doc.organisation.personal_email_domains.is_empty());
        assert_eq!(
            (doc.lifecycle.ttl_days.min, doc.lifecycle.ttl_days.max),
            (30, 90)
        );
        assert!(doc.lifecycle.retention_max_days.is_empty());
        let d = ClientPolicy::default();
        assert_eq!(doc.client.refresh_token_max_days, 30);
        assert_eq!(doc.client.access_token_max_minutes, 60);
        assert_eq!(doc.client.max_redirect_uris, 5);
        assert_eq!(doc.client.auth_methods, d.auth_methods);
        assert_eq!(doc.client.auth_methods.len(), 5);
        let t = doc.decision.tiers;
        assert_eq!((t.medium, t.high, t.critical), (25, 50, 75));
        assert!(doc.sinks.allow.is_empty() && doc.vendors.approved.is_empty());
        assert_eq!(doc.sinks.deny[0].host, None);
        assert_eq!(doc.scopes["s"].read_alternative, None);
        assert!(doc.scopes["s"].grants.is_empty() && !doc.scopes["s"].review);
        assert_eq!(
            (doc.rules["R"].severity, doc.rules["R"].enabled),
            (None, None)
        );
        assert!(doc.data_classes.is_empty() && doc.denied_scope_patterns.is_empty());
    }

    #[test]
    fn numbers() {
        let base = "name: n\norganisation: { domains: [a.com] }\npolicy_version: ";
        let msg = |v: &str| read(&format!("{base}{v}\n")).unwrap_err().message;
        assert_eq!(
            read(&format!("{base}4294967295\n")).unwrap().policy_version,
            u32::MAX
        );
        assert!(
            msg("4294967296")
                .contains("from 0 to 4294967295, found `4294967296`, which is out of range")
        );
        assert!(msg("-1").contains("found the negative number `-1`"));
        assert!(msg("1.0").contains("expected a whole number, found a decimal number `1.0`"));
        assert!(msg("1e30").contains("found `1e30`, which is out of range"));
        assert!(msg(".inf").contains("found a decimal number `inf`"));
        assert!(msg("true").contains("found a boolean `true`"));
        let long = "x".repeat(100);
        assert!(msg(&long).ends_with(&format!("found a string `{}…`", "x".repeat(40))));
        let range = "policy_version: 1\nname: n\norganisation: { domains: [a.com] }\n\
                     lifecycle: { ttl_days: { min: 1, max: 99999999999999999999 } }\n";
        let e = read(range).unwrap_err();
        assert_eq!(e.path.as_deref(), Some("/lifecycle/ttl_days/max"));
        assert!(e.message.contains("out of range"), "{e:?}");
    }

    #[test]
    fn pointers_escape_keys() {
        let e = read(
            "policy_version: 1\nname: n\norganisation: { domains: [a.com] }\n\
             data_types: { a/b~c: { class: 3 } }\n",
        )
        .unwrap_err();
        assert_eq!(e.path.as_deref(), Some("/data_types/a~1b~0c/class"));
        assert_eq!((e.line, e.column), (Some(4), Some(31)));
    }
}
