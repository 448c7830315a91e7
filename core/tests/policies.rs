//! The shipped policies parse, and differ from the default in the documented ways.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod support;
use support::rule;

use microvet_core::{Decision, Policy};
use std::path::Path;

fn load(name: &str) -> Policy {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../policies")
        .join(name);
    Policy::parse(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn article_example() -> String {
    std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/corpus/article-example/input.yaml"),
    )
    .unwrap()
}

#[test]
fn shipped_policies_parse_with_distinct_hashes() {
    let d = load("default.yaml");
    let s = load("strict.yaml");
    let b = load("sandbox.yaml");
    assert_eq!(
        (d.name(), s.name(), b.name()),
        ("default", "strict", "sandbox")
    );
    assert_eq!(
        d.sha256(),
        Policy::builtin().unwrap().sha256(),
        "built-in policy is policies/default.yaml"
    );
    assert_ne!(d.sha256(), s.sha256());
}

/// The built-in policy's hash is taken at build time; it is the hash of the embedded bytes,
/// as for any parsed policy, and of `policies/default.yaml` as it is now.
#[test]
fn builtin_policy_hash_is_the_hash_of_its_text() {
    let text = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../policies/default.yaml"),
    )
    .unwrap();
    let hash = microvet_core::sha256_hex(text.as_bytes());
    assert_eq!(microvet_core::DEFAULT_POLICY_SHA256, hash);
    assert_eq!(Policy::builtin().unwrap().sha256(), hash);
    assert_eq!(Policy::parse(&text).unwrap().sha256(), hash);
}

#[test]
fn article_example_is_tighter_under_strict_and_sandbox() {
    let text = article_example();
    assert_eq!(
        load("default.yaml").vet(&text).unwrap().decision,
        Decision::ApproveWithControls
    );
    // strict: unapproved vendor and missing instrumentation are high.
    assert_eq!(
        load("strict.yaml").vet(&text).unwrap().decision,
        Decision::Remediate
    );
    // sandbox: HR records are refused, the corp bucket is not a sandbox sink.
    let v = load("sandbox.yaml").vet(&text).unwrap();
    assert_eq!(v.decision, Decision::Reject);
    assert!(v.findings.iter().any(|f| f.rule == rule("MV-SINK-005").id));
}

#[test]
fn policy_hash_is_in_every_verdict() {
    let p = load("strict.yaml");
    assert_eq!(p.vet(&article_example()).unwrap().policy_sha256, p.sha256());
}

/// The parsed model of each shipped policy, as `{:#?}`, is pinned in `core/tests/golden/`
/// (`MICROVET_BLESS=1` rewrites). The files were first written by the serde-derived reader,
/// so the hand-written reader is checked to build exactly the same `PolicyDoc`.
#[test]
fn shipped_policies_build_the_pinned_model() {
    for name in ["default", "strict", "sandbox"] {
        let doc = format!("{:#?}\n", load(&format!("{name}.yaml")).doc());
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/golden")
            .join(format!("policy-{name}.txt"));
        if std::env::var_os("MICROVET_BLESS").is_some() {
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, &doc).unwrap();
            continue;
        }
        let want = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            want == doc,
            "{name}: parsed model differs from {}",
            path.display()
        );
    }
}

/// The default policy with one edit, which must make it invalid.
fn broken(from: &str, to: &str) -> (String, microvet_core::Error) {
    let base = microvet_core::DEFAULT_POLICY;
    assert!(base.contains(from), "{from}");
    let text = base.replacen(from, to, 1);
    let e = Policy::parse(&text).unwrap_err();
    assert_eq!(e.code, microvet_core::ErrorCode::Policy, "{e:?}");
    (text, e)
}

/// 1-based line and column of the first `needle` in `text`.
fn position(text: &str, needle: &str) -> (Option<u32>, Option<u32>) {
    let at = text.find(needle).unwrap();
    let before = &text[..at];
    let line = before.matches('\n').count() + 1;
    let col = at - before.rfind('\n').map_or(0, |i| i + 1) + 1;
    (Some(line as u32), Some(col as u32))
}

#[test]
fn wrong_type_names_pointer_line_expected_and_found() {
    let (text, e) = broken("{ min: 30, max: 90 }", "{ min: 30, max: \"90\" }");
    assert_eq!(
        e.message,
        "invalid policy at `/lifecycle/ttl_days/max`: expected a whole number, found a string `90`"
    );
    assert_eq!(e.path.as_deref(), Some("/lifecycle/ttl_days/max"));
    assert_eq!((e.line, e.column), position(&text, "\"90\""));

    let (text, e) = broken(
        "personal: false }\n  internal:",
        "personal: no }\n  internal:",
    );
    assert_eq!(
        e.message,
        "invalid policy at `/data_classes/public/personal`: expected `true` or `false`, found a string `no`"
    );
    assert_eq!((e.line, e.column), position(&text, "no }"));

    let (_, e) = broken("domains: [example.com]", "domains: example.com");
    assert_eq!(
        e.message,
        "invalid policy at `/organisation/domains`: expected a list, found a string `example.com`"
    );
}

#[test]
fn unknown_key_points_at_the_key_with_a_suggestion_from_its_own_struct() {
    // `domain` is a field of vendors and sinks, but under `organisation` it means `domains`.
    let (text, e) = broken("personal_email_domains:\n", "personal_email_domain:\n");
    assert_eq!(
        e.message,
        "invalid policy at `/organisation/personal_email_domain`: unknown field \
         `personal_email_domain`, expected one of `domains`, `personal_email_domains`"
    );
    assert_eq!(
        e.help.as_deref(),
        Some("did you mean `personal_email_domains`?")
    );
    assert_eq!(
        (e.line, e.column),
        position(&text, "personal_email_domain:")
    );

    let (text, e) = broken(
        "- { domain: slack.com, dpa: true }",
        "- { domain: slack.com, dpas: true }",
    );
    assert_eq!(e.path.as_deref(), Some("/vendors/approved/0/dpas"));
    assert_eq!(e.help.as_deref(), Some("did you mean `dpa`?"));
    assert_eq!((e.line, e.column), position(&text, "dpas:"));

    // Nothing close: no suggestion, but the message lists the fields.
    let (_, e) = broken("tiers: {", "levels: {");
    assert!(
        e.message
            .ends_with("unknown field `levels`, expected `tiers`"),
        "{e:?}"
    );
    assert_eq!(e.help, None);
}

#[test]
fn bad_enum_value_lists_the_choices() {
    let (text, e) = broken(
        "{ sensitivity: confidential, personal: true }",
        "{ sensitivity: secret, personal: true }",
    );
    assert_eq!(
        e.message,
        "invalid policy at `/data_classes/hr/sensitivity`: expected one of `public`, `internal`, \
         `confidential`, `restricted`, found `secret`"
    );
    assert_eq!((e.line, e.column), position(&text, "secret, personal"));
    assert_eq!(e.help, None);

    let (_, e) = broken(
        "{ access: write, grants: [\"hr.*\"]",
        "{ access: writ, grants: [\"hr.*\"]",
    );
    assert!(
        e.message
            .ends_with("expected one of `read`, `write`, found `writ`"),
        "{e:?}"
    );
    assert_eq!(e.help.as_deref(), Some("did you mean `write`?"));

    let (_, e) = broken("rules: {}", "rules: { MV-SCOPE-001: { severity: 3 } }");
    assert!(
        e.message.ends_with(
            "expected one of `info`, `low`, `medium`, `high`, `critical`, found an integer `3`"
        ),
        "{e:?}"
    );

    // A key that must be one of the values: the error points at the key.
    let (text, e) = broken("restricted: 30 }", "secret: 30 }");
    assert_eq!(
        e.path.as_deref(),
        Some("/lifecycle/retention_max_days/secret")
    );
    assert_eq!((e.line, e.column), position(&text, "secret: 30"));
}

#[test]
fn negative_and_too_large_numbers_are_refused_clearly() {
    let (text, e) = broken("medium: 25", "medium: -25");
    assert_eq!(
        e.message,
        "invalid policy at `/decision/tiers/medium`: expected a whole number from 0 to \
         4294967295, found the negative number `-25`"
    );
    assert_eq!((e.line, e.column), position(&text, "-25"));

    let (_, e) = broken("max_redirect_uris: 5", "max_redirect_uris: 5000000000");
    assert!(
        e.message
            .ends_with("found `5000000000`, which is out of range"),
        "{e:?}"
    );

    // Signed fields take negatives; validation then explains what is allowed.
    let (_, e) = broken("restricted: 30 }", "restricted: -30 }");
    assert_eq!(e.message, "negative retention limit `-30`");
    assert_eq!(
        e.path.as_deref(),
        Some("/lifecycle/retention_max_days/restricted")
    );
}

#[test]
fn missing_required_field_points_at_its_mapping() {
    let (text, e) = broken("- { domain: atlassian.com, dpa: true }", "- { dpa: true }");
    assert_eq!(
        e.message,
        "invalid policy at `/vendors/approved/1`: missing required field `domain`"
    );
    assert_eq!(e.help.as_deref(), Some("add `domain:` here"));
    assert_eq!((e.line, e.column), position(&text, "{ dpa: true }"));

    let e = Policy::parse("name: x\norganisation: { domains: [a.com] }\n").unwrap_err();
    assert_eq!(
        e.message,
        "invalid policy: missing required field `policy_version`"
    );
    assert_eq!((e.path.as_deref(), e.line), (Some(""), Some(1)));

    let e = Policy::parse("").unwrap_err();
    assert_eq!(e.message, "invalid policy: expected a mapping, found null");
}

/// Sinks are parsed as a browser would: an IDN host is mapped to its A-labels (the
/// component's `url` has the ASCII-only IDNA back end), so it is judged like any other
/// host instead of being reported as unparseable; a host that cannot be mapped safely
/// is MV-SINK-001 with the reason.
#[test]
fn idn_sinks_are_judged_by_their_a_label() {
    let policy = Policy::builtin().unwrap();
    let manifest = |sink: &str| {
        format!(
            "name: idn-sinks\nowner: hr@example.com\npurpose: test\nretention_days: 30\nexpiry_days: 30\nexternal_sinks: [\"{sink}\"]\n"
        )
    };
    let rules = |sink: &str| -> Vec<(String, String)> {
        policy
            .vet(&manifest(sink))
            .unwrap()
            .findings
            .into_iter()
            .filter(|f| f.rule.starts_with("MV-SINK"))
            .map(|f| (f.rule.to_owned(), f.message))
            .collect()
    };
    let ok = rules("https://bücher.example/hook");
    assert!(
        ok.iter().all(|(r, _)| r != rule("MV-SINK-001").id),
        "{ok:?}"
    );
    assert!(
        ok.iter()
            .any(|(r, m)| r == rule("MV-SINK-005").id && m.contains("xn--bcher-kva.example")),
        "{ok:?}"
    );
    let bad = rules("https://exa\u{200b}mple.com/hook");
    assert!(
        bad.iter()
            .any(|(r, m)| r == rule("MV-SINK-001").id && m.contains("contains")),
        "{bad:?}"
    );
}
