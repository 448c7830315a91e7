//! "A look-alike of a denied value is never approved": for manifests blocked (remediate or
//! reject) because of one denied value (a scope, a sink, a mail recipient, the owner's
//! domain, a vendor the policy blocks), writing that value with white space at either end
//! (Unicode spaces too), other letter case, default-ignorable characters (soft hyphen,
//! zero-width characters, variation selectors, bidi controls, tags) or full-width forms
//! never makes the manifest approved. Where microvet can see through the disguise, the
//! rule that denies the plain value still fires.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use microvet_core::{Decision, InputKind, Policy};
use proptest::prelude::*;

/// Where the denied value goes.
#[derive(Debug, Clone, Copy)]
enum Slot {
    Scope,
    DcrScope,
    Sink,
    Owner,
    Vendor,
}

/// (slot, denied value, a harmless value for the same slot, the rule that denies it or
/// `None` when disguises may turn the denial into another blocking finding).
const CASES: &[(Slot, &str, &str, Option<&str>)] = &[
    (Slot::Scope, "admin", "profile", Some("MV-SCOPE-001")),
    (
        Slot::Scope,
        "directory.admin",
        "profile",
        Some("MV-SCOPE-001"),
    ),
    (Slot::Scope, "secrets.read", "profile", Some("MV-SCOPE-001")),
    (Slot::Scope, "files.all", "profile", Some("MV-SCOPE-001")),
    (Slot::Scope, "superuser", "profile", Some("MV-SCOPE-001")),
    (Slot::DcrScope, "admin", "profile", Some("MV-SCOPE-001")),
    (
        Slot::DcrScope,
        "directory.admin",
        "profile",
        Some("MV-SCOPE-001"),
    ),
    // A disguised URL host may be unparseable (MV-SINK-001, high) instead of denied.
    (
        Slot::Sink,
        "https://www.dropbox.com/s/x.csv",
        "s3://corp-hr-temp",
        None,
    ),
    (
        Slot::Sink,
        "https://pastebin.com/raw/1",
        "s3://corp-hr-temp",
        None,
    ),
    // A disguised `mailto:` scheme is unparseable too; a disguised recipient is seen through.
    (
        Slot::Sink,
        "mailto:jane@gmail.com",
        "s3://corp-hr-temp",
        None,
    ),
    (
        Slot::Owner,
        "jane@gmail.com",
        "jane@example.com",
        Some("MV-OWNER-004"),
    ),
    (
        Slot::Owner,
        "jane@outlook.com",
        "jane@example.com",
        Some("MV-OWNER-004"),
    ),
    (
        Slot::Vendor,
        "plugin-vendor.com",
        "slack.com",
        Some("MV-VENDOR-001"),
    ),
];

/// The default policy, except that an unapproved vendor blocks (so vendors have a deny
/// side to test).
fn policy() -> Policy {
    let text = microvet_core::DEFAULT_POLICY
        .replace("rules: {}", "rules: { MV-VENDOR-001: { severity: high } }");
    Policy::parse(&text).unwrap()
}

/// A YAML double-quoted scalar holding exactly `s` (everything outside printable ASCII
/// escaped, so the manifest text is ASCII whatever the disguise).
fn yq(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            ' '..='~' => out.push(c),
            c if u32::from(c) <= 0xFFFF => out.push_str(&format!("\\u{:04X}", u32::from(c))),
            c => out.push_str(&format!("\\U{:08X}", u32::from(c))),
        }
    }
    out.push('"');
    out
}

fn input(slot: Slot, value: &str) -> (InputKind, String) {
    let (mut scope, mut sink, mut owner, mut vendor) = (
        yq("profile"),
        yq("s3://corp-hr-temp"),
        yq("jane@example.com"),
        yq("slack.com"),
    );
    match slot {
        Slot::Scope => scope = yq(value),
        Slot::Sink => sink = yq(value),
        Slot::Owner => owner = yq(value),
        Slot::Vendor => vendor = yq(value),
        Slot::DcrScope => {
            let dcr = serde_json::json!({
                "client_name": "Shift Planner",
                "redirect_uris": ["https://apps.example.com/shift-planner/cb"],
                "token_endpoint_auth_method": "none",
                "grant_types": ["authorization_code"],
                "response_types": ["code"],
                "code_challenge_method": "S256",
                "scope": format!("openid {value}"),
                "contacts": ["rota@example.com"],
            });
            return (InputKind::Dcr, dcr.to_string());
        }
    }
    let text = format!(
        "name: weekly-report\nowner: {owner}\npurpose: send the weekly team report\n\
         data_access: [{{ type: user.profile }}]\nretention_days: 30\n\
         oauth_scopes: [openid, {scope}]\nexternal_sinks: [{sink}]\nexpiry_days: 30\n\
         third_party_deps: [{{ name: helper, vendor: {vendor}, dpa: true }}]\n\
         instrumentation: {{ audit_log: \"siem://corp/micro-apps\", contact: \"it-oncall@example.com\" }}\n"
    );
    (InputKind::Manifest, text)
}

fn blocked(d: Decision) -> bool {
    matches!(d, Decision::Remediate | Decision::Reject)
}

const SPACES: &[char] = &[
    ' ', '\t', '\u{a0}', '\u{2002}', '\u{2003}', '\u{2009}', '\u{200a}', '\u{205f}', '\u{3000}',
];
const IGNORABLES: &[char] = &[
    '\u{ad}',
    '\u{34f}',
    '\u{200b}',
    '\u{200c}',
    '\u{200d}',
    '\u{200e}',
    '\u{2060}',
    '\u{2066}',
    '\u{202e}',
    '\u{fe0f}',
    '\u{feff}',
    '\u{e0061}',
    '\u{e0100}',
];

/// One disguise of a value.
#[derive(Debug, Clone)]
struct Disguise {
    lead: Vec<char>,
    trail: Vec<char>,
    /// Per character: flip ASCII case, write full-width, insert an ignorable before it.
    flip: Vec<bool>,
    wide: Vec<bool>,
    insert: Vec<Option<char>>,
}

fn disguise() -> impl Strategy<Value = Disguise> {
    let ch = |set: &'static [char]| proptest::sample::select(set);
    (
        proptest::collection::vec(ch(SPACES), 0..3),
        proptest::collection::vec(ch(SPACES), 0..3),
        proptest::collection::vec(any::<bool>(), 40),
        proptest::collection::vec(proptest::bool::weighted(0.2), 40),
        proptest::collection::vec(proptest::option::weighted(0.15, ch(IGNORABLES)), 40),
    )
        .prop_map(|(lead, trail, flip, wide, insert)| Disguise {
            lead,
            trail,
            flip,
            wide,
            insert,
        })
}

fn apply(value: &str, d: &Disguise) -> String {
    let mut out: String = d.lead.iter().collect();
    for (i, c) in value.chars().enumerate() {
        if let Some(Some(ign)) = d.insert.get(i) {
            out.push(*ign);
        }
        let mut c = c;
        if d.flip.get(i) == Some(&true) {
            c = if c.is_ascii_lowercase() {
                c.to_ascii_uppercase()
            } else {
                c.to_ascii_lowercase()
            };
        }
        if d.wide.get(i) == Some(&true) && ('!'..='~').contains(&c) {
            c = char::from_u32(u32::from(c) + 0xFEE0).unwrap();
        }
        out.push(c);
    }
    out.extend(d.trail.iter());
    out
}

#[test]
fn the_cases_are_blocked_by_their_value_and_only_by_it() {
    let policy = policy();
    for (slot, denied, harmless, rule) in CASES {
        let (kind, text) = input(*slot, harmless);
        let v = policy.vet_kind(kind, &text).unwrap();
        assert!(
            !blocked(v.decision),
            "{slot:?} {harmless}: {:?}",
            v.findings
        );
        let (kind, text) = input(*slot, denied);
        let v = policy.vet_kind(kind, &text).unwrap();
        assert!(blocked(v.decision), "{slot:?} {denied}: {:?}", v.findings);
        if let Some(rule) = rule {
            assert!(v.findings.iter().any(|f| f.rule == *rule), "{denied}");
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn a_disguised_denied_value_is_never_approved(
        case in 0..CASES.len(),
        d in disguise(),
    ) {
        let policy = policy();
        let (slot, denied, _, rule) = CASES[case];
        let value = apply(denied, &d);
        let (kind, text) = input(slot, &value);
        let v = policy.vet_kind(kind, &text).unwrap();
        prop_assert!(
            blocked(v.decision),
            "{slot:?} {value:?} was {:?}: {:?}",
            v.decision,
            v.findings
        );
        // Case, white space, invisible and full-width forms of a scope, an owner or a
        // recipient are seen through: the denying rule itself fires.
        if let Some(rule) = rule {
            prop_assert!(
                v.findings.iter().any(|f| f.rule == rule),
                "{slot:?} {value:?}: {rule} missing in {:?}",
                v.findings
            );
        }
    }
}

/// The manifest with the line of `field` moved behind a YAML merge key
/// (`<<: { field: … }`), which YAML 1.1 loaders (PyYAML, js-yaml) merge into the mapping.
fn behind_merge_key(text: &str, field: &str) -> String {
    let prefix = format!("{field}: ");
    let mut out = String::new();
    for line in text.lines() {
        match line.strip_prefix(&prefix) {
            Some(rest) => out.push_str(&format!("<<: {{ {field}: {rest} }}")),
            None => out.push_str(line),
        }
        out.push('\n');
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    /// A denied value (disguised or not) moved behind a merge key is refused outright or
    /// blocked: never approved because another reader would merge what microvet skipped.
    #[test]
    fn a_denied_value_behind_a_merge_key_is_never_approved(
        case in 0..CASES.len(),
        d in disguise(),
        plain in any::<bool>(),
    ) {
        let policy = policy();
        let (slot, denied, _, _) = CASES[case];
        let field = match slot {
            Slot::Scope => "oauth_scopes",
            Slot::Sink => "external_sinks",
            Slot::Owner => "owner",
            Slot::Vendor => "third_party_deps",
            Slot::DcrScope => return Ok(()),
        };
        let value = if plain { denied.to_string() } else { apply(denied, &d) };
        let (kind, text) = input(slot, &value);
        let text = behind_merge_key(&text, field);
        prop_assert!(text.contains("<<: {"), "{text}");
        match policy.vet_kind(kind, &text) {
            Err(e) => prop_assert!(e.message.contains("merge key"), "{e:?}"),
            Ok(v) => prop_assert!(
                blocked(v.decision),
                "{slot:?} {value:?} behind `<<` was {:?}: {:?}",
                v.decision,
                v.findings
            ),
        }
    }
}
